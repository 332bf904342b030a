# -*- coding: utf-8 -*-
# Copyright (c) 2026 ovhcloud.exchange contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""PRIVATE: which send connector mailboxes and domains use; plans, checks, bulk apply. May change at any time.

A plan is made from one read of everything it needs and refuses bad input (each problem named) before
anything is written. Applying it writes only what differs, in parallel under a rate limit, then waits
for all the tasks at once and reports every mailbox or domain: changed, unchanged, skipped, or failed
and why. Check mode is a plan that is not applied.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible_collections.ovhcloud.exchange.plugins.module_utils import _bulk
from ansible_collections.ovhcloud.exchange.plugins.module_utils._client import ExchangeClient, OvhApiError, require_sdk
from ansible_collections.ovhcloud.exchange.plugins.module_utils._connectors import (
    PLATFORM_SERVER, ConnectorNotFound, find_connector, list_connectors)
from ansible_collections.ovhcloud.exchange.plugins.module_utils._tasks import (
    PENDING_STATUSES, TaskError, TaskFailed, TaskTimeout, TaskWaiter)

DEFAULT_NOTE = ('the default connector of a domain applies to mailboxes created on it from now on; existing '
                'mailboxes keep their connector (bind them with ovhcloud.exchange.exchange_account_connector)')


class BindingInputError(Exception):
    """Input refused before any write; ``problems`` lists each one, naming what and why."""

    def __init__(self, problems):
        self.problems = list(problems)
        super(BindingInputError, self).__init__('nothing was changed: ' + '; '.join(self.problems))


class _Target:
    """What a plan binds: mailboxes (sendConnectorId) or domains (sendConnectorIdDefault)."""

    def __init__(self, segment, key_field, value_field, write_suffix, set_status, reset_status, statuses):
        self.segment = segment
        self.statuses = statuses
        self.key_field = key_field
        self.value_field = value_field
        self.write_suffix = write_suffix
        self.set_status = set_status
        self.reset_status = reset_status

    def read(self, client, bulk, only=None, filters=None):
        return _bulk.list_objects(client, client.service_path(self.segment),
                                  lambda key: client.service_path(self.segment, key),
                                  key=self.key_field, only=only, filters=filters, **bulk)

    def write(self, client, key, connector_id):
        client.put(client.service_path(self.segment, key, *self.write_suffix), {self.value_field: connector_id})

    def value(self, obj):
        return obj.get(self.value_field) or PLATFORM_SERVER


ACCOUNTS = _Target('account', 'primaryEmailAddress', 'sendConnectorId', (), 'bound', 'unbound',
                   ('bound', 'unbound', 'unchanged', 'skipped', 'failed'))
DOMAINS = _Target('domain', 'name', 'sendConnectorIdDefault', ('changeDefaultSBR',), 'set', 'reset',
                  ('set', 'reset', 'unchanged', 'failed'))


class Binding:
    """One mailbox or domain of a plan: its connector id before and after, and what happened."""

    def __init__(self, key, before, after, pending_task=0, skipped=False):
        self.key = key
        self.before = before
        self.after = after
        self.pending_task = pending_task
        self.task_id = None
        self.error = None
        # Left alone on purpose (state=absent, mailbox bound to another connector).
        self.skipped = skipped

    @property
    def changes(self):
        return self.before != self.after and self.error is None


def _bulk_options(parallel, max_requests_per_second):
    return {'parallel': parallel or _bulk.DEFAULT_PARALLEL, 'max_requests_per_second': max_requests_per_second}


def _check_names(values, what, problems):
    """Names given once each, without blanks; returns them stripped. Duplicates compare without case."""
    seen = {}
    clean = []
    for index, value in enumerate(values or []):
        text = (value or '').strip() if isinstance(value, str) else ''
        if not text:
            problems.append('{0}[{1}] is empty'.format(what, index))
            continue
        lowered = text.lower()
        if lowered in seen:
            problems.append('{0} is listed twice in {1} (items {2} and {3})'.format(text, what, seen[lowered], index))
            continue
        seen[lowered] = index
        clean.append(text)
    return clean


PLATFORM_SERVER_REF = {'id': PLATFORM_SERVER, 'displayName': None}


def _resolve(connectors, connector, problems):
    # 0 is how the API names the platform's own outgoing server: binding to it is a valid target.
    if str(connector).strip() == str(PLATFORM_SERVER):
        return PLATFORM_SERVER_REF
    try:
        found = find_connector(connectors, connector)
    except ConnectorNotFound as error:
        problems.append(str(error))
        return None
    if found.get('state') == 'deleting':
        problems.append('send connector {0!r} ({1}) is being deleted'.format(found.get('displayName'), found.get('id')))
    return found


def _platform(client):
    return client.service if client.service == client.organization else '{0}/{1}'.format(client.organization, client.service)


