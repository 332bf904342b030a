# -*- coding: utf-8 -*-
# Copyright (c) 2026 ovhcloud.exchange contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""PRIVATE: the planner of exchange_send_connector. May change at any time without notice.

`plan_send_connector` reads the platform (through `_exchange`) and decides what to do to one connector;
`SendConnectorPlan.apply` does it. The runner calls apply only outside check mode. Settings are named
as the module's options (`smart_host`, `max_send_size`...): no JSON field and no path appears here.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible_collections.ovhcloud.exchange.plugins.module_utils._errors import InputError
from ansible_collections.ovhcloud.exchange.plugins.module_utils._exchange import (
    PLATFORM_SERVER, connector_diff_view, connector_document, connector_field_names)
from ansible_collections.ovhcloud.exchange.plugins.module_utils._mailbox_connectors import (
    DOMAINS, MAILBOXES, ConnectorChoice, write_and_wait)
from ansible_collections.ovhcloud.exchange.plugins.module_utils._smart_host import parse_smart_host
from ansible_collections.ovhcloud.exchange.plugins.module_utils._tasks import PENDING_STATUSES, TaskFailed, TaskTimeout

# OVH's guide reserves send connectors for Private (dedicated) and Trusted (dedicatedCluster) Exchange; on other
# offers it says one can be disabled by OVH at any time (docs/simulator.md, reading 8).
OFFERS_WITH_SEND_CONNECTORS = ("dedicated", "dedicatedCluster")
# Settings a PUT can write; the authentication goes through changeAuthentication.
UPDATABLE = ("smart_host", "port", "require_tls", "max_send_size", "dns_routing")
# POST .../sendConnector takes no dnsRouting: it is set by a PUT once the connector exists.
CREATABLE = ("smart_host", "port", "require_tls", "auth_mechanism", "user", "password", "max_send_size")
SETTINGS = ("smart_host", "port", "require_tls", "auth_mechanism", "user", "password", "max_send_size", "dns_routing")


def check_settings(name, connector_id, state, settings):
    """Bad input, caught before any request: returns the warnings to show, raises InputError."""
    warnings = []
    if name is not None and not name.strip():
        raise InputError("name must not be empty: it is the connector's display name")
    if connector_id is not None and connector_id < 1:
        raise InputError("id must be a positive connector id, got {0}".format(connector_id))
    if state == "absent":
        return warnings
    port = settings.get("port")
    if port is not None and not 1 <= port <= 65535:
        raise InputError("port must be between 1 and 65535, got {0}".format(port))
    if port == 465:
        warnings.append("port 465 is for implicit TLS (SMTPS), but Exchange send connectors speak STARTTLS: the smart "
                        "host will most likely never answer; use 587 (or 25) with require_tls")
    size = settings.get("max_send_size")
    if size is not None and not 1 <= size <= 100:
        raise InputError("max_send_size is in MB and must be between 1 and 100, got {0}".format(size))
    smart_host = settings.get("smart_host")
    if smart_host is not None:
        if not smart_host.strip():
            raise InputError("smart_host must not be empty: give the relay's host name or IP address")
        if len(smart_host.split()) > 1:
            # These words are kept: the bad-input catalogue and users' searches know them.
            raise InputError("smart_host {0!r} contains a space: give the relay's host name or IP address alone, such "
                             "as smtp-relay.example.com".format(smart_host))
        # The value written is the checked one: IDN names in their ASCII form, IP addresses canonical.
        try:
            settings["smart_host"] = parse_smart_host(smart_host, option="smart_host")
        except ValueError as error:
            raise InputError(str(error))
    mechanism = settings.get("auth_mechanism")
    if mechanism and mechanism != "none" and not settings.get("user"):
        raise InputError("auth_mechanism={0} needs user (and password when the connector is created or "
                         "switches to it)".format(mechanism))
    if settings.get("password") and mechanism == "none":
        warnings.append("password is ignored with auth_mechanism=none")
    return warnings


