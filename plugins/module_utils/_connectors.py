# -*- coding: utf-8 -*-
# Copyright (c) 2026 ovhcloud.exchange contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""PRIVATE: send connectors of an Exchange platform. May change at any time without notice.

`plan_send_connector` reads the platform and decides; `SendConnectorPlan.run` applies the decision (or,
in check mode, only reports it). No URL is built here by hand and no HTTP status is caught: the client
layer does that.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible_collections.ovhcloud.exchange.plugins.module_utils import _bulk
from ansible_collections.ovhcloud.exchange.plugins.module_utils._client import OvhApiError

# sendConnectorId 0 (or null) on a mailbox or a domain means the platform's own outgoing server.
PLATFORM_SERVER = 0


class ConnectorNotFound(Exception):
    """A connector name or id that matches no connector, or a name shared by several; str() says which."""


def list_connectors(client, **bulk_options):
    """Every send connector of the platform as full objects, in one request when the gateway pages objects."""
    connectors, dummy = _bulk.list_objects(client, client.service_path('sendConnector'),
                                           lambda key: client.service_path('sendConnector', key), **bulk_options)
    return connectors


def find_connector(connectors, name_or_id):
    """The connector whose id (a number) or displayName is `name_or_id`; raises ConnectorNotFound."""
    text = str(name_or_id).strip()
    if text.isdigit():
        for connector in connectors:
            if connector.get('id') == int(text):
                return connector
    named = [connector for connector in connectors if connector.get('displayName') == text]
    if len(named) == 1:
        return named[0]
    if named:
        raise ConnectorNotFound('several send connectors are named {0!r} (ids {1}): give the id instead of the name'.format(
            text, ', '.join(str(connector.get('id')) for connector in named)))
    known = ', '.join('{0} ({1})'.format(c.get('displayName'), c.get('id')) for c in connectors) or 'none'
    raise ConnectorNotFound('no send connector has the name or id {0!r} on this platform (connectors: {1})'.format(text, known))


AUTH_MECHANISMS = ("none", "basicAuth", "basicAuthRequireTLS")
OFFERS_WITH_SEND_CONNECTORS = ("dedicated", "dedicatedCluster", "provider")
# Module option -> field of email.exchange.sendConnector that PUT can write.
WRITABLE_FIELDS = (("smart_host", "smartHost"), ("port", "port"), ("require_tls", "requireTLS"),
                   ("max_send_size", "maxSendSize"), ("dns_routing", "dnsRouting"))
# What a diff shows of a connector: its settings, never a secret (the API returns none anyway).
DIFF_FIELDS = ("displayName", "smartHost", "port", "requireTLS", "smartHostAuthMechanism", "maxSendSize", "dnsRouting")
# POST .../sendConnector takes no dnsRouting: it is set by a PUT once the connector exists.
CREATE_FIELDS = (("smart_host", "smartHost"), ("port", "port"), ("require_tls", "requireTLS"),
                 ("auth_mechanism", "smartHostAuthMechanism"), ("user", "user"), ("password", "password"),
                 ("max_send_size", "maxSendSize"))


class ConnectorError(Exception):
    """A decision that stops the module before any write; str() says what, why and how to fix it."""

    def __init__(self, message, **details):
        super(ConnectorError, self).__init__(message)
        self.details = details


