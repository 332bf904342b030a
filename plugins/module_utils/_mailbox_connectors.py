# -*- coding: utf-8 -*-
# Copyright (c) 2026 ovhcloud.exchange contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""PRIVATE: which send connector mailboxes and domains use: plans and bulk apply. May change at any time.

A mailbox sends through one connector (or the platform's own server); a domain has a default connector
for the mailboxes created on it later (the API's "default SBR": sender-based routing, the schema's
words for routing a sender's mail through a connector). A plan is made from one read of everything it needs and refuses bad input (each problem
named) before anything is written. Applying it writes only what differs, in parallel under a rate
limit, then waits for all the tasks at once and reports every mailbox or domain: changed, unchanged,
skipped, failed and why, or not attempted. A refusal of the credentials, an API that is gone or a cancelled
run stops the writes at once: what was not started yet is reported as not attempted, never as changed.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import datetime
from collections import namedtuple

from ansible_collections.ovhcloud.exchange.plugins.module_utils import _bulk
from ansible_collections.ovhcloud.exchange.plugins.module_utils._errors import InputError, OvhApiError
from ansible_collections.ovhcloud.exchange.plugins.module_utils._exchange import PLATFORM_SERVER, Connector
from ansible_collections.ovhcloud.exchange.plugins.module_utils._tasks import PENDING_STATUSES, TaskFailed, TaskTimeout

DEFAULT_NOTE = ('the default connector of a domain applies to mailboxes created on it from now on; existing '
                'mailboxes keep their connector (bind them with ovhcloud.exchange.exchange_account_connector)')


class ChoiceKind(namedtuple('ChoiceKind', 'name items_key what set_status reset_status statuses task_function')):
    """Mailboxes (their connector) or domains (their default connector): how to read, write and report them."""

    __slots__ = ()

    def read(self, exchange, only=None):
        """({key: (key as the API spells it, connector id, pending task)}, strategy), keys in lower case."""
        if self.name == 'account':
            objects, strategy = exchange.mailboxes(only=only)
            return dict((m.address.lower(), (m.address, m.connector_id, m.pending_task)) for m in objects), strategy
        objects, strategy = exchange.domains(only=only)
        return dict((d.name.lower(), (d.name, d.default_connector_id, d.pending_task)) for d in objects), strategy

    def write(self, exchange, key, connector_id):
        if self.name == 'account':
            exchange.set_mailbox_connector(key, connector_id)
        else:
            exchange.set_domain_default(key, connector_id)


MAILBOXES = ChoiceKind('account', 'accounts', 'mailboxes', 'bound', 'unbound',
                       ('bound', 'unbound', 'unchanged', 'skipped', 'failed', 'not_attempted'), 'setAccount')
DOMAINS = ChoiceKind('domain', 'domains', 'domains', 'set', 'reset', ('set', 'reset', 'unchanged', 'failed', 'not_attempted'),
                     'setDomain')
# A task's todoDate and the gateway's Date header may come from different OVH clocks: a failed task created up to this
# long before the writes began may be theirs (a modelled guess, docs/simulator.md).
CLOCK_MARGIN = datetime.timedelta(seconds=5)
# Errors after which no other write can succeed: the bulk write stops at once instead of trying every object.
STOPPING_KINDS = ('forbidden', 'auth', 'unreachable', 'cancelled', 'throttled')


class ConnectorChoice:
    """One mailbox or domain: its connector id before and after, and what happened."""

    def __init__(self, kind, key, before, after, pending_task=0, skipped=False):
        self.kind = kind
        self.key = key
        self.before = before
        self.after = after
        self.pending_task = pending_task
        self.task_id = None
        self.error = None
        # Left alone on purpose (state=absent, mailbox bound to another connector).
        self.skipped = skipped
        # Not written because the run stopped first (a refusal, the API gone, a cancel).
        self.not_attempted = False
        # Written, but the run stopped before its task could be read.
        self.unchecked = False
        # Something the result says about a change that went through anyway (a failed task OVH retried).
        self.note = None

    @property
    def differs(self):
        return self.before != self.after and self.error is None and not self.not_attempted


# The platform's own outgoing server where a connector is expected: the target of "connector: 0".
PLATFORM_SERVER_CONNECTOR = Connector(PLATFORM_SERVER, None, None, None, None, None, None, None, None, 0, {})


class ConnectorNotFound(Exception):
    """A connector name or id that matches no connector, or a name shared by several; str() says which."""


def find_connector(connectors, name_or_id):
    """The connector whose id (a number) or name is `name_or_id`; raises ConnectorNotFound."""
    text = str(name_or_id).strip()
    if text.isdigit():
        for connector in connectors:
            if connector.id == int(text):
                return connector
    named = [connector for connector in connectors if connector.name == text]
    if len(named) == 1:
        return named[0]
    if named:
        raise ConnectorNotFound('several send connectors are named {0!r} (ids {1}): give the id instead of the name'.format(
            text, ', '.join(str(connector.id) for connector in named)))
    known = ', '.join('{0} ({1})'.format(c.name, c.id) for c in connectors) or 'none'
    raise ConnectorNotFound('no send connector has the name or id {0!r} on this platform (connectors: {1})'.format(text, known))


def connector_label(names, connector_id):
    if not connector_id:
        return "the platform's own server ({0})".format(PLATFORM_SERVER)
    return '{0} ({1})'.format(names.get(connector_id) or 'unknown connector', connector_id)


def _stops_the_run(error):
    return isinstance(error, OvhApiError) and error.kind in STOPPING_KINDS


def _reason(error):
    """What a mailbox or domain's entry says of its failed write; the advice of a refusal is said once, in msg."""
    if isinstance(error, OvhApiError) and error.kind in ('forbidden', 'auth'):
        return 'refused by OVH ({0}): {1}'.format(error.status, 'not allowed' if error.kind == 'forbidden' else 'credentials')
    return str(error)


def write_and_wait(exchange, waiter, choices, wait=True, names=None):
    """Write every choice that differs, find their tasks, then (with ``wait``) wait for all of them at once.

    The only write path of mailbox and domain connectors. Failures are recorded on each choice, never raised.
    Returns the error that stopped the run early (a refusal, the API gone, a cancel, throttling past the time
    budget), or None: the choices not started by then are marked not attempted.
    """
    names = names or {}
    todo = [choice for choice in choices if choice.differs]
    # The API's clock before the first write (the reads of the plan set it): tasks created since may be these writes'.
    server_time = exchange.client.server_time
    since = server_time - CLOCK_MARGIN if server_time is not None else None
    outcomes = _bulk.run_parallel(lambda choice: choice.kind.write(exchange, choice.key, choice.after), todo,
                                  parallel=exchange.bulk.parallel, stop=_stops_the_run, cancelled=exchange.cancellation)
    stopped = []
    for outcome in outcomes:
        choice = outcome.item
        if not outcome.ok and _stops_the_run(outcome.error):
            stopped.append(outcome.error)
        if not outcome.attempted or (not outcome.ok and not getattr(outcome.error, 'sent', True)):
            choice.not_attempted = True
        elif not outcome.ok:
            choice.error = _reason(outcome.error)
    cancellation = exchange.cancellation
    if not stopped and any(choice.not_attempted for choice in todo) and cancellation is not None and cancellation.is_set():
        stopped.append(OvhApiError('the run was cancelled ({0}): no write was started after it'.format(cancellation.reason),
                                   kind='cancelled', sent=False))
    written = [choice for choice in todo if choice.error is None and not choice.not_attempted]
    try:
        unseen = _find_tasks(exchange, written)
        if unseen and wait:
            _wait_until_visible(exchange, waiter, unseen, names, since, written)
        if wait:
            _wait(exchange, waiter, [choice for choice in written if choice.task_id], names)
    except OvhApiError as error:
        if not _stops_the_run(error):
            raise
        stopped.append(error)
        for choice in written:
            choice.unchecked = choice.error is None
    # The cause, not its echo: a cancel first, then a refusal, then the API gone or throttled.
    stopped.sort(key=lambda error: -1 if error.kind == 'cancelled' else STOPPING_KINDS.index(error.kind))
    return stopped[0] if stopped else None


def _read_choices(exchange, choices):
    """{choice: (connector id, pending task)} as the platform shows them now, one read per kind."""
    seen = {}
    for kind in (MAILBOXES, DOMAINS):
        mine = [choice for choice in choices if choice.kind is kind]
        if mine:
            found, dummy = kind.read(exchange, only=[choice.key for choice in mine])
            for choice in mine:
                dummy_key, connector_id, pending_task = found.get(choice.key.lower(), (choice.key, PLATFORM_SERVER, 0))
                seen[choice] = (connector_id, pending_task)
    return seen


def _settle(choice, connector_id, pending_task):
    """Whether the write shows: its task (then waited for), or its value (done, or applied without a task)."""
    if pending_task:
        choice.task_id = pending_task
        return True
    return connector_id == choice.after


def _find_tasks(exchange, written):
    """The PUTs answer null: the task ids are on the objects (their pending task), read back at once.

    Returns the choices whose write does not show yet: no task on the object and its old value. OVH may show a
    write late (or, for a domain default, queue no task at all): that is pending, not failed.
    """
    seen = _read_choices(exchange, written)
    return [choice for choice in written if not _settle(choice, *seen[choice])]


def _wait_until_visible(exchange, waiter, unseen, names, since=None, written=()):
    """Read the unseen writes again, at the task polls' pace and within wait_timeout, until each shows.

    A write that shows neither its task nor its value may show late, or its task may have failed before it could be
    read back (a failed task releases the object, and tasks do not name it). So the failed tasks of the write's kind
    created since the writes began (``since``, the API's clock) are read too: as many as the writes still unseen, and
    those writes failed. Without the API's clock nothing is claimed: an old failed task must not pass for a new one.
    """
    remaining = list(unseen)
    claimed = set(choice.task_id for choice in written if choice.task_id)

    def read():
        seen = _read_choices(exchange, remaining)
        remaining[:] = [choice for choice in remaining if not _settle(choice, *seen[choice])]
        if remaining and since is not None:
            _claim_failed_tasks(exchange, remaining, seen, since, claimed, names)
        return seen

    seen, dummy = waiter.until(read, lambda dummy_seen: not remaining)
    for choice in remaining:
        choice.error = ('OVH accepted the change but after wait_timeout={0}s {1} still uses {2} and shows no task: the '
                        'change may still come, or was lost; run again to check'.format(
                            waiter.timeout, choice.key, connector_label(names, seen[choice][0])))


def _claim_failed_tasks(exchange, remaining, seen, since, claimed, names):
    """Mark the unseen writes failed when as many tasks of their kind failed since the writes began."""
    for kind in (MAILBOXES, DOMAINS):
        mine = [choice for choice in remaining if choice.kind is kind]
        if not mine:
            continue
        failed = [task for task in exchange.failed_tasks(kind.task_function, since) if task.id not in claimed]
        if len(failed) < len(mine):
            continue
        failed.sort(key=lambda task: task.id)
        claimed.update(task.id for task in failed)
        ids = ', '.join(str(task.id) for task in failed)
        statuses = ' or '.join(sorted(set(repr(task.status) for task in failed)))
        for choice in mine:
            choice.error = ('{0} ({1}) ended with status {2} before it could be read back: {3} still uses {4}; run '
                            'again to retry'.format('task ' + ids if len(failed) == 1 else 'one of tasks ' + ids,
                                                    kind.task_function, statuses, choice.key,
                                                    connector_label(names, seen[choice][0])))
            remaining.remove(choice)


def _wait(exchange, waiter, choices, names):
    tasks = waiter.wait_for_all([choice.task_id for choice in choices])
    failed = []
    for choice in choices:
        task = tasks.get(choice.task_id)
        status = task.status if task is not None else None
        function = (task.function if task is not None else None) or 'task'
        if status in PENDING_STATUSES:
            choice.error = ('task {0} ({1}) still {2} after wait_timeout={3}s; it may still complete: run again '
                            'later to check'.format(choice.task_id, function, status, waiter.timeout))
        elif status != 'done':
            choice.error = 'task {0} ({1}) ended with status {2!r}'.format(choice.task_id, function, status)
            failed.append(choice)
    if failed:
        # Reported with the object as the platform has it now: OVH may retry a failed task, and then the change is there.
        seen = _read_choices(exchange, failed)
        for choice in failed:
            connector_id = seen[choice][0]
            if connector_id == choice.after:
                choice.note, choice.error = choice.error + ', yet {0} shows the change (OVH retried it)'.format(choice.key), None
            else:
                choice.error += ': {0} still uses {1}; run again to retry'.format(choice.key, connector_label(names, connector_id))


class ConnectorChoicePlan:
    """Desired against actual connectors for a set of mailboxes or domains, ready to apply or to report."""

    def __init__(self, exchange, kind, connector, connectors, choices, strategy):
        self.exchange = exchange
        self.kind = kind
        self.connector = connector
        self.names = dict((c.id, c.name) for c in connectors)
        self.choices = choices
        self.strategy = strategy
        self.warnings = []
        # The error that stopped apply() early, if any.
        self.stopped = None

    @property
    def to_change(self):
        return [choice for choice in self.choices if choice.differs]

    @property
    def changed(self):
        return bool(self.to_change)

    # Nothing to wait for unless something is written (the runner's plan contract, as SendConnectorPlan.waits).
    waits = False

    def _ref(self, connector_id):
        return {'id': connector_id, 'name': self.names.get(connector_id) if connector_id else None}

    def _status(self, choice):
        if choice.not_attempted:
            return 'not_attempted'
        if choice.error is not None:
            return 'failed'
        if choice.skipped:
            return 'skipped'
        if choice.before == choice.after:
            return 'unchanged'
        return self.kind.reset_status if choice.after == PLATFORM_SERVER else self.kind.set_status

    # Applying -----------------------------------------------------------------------------------------

    def apply(self, waiter, wait):
        """Write what differs, then (with ``wait``) wait for every task; failures are recorded per choice."""
        self._wait_for_pending(waiter)
        self.stopped = write_and_wait(self.exchange, waiter, self.choices, wait=wait, names=self.names)

    def _wait_for_pending(self, waiter):
        # A write to an object with a pending task is refused (409): let earlier tasks end, then re-read
        # those objects, since the pending task may have made our change already.
        busy = dict((choice.key.lower(), choice) for choice in self.to_change if choice.pending_task)
        if not busy:
            return
        try:
            waiter.wait([choice.pending_task for choice in busy.values()])
        except (TaskFailed, TaskTimeout):
            pass  # their writes will report the conflict, if any
        found, dummy = self.kind.read(self.exchange, only=[choice.key for choice in busy.values()])
        for key, choice in busy.items():
            if key in found:
                choice.before = found[key][1]

    # Reporting ----------------------------------------------------------------------------------------

    def result(self, applied):
        """The module result: every choice with before/after, counts and task ids."""
        counts = dict((status, 0) for status in self.kind.statuses)
        items = []
        for choice in self.choices:
            status = self._status(choice)
            counts[status] += 1
            item = {self.kind.name: choice.key, 'before': self._ref(choice.before), 'status': status,
                    'after': self._ref(choice.before if status in ('failed', 'not_attempted') else choice.after)}
            if choice.task_id:
                item['task_id'] = choice.task_id
            if choice.error is not None:
                item['error'] = choice.error
            if choice.unchecked:
                item['note'] = 'OVH accepted the change; the run stopped before its task was checked'
            if choice.skipped:
                item['reason'] = 'bound to {0}: left alone'.format(connector_label(self.names, choice.before))
            if choice.note is not None:
                item['note'] = choice.note
            items.append(item)
        result = {
            'changed': bool(counts[self.kind.set_status] or counts[self.kind.reset_status]),
            'connector': None if self.connector is None else self._ref(self.connector.id),
            self.kind.items_key: items,
            'counts': counts,
            'task_ids': [choice.task_id for choice in self.choices if choice.task_id],
            'read_strategy': self.strategy,
        }
        if self.kind is DOMAINS and counts['set']:
            result['note'] = DEFAULT_NOTE
        return result

    def diff(self):
        """What moves: each changed mailbox or domain with its connector before and after."""
        moving = [choice for choice in self.choices if self._status(choice) in (self.kind.set_status, self.kind.reset_status)]
        return {'before': dict((c.key, connector_label(self.names, c.before)) for c in moving),
                'after': dict((c.key, connector_label(self.names, c.after)) for c in moving)}

    def failure(self):
        """The message of a partial failure ("N of M mailboxes could not be changed (K changed): ..."), or None."""
        failed = [choice for choice in self.choices if choice.error is not None and not choice.not_attempted]
        untried = [choice for choice in self.choices if choice.not_attempted]
        if not failed and not untried and self.stopped is None:
            return None
        done = sum(1 for choice in self.choices if self._status(choice) in (self.kind.set_status, self.kind.reset_status))
        head = '{0} of {1} {2} could not be changed ({3} changed)'.format(
            len(failed) + len(untried), done + len(failed) + len(untried), self.kind.what, done)
        if self.stopped is None:
            details = '; '.join('{0}: {1}'.format(choice.key, choice.error) for choice in failed)
        else:
            # One message for the cause, not one per object: each object's status is in the result.
            details = '{0} failed, {1} not attempted, because {2}'.format(len(failed), len(untried), self.stopped)
        return '{0}: {1}. A rerun changes only what is still different.'.format(head, details)

    def partial(self):
        return self.result(True)


def check_names(values, what, problems):
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


def check_addresses(addresses, problems):
    for address in addresses:
        local, at, domain = address.rpartition('@')
        if not (local and at and domain):
            problems.append('{0!r} is not a mailbox address (login@domain)'.format(address))


def _resolve(connectors, connector, problems):
    # 0 is how the API names the platform's own outgoing server: choosing it is a valid target.
    if str(connector).strip() == str(PLATFORM_SERVER):
        return PLATFORM_SERVER_CONNECTOR
    try:
        found = find_connector(connectors, connector)
    except ConnectorNotFound as error:
        problems.append(str(error))
        return None
    if found.state == 'deleting':
        problems.append('send connector {0!r} ({1}) is being deleted'.format(found.name, found.id))
    return found


def explain_unknown_mailboxes(exchange, addresses):
    """Why each address is not a mailbox of this platform: another platform's domain, or no such mailbox."""
    domains = [domain.lower() for domain in exchange.domain_names()]
    problems = []
    for address in addresses:
        domain = address.rpartition('@')[2].lower()
        if domain in domains:
            problems.append('{0}: no such mailbox on platform {1}'.format(address, exchange.label))
        else:
            known = ', '.join(sorted(domains)) or 'none'
            problems.append('{0}: {1} is not a domain of platform {2} (its domains: {3}); the mailbox belongs to '
                            'another platform or does not exist'.format(address, domain, exchange.label, known))
    return problems


def explain_unknown_domains(exchange, names):
    known = exchange.domain_names()
    return ['{0} is not a domain of platform {1} (its domains: {2})'.format(name, exchange.label, ', '.join(known) or 'none')
            for name in names]


# Mailboxes --------------------------------------------------------------------------------------------

def plan_mailbox_connectors(exchange, accounts, connector, state='present', exclusive=False):
    """Plan sending ``accounts`` through ``connector`` (present) or back through the platform's server (absent).

    ``exclusive``: mailboxes using the connector and not listed go back to the platform's server.
    Raises InputError, naming every problem, before anything is written.
    """
    problems = []
    addresses = check_names(accounts, 'accounts', problems)
    check_addresses(addresses, problems)
    if exclusive and state != 'present':
        problems.append('exclusive=true goes with state=present only (with state=absent, list the mailboxes to unbind)')
    connectors = exchange.connectors()
    target = _resolve(connectors, connector, problems)
    found, strategy = MAILBOXES.read(exchange, only=None if exclusive else addresses)
    unknown = [address for address in addresses if address.lower() not in found and '@' in address]
    if unknown:
        problems.extend(explain_unknown_mailboxes(exchange, unknown))
    if problems:
        raise InputError.listing(problems)

    target_id = target.id
    choices = []
    for address in addresses:
        key, current, pending_task = found[address.lower()]
        if state == 'present':
            desired = target_id
        elif current == target_id:
            desired = PLATFORM_SERVER
        else:
            desired = current
        choices.append(ConnectorChoice(MAILBOXES, key, current, desired, pending_task,
                                       skipped=state == 'absent' and current not in (PLATFORM_SERVER, target_id)))
    if exclusive:
        listed = set(address.lower() for address in addresses)
        for lowered in sorted(found):
            key, current, pending_task = found[lowered]
            if lowered not in listed and current == target_id:
                choices.append(ConnectorChoice(MAILBOXES, key, target_id, PLATFORM_SERVER, pending_task))
    return ConnectorChoicePlan(exchange, MAILBOXES, target, connectors, choices, strategy)


# Domain defaults --------------------------------------------------------------------------------------

def plan_domain_defaults(exchange, domains, connector=None, state='present'):
    """Plan the default connector of ``domains``: ``connector`` (present) or the platform's server (absent)."""
    problems = []
    names = check_names(domains, 'domains', problems)
    connectors = exchange.connectors()
    target = None
    if state == 'present':
        if connector is None or str(connector).strip() == '':
            problems.append('state=present needs connector (a name or an id)')
        else:
            target = _resolve(connectors, connector, problems)
    found, strategy = DOMAINS.read(exchange, only=names)
    unknown = [name for name in names if name.lower() not in found]
    if unknown:
        problems.extend(explain_unknown_domains(exchange, unknown))
    if problems:
        raise InputError.listing(problems)
    desired = target.id if target is not None else PLATFORM_SERVER
    choices = [ConnectorChoice(DOMAINS, found[name.lower()][0], found[name.lower()][1], desired, found[name.lower()][2])
               for name in names]
    return ConnectorChoicePlan(exchange, DOMAINS, target, connectors, choices, strategy)
