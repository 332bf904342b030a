# -*- coding: utf-8 -*-
# Copyright (c) 2026 ovhcloud.exchange contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Many objects at once: paged object lists, batch GETs, bounded parallel calls under a rate limit.

PRIVATE: this file is internal to ovhcloud.exchange and may change at any time.

OVH's API gateway can answer a list route with full objects (``X-Pagination-Mode:
CachedObjectList-Pages``) and a GET on several keys at once (``X-Ovh-Batch: ,``), but neither is
documented for ``/email/exchange``; ``list_objects`` detects what the gateway answers and falls back,
so that the caller always gets the same objects whatever the strategy.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.ovhcloud.exchange.plugins.module_utils._errors import OvhApiError

STRATEGY_OBJECT_LIST = 'object_list'
STRATEGY_BATCH = 'batch'
STRATEGY_SINGLE = 'single'

PAGE_SIZE = 5000
BATCH_SIZE = 50
DEFAULT_PARALLEL = 8
# A gateway that keeps answering full pages without an element count must not loop forever.
MAX_PAGES = 1000


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
    """What happened to one item of ``run_parallel``: its ``value``, or the ``error`` it raised."""

    __slots__ = ('item', 'value', 'error')

    def __init__(self, item, value=None, error=None):
        self.item = item
        self.value = value
        self.error = error

    @property
    def ok(self):
        return self.error is None

    @property
    def message(self):
        return None if self.error is None else str(self.error)

    def __repr__(self):
        return 'Outcome(%r, ok=%r, %r)' % (self.item, self.ok, self.value if self.ok else self.message)


class RateLimiter:
    """Spaces call starts at least 1/rate seconds apart, shared by all threads."""

    def __init__(self, max_requests_per_second, sleep=time.sleep, clock=time.monotonic):
        self.interval = 1.0 / max_requests_per_second if max_requests_per_second else 0.0
        self.sleep = sleep
        self.clock = clock
        self._next_start = None
        self._lock = threading.Lock()

    def acquire(self):
        if not self.interval:
            return
        with self._lock:
            now = self.clock()
            start = now if self._next_start is None else max(now, self._next_start)
            self._next_start = start + self.interval
        if start > now:
            self.sleep(start - now)


def run_parallel(fn, items, parallel=DEFAULT_PARALLEL, max_requests_per_second=None, sleep=time.sleep, clock=time.monotonic):
    """Call ``fn(item)`` for every item, ``parallel`` at a time, at most ``max_requests_per_second``.

    Returns one ``Outcome`` per item, in the order of ``items``; an item that raised does not stop
    the others, so that a partial failure can be reported exactly.
    """
    items = list(items)
    limiter = RateLimiter(max_requests_per_second, sleep=sleep, clock=clock)

    def limited(item):
        limiter.acquire()
        return fn(item)

    if not items:
        return []
    with ThreadPoolExecutor(max_workers=max(1, min(int(parallel or 1), len(items)))) as pool:
        futures = [pool.submit(limited, item) for item in items]
    outcomes = []
    for item, future in zip(items, futures):
        error = future.exception()
        outcomes.append(Outcome(item, error=error) if error is not None else Outcome(item, value=future.result()))
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
        total = _header(headers, 'X-Pagination-Elements')
        size = int(_header(headers, 'X-Pagination-Size') or page_size)
        if len(page) < size or (total is not None and len(objects) >= int(total)):
            break
        page, headers = client.call('GET', list_path, headers=_page_headers(filters, page_size, page_number))
        if not page or not _is_object_page(page):
            break
        objects.extend(page)
    return objects


def _page_headers(filters, page_size, page_number):
    headers = {
        'X-Pagination-Mode': 'CachedObjectList-Pages',
        'X-Pagination-Size': str(page_size),
        'X-Pagination-Number': str(page_number),
        # The gateway caches object lists; a plan must be made on fresh data.
        'Pragma': 'no-cache',
    }
    if filters:
        headers['X-Pagination-Filter'] = '&'.join(
            '%s:%s=%s' % (field, operator, _filter_value_text(operator, value)) for field, operator, value in filters)
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


def _read_singles(client, item_path_fn, keys, parallel, max_requests_per_second):
    def read_one(key):
        try:
            return client.get(item_path_fn(key))
        except OvhApiError as error:
            if error.kind == 'not_found':  # removed since the id list was read
                return None
            raise

    outcomes = run_parallel(read_one, keys, parallel=parallel, max_requests_per_second=max_requests_per_second)
    for outcome in outcomes:
        if not outcome.ok:
            raise outcome.error
    return [outcome.value for outcome in outcomes if outcome.value is not None]


def get_objects(client, item_path_fn, keys, batch_size=BATCH_SIZE, parallel=DEFAULT_PARALLEL, max_requests_per_second=None):
    """Objects of known keys in the fewest requests; returns ``(objects, strategy)``.

    Batch GETs of ``batch_size`` keys; if the gateway refuses them, one GET per key, ``parallel`` at a
    time. A key whose object does not exist (any more) is left out, not an error.
    """
    keys = list(keys)
    if not keys:
        return [], STRATEGY_BATCH
    # One key is one GET either way: a plain one says what it is.
    objects = _read_batches(client, item_path_fn, keys, batch_size) if len(keys) > 1 else None
    if objects is not None:
        return objects, STRATEGY_BATCH
    return _read_singles(client, item_path_fn, keys, parallel, max_requests_per_second), STRATEGY_SINGLE


def list_objects(client, list_path, item_path_fn, filters=None, key=None, only=None, page_size=PAGE_SIZE,
                 batch_size=BATCH_SIZE, parallel=DEFAULT_PARALLEL, max_requests_per_second=None):
    """Full objects of a list route in the fewest requests; returns ``(objects, strategy)``.

    ``filters``: ``(field, operator, value)`` tuples (``eq``, ``ne``, ``in``, ``isnil``, ``like``, ``gt``, ``lt``), applied by the
    gateway when it pages objects and locally otherwise. ``key``: the object field that the plain list
    returns (``primaryEmailAddress``, ``id``, ``name``), needed with ``only``. ``only``: keys wanted (strings
    compared without case); other objects are not returned, and not read at all when the gateway answers
    plain ids. ``item_path_fn(key)`` builds the path of one object.

    Strategies: ``object_list`` (one request per page), ``batch`` (the id list then one GET per
    ``batch_size`` keys), ``single`` (the id list then one GET per key, ``parallel`` at a time).
    """
    wanted = None if only is None else set(_normalise_key(k) for k in only)
    if wanted is not None and key is None:
        raise ValueError('list_objects: "only" needs "key", the field that identifies an object')
    if wanted is not None and not wanted:
        return [], STRATEGY_OBJECT_LIST
    data, headers = client.call('GET', list_path, headers=_page_headers(filters, page_size, 1))
    if _is_object_page(data):
        objects = _read_pages(client, list_path, filters, page_size, data, headers)
        strategy = STRATEGY_OBJECT_LIST
    else:
        # Plain ids: the gateway ignored the paging headers, and the filter with them.
        keys = [k for k in (data or []) if wanted is None or _normalise_key(k) in wanted]
        objects, strategy = get_objects(client, item_path_fn, keys, batch_size=batch_size, parallel=parallel,
                                        max_requests_per_second=max_requests_per_second)
    objects = [obj for obj in objects if _matches(obj, filters)]
    if wanted is not None:
        objects = [obj for obj in objects if _normalise_key(obj.get(key)) in wanted]
    return objects, strategy
