# -*- coding: utf-8 -*-
# Copyright (c) 2026 ovhcloud.exchange contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Many objects at once: paged object lists, batch GETs, bounded parallel calls (paced by the client).

PRIVATE: this file is internal to ovhcloud.exchange and may change at any time.

OVH's API gateway can answer a list route with full objects, by page (``X-Pagination-Mode:
CachedObjectList-Pages``) or by cursor (``CachedObjectList-Cursor``), and a GET on several keys at once
(``X-Ovh-Batch: ,``). Only the paged mode is known on an Exchange route (OVH's control panel pages the
account list), none is documented; ``list_objects`` detects what the gateway answers, falls back
(pages, then cursors, then the id list read by batch GETs, then one GET per object) and remembers per
route what worked, so that the caller always gets the same objects whatever the strategy.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import re
import threading
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.ovhcloud.exchange.plugins.module_utils._errors import OvhApiError

STRATEGY_OBJECT_LIST = 'object_list'
STRATEGY_CURSOR = 'cursor'
STRATEGY_BATCH = 'batch'
STRATEGY_SINGLE = 'single'
# What a list route answered, remembered in ``modes`` (see list_objects); batch GETs refused under BATCH_REFUSED.
_IDS = 'ids'
BATCH_REFUSED = 'batch refused'

PAGE_SIZE = 5000
BATCH_SIZE = 50
DEFAULT_PARALLEL = 8
# A gateway that keeps answering full pages without an element count must not loop forever.
MAX_PAGES = 1000
# Up to this many wanted keys are asked for by an `in` filter (one short answer) rather than by reading the
# whole list; the filter is a request header, which gateways cap at a few kilobytes.
IN_FILTER_MAX = 50
# Keys sent in a filter as they are: the manager's syntax percent-decodes values, the lenient one does not,
# and these characters read the same both ways (no `%`, `&`, `,` nor `=`).
_PLAIN_VALUE = re.compile(r'^[A-Za-z0-9@._+-]+$')


def _like(actual, pattern):
    """SQL-like match, `%` for any text, compared without case."""
    if actual is None:
        return False
    parts = [re.escape(part) for part in str(pattern).split('%')]
    return re.match('^' + '.*'.join(parts) + '$', str(actual), re.IGNORECASE | re.DOTALL) is not None


# Operators of X-Pagination-Filter (the syntax of OVH's own control panel: `field:operator=value`, several
# joined with `&`), evaluated locally when the gateway ignored the filter. `in` takes a list, `isnil` a bool.
_FILTER_OPERATORS = {
    'eq': lambda actual, wanted: actual == wanted,
    'ne': lambda actual, wanted: actual != wanted,
    'in': lambda actual, wanted: actual in wanted,
    'isnil': lambda actual, wanted: (actual is None) == bool(wanted),
    'like': _like,
    'gt': lambda actual, wanted: actual is not None and actual > wanted,
    'lt': lambda actual, wanted: actual is not None and actual < wanted,
}


class Outcome:
    """What happened to one item of ``run_parallel``: its ``value``, or the ``error`` it raised; ``attempted`` is
    False for an item never started (the run stopped or was cancelled first)."""

    __slots__ = ('item', 'value', 'error', 'attempted')

    def __init__(self, item, value=None, error=None, attempted=True):
        self.item = item
        self.value = value
        self.error = error
        self.attempted = attempted

    @property
    def ok(self):
        return self.error is None

    @property
    def message(self):
        return None if self.error is None else str(self.error)

    def __repr__(self):
        return 'Outcome(%r, ok=%r, %r)' % (self.item, self.ok, self.value if self.ok else self.message)


_NOT_STARTED = object()


