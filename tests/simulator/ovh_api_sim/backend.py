"""State and rules of the simulated API, with no HTTP: drive it directly in unit tests.

Every public method takes plain Python values and returns JSON-ready values, or raises ApiError
with the status and body the HTTP layer must answer. Tasks progress lazily from the clock: each
call first settles the tasks whose time is up, so no background thread is needed.
"""
from __future__ import annotations

import copy
import datetime as dt
import hashlib
import random
import re
import threading
import time
from zoneinfo import ZoneInfo

from . import models

try:  # OVH answers in Paris local time, with an offset (e.g. +02:00).
    API_TZ = ZoneInfo("Europe/Paris")
except Exception:  # pragma: no cover - systems without tzdata
    API_TZ = dt.timezone.utc

TASK_ID_START = 113924189  # the guide's example task id, so ids look like real ones
OFFERS_WITH_SEND_CONNECTORS = ("dedicated", "dedicatedCluster")


class ApiError(Exception):
    """An answer other than 200: `status`, and the JSON body OVH would send."""

    def __init__(self, status, message, cls=None, error_code=None, http_code=None):
        super().__init__(message)
        self.status = status
        self.body = {"message": message}
        if cls:
            self.body["class"] = cls
        if error_code:
            self.body["errorCode"] = error_code
        if http_code:
            self.body["httpCode"] = http_code


def bad_request(message):
    return ApiError(400, message, cls="Client::BadRequest")


def not_found(message):
    return ApiError(404, message, cls="Client::NotFound")


def iso(timestamp):
    if timestamp is None:
        return None
    return dt.datetime.fromtimestamp(timestamp, API_TZ).isoformat(timespec="seconds")


def like_matcher(pattern):
    """OVH's `like`: `%` matches any run of characters; case-insensitive (a guess)."""
    regex = ".*".join(re.escape(part) for part in str(pattern).split("%"))
    return re.compile(f"^{regex}$", re.IGNORECASE | re.DOTALL).match


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


def validate_put(body, put_spec):
    writable, read_only, nullable = put_spec
    validate_body(body, writable, read_only=read_only, allow_null=nullable)


CONNECTOR_PUT = model_body_spec(models.SEND_CONNECTOR)
ACCOUNT_PUT = model_body_spec(models.ACCOUNT)


def _stable_guid(text):
    digest = hashlib.md5(text.encode()).hexdigest()  # noqa: S324 - identifiers, not security
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"