def check_input(params):
    """Bad input, caught before any request: returns the warnings to show, raises ConnectorError."""
    warnings = []
    if params.get("name") is not None and not params["name"].strip():
        raise ConnectorError("name must not be empty: it is the connector's display name")
    if params.get("id") is not None and params["id"] < 1:
        raise ConnectorError("id must be a positive connector id, got {0}".format(params["id"]))
    if params.get("state") == "absent":
        return warnings
    port = params.get("port")
    if port is not None and not 1 <= port <= 65535:
        raise ConnectorError("port must be between 1 and 65535, got {0}".format(port))
    if port == 465:
        warnings.append("port 465 is for implicit TLS (SMTPS), but Exchange send connectors speak STARTTLS: the smart "
                        "host will most likely never answer; use 587 (or 25) with require_tls")
    size = params.get("max_send_size")
    if size is not None and not 1 <= size <= 100:
        raise ConnectorError("max_send_size is in MB and must be between 1 and 100, got {0}".format(size))
    if params.get("smart_host") is not None and not params["smart_host"].strip():
        raise ConnectorError("smart_host must not be empty: give the relay's host name or IP address")
    if params.get("smart_host") is not None and len(params["smart_host"].split()) > 1:
        raise ConnectorError("smart_host {0!r} contains a space: give the relay's host name or IP address alone, such as "
                             "smtp-relay.example.com".format(params["smart_host"]))
    mechanism = params.get("auth_mechanism")
    if mechanism and mechanism != "none" and not params.get("user"):
        raise ConnectorError("auth_mechanism={0} needs user (and password when the connector is created or "
                             "switches to it)".format(mechanism))
    if params.get("password") and mechanism == "none":
        warnings.append("password is ignored with auth_mechanism=none")
    return warnings


def _same(option, wanted, actual):
    if option == "smart_host" and wanted is not None and actual is not None:
        return wanted.strip().rstrip(".").lower() == str(actual).strip().rstrip(".").lower()
    return wanted == actual


def _diff_view(connector):
    if not connector:
        return {}
    return dict((field, connector.get(field)) for field in DIFF_FIELDS if field in connector)