def _already_set(option, wanted, actual):
    """Whether the connector already has the wanted value.

    The smart host compares exactly but for case: DNS names are case-insensitive (RFC 4343), so
    `Relay.example.com` reaches the same host, while a stored value with a space, a scheme, a port, a
    path or a trailing dot is not what the (checked) wanted value says and is rewritten.
    """
    if option == "smart_host" and wanted is not None and isinstance(actual, str):
        return wanted.lower() == actual.lower()
    return wanted == actual


class Wanted:
    """What the module was asked for one connector, as plain values."""

    def __init__(self, name=None, connector_id=None, state="present", settings=None, update_password="on_create",
                 force=False, allow_unsupported_offer=False, wait=False):
        self.name = name
        self.connector_id = connector_id
        self.present = state == "present"
        self.settings = dict((option, value) for option, value in (settings or {}).items() if value is not None)
        self.update_password = update_password
        self.force = force
        self.allow_unsupported_offer = allow_unsupported_offer
        self.wait = wait


class SendConnectorPlan:
    """What to do to one connector; `apply()` does it."""

    def __init__(self, exchange, wanted, current):
        self.exchange = exchange
        self.wanted = wanted
        self.current = current
        self.create = None             # settings of a connector to create
        self.updates = {}              # settings a PUT changes
        self.authentication = None     # (mechanism, user, password) for changeAuthentication
        self.delete = False
        self.moves = {"accounts": [], "domains": []}  # users sent back to the platform's server before a delete
        self.warnings = []
        self.task_ids = []
        self.actions = []
        self.connector = connector_document(current) if current else None
        # Connector creations still running on the platform when the plan was made (see apply()).
        self.pending_creations = []

    @property
    def changed(self):
        return bool(self.create is not None or self.updates or self.authentication is not None or self.delete)

    @property
    def waits(self):
        """With wait, a connector with a task still running (such as its creation) is waited for even when nothing
        changes: a rerun after a wait_timeout returns it ready, not still being created."""
        return bool(self.wanted.wait and self.wanted.present and self.current is not None and self.current.pending_task)

    @property
    def operation(self):
        if self.create is not None:
            return "created"
        if self.delete:
            return "deleted"
        return "updated" if self.changed else "unchanged"

    # Results ---------------------------------------------------------------------------------------

    def predicted(self):
        """The connector document as it will be once the plan is applied (None when deleted)."""
        if self.delete:
            return None
        changes = dict(self.create or {})
        changes.update(self.updates)
        if self.authentication is not None:
            changes["auth_mechanism"] = self.authentication[0]
        return connector_document(self.current, changes)

    def planned_actions(self):
        """The writes apply() would make, as check mode reports them."""
        target = "sendConnector/{0}".format(self.current.id) if self.current else "sendConnector/<new>"
        actions = ["POST sendConnector"] if self.create is not None else []
        if self.updates:
            actions.append(_put_action(target, self.updates))
        if self.authentication is not None:
            actions.append("POST {0}/changeAuthentication".format(target))
        if self.delete:
            actions.extend(_move_actions(self.moves))
            actions.append("DELETE {0}".format(target))
        return actions

    def result(self, applied):
        """The module result; before apply (check mode, or nothing to do) it reports the prediction."""
        connector = self.connector if applied else (self.predicted() if self.changed else self.connector)
        return {
            "changed": self.changed,
            "operation": self.operation,
            "moves": {"accounts": list(self.moves["accounts"]), "domains": list(self.moves["domains"])},
            "connector": connector,
            "id": connector.get("id") if connector else None,
            "task_ids": list(self.task_ids),
            "actions": list(self.actions) if applied else self.planned_actions(),
        }

    def diff(self):
        before = connector_diff_view(connector_document(self.current)) if self.current else {}
        after = self.predicted()
        after = connector_diff_view(after) if after else {}
        if self.authentication is not None and self.authentication[0] != "none":
            # The API returns no secret, so nothing else would show that user and password are sent.
            after["authentication"] = "re-sent" if self.current is not None else "sent"
        if self.delete and (self.moves["accounts"] or self.moves["domains"]):
            # What a forced delete switches back to the platform's own server, so --check --diff names it.
            before.update(accounts=list(self.moves["accounts"]), default_for_domains=list(self.moves["domains"]))
            after["moved_to_platform_server"] = {"accounts": list(self.moves["accounts"]),
                                                 "default_for_domains": list(self.moves["domains"])}
        return {"before": before, "after": after}

    def failure(self):
        return None  # a failure of a connector's write raises: nothing is partly applied but what partial() says

    def partial(self):
        """What was done when apply() stopped half-way (only what the API accepted), and the connector as read back then."""
        return {"changed": bool(self.actions), "actions": list(self.actions), "task_ids": list(self.task_ids),
                "connector": self.connector, "id": self.connector.get("id") if self.connector else None}

    # Applying --------------------------------------------------------------------------------------

    def apply(self, waiter, wait):
        if self.create is not None and self.pending_creations:
            # A connector not listed may be one of these creations (OVH may list it only once created): wait
            # for them whatever `wait` says, and look again; never create a second connector.
            self._wait_for_creations(waiter)
            found = _find(self.exchange, self.wanted)
            if found is not None:
                self.__dict__.update(_plan_for(self.exchange, self.wanted, found).__dict__)
                if not self.changed:
                    return
        if self.current is not None and self.current.pending_task:
            # Another change is running on this connector: it takes no write until that is done; decide again then.
            self._wait(waiter, [self.current.pending_task], True, record=False)
            replanned = _plan_for(self.exchange, self.wanted, self.exchange.connector(self.current.id))
            # The plan becomes the one made on the connector as it is now (same object: the runner holds it).
            self.__dict__.update(replanned.__dict__)
            if not self.changed:
                return
        if self.create is not None:
            self._create(waiter, wait)
        elif self.delete:
            self._delete(waiter, wait)
        else:
            self._update(waiter, wait)

    def _wait(self, waiter, task_ids, wait, record=True, connector_id=None):
        """Wait for the tasks; if one fails, the failure is reported with connector `connector_id` as the platform has
        it now (the change was not applied, or OVH retried the task since)."""
        task_ids = [task_id for task_id in task_ids if task_id]
        if record:
            self.task_ids.extend(task_id for task_id in task_ids if task_id not in self.task_ids)
        if not (wait and task_ids):
            return
        try:
            waiter.wait(task_ids)
        except TaskFailed:
            if connector_id is not None:
                self._read_back(connector_id, None)
            raise

    def _wait_for_creations(self, waiter):
        tasks = waiter.wait_for_all(self.pending_creations)
        running = [task_id for task_id in self.pending_creations
                   if task_id not in tasks or tasks[task_id].status in PENDING_STATUSES]
        if running:
            raise InputError(
                "send connector {0!r} is not listed and connector creation task(s) {1} are still running on the platform "
                "after wait_timeout={2}s: OVH lists a new connector only once its creation ends, so one of them may be this "
                "connector; nothing was created (never two connectors): run again later".format(
                    self.wanted.name, ", ".join(str(task_id) for task_id in running), waiter.timeout))

    # An action is recorded once the API accepted it: a refused write is never reported as done.
    def _create(self, waiter, wait):
        task, connector = self.exchange.create_connector(self.create)
        task_id = task.id if task is not None else connector.pending_task
        self.actions.append("POST sendConnector")
        # OVH may list a new connector only once its creation task has ended: follow the task, then look
        # for the connector. dnsRouting can only be written by a PUT, once the connector exists.
        must_wait = wait or bool(self.updates)
        try:
            self._wait(waiter, [task_id], must_wait)
        except TaskFailed:
            self._read_back_created(task_id)  # reported with the failure: absent, or there if OVH retried the task
            raise
        if connector is None or must_wait:
            connector = self._read_back_created(task_id)
        else:
            self.connector = connector_document(connector)  # found after an ambiguous POST, not waited for
        if connector is None and must_wait:
            raise InputError("OVH ended the creation task {0} of send connector {1!r} but no connector of that name is "
                             "listed; run again to check it".format(task_id, self.wanted.name))
        if connector is not None and self.updates:
            self._put(connector.id, waiter, wait)

    def _read_back_created(self, task_id):
        """The created connector (the one with that creation task pending, else the newest of the name), or None."""
        named = [c for c in self.exchange.connectors() if c.name == self.wanted.name]
        mine = [c for c in named if task_id and c.pending_task == task_id]
        candidates = mine or named
        connector = max(candidates, key=lambda c: c.id or 0) if candidates else None
        self.connector = connector_document(connector) if connector is not None else None
        return connector

    def _read_back(self, connector_id, fallback):
        connector = self.exchange.connector(connector_id) if connector_id is not None else fallback
        self.connector = connector_document(connector) if connector is not None else None
        return connector

    def _put(self, connector_id, waiter, wait):
        """A PUT answers nothing: the task it queued shows on the connector; with `wait`, wait for it.

        A write may also show late: neither its task nor its values on the connector yet. With `wait` the
        connector is read again (bounded by wait_timeout) until one of them shows.
        """
        self.exchange.update_connector(connector_id, self.updates)
        self.actions.append(_put_action("sendConnector/{0}".format(connector_id), self.updates))
        connector = self._read_back(connector_id, None)
        if wait and connector is not None and not connector.pending_task and not self._shows_updates(connector):
            connector, settled = waiter.until(lambda: self._read_back(connector_id, None),
                                              lambda c: c is None or c.pending_task or self._shows_updates(c))
            if not settled:
                raise TaskTimeout(
                    "OVH accepted the change of send connector {0} but after wait_timeout={1}s it shows neither a task nor "
                    "the new values: it may still come; run again later to check".format(connector_id, waiter.timeout), {})
        pending_task = connector.pending_task if connector is not None else 0
        self._wait(waiter, [pending_task], wait, connector_id=connector_id)
        if wait and pending_task:
            self._read_back(connector_id, None)

    def _shows_updates(self, connector):
        return all(_already_set(option, value, getattr(connector, option)) for option, value in self.updates.items())

    def _update(self, waiter, wait):
        connector_id = self.current.id
        if self.updates:
            # The connector takes no other write while the PUT's task runs.
            self._put(connector_id, waiter, wait or self.authentication is not None)
        if self.authentication is not None:
            task = self.exchange.change_authentication(connector_id, *self.authentication)
            self.actions.append("POST sendConnector/{0}/changeAuthentication".format(connector_id))
            self._wait(waiter, [task.id], wait, connector_id=connector_id)
            if wait:
                self._read_back(connector_id, None)

    def _delete(self, waiter, wait):
        connector_id = self.current.id
        if self.moves["accounts"] or self.moves["domains"]:
            self._move_users_to_platform_server(waiter)
        task = self.exchange.delete_connector(connector_id)
        self.actions.append("DELETE sendConnector/{0}".format(connector_id))
        self.connector = None
        self._wait(waiter, [task.id], wait, connector_id=connector_id)

    def _move_users_to_platform_server(self, waiter):
        """force: the connector's users go back to the platform's own server, waited for: the delete needs it."""
        moves = [ConnectorChoice(MAILBOXES, address, self.current.id, PLATFORM_SERVER) for address in self.moves["accounts"]]
        moves += [ConnectorChoice(DOMAINS, name, self.current.id, PLATFORM_SERVER) for name in self.moves["domains"]]
        stopped = write_and_wait(self.exchange, waiter, moves, wait=True)
        moved = [choice for choice in moves if choice.error is None and not choice.not_attempted]
        self.actions.extend(_move_actions({"accounts": [c.key for c in moved if c.kind is MAILBOXES],
                                           "domains": [c.key for c in moved if c.kind is DOMAINS]}))
        self.task_ids.extend(choice.task_id for choice in moves if choice.task_id and choice.task_id not in self.task_ids)
        failures = [choice for choice in moves if choice.error is not None or choice.not_attempted]
        if failures:
            raise InputError("force: {0} of {1} users of the connector could not be moved to the platform server, "
                             "so it was not deleted: {2}".format(len(failures), len(moves), str(stopped) if stopped else "; ".join(
                                 "{0} {1}: {2}".format(choice.kind.name, choice.key, choice.error) for choice in failures)))