class Backend:
    """The whole simulated state. Thread-safe: one lock around every operation."""

    def __init__(self, seed, task_seconds=1.0, clock=time.time, rng=None, extra_accounts=0):
        self.clock = clock
        self.task_seconds = float(task_seconds)
        self.rng = rng or random.Random(0)
        self.task_fails = lambda: self.rng.random() < self.task_error_rate
        self.task_error_rate = 0.0
        self.lock = threading.RLock()
        self.version = 0  # bumped on each mutation (the state file writer watches it)
        self.load_seed(seed, extra_accounts)

    # ----------------------------------------------------------------- seeding and snapshots
    def load_seed(self, seed, extra_accounts=0):
        """Replace the whole state with a seed (see docs/simulator.md for the format)."""
        from .seed import build_state  # local import: seed builds dicts with this module's helpers

        with self.lock:
            self.state = build_state(seed, self.clock(), extra_accounts)
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
            (t["_due"], int(t["id"]), key)
            for key, s in self.services.items()
            for t in s["tasks"].values()
            if t["_final"] is None
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
        if changed:
            self._mutated()

    def _finish(self, service, task):
        outcome = task["_outcome"]
        task["_final"] = outcome
        kind, key = task["_target"]
        table = service[{"connector": "connectors", "account": "accounts", "domain": "domains"}[kind]]
        obj = table.get(key)
        if obj is None:
            return
        obj["taskPendingId"] = 0
        if outcome == "error":
            if task["function"] == "addSendConnector":
                del table[key]  # a failed creation leaves nothing behind
                service["connector_secrets"].pop(key, None)
            else:
                obj["state"] = "ok"
            return
        if task["function"] == "deleteSendConnector":
            del table[key]
            service["connector_secrets"].pop(key, None)
            return
        change = task.get("_change") or {}
        secrets = change.pop("_secrets", None)
        if secrets is not None:
            service["connector_secrets"][key] = secrets
        obj.update(change)
        obj["state"] = "ok"
        if change and "lastUpdateDate" in obj:
            obj["lastUpdateDate"] = iso(self.clock())

    def _new_task(self, service, function, target, change=None):
        now = self.clock()
        task_id = self._next_id("task")
        outcome = "error" if self.task_fails() else "done"
        task = {
            "id": task_id, "function": function, "_created": now, "_due": now + self.task_seconds,
            "_outcome": outcome, "_final": None, "_target": list(target), "_change": change,
        }
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
        elif now < task["_created"] + self.task_seconds / 3:
            status = "todo"
        else:
            status = "doing"
        # A task in error never completed: its finishDate stays null (a guess).
        finish = iso(task["_due"]) if final == "done" else None
        return {"finishDate": finish, "function": task["function"], "id": task["id"], "status": status,
                "todoDate": iso(task["_created"])}

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
        return self._get(service, "connectors", str(connector_id), "id")

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
            return [c["id"] for c in self._service(org, svc)["connectors"].values()]

    def connectors(self, org, svc):
        with self.lock:
            self._settle()
            return [dict(c) for c in self._service(org, svc)["connectors"].values()]

    def get_connector(self, org, svc, connector_id):
        with self.lock:
            self._settle()
            return dict(self._connector(self._service(org, svc), connector_id))

    def create_connector(self, org, svc, body):
        with self.lock:
            self._settle()
            service = self._service(org, svc)
            validate_body(body, models.SEND_CONNECTOR_CREATE)
            if service["info"]["offer"] not in OFFERS_WITH_SEND_CONNECTORS:
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
            validate_put(body, CONNECTOR_PUT)
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
            accounts = self._service(org, svc)["accounts"]
            filters = {k: v for k, v in (filters or {}).items() if v is not None}
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
            return dict(self._account(self._service(org, svc), address))

    def update_account(self, org, svc, address, body):
        with self.lock:
            self._settle()
            service = self._service(org, svc)
            account = self._account(service, address)
            validate_put(body, ACCOUNT_PUT)
            self._check_connector_reference(service, body, "sendConnectorId")
            spam = body.get("spamAndVirusConfiguration")
            if spam is not None and spam.get("deleteVirus") is False:
                raise bad_request("spamAndVirusConfiguration.deleteVirus cannot be disabled on this platform")
            if "quota" in body and body["quota"] < 1:
                raise bad_request("quota must be positive")
            self._require_idle(account, "account")
            change = dict(body)
            if spam is not None:
                change["spamAndVirusConfiguration"] = {**account["spamAndVirusConfiguration"], **spam}
            task = self._new_task(service, "setAccount", ("account", address), change)
            account["taskPendingId"] = task["id"]
            return None

    def account_tasks(self, org, svc, address):
        with self.lock:
            self._settle()
            service = self._service(org, svc)
            self._account(service, address)
            return [t["id"] for t in service["tasks"].values() if t["_target"] == ["account", address]]

    def account_task(self, org, svc, address, task_id):
        with self.lock:
            self._settle()
            service = self._service(org, svc)
            self._account(service, address)
            task = service["tasks"].get(str(task_id))
            if task is None or task["_target"] != ["account", address]:
                raise not_found(f"The requested object (id = {task_id}) does not exist")
            return self.render_task(task)

    # ----------------------------------------------------------------- domains
    def domain_objects(self, org, svc, filters=None):
        with self.lock:
            self._settle()
            domains = list(self._service(org, svc)["domains"].values())
            for name, value in (filters or {}).items():
                if value is not None:
                    domains = [d for d in domains if d.get(name) == value]
            return domains

    def get_domain(self, org, svc, name):
        with self.lock:
            self._settle()
            return copy.deepcopy(self._get(self._service(org, svc), "domains", name, "name"))

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
            task = self._new_task(service, "setDomain", ("domain", name), change)
            domain["taskPendingId"] = task["id"]
            return None

    # ----------------------------------------------------------------- tasks
    def task_objects(self, org, svc):
        with self.lock:
            self._settle()
            now = self.clock()
            return [self.render_task(t, now) for t in self._service(org, svc)["tasks"].values()]

    def get_task(self, org, svc, task_id):
        with self.lock:
            self._settle()
            task = self._service(org, svc)["tasks"].get(str(task_id))
            if task is None:
                raise not_found(f"The requested object (id = {task_id}) does not exist")
            return self.render_task(task)