def run_parallel(fn, items, parallel=DEFAULT_PARALLEL, stop=None, cancelled=None):
    """Call ``fn(item)`` for every item, ``parallel`` at a time (the client's pacer spaces their requests: the key's
    budget and max_requests_per_second live there, for every request of the module, not here).

    Returns one ``Outcome`` per item, in the order of ``items``; an item that raised does not stop
    the others, so that a partial failure can be reported exactly, unless ``stop(error)`` says that error
    stops them all (a refusal, the API gone): items not started by then are not attempted. So are they once
    ``cancelled`` (anything with ``is_set()``) is set; calls already running end normally.
    """
    items = list(items)
    halted = threading.Event()

    def halting():
        return halted.is_set() or (cancelled is not None and cancelled.is_set())

    def limited(item):
        if halting():
            return _NOT_STARTED
        try:
            return fn(item)
        except Exception as error:
            if stop is not None and stop(error):
                halted.set()
            raise

    if not items:
        return []
    with ThreadPoolExecutor(max_workers=max(1, min(int(parallel or 1), len(items)))) as pool:
        futures = [pool.submit(limited, item) for item in items]
    outcomes = []
    for item, future in zip(items, futures):
        error = future.exception()
        if error is not None:
            outcomes.append(Outcome(item, error=error))
        elif future.result() is _NOT_STARTED:
            outcomes.append(Outcome(item, attempted=False))
        else:
            outcomes.append(Outcome(item, value=future.result()))
    return outcomes


def _header(headers, name):
    for key, value in (headers or {}).items():
        if key.lower() == name.lower():
            return value
    return None


def _filter_value_text(operator, value):
    if operator == 'isnil':
        return '1' if value else '0'
    if operator == 'in':
        return ','.join(_filter_value_text('eq', item) for item in value)
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return str(value)


def _matches(obj, filters):
    return all(_FILTER_OPERATORS[operator](obj.get(field), value) for field, operator, value in filters or ())


def _normalise_key(key):
    return key.lower() if isinstance(key, str) else key


def _is_object_page(data):
    return isinstance(data, list) and all(isinstance(entry, dict) for entry in data)


def _read_pages(client, list_path, filters, page_size, page, headers):
    objects = list(page)
    for page_number in range(2, MAX_PAGES + 1):
        # X-Pagination-Elements (the total) ends the list: OVH's control panel reads only that header, and a
        # gateway may serve smaller pages than asked without echoing X-Pagination-Size.
        total = _header(headers, 'X-Pagination-Elements')
        if total is not None:
            if len(objects) >= int(total):
                break
        elif len(page) < int(_header(headers, 'X-Pagination-Size') or page_size):
            break
        page, headers = client.call('GET', list_path, headers=_page_headers(filters, page_size, page_number))
        if not page or not _is_object_page(page):
            break
        objects.extend(page)
    return objects


def _read_cursor(client, list_path, filters, page_size, page, headers):
    objects = list(page)
    for dummy in range(MAX_PAGES):
        cursor = _header(headers, 'X-Pagination-Cursor-Next')
        if not cursor:
            break
        page, headers = client.call('GET', list_path, headers=_cursor_headers(filters, page_size, cursor))
        if not _is_object_page(page):
            break
        objects.extend(page)
    return objects


def _filter_header(filters):
    return '&'.join('%s:%s=%s' % (field, operator, _filter_value_text(operator, value)) for field, operator, value in filters)


def _page_headers(filters, page_size, page_number):
    headers = {
        'X-Pagination-Mode': 'CachedObjectList-Pages',
        'X-Pagination-Size': str(page_size),
        'X-Pagination-Number': str(page_number),
        # The gateway caches object lists; a plan must be made on fresh data.
        'Pragma': 'no-cache',
    }
    if filters:
        headers['X-Pagination-Filter'] = _filter_header(filters)
    return headers


def _cursor_headers(filters, page_size, cursor=None):
    headers = {'X-Pagination-Mode': 'CachedObjectList-Cursor', 'X-Pagination-Size': str(page_size), 'Pragma': 'no-cache'}
    if filters:
        headers['X-Pagination-Filter'] = _filter_header(filters)
    if cursor:
        headers['X-Pagination-Cursor'] = cursor
    return headers