def _put_action(target, updates):
    return "PUT {0} {1}".format(target, sorted(connector_field_names(updates)))


def _move_actions(moves):
    return (["account {0} -> sendConnectorId 0".format(name) for name in moves["accounts"]]
            + ["domain {0} -> sendConnectorId 0".format(name) for name in moves["domains"]])


def plan_send_connector(exchange, wanted):
    """Read the platform and decide what to do for exchange_send_connector; raises InputError or OvhApiError."""
    warnings = check_settings(wanted.name, wanted.connector_id, "present" if wanted.present else "absent", wanted.settings)
    current = _find(exchange, wanted)
    pending_creations = []
    if wanted.present and current is None:
        # Only a creation needs the offer and the running creations (and costs these reads): a no-op run stays
        # at one request.
        warnings.extend(_check_offer(exchange, wanted))
        pending_creations = [task.id for task in exchange.pending_creations()]
    plan = _plan_for(exchange, wanted, current)
    plan.pending_creations = pending_creations
    if pending_creations:
        warnings.append("connector creation task(s) {0} are running on the platform: OVH lists a new connector only "
                        "once its creation ends, so {1!r} may be one of them; the module waits for them before "
                        "creating it".format(", ".join(str(task_id) for task_id in pending_creations), wanted.name))
    plan.warnings.extend(warnings)
    return plan