class SendConnectorPlan:
    """What to do to one connector; `run()` does it, or only reports it in check mode."""

    def __init__(self, client, waiter, params, current):
        self.client = client
        self.waiter = waiter
        self.params = params
        self.current = current
        self.create = None
        self.put_body = {}
        self.auth_body = None
        self.delete = False
        self.moves = {"accounts": [], "domains": []}
        self.warnings = []
        self.task_ids = []
        self.actions = []

    @property
    def changed(self):
        return bool(self.create is not None or self.put_body or self.auth_body is not None or self.delete)

    def _path(self, *segments):
        return self.client.service_path("sendConnector", *segments)

    # Results ---------------------------------------------------------------------------------------

    def predicted(self):
        """The connector as it will be once the plan is applied (None when deleted)."""
        if self.delete:
            return None
        connector = dict(self.current or {})
        if self.create is not None:
            connector.update((field, value) for field, value in self.create.items() if field not in ("user", "password"))
            connector.setdefault("id", None)
        connector.update(self.put_body)
        if self.auth_body is not None:
            connector["smartHostAuthMechanism"] = self.auth_body["smartHostAuthMechanism"]
        return connector

    def result(self, connector, diff_mode):
        connector = dict(connector) if connector else None
        result = {
            "changed": self.changed,
            "connector": connector,
            "id": connector.get("id") if connector else None,
            "task_ids": list(self.task_ids),
            "actions": list(self.actions),
            "api_calls": self.client.api_calls(),
        }
        if diff_mode:
            result["diff"] = {"before": _diff_view(self.current), "after": _diff_view(self.predicted())}
        return result

    # Applying --------------------------------------------------------------------------------------

    def planned_actions(self):
        """The writes run() would make, as check mode reports them."""
        target = "sendConnector/{0}".format(self.current["id"]) if self.current else "sendConnector/<new>"
        actions = ["POST sendConnector"] if self.create is not None else []
        if self.put_body:
            actions.append("PUT {0} {1}".format(target, sorted(self.put_body)))
        if self.auth_body is not None:
            actions.append("POST {0}/changeAuthentication".format(target))
        if self.delete:
            actions.extend("account {0} -> sendConnectorId 0".format(name) for name in self.moves["accounts"])
            actions.extend("domain {0} -> sendConnectorId 0".format(name) for name in self.moves["domains"])
            actions.append("DELETE {0}".format(target))
        return actions

    def run(self, check_mode, diff_mode):
        if check_mode or not self.changed:
            self.actions = self.planned_actions()
            return self.result(self.predicted() if self.changed else self.current, diff_mode)
        wait = self.params.get("wait")
        if self.create is not None:
            connector = self._create(wait)
        elif self.delete:
            self._delete(wait)
            connector = None
        else:
            connector = self._update(wait)
        return self.result(connector, diff_mode)

    def _wait(self, task_ids, wait):
        task_ids = [task_id for task_id in task_ids if task_id]
        self.task_ids.extend(task_id for task_id in task_ids if task_id not in self.task_ids)
        if wait and task_ids:
            self.waiter.wait(task_ids)

    def _create(self, wait):
        name = self.create["displayName"]
        task, connector = self._post_create()
        task_id = task.get("id") if isinstance(task, dict) else None
        if connector is None:
            connector = self._read_created(name, task_id)
        task_id = task_id or connector.get("taskPendingId")
        # dnsRouting can only be written by a PUT, and the connector takes no write while its creation runs.
        self._wait([task_id], wait or bool(self.put_body))
        if self.put_body:
            self.actions.append("PUT sendConnector/{0} {1}".format(connector["id"], sorted(self.put_body)))
            self.client.put(self._path(connector["id"]), self.put_body)
            return self._settle(connector["id"], wait)
        return self.client.get(self._path(connector["id"])) if wait else connector

    def _post_create(self):
        """POST the connector; after an ambiguous failure, look for it before trying again: never two."""
        self.actions.append("POST sendConnector")
        attempt = 0
        while True:
            attempt += 1
            try:
                return self.client.post(self._path(), self.create), None
            except OvhApiError as error:
                if not error.ambiguous or attempt >= self.client.retry.attempts:
                    raise
            self.client.sleep(self.client.retry.delay(attempt))
            found = _named(list_connectors(self.client), self.create["displayName"])
            if found:
                return None, max(found, key=lambda connector: connector.get("id") or 0)

    def _read_created(self, name, task_id):
        named = _named(list_connectors(self.client), name)
        mine = [connector for connector in named if task_id and connector.get("taskPendingId") == task_id]
        candidates = mine or named
        if not candidates:
            raise ConnectorError("the API accepted the creation of send connector {0!r} (task {1}) but it is not in the "
                                 "connector list; run again to check it".format(name, task_id))
        return max(candidates, key=lambda connector: connector.get("id") or 0)

    def _settle(self, connector_id, wait):
        """After a void PUT: the task it queued is on the connector; wait for it, return the connector."""
        if not wait:
            connector = self.client.get(self._path(connector_id))
            self._wait([connector.get("taskPendingId")], False)
            return connector
        connector = self.waiter.wait_idle(self._path(connector_id))
        self.task_ids.extend(task_id for task_id in self.waiter.waited if task_id not in self.task_ids)
        return connector

    def _update(self, wait):
        connector_id = self.current["id"]
        connector = self.current
        if self.put_body:
            self.actions.append("PUT sendConnector/{0} {1}".format(connector_id, sorted(self.put_body)))
            self.client.put(self._path(connector_id), self.put_body)
            # The connector takes no other write while the PUT's task runs.
            connector = self._settle(connector_id, wait or self.auth_body is not None)
        if self.auth_body is not None:
            self.actions.append("POST sendConnector/{0}/changeAuthentication".format(connector_id))
            task = self.client.post(self._path(connector_id, "changeAuthentication"), self.auth_body, idempotent=True)
            self._wait([task.get("id") if isinstance(task, dict) else None], wait)
            connector = self.client.get(self._path(connector_id)) if wait else connector
        return connector

    def _delete(self, wait):
        connector_id = self.current["id"]
        if self.moves["accounts"] or self.moves["domains"]:
            self._move_users_to_platform_server()
        self.actions.append("DELETE sendConnector/{0}".format(connector_id))
        task = self.client.delete(self._path(connector_id))
        self._wait([task.get("id") if isinstance(task, dict) else None], wait)

    def _move_users_to_platform_server(self):
        """force: send the connector's users through the platform's own server, and wait: the delete needs it."""
        client = self.client
        accounts, domains = self.moves["accounts"], self.moves["domains"]

        def move(item):
            kind, name = item
            if kind == "account":
                client.put(client.service_path("account", name), {"sendConnectorId": PLATFORM_SERVER})
            else:
                client.put(client.service_path("domain", name, "changeDefaultSBR"), {"sendConnectorIdDefault": PLATFORM_SERVER})

        items = [("account", name) for name in accounts] + [("domain", name) for name in domains]
        self.actions.extend("{0} {1} -> sendConnectorId 0".format(kind, name) for kind, name in items)
        failures = [outcome for outcome in _bulk.run_parallel(move, items) if not outcome.ok]
        if failures:
            raise ConnectorError("force: {0} of {1} users of the connector could not be moved to the platform server, "
                                 "so it was not deleted: {2}".format(len(failures), len(items), "; ".join(
                                     "{0} {1}: {2}".format(o.item[0], o.item[1], o.message) for o in failures)))
        pending = []
        for kind, key, names in (("account", "primaryEmailAddress", accounts), ("domain", "name", domains)):
            if names:
                objects, dummy = _bulk.list_objects(client, client.service_path(kind),
                                                    lambda k, kind=kind: client.service_path(kind, k), key=key, only=names)
                pending.extend(obj.get("taskPendingId") for obj in objects)
        self._wait(pending, True)