def _batch_path(item_path_fn, keys):
    paths = [item_path_fn(key) for key in keys]
    prefix = paths[0].rsplit('/', 1)[0]
    return prefix + '/' + ','.join(path.rsplit('/', 1)[1] for path in paths)


def _unwrap_batch_entry(entry):
    # Some clients of the gateway see {key, value, error} entries, others the bare objects.
    if isinstance(entry, dict) and 'key' in entry and set(entry) <= {'key', 'value', 'error'}:
        return entry.get('value')
    return entry


def _read_batches(client, item_path_fn, keys, batch_size):
    objects = []
    for start in range(0, len(keys), batch_size):
        chunk = keys[start:start + batch_size]
        try:
            data, dummy = client.call('GET', _batch_path(item_path_fn, chunk), headers={'X-Ovh-Batch': ','})
        except OvhApiError as error:
            if error.kind in ('not_found', 'bad_request', 'other'):
                return None
            raise
        if len(chunk) == 1 and isinstance(data, dict):
            data = [data]
        if not isinstance(data, list) or len(data) != len(chunk):
            return None
        objects.extend(obj for obj in (_unwrap_batch_entry(entry) for entry in data) if isinstance(obj, dict))
    return objects


def _read_singles(client, item_path_fn, keys, parallel):
    def read_one(key):
        try:
            return client.get(item_path_fn(key))
        except OvhApiError as error:
            if error.kind == 'not_found':  # removed since the id list was read
                return None
            raise

    outcomes = run_parallel(read_one, keys, parallel=parallel)
    for outcome in outcomes:
        if not outcome.ok:
            raise outcome.error
    return [outcome.value for outcome in outcomes if outcome.value is not None]


def get_objects(client, item_path_fn, keys, batch_size=BATCH_SIZE, parallel=DEFAULT_PARALLEL, modes=None):
    """Objects of known keys in the fewest requests; returns ``(objects, strategy)``.

    Batch GETs of ``batch_size`` keys; if the gateway refuses them, one GET per key, ``parallel`` at a
    time. A key whose object does not exist (any more) is left out, not an error. ``modes``: see
    list_objects; a refused batch is not tried again.
    """
    keys = list(keys)
    modes = {} if modes is None else modes
    if not keys:
        return [], STRATEGY_BATCH
    # One key is one GET either way: a plain one says what it is.
    objects = None
    if len(keys) > 1 and not modes.get(BATCH_REFUSED):
        objects = _read_batches(client, item_path_fn, keys, batch_size)
        modes[BATCH_REFUSED] = objects is None
    if objects is not None:
        return objects, STRATEGY_BATCH
    return _read_singles(client, item_path_fn, keys, parallel), STRATEGY_SINGLE