def _find(exchange, wanted):
    """The connector the options designate, or None; fails on a shared name without id."""
    if wanted.connector_id is not None:
        return exchange.connector(wanted.connector_id)
    connectors = exchange.connectors()
    named = [c for c in connectors if c.name == wanted.name]
    if not named and wanted.present:
        _refuse_case_twin(connectors, wanted.name)
    if len(named) > 1:
        ids = sorted(c.id for c in named)
        raise InputError("{0} send connectors are named {1!r} (ids {2}): give id to choose the one to manage".format(
            len(named), wanted.name, ", ".join(str(i) for i in ids)), ids=ids)
    return named[0] if named else None


def _refuse_case_twin(connectors, name, connector_id=None):
    """Names match exactly; one differing only by case is refused, as it would make a look-alike second connector."""
    twins = sorted((c for c in connectors if c.id != connector_id and c.name != name
                    and (c.name or "").lower() == (name or "").lower()), key=lambda c: c.id)
    if twins:
        raise InputError(
            "send connector name {0!r} differs only by case from existing connector(s) {1}: connector names match "
            "exactly, so this would make a second connector beside it; write the name as it is ({2!r}), or give id to "
            "rename that connector".format(name, ", ".join("{0!r} (id {1})".format(c.name, c.id) for c in twins),
                                           twins[0].name), ids=[c.id for c in twins])


