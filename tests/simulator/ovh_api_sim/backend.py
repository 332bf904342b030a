"""State and rules of the simulated API, with no HTTP: drive it directly in unit tests.

Every public method takes plain Python values and returns JSON-ready values, or raises ApiError
with the status and body the HTTP layer must answer. Tasks progress lazily from the clock: each
call first settles the tasks whose time is up, so no background thread is needed.
"""
from __future__ import annotations

import copy
import threading
import time

from . import models
from .errors import ApiError, bad_request, not_found
from .objects import iso
from .query import like_matcher
from .readings import Readings
from .seed import build_state

OFFERS_WITH_SEND_CONNECTORS = ("dedicated", "dedicatedCluster")


def validate_body(body, spec, *, read_only=None, allow_null=None):
    """Check a request body against {field: (type, required)}; raise the OVH 400 on the first problem."""
    if not isinstance(body, dict):
        raise bad_request("The input that you provided isn't a JSON object")
    unknown = sorted(k for k in body if k not in spec and k not in (read_only or ()))
    if unknown:
        raise bad_request(f"Received not described parameters: ({', '.join(unknown)})")
    ro = sorted(k for k in body if k in (read_only or ()))
    if ro:
        raise bad_request(f"Cannot modify read-only field(s): {', '.join(ro)}")
    missing = sorted(k for k, (dummy_type, required) in spec.items() if required and body.get(k) is None)
    if missing:
        raise bad_request(f"Missing parameter(s): {', '.join(missing)}")
    for name, value in body.items():
        type_name = spec[name][0]
        if value is None:
            if allow_null and name in allow_null:
                continue
            raise bad_request(f"Body parameter {name} isn't formated correctly: null is not allowed")
        if not models.type_ok(value, type_name):
            enum = models.ENUMS.get(type_name)
            detail = f"expected one of {', '.join(enum)}" if enum else f"expected {type_name}"
            raise bad_request(f"Body parameter {name} isn't formated correctly ({detail}, got {value!r})")


def model_body_spec(model):
    """A PUT body spec (all optional) for a model's writable fields, and its read-only field names."""
    writable = {k: (t, False) for k, (t, dummy_nullable, ro) in model.items() if not ro}
    read_only = {k for k, (dummy_type, dummy_nullable, ro) in model.items() if ro}
    nullable = {k for k, (dummy_type, null, ro) in model.items() if null and not ro}
    return writable, read_only, nullable


def validate_put(body, put_spec, accept_read_only=False):
    """Check a PUT body; returns it without its read-only fields when those are accepted (and ignored)."""
    writable, read_only, nullable = put_spec
    if accept_read_only and isinstance(body, dict):
        body = {k: v for k, v in body.items() if k not in read_only}
    validate_body(body, writable, read_only=read_only, allow_null=nullable)
    return body


CONNECTOR_PUT = model_body_spec(models.SEND_CONNECTOR)
ACCOUNT_PUT = model_body_spec(models.ACCOUNT)


