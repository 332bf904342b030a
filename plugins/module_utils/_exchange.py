# -*- coding: utf-8 -*-
# Copyright (c) 2026 ovhcloud.exchange contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""PRIVATE resource layer: the OVH Exchange API as small objects. May change at any time without notice.

Every route, every JSON field name and every conversion of the Exchange API lives here. Planners get
`Connector`, `Mailbox`, `Domain` and `Task` objects and speak in the modules' option names
(`smart_host`, `max_send_size`...); they never see a path nor a JSON name. Reads of many objects go
through `_bulk` (paged object lists, batch GETs), requests through `_client`.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import datetime
from collections import namedtuple

from ansible_collections.ovhcloud.exchange.plugins.module_utils import _bulk
from ansible_collections.ovhcloud.exchange.plugins.module_utils._client import encode_segment
from ansible_collections.ovhcloud.exchange.plugins.module_utils._errors import OvhApiError, OvhConfigError
from ansible_collections.ovhcloud.exchange.plugins.module_utils._tasks import FAILED_STATUSES, PENDING_STATUSES

# Connector id 0 (or null) on a mailbox or a domain means the platform's own outgoing server.
PLATFORM_SERVER = 0

# Option name -> field of email.exchange.sendConnector.
CONNECTOR_FIELDS = (("name", "displayName"), ("smart_host", "smartHost"), ("port", "port"), ("require_tls", "requireTLS"),
                    ("auth_mechanism", "smartHostAuthMechanism"), ("max_send_size", "maxSendSize"),
                    ("dns_routing", "dnsRouting"), ("user", "user"), ("password", "password"))
_FIELD = dict(CONNECTOR_FIELDS)
# What a diff shows of a connector: its settings, never a secret (the API returns none anyway).
_DIFF_FIELDS = ("displayName", "smartHost", "port", "requireTLS", "smartHostAuthMechanism", "maxSendSize", "dnsRouting")

# `api` is the object as the API returned it, for module results that document the API's own fields.
Connector = namedtuple("Connector", "id name smart_host port require_tls auth_mechanism max_send_size dns_routing "
                                    "state pending_task api")
Mailbox = namedtuple("Mailbox", "address connector_id pending_task")
Domain = namedtuple("Domain", "name default_connector_id pending_task")
Task = namedtuple("Task", "id status function api")
BulkOptions = namedtuple("BulkOptions", "parallel max_requests_per_second")
DEFAULT_BULK = BulkOptions(_bulk.DEFAULT_PARALLEL, None)


def _connector(obj):
    return Connector(obj.get("id"), obj.get("displayName"), obj.get("smartHost"), obj.get("port"), obj.get("requireTLS"),
                     obj.get("smartHostAuthMechanism") or "none", obj.get("maxSendSize"), obj.get("dnsRouting"),
                     obj.get("state"), obj.get("taskPendingId") or 0, obj)


def _mailbox(obj):
    return Mailbox(obj.get("primaryEmailAddress"), obj.get("sendConnectorId") or PLATFORM_SERVER, obj.get("taskPendingId") or 0)


def _domain(obj):
    return Domain(obj.get("name"), obj.get("sendConnectorIdDefault") or PLATFORM_SERVER, obj.get("taskPendingId") or 0)


def task_from_api(obj, task_id=None):
    """A Task from the API's JSON (or a bare id: a task known only by its id)."""
    obj = obj if isinstance(obj, dict) else {"id": task_id, "status": "todo"}
    return Task(int(obj["id"]) if obj.get("id") else task_id, obj.get("status"), obj.get("function"), obj)


def _api_time(value):
    """An API datetime (ISO 8601 with its offset, e.g. 2026-11-27T10:00:00+01:00) as an aware datetime, or None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def done_task(task_id):
    return task_from_api({"id": task_id, "status": "done"})


def connector_document(connector=None, changes=None):
    """The connector as the API spells it (module results); `changes` (option names) make check mode's prediction."""
    document = dict(connector.api) if connector is not None else {}
    if connector is None and changes is not None:
        document["id"] = None
    for option, value in (changes or {}).items():
        if option not in ("user", "password"):
            document[_FIELD[option]] = value
    return document


def connector_field_names(options):
    """The API's names of connector settings given by option name."""
    return [_FIELD[option] for option in options]


def connector_diff_view(document):
    """A connector document reduced to what a diff shows."""
    return dict((field, document.get(field)) for field in _DIFF_FIELDS if field in (document or {}))


def organizations(client):
    """The Exchange organizations these credentials can see."""
    return list(client.get("/email/exchange") or [])


def services(client, organization):
    """The Exchange services of an organization, sorted (Private and Trusted Exchange have one each)."""
    return sorted(client.get("/".join(encode_segment(part) for part in ("", "email", "exchange", organization, "service")))
                  or [])