class BindingPlan:
    """Desired against actual for a set of mailboxes or domains, ready to apply or to report."""

    def __init__(self, target, connector, connectors, bindings, strategy, platform):
        self.target = target
        self.connector = connector
        self.names = dict((c.get('id'), c.get('displayName')) for c in connectors)
        self.bindings = bindings
        self.strategy = strategy
        self.platform = platform
        self.task_ids = []

    @property
    def changes(self):
        return [binding for binding in self.bindings if binding.changes]

    def _ref(self, connector_id):
        return {'id': connector_id, 'name': self.names.get(connector_id) if connector_id else None}

    def label(self, connector_id):
        if not connector_id:
            return "the platform's own server (0)"
        return '{0} ({1})'.format(self.names.get(connector_id) or 'unknown connector', connector_id)

    def _status(self, binding):
        if binding.error is not None:
            return 'failed'
        if binding.skipped:
            return 'skipped'
        if binding.before == binding.after:
            return 'unchanged'
        return self.target.reset_status if binding.after == PLATFORM_SERVER else self.target.set_status

    # Applying -----------------------------------------------------------------------------------------

    def apply(self, client, waiter, bulk, wait=True):
        """Write what differs, then (with ``wait``) wait for every task; failures are recorded per binding."""
        self._wait_for_pending(client, waiter, bulk)
        todo = self.changes
        outcomes = _bulk.run_parallel(lambda binding: self.target.write(client, binding.key, binding.after), todo, **bulk)
        for outcome in outcomes:
            if not outcome.ok:
                outcome.item.error = outcome.message
        written = [binding for binding in todo if binding.error is None]
        self._find_tasks(client, bulk, written)
        if wait:
            self._wait(waiter, [binding for binding in written if binding.task_id])

    def _wait_for_pending(self, client, waiter, bulk):
        # A write to an object with a pending task is refused (409): let earlier tasks end, then re-read
        # those objects, since the pending task may have made our change already.
        busy = dict((binding.key, binding) for binding in self.changes if binding.pending_task)
        if not busy:
            return
        try:
            waiter.wait([binding.pending_task for binding in busy.values()])
        except (TaskFailed, TaskTimeout):
            pass  # their writes will report the conflict, if any
        objects, dummy = self.target.read(client, bulk, only=list(busy))
        for obj in objects:
            binding = busy.get(obj.get(self.target.key_field))
            if binding is not None:
                binding.before = self.target.value(obj)

    def _find_tasks(self, client, bulk, written):
        # The PUTs answer null: the task ids are on the objects (taskPendingId), one read for all of them.
        if not written:
            return
        objects, dummy = self.target.read(client, bulk, only=[binding.key for binding in written])
        by_key = dict((obj.get(self.target.key_field), obj) for obj in objects)
        for binding in written:
            obj = by_key.get(binding.key, {})
            binding.task_id = obj.get('taskPendingId') or None
            if binding.task_id:
                self.task_ids.append(binding.task_id)
            elif self.target.value(obj) != binding.after:
                binding.error = ('OVH accepted the change but {0} still uses {1}: its task must have failed; '
                                 'run again to retry'.format(binding.key, self.label(self.target.value(obj))))

    def _wait(self, waiter, bindings):
        tasks = wait_for_all(waiter, [binding.task_id for binding in bindings])
        for binding in bindings:
            task = tasks.get(binding.task_id) or {}
            status = task.get('status')
            if status in PENDING_STATUSES:
                binding.error = ('task {0} ({1}) still {2} after wait_timeout={3}s; it may still complete: run again '
                                 'later to check'.format(binding.task_id, task.get('function') or 'task', status, waiter.timeout))
            elif status != 'done':
                binding.error = 'task {0} ({1}) ended with status {2!r}: the change was not applied; run again to retry'.format(
                    binding.task_id, task.get('function') or 'task', status)

    # Reporting ----------------------------------------------------------------------------------------

    def result(self, items_key):
        """The module result: every binding with before/after, counts, task ids, and a diff of what moves."""
        counts = dict((status, 0) for status in self.target.statuses)
        items = []
        moving_before = {}
        moving_after = {}
        for binding in self.bindings:
            status = self._status(binding)
            counts[status] += 1
            item = {self.target.segment: binding.key, 'before': self._ref(binding.before), 'status': status,
                    'after': self._ref(binding.before if status == 'failed' else binding.after)}
            if binding.task_id:
                item['task_id'] = binding.task_id
            if binding.error is not None:
                item['error'] = binding.error
            if binding.skipped:
                item['reason'] = 'bound to {0}: left alone'.format(self.label(binding.before))
            items.append(item)
            if status in (self.target.set_status, self.target.reset_status):
                moving_before[binding.key] = self.label(binding.before)
                moving_after[binding.key] = self.label(binding.after)
        return {
            'changed': bool(moving_after),
            'connector': None if self.connector is None else self._ref(self.connector.get('id')),
            items_key: items,
            'counts': counts,
            'task_ids': self.task_ids,
            'read_strategy': self.strategy,
            'diff': {'before': moving_before, 'after': moving_after},
        }

    def failure_message(self, what):
        failed = [binding for binding in self.bindings if binding.error is not None]
        if not failed:
            return None
        done = len(self.changes)
        return ('{0} of {1} {2} could not be changed ({3} changed): {4}. A rerun changes only what is still '
                'different.').format(len(failed), done + len(failed), what, done,
                                     '; '.join('{0}: {1}'.format(binding.key, binding.error) for binding in failed))