def _named(connectors, name):
    return [connector for connector in connectors if connector.get("displayName") == name]


def _find(client, params):
    """The connector the options designate, or None; fails on a shared name without id."""
    if params.get("id") is not None:
        try:
            return client.get(client.service_path("sendConnector", params["id"]))
        except OvhApiError as error:
            if error.kind == "not_found":
                return None
            raise
    named = _named(list_connectors(client), params["name"])
    if len(named) > 1:
        raise ConnectorError(
            "{0} send connectors are named {1!r} (ids {2}): give id to choose the one to manage".format(
                len(named), params["name"], ", ".join(str(c.get("id")) for c in sorted(named, key=lambda c: c.get("id")))),
            ids=sorted(c.get("id") for c in named))
    return named[0] if named else None


def _users(client, connector_id):
    """Mailboxes and domains (as default) that send through a connector."""
    accounts, dummy = _bulk.list_objects(client, client.service_path("account"),
                                         lambda key: client.service_path("account", key),
                                         filters=[("sendConnectorId", "eq", connector_id)])
    domains, dummy = _bulk.list_objects(client, client.service_path("domain"),
                                        lambda key: client.service_path("domain", key),
                                        filters=[("sendConnectorIdDefault", "eq", connector_id)])
    return (sorted(a["primaryEmailAddress"] for a in accounts), sorted(d["name"] for d in domains))


def plan_send_connector(client, waiter, params, check_mode):
    """Read the platform and decide what to do for exchange_send_connector; raises ConnectorError or OvhApiError."""
    warnings = check_input(params)
    present = params.get("state", "present") == "present"
    try:
        current = _find(client, params)
    except OvhApiError as error:
        if error.kind == "not_found":
            client.get(client.service_path())  # an unknown platform fails here, in its own words
        raise
    if present and current is None:
        # Only a creation needs the offer (and costs this read): a no-op run stays at one request.
        _check_offer(client, params)
    plan = _decide(client, waiter, params, current)
    if plan.changed and current and current.get("taskPendingId") and not check_mode:
        # Another change is running on this connector: it takes no write until that is done; decide again then.
        current = waiter.wait_idle(client.service_path("sendConnector", current["id"]))
        plan = _decide(client, waiter, params, current)
    plan.warnings.extend(warnings)
    return plan