def new_account(address, account_id, now_iso, **fields):
    """A mailbox as GET returns it; `fields` override the defaults (seed values)."""
    login, dummy_at, domain = address.partition("@")
    first = fields.pop("firstName", login.capitalize())
    account = {
        "SAMAccountName": f"{login[:15]}", "accountLicense": "standard", "authenticationPolicyId": None,
        "city": None, "company": None, "configured": True, "countryCode": None, "creationDate": now_iso,
        "currentUsage": 0, "customIsolationId": None, "deleteAtExpiration": None,
        "deleteOutlookAtExpiration": None, "description": None, "displayName": first, "domain": domain,
        "exchangeGuid": _stable_guid("exchange" + address), "expirationDate": None,
        "expirationOutlookDate": None, "fax": None, "firstName": first, "forwardingEmail": None,
        "guid": _stable_guid(address), "hiddenFromGAL": False, "id": account_id, "initial": None,
        "jobDepartment": None, "jobTitle": None, "lastLogoffDate": None, "lastLogonDate": None,
        "lastName": None, "lastUpdateDate": None, "litigation": False, "litigationPeriod": None,
        "login": login, "mailSenderDisplay": None, "mailingFilter": ["vaderetro"], "mobile": None,
        "numberOfAliases": 0, "office": None, "outlookLicense": False, "owaLimited": False,
        "passwordLastUpdate": now_iso, "phone": None, "postalCode": None, "primaryEmailAddress": address,
        "quota": 50, "region": None, "renewOutlookPeriod": None, "renewPeriod": "yearly",
        "sbrDestination": None, "sendConnectorId": None,
        "spamAndVirusConfiguration": {"checkDKIM": True, "checkSPF": True, "deleteSpam": False,
                                      "deleteVirus": True, "putInJunk": True, "tagSpam": True,
                                      "tagVirus": True},
        "spamDetected": False, "spamTicketNumber": None, "state": "ok", "storeCopyOfEmail": False,
        "streetAddress": None, "taskPendingId": 0,
    }
    account.update(fields)
    return account


def new_domain(name, platform, **fields):
    domain = {
        "cnameToCheck": None, "dkimDiagnostics": {"errorCode": None, "message": None, "state": "disabled"},
        "domainAliases": [], "domainValidated": True, "expectedAutodiscoverSRV": f"0 0 443 {platform}.mail.ovh.net",
        "expectedMX": ["mx0.mail.ovh.net", "mx1.mail.ovh.net"], "expectedSPF": "v=spf1 include:mx.ovh.com ~all",
        "isAliasDomain": False, "main": False, "mxIsValid": True, "mxRecord": ["mx0.mail.ovh.net"],
        "mxRelay": None, "name": name, "organization2010": None, "sbrDefault": None,
        "sendConnectorIdDefault": None, "spfIsValid": True, "spfRecord": ["v=spf1 include:mx.ovh.com ~all"],
        "srvIsValid": True, "srvRecord": [f"0 0 443 {platform}.mail.ovh.net"], "state": "ok",
        "taskPendingId": 0, "type": "authoritative",
    }
    domain.update(fields)
    return domain