def wait_for_all(waiter, task_ids):
    """{id: task} for every task: a failed task does not stop the wait for the others."""
    tasks = {}
    remaining = list(task_ids)
    while remaining:
        try:
            tasks.update(waiter.wait(remaining))
            return tasks
        except TaskTimeout as error:
            tasks.update(error.tasks)
            return tasks
        except TaskFailed as error:
            tasks.update(error.tasks)
            remaining = [task_id for task_id in remaining if tasks.get(task_id, {}).get('status') in PENDING_STATUSES]
    return tasks


def make_waiter(client, timeout, bulk):
    """A TaskWaiter that reads finished tasks in batches."""
    def read_many(task_ids):
        tasks, dummy = _bulk.get_objects(client, lambda task_id: client.service_path('task', task_id), task_ids,
                                         parallel=bulk['parallel'], max_requests_per_second=bulk['max_requests_per_second'])
        return dict((task.get('id'), task) for task in tasks)
    return TaskWaiter(client, timeout, read_many=read_many)


# Mailboxes --------------------------------------------------------------------------------------------

def _explain_unknown(client, addresses):
    """Why each address is not a mailbox of this platform: another platform's domain, or no such mailbox."""
    domains = [domain.lower() for domain in client.get(client.service_path('domain')) or []]
    problems = []
    for address in addresses:
        domain = address.rpartition('@')[2].lower()
        if domain in domains:
            problems.append('{0}: no such mailbox on platform {1}'.format(address, _platform(client)))
        else:
            known = ', '.join(sorted(domains)) or 'none'
            problems.append('{0}: {1} is not a domain of platform {2} (its domains: {3}); the mailbox belongs to '
                            'another platform or does not exist'.format(address, domain, _platform(client), known))
    return problems


def plan_account_bindings(client, accounts, connector, state='present', exclusive=False, bulk=None):
    """Plan binding ``accounts`` to ``connector`` (present) or back to the platform's server (absent).

    ``exclusive``: mailboxes bound to the connector and not listed go back to the platform's server.
    Raises BindingInputError, naming every problem, before anything is written.
    """
    bulk = bulk or _bulk_options(None, None)
    problems = []
    addresses = _check_names(accounts, 'accounts', problems)
    for address in addresses:
        local, at, domain = address.rpartition('@')
        if not (local and at and domain):
            problems.append('{0!r} is not a mailbox address (login@domain)'.format(address))
    if exclusive and state != 'present':
        problems.append('exclusive=true goes with state=present only (with state=absent, list the mailboxes to unbind)')
    connectors = list_connectors(client, **bulk)
    target = _resolve(connectors, connector, problems)
    objects, strategy = ACCOUNTS.read(client, bulk, only=None if exclusive else addresses)
    by_address = dict((obj.get('primaryEmailAddress', '').lower(), obj) for obj in objects)
    unknown = [address for address in addresses if address.lower() not in by_address and '@' in address]
    if unknown:
        problems.extend(_explain_unknown(client, unknown))
    if problems:
        raise BindingInputError(problems)

    target_id = target.get('id')
    bindings = []
    listed = set()
    for address in addresses:
        obj = by_address[address.lower()]
        listed.add(address.lower())
        current = ACCOUNTS.value(obj)
        if state == 'present':
            desired = target_id
        elif current == target_id:
            desired = PLATFORM_SERVER
        else:
            desired = current
        bindings.append(Binding(obj['primaryEmailAddress'], current, desired, obj.get('taskPendingId') or 0,
                                skipped=state == 'absent' and current not in (PLATFORM_SERVER, target_id)))
    if exclusive:
        for obj in sorted(objects, key=lambda o: o.get('primaryEmailAddress', '').lower()):
            if obj['primaryEmailAddress'].lower() not in listed and ACCOUNTS.value(obj) == target_id:
                bindings.append(Binding(obj['primaryEmailAddress'], target_id, PLATFORM_SERVER, obj.get('taskPendingId') or 0))
    return BindingPlan(ACCOUNTS, target, connectors, bindings, strategy, _platform(client))


# Domain defaults --------------------------------------------------------------------------------------