def list_objects(client, list_path, item_path_fn, filters=None, key=None, only=None, page_size=PAGE_SIZE,
                 batch_size=BATCH_SIZE, parallel=DEFAULT_PARALLEL, modes=None, narrow=False):
    """Full objects of a list route in the fewest requests; returns ``(objects, strategy)``.

    ``filters``: ``(field, operator, value)`` tuples (``eq``, ``ne``, ``in``, ``isnil``, ``like``, ``gt``, ``lt``), sent
    to the gateway in OVH's own syntax (joined by ``&``) when it answers objects, and always checked
    locally. ``key``: the object field that the plain list returns (``primaryEmailAddress``, ``id``,
    ``name``), needed with ``only``. ``only``: keys wanted (strings compared without case); other objects
    are not returned, and not read at all when the gateway answers plain ids; with ``narrow``, up to
    IN_FILTER_MAX of them are asked for by an ``in`` filter instead of reading every object of the route
    (for routes known to take it: a wrong filter would fail the read). ``item_path_fn(key)`` builds the
    path of one object. ``modes``: a dict kept for a module run, in which what each list path answered is
    remembered, so that later reads go straight to the mode that works.

    Strategies: ``object_list`` (one request per page), ``cursor`` (one request per cursor page),
    ``batch`` (the id list then one GET per ``batch_size`` keys), ``single`` (the id list then one GET
    per key, ``parallel`` at a time).
    """
    wanted = None if only is None else set(_normalise_key(k) for k in only)
    if wanted is not None and key is None:
        raise ValueError('list_objects: "only" needs "key", the field that identifies an object')
    if wanted is not None and not wanted:
        return [], STRATEGY_OBJECT_LIST
    modes = {} if modes is None else modes
    narrowed = _narrowing_filter(key, only) if narrow else []
    objects, strategy = _read_list(client, list_path, item_path_fn, list(filters or []) + narrowed, wanted, page_size,
                                   batch_size, parallel, modes)
    if narrowed and strategy in (STRATEGY_OBJECT_LIST, STRATEGY_CURSOR) and any(isinstance(k, str) for k in wanted) and \
            len(set(_normalise_key(obj.get(key)) for obj in objects) & wanted) < len(wanted):
        # The gateway may compare the values with case (the collection does not), or a key may be unknown
        # (then the caller names it): the whole list decides. Task ids that left the list are just gone.
        objects, strategy = _read_list(client, list_path, item_path_fn, list(filters or []), wanted, page_size,
                                       batch_size, parallel, modes)
    objects = [obj for obj in objects if _matches(obj, filters)]
    if wanted is not None:
        objects = [obj for obj in objects if _normalise_key(obj.get(key)) in wanted]
    return objects, strategy


def _narrowing_filter(key, only):
    """A filter that asks the gateway for the wanted keys only, when they are few and plain."""
    if only is None or not 0 < len(only) <= IN_FILTER_MAX:
        return []
    values = sorted(set(only), key=str)
    if not all(_PLAIN_VALUE.match(str(value)) for value in values):
        return []
    # One value is an `eq`, as OVH's control panel sends it.
    return [(key, 'eq', values[0])] if len(values) == 1 else [(key, 'in', values)]


def _first_read(client, list_path, mode, filters, page_size):
    if mode == STRATEGY_CURSOR:
        return client.call('GET', list_path, headers=_cursor_headers(filters, page_size))
    if mode == STRATEGY_OBJECT_LIST:
        return client.call('GET', list_path, headers=_page_headers(filters, page_size, 1))
    return client.call('GET', list_path)


def _read_list(client, list_path, item_path_fn, filters, wanted, page_size, batch_size, parallel, modes):
    remembered = modes.get(list_path)
    mode = remembered or STRATEGY_OBJECT_LIST
    data, headers = _first_read(client, list_path, mode, filters, page_size)
    if mode != _IDS and data == []:
        return [], mode  # nothing, whichever way the gateway reads
    if mode == STRATEGY_OBJECT_LIST and _is_object_page(data):
        modes[list_path] = mode
        return _read_pages(client, list_path, filters, page_size, data, headers), mode
    if mode == STRATEGY_OBJECT_LIST and remembered is None and len(_keys_to_read(data, wanted)) > 1:
        # Plain ids: the paged mode (and the filter with it) was ignored; cursors may still be served, which
        # beats one GET per object (or per batch) from two objects on.
        mode = STRATEGY_CURSOR
        data, headers = _first_read(client, list_path, mode, filters, page_size)
    if mode == STRATEGY_CURSOR and data and _is_object_page(data):
        modes[list_path] = mode
        return _read_cursor(client, list_path, filters, page_size, data, headers), mode
    if mode == STRATEGY_CURSOR:
        modes[list_path] = _IDS
    return get_objects(client, item_path_fn, _keys_to_read(data, wanted), batch_size=batch_size, parallel=parallel,
                       modes=modes)


def _keys_to_read(data, wanted):
    return [k for k in (data or []) if not isinstance(k, dict) and (wanted is None or _normalise_key(k) in wanted)]