def _check_offer(exchange, wanted):
    """The warnings of creating a connector on this platform's offer; refuses another offer unless allowed."""
    offer = exchange.offer()
    if offer in OFFERS_WITH_SEND_CONNECTORS:
        return []
    if not wanted.allow_unsupported_offer:
        raise InputError(
            "the Exchange service {0!r} is a {1!r} offer: OVH supports send connectors only on Private and Trusted "
            "Exchange ({2}) and may disable them elsewhere; set allow_unsupported_offer=true to go ahead anyway".format(
                exchange.service, offer, ", ".join(OFFERS_WITH_SEND_CONNECTORS)))
    # The API accepts it silently (when it accepts it at all): the warning is the client's to give.
    return ["send connector {0!r} is created on a {1!r} Exchange service: OVH supports send connectors only on Private "
            "and Trusted Exchange, and its guide says one on another offer can be disabled by OVH at any time".format(
                wanted.name, offer)]


def _plan_for(exchange, wanted, current):
    plan = SendConnectorPlan(exchange, wanted, current)
    if wanted.present:
        _plan_present(plan, wanted)
    elif current:
        _plan_absent(plan, wanted)
    return plan


def _plan_present(plan, wanted):
    current, settings = plan.current, wanted.settings
    if current is None and wanted.connector_id is not None:
        raise InputError("no send connector has id {0} on this platform; to create one, give name without "
                         "id (OVH chooses the id)".format(wanted.connector_id))
    if current is None:
        if not settings.get("smart_host"):
            raise InputError("smart_host is required to create send connector {0!r}".format(wanted.name))
        mechanism = settings.get("auth_mechanism") or "none"
        if mechanism != "none" and not settings.get("password"):
            raise InputError("password is required to create a connector with auth_mechanism={0}".format(mechanism))
        plan.create = {"name": wanted.name}
        plan.create.update((option, settings[option]) for option in CREATABLE if option in settings
                           and not (mechanism == "none" and option in ("user", "password")))
        if settings.get("dns_routing"):
            plan.updates = {"dns_routing": True}
        return
    if wanted.name is not None and wanted.connector_id is not None and wanted.name != current.name:
        _refuse_case_twin(plan.exchange.connectors(), wanted.name, current.id)
        plan.updates["name"] = wanted.name
    for option in UPDATABLE:
        if option in settings and not _already_set(option, settings[option], getattr(current, option)):
            plan.updates[option] = settings[option]
    _plan_authentication(plan, wanted, current)