class Backend:
    """The whole simulated state. Thread-safe: one lock around every operation."""

    def __init__(self, seed, task_seconds=1.0, clock=time.time, task_fails=None, readings=None, **generated):
        """`task_fails()` says whether the task being created ends in `error` (the faults' hook); `readings`
        the API readings (docs/simulator.md); `generated` the load_seed options (extra_accounts, platforms,
        platform_accounts)."""
        self.clock = clock
        self.task_seconds = float(task_seconds)
        self.task_fails = task_fails or (lambda: False)
        self.readings = readings or Readings()
        self.lock = threading.RLock()
        self.version = 0  # bumped on each mutation (the state file writer watches it)
        self.load_seed(seed, **generated)

    # ----------------------------------------------------------------- seeding and snapshots
    def load_seed(self, seed, extra_accounts=0, platforms=0, platform_accounts=5):
        """Replace the whole state with a seed (see docs/simulator.md for the format)."""
        with self.lock:
            self.state = build_state(seed, self.clock(), extra_accounts, platforms, platform_accounts)
            self._index()
            self._mutated()

    def load_state(self, state):
        with self.lock:
            self.state = state
            self._index()
            self._mutated()

    def snapshot(self):
        with self.lock:
            self._settle()
            return copy.deepcopy(self.state)

    def _index(self):
        # JSON object keys are strings: connectors and tasks are keyed by str(id) in the state.
        self.services = {(s["organization"], s["name"]): s for s in self.state["services"]}
        self.pending = sorted(
            (t["_due"] if t["_final"] is None else t["_retry_due"], int(t["id"]), key)
            for key, s in self.services.items()
            for t in s["tasks"].values()
            if t["_final"] is None or t.get("_retry_due") is not None
        )

    def _mutated(self):
        self.version += 1

    def _next_id(self, counter):
        self.state["counters"][counter] += 1
        return self.state["counters"][counter]

    # ----------------------------------------------------------------- credentials
    @property
    def credentials(self):
        return self.state["credentials"]

    def application_secret(self, application_key):
        return self.credentials["applications"].get(application_key)

    def consumer(self, consumer_key):
        return self.credentials["consumer_keys"].get(consumer_key)

    def oauth2_secret(self, client_id):
        return self.credentials["oauth2_clients"].get(client_id)

    # ----------------------------------------------------------------- tasks
    def _settle(self):
        """Finish every task whose time is up: apply (done) or drop (error) its change."""
        now = self.clock()
        changed = False
        while self.pending and self.pending[0][0] <= now:
            due, task_id, service_key = self.pending.pop(0)
            service = self.services.get(service_key)
            task = service and service["tasks"].get(str(task_id))
            if task and task["_final"] is None:
                self._finish(service, task)
                changed = True
            elif task and task.get("_retry_due") == due:
                self._retry(service, task)
                changed = True
        if changed:
            self._mutated()

    @staticmethod
    def _table(service, task):
        kind, key = task["_target"]
        return service[{"connector": "connectors", "account": "accounts", "domain": "domains"}[kind]], key

    def _finish(self, service, task):
        outcome = task["_outcome"]
        task["_final"] = outcome
        table, key = self._table(service, task)
        obj = table.get(key)
        if obj is None:
            return
        if obj.get("taskPendingId") not in (task["id"], 0, None):
            # A later write was accepted while this task was pending (writes_while_pending): it owns the
            # object now, and its change, applied when it ends, wins.
            if outcome == "done":
                self._apply(service, task, obj, table, key, release=False)
            return
        obj["taskPendingId"] = 0
        if outcome == "error":
            if self.readings.task_error_retry:  # OVH retries it later (a reading): keep what it needs
                task["_retry_due"] = task["_due"] + self.readings.task_error_retry
                self.pending.append((task["_retry_due"], int(task["id"]), (service["organization"], service["name"])))
                self.pending.sort()
            if task["function"] == "addSendConnector":
                task["_object"] = {**table.pop(key), "state": "ok"}  # a failed creation leaves nothing behind
                task["_secrets_kept"] = service["connector_secrets"].pop(key, None)
            else:
                obj["state"] = "ok"
            return
        self._apply(service, task, obj, table, key)

    def _retry(self, service, task):
        """The retry of a task that ended in `error` (the task_error_retry reading): it ends `done` now."""
        task["_final"] = task["_outcome"] = "done"
        task["_due"] = task.pop("_retry_due")
        table, key = self._table(service, task)
        if task["function"] == "addSendConnector":
            table[key] = task.pop("_object")
            service["connector_secrets"][key] = task.pop("_secrets_kept")
            return
        obj = table.get(key)
        if obj is not None:
            self._apply(service, task, obj, table, key, release=False)

    def _apply(self, service, task, obj, table, key, release=True):
        """A successful task's effect on its object."""
        if task["function"] == "deleteSendConnector":
            del table[key]
            service["connector_secrets"].pop(key, None)
            return
        change = task.get("_change") or {}
        secrets = change.pop("_secrets", None)
        if secrets is not None:
            service["connector_secrets"][key] = secrets
        obj.update(change)
        if release:
            obj["state"] = "ok"
        if change and "lastUpdateDate" in obj:
            obj["lastUpdateDate"] = iso(self.clock())

    def _new_task(self, service, function, target, change=None, late=False, hidden=False):
        """A task, due in task_seconds. `late`: the write stays invisible for `late_writes` seconds first
        (a reading). `hidden`: no task for the client to see, only the delayed change (sbr_without_task)."""
        now = self.clock()
        task_id = self._next_id("task")
        outcome = "error" if self.task_fails() else "done"
        delay = self.readings.late_writes if late else 0.0
        task = {
            "id": task_id, "function": function, "_created": now, "_due": now + delay + self.task_seconds,
            "_outcome": outcome, "_final": None, "_target": list(target), "_change": change,
        }
        if delay:
            task["_visible"] = now + delay
        if hidden:
            task.update(_hidden=True, _due=now + delay, _outcome="done")
        service["tasks"][str(task_id)] = task
        self.pending.append((task["_due"], task_id, (service["organization"], service["name"])))
        self.pending.sort()
        self._mutated()
        return task

    def render_task(self, task, now=None):
        now = self.clock() if now is None else now
        final = task["_final"]
        if final:
            status = final
        elif now < task.get("_visible", task["_created"]) + self.task_seconds / 3:
            status = "todo"
        else:
            status = "doing"
        # A task in error never completed: its finishDate stays null (a guess).
        finish = iso(task["_due"]) if final == "done" else None
        return {"finishDate": finish, "function": task["function"], "id": task["id"], "status": status,
                "todoDate": iso(task["_created"])}

    def _task_shown(self, task, now):
        """Whether a client can see a task yet (late_writes, sbr_without_task readings)."""
        return not task.get("_hidden") and task.get("_visible", 0) <= now

    def _shown(self, service, obj, now):
        """An account or domain as a client sees it: a write still invisible leaves taskPendingId at 0."""
        task = service["tasks"].get(str(obj.get("taskPendingId") or 0))
        if task is not None and not self._task_shown(task, now):
            return {**obj, "taskPendingId": 0}
        return obj

    def _connector_shown(self, connector):
        """connector_listed_after_task: a connector being created is not there yet for clients."""
        return not (self.readings.connector_listed_after_task and connector["state"] == "creating")

    # ----------------------------------------------------------------- lookups
    def _service(self, org, svc):
        service = self.services.get((org, svc))
        if service is None:
            raise not_found("This service does not exist")
        return service

    def _get(self, service, table, key, label):
        obj = service[table].get(key)
        if obj is None:
            raise not_found(f"The requested object ({label} = {key}) does not exist")
        return obj

    def _connector(self, service, connector_id):
        connector = self._get(service, "connectors", str(connector_id), "id")
        if not self._connector_shown(connector):
            raise not_found(f"The requested object (id = {connector_id}) does not exist")
        return connector

    @staticmethod
    def _check_connector_reference(service, body, field):
        connector_id = body.get(field)
        if connector_id:  # 0 and null mean the platform's own server
            connector = service["connectors"].get(str(connector_id))
            if connector is None or connector["state"] in ("creating", "deleting"):
                raise bad_request(f"{field} {connector_id} is not a usable send connector of this service")

    @staticmethod
    def _require_idle(obj, what):
        if obj.get("taskPendingId"):
            raise ApiError(409, f"An action is already in progress on this {what} "
                                f"(task {obj['taskPendingId']}), please try later", cls="Client::Conflict")

    # ----------------------------------------------------------------- organizations and services
    def list_organizations(self):
        with self.lock:
            return sorted({org for org, dummy_name in self.services})

    def list_services(self, org):
        with self.lock:
            names = sorted(svc for o, svc in self.services if o == org)
            if not names:
                raise not_found("This service does not exist")
            return names

    def get_service(self, org, svc):
        with self.lock:
            return copy.deepcopy(self._service(org, svc)["info"])

    # ----------------------------------------------------------------- send connectors
    def list_connectors(self, org, svc):
        with self.lock:
            self._settle()
            return [c["id"] for c in self._service(org, svc)["connectors"].values() if self._connector_shown(c)]

    def connectors(self, org, svc):
        with self.lock:
            self._settle()
            return [dict(c) for c in self._service(org, svc)["connectors"].values() if self._connector_shown(c)]

    def get_connector(self, org, svc, connector_id):
        with self.lock:
            self._settle()
            return dict(self._connector(self._service(org, svc), connector_id))

    def create_connector(self, org, svc, body):
        with self.lock:
            self._settle()
            service = self._service(org, svc)
            validate_body(body, models.SEND_CONNECTOR_CREATE)
            offer = service["info"]["offer"]
            if offer not in OFFERS_WITH_SEND_CONNECTORS and not self.readings.connectors_on_any_offer:
                raise ApiError(403, "Send connectors are only available on Private and Trusted Exchange "
                                    f"platforms; this service's offer is {service['info']['offer']}",
                               cls="Client::Forbidden")
            mechanism = body.get("smartHostAuthMechanism", "none")
            self._check_connector_values(body)
            self._check_credentials(mechanism, body.get("user"), body.get("password"))
            connector_id = self._next_id("connector")
            now = iso(self.clock())
            connector = {
                "creationDate": now, "default": False, "displayName": body["displayName"],
                "dnsRouting": False, "id": connector_id, "lastUpdateDate": None,
                "maxSendSize": body.get("maxSendSize", 100), "port": body.get("port", 25),
                "requireTLS": body.get("requireTLS", False), "smartHost": body["smartHost"],
                "smartHostAuthMechanism": mechanism, "state": "creating", "taskPendingId": 0,
            }
            key = str(connector_id)
            service["connectors"][key] = connector
            service["connector_secrets"][key] = {"user": body.get("user"), "password": body.get("password")}
            task = self._new_task(service, "addSendConnector", ("connector", key))
            connector["taskPendingId"] = task["id"]
            return self.render_task(task)

    @staticmethod
    def _check_connector_values(body):
        if "maxSendSize" in body and not 1 <= body["maxSendSize"] <= 100:
            raise bad_request(f"maxSendSize must be between 1 and 100 (MB), got {body['maxSendSize']}")
        if "port" in body and not 1 <= body["port"] <= 65535:
            raise bad_request(f"port must be between 1 and 65535, got {body['port']}")
        if "smartHost" in body and body["smartHost"] is not None and not body["smartHost"].strip():
            raise bad_request("smartHost must not be empty")
        if "displayName" in body and not body["displayName"].strip():
            raise bad_request("displayName must not be empty")

    @staticmethod
    def _check_credentials(mechanism, user, password):
        if mechanism.startswith("basicAuth") and not (user and password):
            raise bad_request(f"user and password are required with smartHostAuthMechanism {mechanism}")

    def update_connector(self, org, svc, connector_id, body):
        with self.lock:
            self._settle()
            service = self._service(org, svc)
            connector = self._connector(service, connector_id)
            body = validate_put(body, CONNECTOR_PUT, self.readings.accept_read_only_fields)
            self._check_connector_values(body)
            self._require_idle(connector, "send connector")
            task = self._new_task(service, "setSendConnector", ("connector", str(connector_id)), dict(body))
            connector["taskPendingId"] = task["id"]
            return None

    def change_authentication(self, org, svc, connector_id, body):
        with self.lock:
            self._settle()
            service = self._service(org, svc)
            connector = self._connector(service, connector_id)
            validate_body(body, models.CHANGE_AUTHENTICATION)
            key = str(connector_id)
            mechanism = body.get("smartHostAuthMechanism", connector["smartHostAuthMechanism"])
            secrets = dict(service["connector_secrets"].get(key) or {})
            for name in ("user", "password"):
                if name in body:
                    secrets[name] = body[name]
            if mechanism == "none":
                secrets = {"user": None, "password": None}
            self._check_credentials(mechanism, secrets.get("user"), secrets.get("password"))
            self._require_idle(connector, "send connector")
            change = {"smartHostAuthMechanism": mechanism, "_secrets": secrets}
            task = self._new_task(service, "setSendConnector", ("connector", key), change)
            connector["taskPendingId"] = task["id"]
            return self.render_task(task)

    def connector_users(self, service, connector_id):
        """Accounts and domains whose setting (current or pending) points at a connector."""
        def points(obj, field):
            if obj.get(field) == connector_id:
                return True
            pending = service["tasks"].get(str(obj.get("taskPendingId") or 0))
            return bool(pending and (pending.get("_change") or {}).get(field) == connector_id)

        accounts = [a["primaryEmailAddress"] for a in service["accounts"].values() if points(a, "sendConnectorId")]
        domains = [d["name"] for d in service["domains"].values() if points(d, "sendConnectorIdDefault")]
        return accounts, domains

    def delete_connector(self, org, svc, connector_id):
        with self.lock:
            self._settle()
            service = self._service(org, svc)
            connector = self._connector(service, connector_id)
            self._require_idle(connector, "send connector")
            accounts, domains = self.connector_users(service, int(connector_id))
            if accounts or domains:
                named = ([f"{len(accounts)} account(s): {', '.join(accounts[:10])}"
                          + (" ..." if len(accounts) > 10 else "")] if accounts else []) + (
                    [f"the default of domain(s): {', '.join(domains)}"] if domains else [])
                raise bad_request(f"Send connector {connector_id} is still used by {' and by '.join(named)}; "
                                  "set their sendConnectorId (or the domain default) to another connector or 0 first")
            task = self._new_task(service, "deleteSendConnector", ("connector", str(connector_id)))
            connector["taskPendingId"] = task["id"]
            connector["state"] = "deleting"
            return self.render_task(task)

    # ----------------------------------------------------------------- accounts
    def _account(self, service, address):
        return self._get(service, "accounts", address, "primaryEmailAddress")

    def account_objects(self, org, svc, filters=None):
        """Accounts matching the list route's query filters (schema: accountLicense `=`, others like)."""
        with self.lock:
            self._settle()
            service = self._service(org, svc)
            accounts = service["accounts"]
            filters = {k: v for k, v in (filters or {}).items() if v is not None}
            if self.readings.late_writes:
                now = self.clock()
                accounts = {k: self._shown(service, a, now) for k, a in accounts.items()}
            if not filters:
                return list(accounts.values())
            exact = filters.get("primaryEmailAddress")
            if exact is not None and "%" not in exact:  # the address index answers at once
                account = accounts.get(exact) or accounts.get(exact.lower())
                candidates = [account] if account else []
            else:
                candidates = accounts.values()
            tests = []
            for name, value in filters.items():
                if name == "accountLicense":
                    tests.append(lambda a, v=value: a["accountLicense"] == v)
                else:
                    match = like_matcher(value)
                    tests.append(lambda a, n=name, m=match: a.get(n) is not None and m(str(a[n])) is not None)
            return [a for a in candidates if all(t(a) for t in tests)]

    def get_account(self, org, svc, address):
        with self.lock:
            self._settle()
            service = self._service(org, svc)
            return dict(self._shown(service, self._account(service, address), self.clock()))

    def update_account(self, org, svc, address, body):
        with self.lock:
            self._settle()
            service = self._service(org, svc)
            account = self._account(service, address)
            body = validate_put(body, ACCOUNT_PUT, self.readings.accept_read_only_fields)
            self._check_connector_reference(service, body, "sendConnectorId")
            spam = body.get("spamAndVirusConfiguration")
            if spam is not None and spam.get("deleteVirus") is False:
                raise bad_request("spamAndVirusConfiguration.deleteVirus cannot be disabled on this platform")
            if "quota" in body and body["quota"] < 1:
                raise bad_request("quota must be positive")
            if not self.readings.writes_while_pending:
                self._require_idle(account, "account")
            change = dict(body)
            if spam is not None:
                change["spamAndVirusConfiguration"] = {**account["spamAndVirusConfiguration"], **spam}
            task = self._new_task(service, "setAccount", ("account", address), change, late=True)
            account["taskPendingId"] = task["id"]
            return None

    def account_tasks(self, org, svc, address):
        with self.lock:
            self._settle()
            service = self._service(org, svc)
            self._account(service, address)
            now = self.clock()
            return [t["id"] for t in service["tasks"].values()
                    if t["_target"] == ["account", address] and self._task_shown(t, now)]

    def account_task(self, org, svc, address, task_id):
        with self.lock:
            self._settle()
            service = self._service(org, svc)
            self._account(service, address)
            task = service["tasks"].get(str(task_id))
            if task is None or task["_target"] != ["account", address] or not self._task_shown(task, self.clock()):
                raise not_found(f"The requested object (id = {task_id}) does not exist")
            return self.render_task(task)

    # ----------------------------------------------------------------- domains
    def domain_objects(self, org, svc, filters=None):
        with self.lock:
            self._settle()
            service = self._service(org, svc)
            now = self.clock()
            domains = [self._shown(service, d, now) for d in service["domains"].values()]
            for name, value in (filters or {}).items():
                if value is not None:
                    domains = [d for d in domains if d.get(name) == value]
            return domains

    def get_domain(self, org, svc, name):
        with self.lock:
            self._settle()
            service = self._service(org, svc)
            return copy.deepcopy(self._shown(service, self._get(service, "domains", name, "name"), self.clock()))

    def change_default_sbr(self, org, svc, name, body):
        with self.lock:
            self._settle()
            service = self._service(org, svc)
            domain = self._get(service, "domains", name, "name")
            validate_body(body, models.CHANGE_DEFAULT_SBR)
            self._check_connector_reference(service, body, "sendConnectorIdDefault")
            self._require_idle(domain, "domain")
            change = dict(body)
            if change.get("sbrDefault") == "":
                change["sbrDefault"] = None
            if self.readings.sbr_without_task and not self.readings.late_writes:
                domain.update(change)  # no task at all: the new default at once
                self._mutated()
                return None
            task = self._new_task(service, "setDomain", ("domain", name), change, late=True,
                                  hidden=self.readings.sbr_without_task)
            if not task.get("_hidden"):
                domain["taskPendingId"] = task["id"]
            return None

    # ----------------------------------------------------------------- tasks
    def task_objects(self, org, svc):
        with self.lock:
            self._settle()
            now = self.clock()
            return [self.render_task(t, now) for t in self._service(org, svc)["tasks"].values()
                    if self._task_shown(t, now)]

    def get_task(self, org, svc, task_id):
        with self.lock:
            self._settle()
            task = self._service(org, svc)["tasks"].get(str(task_id))
            if task is None or not self._task_shown(task, self.clock()):
                raise not_found(f"The requested object (id = {task_id}) does not exist")
            return self.render_task(task)