class Exchange:
    """One Exchange platform (organization + service) of the OVH API."""

    def __init__(self, client, organization, service=None, bulk=DEFAULT_BULK):
        if not organization:
            raise OvhConfigError("organization is required to address an Exchange platform")
        self.client = client
        self.organization = organization
        self.service = service or organization
        self.bulk = bulk
        # What each list route answered (pages, cursors, plain ids) and whether batch GETs work, for this run.
        self.read_modes = {}

    @property
    def cancellation(self):
        """The run's cancellation (None without one): bulk writes start no new write once it is set."""
        return getattr(self.client, "cancellation", None)

    @property
    def label(self):
        """The platform as messages name it."""
        return self.service if self.service == self.organization else "{0}/{1}".format(self.organization, self.service)

    def _path(self, *segments):
        """`/email/exchange/{org}/service/{svc}[/segment...]`, every segment percent-encoded."""
        parts = ["", "email", "exchange", self.organization, "service", self.service] + list(segments)
        return "/".join(encode_segment(part) for part in parts)

    def _list(self, segment, key=None, only=None, filters=None, narrow=False):
        return _bulk.list_objects(self.client, self._path(segment), lambda item: self._path(segment, item), key=key,
                                  only=only, filters=filters, parallel=self.bulk.parallel, modes=self.read_modes,
                                  narrow=narrow)

    # The platform -------------------------------------------------------------------------------------

    def details(self):
        """The service as the API describes it (email.exchange.ExchangeService): offer, state, hostname..."""
        return self._read_service() or {}

    def offer(self):
        """The service's offer (dedicated, dedicatedCluster, provider, hosted...); fails on an unknown platform."""
        service = self._read_service()
        return service.get("offer") if isinstance(service, dict) else None

    def check_platform(self):
        """Fail in the platform's own words when organization or service designate nothing."""
        self._read_service()

    def _read_service(self):
        path = self._path()
        try:
            return self.client.get(path)
        except OvhApiError as error:
            if error.kind != "not_found":
                raise
            query = " (OVH query id {0})".format(error.query_id) if error.query_id else ""
            raise OvhApiError(
                ("Exchange platform not found: organization {0!r}, service {1!r} (GET {2}: {3}); check organization "
                 "and service (GET /email/exchange lists the organizations these credentials can see){4}").format(
                    self.organization, self.service, path, error.message or "no message", query),
                method="GET", path=path, status=error.status, api_message=error.message, query_id=error.query_id,
                kind="not_found")

    def domain_names(self):
        """The names of the platform's domains, sorted (one plain read)."""
        return sorted(self.client.get(self._path("domain")) or [])

    # Send connectors --------------------------------------------------------------------------------

    def connectors(self):
        """Every send connector of the platform, in one request when the gateway pages objects.

        Usually the first read of a module: an unknown platform is reported here, in its own words.
        """
        try:
            objects, dummy = self._list("sendConnector")
        except OvhApiError as error:
            if error.kind == "not_found":
                self.check_platform()
            raise
        return [_connector(obj) for obj in objects]

    def connector(self, connector_id):
        """The connector with this id, or None."""
        try:
            return _connector(self.client.get(self._path("sendConnector", connector_id)))
        except OvhApiError as error:
            if error.kind == "not_found":
                return None
            raise

    def create_connector(self, settings):
        """POST a connector (`settings` by option name); returns (Task or None, Connector or None).

        After a failure that may or may not have created it, the newest connector of that name is read
        back before anything is sent again: never two connectors. OVH may list a new connector only once
        its creation task ends, so a creation still running (the caller waited for earlier ones) counts
        as this one: its Task is returned.
        """
        body = dict((_FIELD[option], value) for option, value in settings.items())

        def read_back():
            named = [c for c in self.connectors() if c.name == settings["name"]]
            if named:
                return max(named, key=lambda c: c.id or 0)
            running = self.pending_creations()
            return max(running, key=lambda task: task.id).api if running else None

        answer = self.client.post(self._path("sendConnector"), body, reconcile=read_back)
        if isinstance(answer, Connector):
            return None, answer
        return (task_from_api(answer) if isinstance(answer, dict) else None), None

    def pending_creations(self):
        """Connector creations (addSendConnector tasks) that have not ended, from the platform's task list.

        The tasks do not say which connector they create, and OVH may list a connector only once its
        creation has ended: a connector not found by name may be one of these.
        """
        objects, dummy = self._list("task", filters=[("function", "eq", "addSendConnector"),
                                                     ("status", "in", list(PENDING_STATUSES))])
        return [task_from_api(obj) for obj in objects if obj.get("id")]

    def update_connector(self, connector_id, changes):
        """PUT the changed settings (by option name); the API answers nothing, its task shows on the connector."""
        self.client.put(self._path("sendConnector", connector_id),
                        dict((_FIELD[option], value) for option, value in changes.items()))

    def change_authentication(self, connector_id, mechanism, user=None, password=None):
        body = {"smartHostAuthMechanism": mechanism}
        body.update((field, value) for field, value in (("user", user), ("password", password)) if value)
        # Sending the same mechanism and secret twice ends in the same state: safe to retry.
        return task_from_api(self.client.post(self._path("sendConnector", connector_id, "changeAuthentication"), body,
                                              idempotent=True))

    def delete_connector(self, connector_id):
        return task_from_api(self.client.delete(self._path("sendConnector", connector_id)))

    def connector_users(self, connector_ids=None, mailboxes=None, domains=None):
        """(mailboxes, domains, read strategy) that send through the connectors (all of them when None).

        One connector lets the gateway filter; several, one read of all. ``mailboxes`` and ``domains``
        (names) restrict what is read, to look those up only.
        """
        if connector_ids is not None and len(connector_ids) == 1:
            account_filter = [("sendConnectorId", "eq", connector_ids[0])] if mailboxes is None else None
            domain_filter = [("sendConnectorIdDefault", "eq", connector_ids[0])] if domains is None else None
        else:
            account_filter = domain_filter = None
        found_mailboxes, strategy = self.mailboxes(only=mailboxes, filters=account_filter)
        found_domains, dummy = self.domains(only=domains, filters=domain_filter)
        if connector_ids is not None:
            found_mailboxes = [m for m in found_mailboxes if m.connector_id in connector_ids]
            found_domains = [d for d in found_domains if d.default_connector_id in connector_ids]
        return found_mailboxes, found_domains, strategy

    # Mailboxes and domains --------------------------------------------------------------------------

    def mailboxes(self, only=None, filters=None):
        """(mailboxes, read strategy): those whose addresses are ``only`` (compared without case), or all."""
        # A few mailboxes of a large platform are asked for by name: OVH's control panel filters the account
        # list with `in` (docs/simulator.md, evidence E2); no source shows it on the other lists.
        objects, strategy = self._list("account", key="primaryEmailAddress", only=only, filters=filters, narrow=True)
        return [_mailbox(obj) for obj in objects], strategy

    def domains(self, only=None, filters=None):
        """(domains, read strategy): those named ``only`` (compared without case), or all."""
        objects, strategy = self._list("domain", key="name", only=only, filters=filters)
        return [_domain(obj) for obj in objects], strategy

    def platform_server_users(self):
        """(mailboxes, domains) on the platform's own server, read filtered by the gateway.

        A never-set connector reads null and a reset one 0, and no filter of the manager's syntax matches both
        (`eq=0` leaves null out): one read with `isnil=1`, one with `eq=0`, for each kind.
        """
        mailboxes, domains = [], []
        for field, found, read in (("sendConnectorId", mailboxes, self.mailboxes),
                                   ("sendConnectorIdDefault", domains, self.domains)):
            for condition in ((field, "isnil", True), (field, "eq", PLATFORM_SERVER)):
                found.extend(read(filters=[condition])[0])
        return mailboxes, domains

    def set_mailbox_connector(self, address, connector_id):
        """The one write that chooses a mailbox's connector (bindings and a forced delete alike)."""
        self.client.put(self._path("account", address), {"sendConnectorId": connector_id})

    def set_domain_default(self, name, connector_id):
        """The connector new mailboxes of the domain get: the API's changeDefaultSBR, SBR being sender-based routing
        (the schema describes sbrDefault as the "Default Sender base routing destination ... of new accounts")."""
        self.client.put(self._path("domain", name, "changeDefaultSBR"), {"sendConnectorIdDefault": connector_id})

    # Tasks --------------------------------------------------------------------------------------------

    def failed_tasks(self, function, since):
        """The platform's tasks of ``function`` that ended in error or were cancelled, created at ``since`` (an aware
        datetime, the API's clock) or later, or at an unknown time. One filtered read of the task list."""
        objects, dummy = self._list("task", filters=[("function", "eq", function), ("status", "in", list(FAILED_STATUSES))])
        tasks = [task_from_api(obj) for obj in objects if obj.get("id")]
        return [task for task in tasks if (_api_time(task.api.get("todoDate")) or since) >= since]

    def pending_tasks(self, task_ids):
        """{id: Task} of those tasks still in the service's task list (one read when the gateway pages objects)."""
        objects, dummy = self._list("task", key="id", only=task_ids)
        return dict((task.id, task) for task in (task_from_api(obj) for obj in objects if obj.get("id")))

    def tasks(self, task_ids):
        """{id: Task} of tasks that left the list, in batches; an unreadable one was purged, so done."""
        objects, dummy = _bulk.get_objects(self.client, lambda task_id: self._path("task", task_id), task_ids,
                                           parallel=self.bulk.parallel, modes=self.read_modes)
        found = dict((task.id, task) for task in (task_from_api(obj) for obj in objects if obj.get("id")))
        found.update((task_id, done_task(task_id)) for task_id in task_ids if task_id not in found)
        return found