def _plan_authentication(plan, wanted, current):
    settings = wanted.settings
    actual = current.auth_mechanism
    mechanism = settings.get("auth_mechanism") or actual
    if mechanism == "none":
        if actual != "none":
            plan.authentication = ("none", None, None)
        return
    if mechanism != actual and actual == "none" and not settings.get("password"):
        raise InputError("password is required to switch connector {0!r} from auth_mechanism none to {1}".format(
            current.name, mechanism))
    always = wanted.update_password == "always" and settings.get("password")
    if mechanism != actual or always:
        # The API never returns user nor password: they are sent with the mechanism, never compared.
        plan.authentication = (mechanism, settings.get("user"), settings.get("password"))
    elif settings.get("password"):
        plan.warnings.append(
            "password is not sent to existing connector {0!r} (id {1}): with update_password=on_create (the default) it "
            "is sent only when the connector is created or changes auth_mechanism; the API never returns it, so it "
            "cannot be compared. Set update_password: always to send it (the run then reports changed each "
            "time)".format(current.name, current.id))


def _plan_absent(plan, wanted):
    connector = plan.current
    mailboxes, domains, dummy = plan.exchange.connector_users([connector.id])
    accounts = sorted(m.address for m in mailboxes)
    names = sorted(d.name for d in domains)
    if (accounts or names) and not wanted.force:
        used = (["{0} mailbox(es): {1}".format(len(accounts), ", ".join(accounts[:20]) + (" ..." if len(accounts) > 20 else ""))]
                if accounts else []) + (["the default of domain(s): {0}".format(", ".join(names))] if names else [])
        raise InputError(
            "send connector {0!r} (id {1}) is still used by {2}; bind them to another connector first, or set force=true "
            "to move them back to the platform's own server (sendConnectorId {3}) before deleting it".format(
                connector.name, connector.id, " and ".join(used), PLATFORM_SERVER),
            accounts=accounts, domains=names)
    plan.moves = {"accounts": accounts, "domains": names}
    plan.delete = True