def _check_offer(client, params):
    service = client.get(client.service_path())
    offer = service.get("offer") if isinstance(service, dict) else None
    if offer not in OFFERS_WITH_SEND_CONNECTORS and not params.get("allow_unsupported_offer"):
        raise ConnectorError(
            "the Exchange service {0!r} is a {1!r} offer: OVH supports send connectors only on Private and Trusted "
            "Exchange ({2}) and may disable them elsewhere; set allow_unsupported_offer=true to go ahead anyway".format(
                client.service, offer, ", ".join(OFFERS_WITH_SEND_CONNECTORS)))


def _decide(client, waiter, params, current):
    plan = SendConnectorPlan(client, waiter, params, current)
    if params.get("state", "present") == "present":
        _plan_present(plan, params)
    elif current:
        _plan_absent(plan, params)
    return plan


def _plan_present(plan, params):
    current = plan.current
    if current is None and params.get("id") is not None:
        raise ConnectorError("no send connector has id {0} on this platform; to create one, give name without "
                             "id (OVH chooses the id)".format(params["id"]))
    if current is None:
        if not params.get("smart_host"):
            raise ConnectorError("smart_host is required to create send connector {0!r}".format(params["name"]))
        mechanism = params.get("auth_mechanism") or "none"
        if mechanism != "none" and not params.get("password"):
            raise ConnectorError("password is required to create a connector with auth_mechanism={0}".format(mechanism))
        plan.create = {"displayName": params["name"]}
        plan.create.update((field, params[option]) for option, field in CREATE_FIELDS
                           if params.get(option) is not None and not (mechanism == "none" and option in ("user", "password")))
        if params.get("dns_routing"):
            plan.put_body = {"dnsRouting": True}
        return
    if params.get("name") is not None and params.get("id") is not None and params["name"] != current.get("displayName"):
        plan.put_body["displayName"] = params["name"]
    for option, field in WRITABLE_FIELDS:
        if params.get(option) is not None and not _same(option, params[option], current.get(field)):
            plan.put_body[field] = params[option]
    _plan_authentication(plan, params, current)


def _plan_authentication(plan, params, current):
    actual = current.get("smartHostAuthMechanism") or "none"
    wanted = params.get("auth_mechanism") or actual
    if wanted == "none":
        if actual != "none":
            plan.auth_body = {"smartHostAuthMechanism": "none"}
        return
    if wanted != actual and actual == "none" and not params.get("password"):
        raise ConnectorError("password is required to switch connector {0!r} from auth_mechanism none to {1}".format(
            current.get("displayName"), wanted))
    always = params.get("update_password") == "always" and params.get("password")
    if wanted != actual or always:
        # The API never returns user nor password: they are sent with the mechanism, never compared.
        plan.auth_body = {"smartHostAuthMechanism": wanted}
        for option in ("user", "password"):
            if params.get(option):
                plan.auth_body[option] = params[option]


def _plan_absent(plan, params):
    connector_id = plan.current["id"]
    accounts, domains = _users(plan.client, connector_id)
    if (accounts or domains) and not params.get("force"):
        used = (["{0} mailbox(es): {1}".format(len(accounts), ", ".join(accounts[:20]) + (" ..." if len(accounts) > 20 else ""))]
                if accounts else []) + (["the default of domain(s): {0}".format(", ".join(domains))] if domains else [])
        raise ConnectorError(
            "send connector {0!r} (id {1}) is still used by {2}; bind them to another connector first, or set force=true "
            "to move them back to the platform's own server (sendConnectorId 0) before deleting it".format(
                plan.current.get("displayName"), connector_id, " and ".join(used)),
            accounts=accounts, domains=domains)
    plan.moves = {"accounts": accounts, "domains": domains}
    plan.delete = True