def plan_domain_defaults(client, domains, connector=None, state='present', bulk=None):
    """Plan the default connector of ``domains``: ``connector`` (present) or the platform's server (absent)."""
    bulk = bulk or _bulk_options(None, None)
    problems = []
    names = _check_names(domains, 'domains', problems)
    connectors = list_connectors(client, **bulk)
    target = None
    if state == 'present':
        if connector is None or str(connector).strip() == '':
            problems.append('state=present needs connector (a name or an id)')
        else:
            target = _resolve(connectors, connector, problems)
    objects, strategy = DOMAINS.read(client, bulk, only=names)
    by_name = dict((obj.get('name', '').lower(), obj) for obj in objects)
    unknown = [name for name in names if name.lower() not in by_name]
    if unknown:
        known = sorted(client.get(client.service_path('domain')) or [])
        problems.extend('{0} is not a domain of platform {1} (its domains: {2})'.format(
            name, _platform(client), ', '.join(known) or 'none') for name in unknown)
    if problems:
        raise BindingInputError(problems)
    desired = target.get('id') if target else PLATFORM_SERVER
    bindings = [Binding(by_name[name.lower()]['name'], DOMAINS.value(by_name[name.lower()]), desired,
                        by_name[name.lower()].get('taskPendingId') or 0) for name in names]
    return BindingPlan(DOMAINS, target, connectors, bindings, strategy, _platform(client))


# Info -------------------------------------------------------------------------------------------------

def connector_usage(client, connector=None, bulk=None):
    """The platform's connectors (or the one named), each with its bound mailboxes and the domains using it."""
    bulk = bulk or _bulk_options(None, None)
    connectors = list_connectors(client, **bulk)
    selected = connectors
    if connector is not None and str(connector).strip() != '':
        try:
            selected = [find_connector(connectors, connector)]
        except ConnectorNotFound as error:
            raise BindingInputError([str(error)])
    strategy = None
    accounts = []
    domains = []
    if selected:
        # One connector: let the gateway filter; all of them: one read of every mailbox.
        filters = [('sendConnectorId', 'eq', selected[0]['id'])] if len(selected) == 1 else None
        accounts, strategy = ACCOUNTS.read(client, bulk, filters=filters)
        domains, dummy = DOMAINS.read(client, bulk)
    result = []
    for found in sorted(selected, key=lambda c: c.get('id')):
        entry = dict(found)
        entry['accounts'] = sorted((a['primaryEmailAddress'] for a in accounts if ACCOUNTS.value(a) == found['id']),
                                   key=str.lower)
        entry['default_for_domains'] = sorted(d['name'] for d in domains if DOMAINS.value(d) == found['id'])
        result.append(entry)
    return {'changed': False, 'connectors': result, 'read_strategy': strategy}


# Module glue --------------------------------------------------------------------------------------------

def bulk_options(params):
    """parallel and max_requests_per_second from module options, checked before any request."""
    problems = []
    if params.get('parallel') is not None and params['parallel'] < 1:
        problems.append('parallel must be 1 or more (got {0})'.format(params['parallel']))
    if params.get('max_requests_per_second') is not None and params['max_requests_per_second'] <= 0:
        problems.append('max_requests_per_second must be more than 0 (got {0}); leave it unset for no limit'.format(
            params['max_requests_per_second']))
    if problems:
        raise BindingInputError(problems)
    return _bulk_options(params.get('parallel'), params.get('max_requests_per_second'))


def run_module(module, work):
    """Build the client, run ``work(client)`` and exit; failures become fail_json with the message, never a traceback.

    ``work`` returns ``(result, failure_message)``; a failure message fails the module with the full result,
    so a partial change is reported exactly (what changed, what did not and why).
    """
    require_sdk(module)
    client = None
    try:
        client = ExchangeClient(module.params, warn=module.warn)
        result, failure = work(client)
    except BindingInputError as error:
        module.fail_json(msg=str(error), problems=error.problems, changed=False,
                         api_calls=client.api_calls() if client else None)
    except (OvhApiError, TaskError) as error:
        module.fail_json(msg=str(error), changed=False, api_calls=client.api_calls() if client else None)
    diff = result.pop('diff', None)
    if module._diff and diff is not None:
        result['diff'] = diff
    result['api_calls'] = client.api_calls()
    if failure:
        module.fail_json(msg=failure, **result)
    module.exit_json(**result)


def apply_plan(module, client, plan, what, items_key):
    """Apply ``plan`` unless in check mode; returns ``(result, failure_message)`` for run_module."""
    bulk = bulk_options(module.params)
    if not module.check_mode and plan.changes:
        plan.apply(client, make_waiter(client, module.params['wait_timeout'], bulk), bulk, wait=module.params['wait'])
    return plan.result(items_key), plan.failure_message(what)
