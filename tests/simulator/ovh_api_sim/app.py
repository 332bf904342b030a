"""The HTTP layer: Flask routes, OVH signature and OAuth2 checks, headers, paging, batch, faults,
request log and statistics, and the /_sim control plane. State and rules live in backend.py."""
from __future__ import annotations

import functools
import hashlib
import json
import os
import random
import secrets
import socket
import struct
import threading
import time
import uuid
from collections import Counter
from fnmatch import fnmatchcase

from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException

from .backend import ApiError, bad_request, like_matcher

API = "/1.0"
SERVICE = API + "/email/exchange/<organizationName>/service/<exchangeService>"
TIMESTAMP_WINDOW = 300  # seconds of accepted skew on X-Ovh-Timestamp (a guess)
DEFAULT_PAGE_SIZE = 1000  # the OVH manager's notes mention a default limit of 1000
MAX_PAGE_SIZE = 50000
REQUEST_LOG_LIMIT = 100000
SECRET_FIELDS = ("password", "client_secret", "access_token")
LOOPBACK = ("127.0.0.1", "::1", "::ffff:127.0.0.1")
SOCKET_ENVIRON_KEY = "ovh_api_sim.socket"  # the client's socket, put in the environ by server.py
GATEWAY_HTML = (
    "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center>"
    "<hr><center>nginx</center></body></html>\n"
)


def json_response(data, status=200, headers=None):
    return Response(json.dumps(data, separators=(",", ":")), status=status, headers=headers, content_type="application/json; charset=utf-8")


def redact(value):
    if isinstance(value, dict):
        return {k: ("********" if k in SECRET_FIELDS and v is not None else redact(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


def signature(secret, consumer_key, method, url, body, timestamp):
    """OVH's `$1$` signature over the exact bytes: sha1(AS+CK+METHOD+URL+BODY+TS joined by '+')."""
    head = f"{secret}+{consumer_key}+{method}+{url}+".encode()
    return "$1$" + hashlib.sha1(head + body + f"+{timestamp}".encode()).hexdigest()  # noqa: S324 - OVH's scheme


class Recorder:
    """Statistics and the redacted request log of /1.0 requests, since start or the last reset."""

    def __init__(self):
        self.lock = threading.Lock()
        self.clear()

    def clear(self):
        with self.lock:
            self.by_method, self.by_route, self.by_fault = Counter(), Counter(), Counter()
            self.total = self.writes = 0
            self.log = []

    def record(self, entry):
        with self.lock:
            self.total += 1
            self.by_method[entry["method"]] += 1
            self.by_route[f"{entry['method']} {entry['route']}"] += 1
            if entry["method"] in ("POST", "PUT", "DELETE"):
                self.writes += 1
            if entry["fault"]:
                self.by_fault[entry["fault"]] += 1
            if len(self.log) < REQUEST_LOG_LIMIT:
                self.log.append(entry)

    def stats(self):
        with self.lock:
            return {"total": self.total, "by_method": dict(self.by_method), "by_route": dict(self.by_route),
                    "writes": self.writes, "faults": dict(self.by_fault)}

    def requests(self):
        with self.lock:
            return list(self.log)


@functools.cache
def route_template(rule):
    """'/1.0/email/exchange/<organizationName>/...' -> '/email/exchange/{organizationName}/...'."""
    return rule[len(API):].replace("<", "{").replace(">", "}")


def parse_filters(header):
    """X-Pagination-Filter `field:op=value,...` -> [(field, op, value)]."""
    filters = []
    for item in filter(None, header.split(",")):
        field, sep, rest = item.partition(":")
        op, sep2, value = rest.partition("=")
        if not (sep and sep2) or op not in ("eq", "nq", "like", "nlike", "gt", "lt", "ge", "le"):
            raise bad_request(f"Invalid X-Pagination-Filter item {item!r}; expected field:op=value with op "
                              "eq, nq, like, nlike, gt, lt, ge or le")
        filters.append((field, op, value))
    return filters


def _coerce(text, sample):
    """A filter value as the type of the field it is compared with."""
    if isinstance(sample, bool):
        return text.lower() == "true"
    if isinstance(sample, int):
        try:
            return int(text)
        except ValueError:
            raise bad_request(f"X-Pagination-Filter value {text!r} is not a number") from None
    return text


def filter_test(field, op, value):
    if op in ("like", "nlike"):
        match = like_matcher(value)
        return lambda obj: (obj.get(field) is not None and match(str(obj[field])) is not None) == (op == "like")

    def test(obj):
        actual = obj.get(field)
        if value == "null" and op in ("eq", "nq"):
            return (actual is None) == (op == "eq")
        if actual is None:
            return False
        expected = _coerce(value, actual)
        return {"eq": actual == expected, "nq": actual != expected, "gt": actual > expected,
                "lt": actual < expected, "ge": actual >= expected, "le": actual <= expected}[op]
    return test


class Simulator:
    """Everything the Flask app needs; `app` is the WSGI application."""

    def __init__(self, backend, faults, reseed, token_seconds=3600):
        self.backend = backend
        self.faults = faults
        self.reseed = reseed  # callable(body) -> resets backend (and faults) as at start-up
        self.token_seconds = token_seconds
        self.tokens = {}
        self.recorder = Recorder()
        self.pid = os.getpid()
        backend.task_fails = faults.task_fails
        self.app = Flask("ovh_api_sim", static_folder=None)
        self.app.json.sort_keys = False
        self._install()

    # ----------------------------------------------------------------- pipeline
    def _install(self):
        app = self.app
        app.before_request(self._before)
        app.after_request(self._after)

        @app.errorhandler(ApiError)
        def api_error(error):
            return json_response(error.body, error.status)

        @app.errorhandler(HTTPException)
        def http_error(error):
            if error.code == 405:
                return json_response({"class": "Client::BadRequest",
                                      "message": f"Method {request.method} is not allowed on this path"}, 405)
            return json_response({"class": "Client::NotFound", "message": "Got an invalid (or empty) URL"},
                                 error.code or 404)

        self._routes()
        self._control_routes()

    def _before(self):
        # The real ids end with a UUID too; random's generator spares a system call per request (os.urandom).
        g.query_id = f"EU.ext-sim.{self.pid:x}.{uuid.UUID(int=random.getrandbits(128), version=4)}"
        g.fault = None
        req = request._get_current_object()  # noqa: SLF001 - werkzeug's documented way past the proxy, once
        path = req.path
        if not path.startswith(API + "/"):
            if path.startswith("/_sim") and req.remote_addr not in LOOPBACK:
                return json_response({"message": "the control plane answers on loopback only"}, 403)
            return None
        if self.faults.latency_ms:
            time.sleep(self.faults.latency_ms / 1000)
        if path != API + "/auth/time":
            g.fault = self.faults.decide(req.method, path, req.method in ("POST", "PUT", "DELETE"))
            early = self._fault_response(g.fault)
            if early is not None:
                return early
            self._authenticate(req)
            if req.method in ("GET", "DELETE") and req.get_data(cache=True).strip():
                raise bad_request("You provided an input body while none was expected")
        return None

    def _fault_response(self, fault):
        if fault == "500":
            return json_response({"class": "Server::InternalServerError", "message": "Internal server error"}, 500)
        if fault == "502":
            return Response(GATEWAY_HTML, 502, content_type="text/html")
        if fault == "429":
            retry = self.faults.retry_after
            retry_text = str(int(retry)) if float(retry).is_integer() else str(retry)
            return json_response({"class": "Client::TooManyRequests", "message": "Too many requests"}, 429,
                                 {"Retry-After": retry_text})
        if fault == "reset_before":
            return Response(b"", 500)  # never sent: _after drops the connection once the request is logged
        return None

    @staticmethod
    def _drop_connection():
        """Close the client's connection with no answer: the client sees a reset (RST)."""
        sock = request.environ.get(SOCKET_ENVIRON_KEY)
        if sock is None:  # not under server.py's server: nothing better to do than fail loudly
            raise RuntimeError("the connection reset fault needs the simulator's own server (server.py)")
        # The server then fails to send the answer and closes the socket, which a zero linger turns into an RST.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.shutdown(socket.SHUT_RDWR)

    def _after(self, response):
        response.headers["X-Ovh-Queryid"] = g.get("query_id", "")
        req = request._get_current_object()  # noqa: SLF001 - as in _before
        if not req.path.startswith(API + "/"):
            return response
        body = req.get_data(cache=True)
        try:
            logged_body = redact(json.loads(body)) if body else None
        except ValueError:
            logged_body = body.decode("utf-8", "replace")
        rule = req.url_rule.rule if req.url_rule else None
        fault = g.get("fault")
        reset = fault is not None and fault.startswith("reset")
        self.recorder.record({
            "method": req.method, "path": req.path, "query": req.query_string.decode(),
            "route": route_template(rule) if rule else req.path[len(API):],
            "status": "reset" if reset else response.status_code,
            "query_id": g.query_id, "body": logged_body, "fault": fault, "time": time.time(),
        })
        response.headers.setdefault("Cache-Control", "no-cache")
        if reset:  # logged first, so a test sees it once the client fails
            self._drop_connection()
        return response

    # ----------------------------------------------------------------- authentication
    def _authenticate(self, request):
        headers = request.headers
        auth = headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            expiry = self.tokens.get(auth[7:].strip())
            if expiry is None or expiry < time.time():
                raise ApiError(401, "Invalid or expired token", cls="Client::Unauthorized")
            return
        application_key = headers.get("X-Ovh-Application")
        if not application_key:
            raise ApiError(401, "You must login first", cls="Client::Unauthorized")
        secret = self.backend.application_secret(application_key)
        if secret is None:
            raise ApiError(403, "This application key is invalid", cls="Client::Forbidden", error_code="INVALID_KEY",
                           http_code="403 Forbidden")
        consumer_key = headers.get("X-Ovh-Consumer")
        if not consumer_key:
            raise ApiError(401, "You must login first", cls="Client::Unauthorized")
        consumer = self.backend.consumer(consumer_key)
        if consumer is None or consumer.get("application_key") not in (None, application_key):
            raise ApiError(403, "This credential does not exist", cls="Client::Forbidden",
                           error_code="INVALID_CREDENTIAL", http_code="403 Forbidden")
        timestamp, sent = headers.get("X-Ovh-Timestamp", ""), headers.get("X-Ovh-Signature", "")
        if not timestamp.isdigit() or not sent:
            raise ApiError(400, "Invalid signature", cls="Client::BadRequest", error_code="INVALID_SIGNATURE",
                           http_code="400 Bad Request")
        if abs(int(timestamp) - time.time()) > TIMESTAMP_WINDOW:
            raise ApiError(400, "Query out of time: X-Ovh-Timestamp is too far from /auth/time",
                           cls="Client::BadRequest", error_code="QUERY_TIME_OUT", http_code="400 Bad Request")
        url = f"{request.scheme}://{request.host}{request.environ.get('REQUEST_URI') or request.full_path}"
        expected = signature(secret, consumer_key, request.method, url, request.get_data(cache=True), timestamp)
        if not secrets.compare_digest(expected, sent):
            raise ApiError(400, "Invalid signature", cls="Client::BadRequest", error_code="INVALID_SIGNATURE",
                           http_code="400 Bad Request")
        path = request.path[len(API):]
        if not any(rule.get("method", "").upper() in (request.method, "*") and fnmatchcase(path, rule.get("path", ""))
                   for rule in consumer.get("rules", [])):
            raise ApiError(403, "This call has not been granted", cls="Client::Forbidden",
                           error_code="NOT_GRANTED_CALL", http_code="403 Forbidden")

    # ----------------------------------------------------------------- request helpers
    @staticmethod
    def _body():
        """The parsed JSON body of a POST or PUT (GET and DELETE bodies are refused in _before)."""
        raw = request.get_data(cache=True)
        if not raw.strip():
            return {}
        try:
            return json.loads(raw)
        except ValueError:
            raise bad_request("The input that you provided isn't valid JSON or not well formatted") from None

    @staticmethod
    def _query(allowed):
        unknown = sorted(set(request.args) - set(allowed))
        if unknown:
            raise bad_request(f"Unknown query parameter(s): {', '.join(unknown)}")
        return {name: request.args.get(name) for name in allowed}

    def _list(self, objects, key):
        """A list route: ids, or full objects in X-Pagination-Mode CachedObjectList-Pages."""
        mode = request.headers.get("X-Pagination-Mode", "")
        if mode != "CachedObjectList-Pages" or not self.faults.object_lists:
            return json_response([obj[key] for obj in objects])
        for field, op, value in parse_filters(request.headers.get("X-Pagination-Filter", "")):
            objects = [obj for obj in objects if filter_test(field, op, value)(obj)]
        sort = request.headers.get("X-Pagination-Sort")
        if sort:
            descending = request.headers.get("X-Pagination-Sort-Order", "ASC").upper() == "DESC"
            objects = sorted(objects, key=lambda o: (o.get(sort) is None, o.get(sort)), reverse=descending)
        try:
            size = int(request.headers.get("X-Pagination-Size", DEFAULT_PAGE_SIZE))
            number = int(request.headers.get("X-Pagination-Number", 1))
        except ValueError:
            raise bad_request("X-Pagination-Size and X-Pagination-Number must be integers") from None
        if not 1 <= size <= MAX_PAGE_SIZE or number < 1:
            raise bad_request(f"X-Pagination-Size must be within 1..{MAX_PAGE_SIZE} and X-Pagination-Number >= 1")
        page = objects[(number - 1) * size: number * size]
        return json_response(page, headers={"X-Pagination-Elements": str(len(objects)),
                                            "X-Pagination-Number": str(number), "X-Pagination-Size": str(size)})

    def _single(self, getter, key):
        """A single-object GET, or with `X-Ovh-Batch: ,` one entry per comma-separated key."""
        separator = request.headers.get("X-Ovh-Batch")
        if not separator or not self.faults.object_lists:
            return json_response(getter(key))
        entries = []
        for item in key.split(separator):
            try:
                entries.append({"key": item, "value": getter(item), "error": None})
            except ApiError as error:
                entries.append({"key": item, "value": None, "error": error.body["message"]})
        return json_response(entries)

    @staticmethod
    def _long(value, name="id"):
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request(f"Parameter {name} isn't formated correctly: {value!r} is not a long") from None

    # ----------------------------------------------------------------- /1.0 routes
    def _routes(self):
        app, be = self.app, self.backend

        @app.get(API + "/auth/time")
        def auth_time():
            return json_response(int(time.time()))

        @app.get(API + "/email/exchange")
        def organizations():
            self._query(())
            return json_response(be.list_organizations())

        @app.get(API + "/email/exchange/<organizationName>/service")
        def services(organizationName):
            return json_response(be.list_services(organizationName))

        @app.get(SERVICE)
        def service(organizationName, exchangeService):
            return json_response(be.get_service(organizationName, exchangeService))

        @app.route(SERVICE + "/sendConnector", methods=["GET", "POST"])
        def connectors(organizationName, exchangeService):
            if request.method == "POST":
                return json_response(be.create_connector(organizationName, exchangeService, self._body()))
            self._query(())
            return self._list(be.connectors(organizationName, exchangeService), "id")

        @app.route(SERVICE + "/sendConnector/<id>", methods=["GET", "PUT", "DELETE"])
        def connector(organizationName, exchangeService, id):  # noqa: A002 - the schema's name
            if request.method == "GET":
                return self._single(lambda key: be.get_connector(organizationName, exchangeService,
                                                                 self._long(key)), id)
            if request.method == "PUT":
                body = self._body()
                return json_response(be.update_connector(organizationName, exchangeService, self._long(id), body))
            return json_response(be.delete_connector(organizationName, exchangeService, self._long(id)))

        @app.post(SERVICE + "/sendConnector/<id>/changeAuthentication")
        def change_authentication(organizationName, exchangeService, id):  # noqa: A002
            return json_response(be.change_authentication(organizationName, exchangeService, self._long(id),
                                                          self._body()))

        @app.get(SERVICE + "/account")
        def accounts(organizationName, exchangeService):
            filters = self._query(("accountLicense", "company", "id", "primaryEmailAddress"))
            licenses = ("basic", "enterprise", "standard")
            if filters["accountLicense"] is not None and filters["accountLicense"] not in licenses:
                raise bad_request(f"Query parameter accountLicense isn't formated correctly: {filters['accountLicense']!r}")
            return self._list(be.account_objects(organizationName, exchangeService, filters), "primaryEmailAddress")

        @app.route(SERVICE + "/account/<primaryEmailAddress>", methods=["GET", "PUT"])
        def account(organizationName, exchangeService, primaryEmailAddress):
            if request.method == "GET":
                return self._single(lambda key: be.get_account(organizationName, exchangeService, key),
                                    primaryEmailAddress)
            return json_response(be.update_account(organizationName, exchangeService, primaryEmailAddress,
                                                   self._body()))

        @app.get(SERVICE + "/account/<primaryEmailAddress>/tasks")
        def account_tasks(organizationName, exchangeService, primaryEmailAddress):
            return json_response(be.account_tasks(organizationName, exchangeService, primaryEmailAddress))

        @app.get(SERVICE + "/account/<primaryEmailAddress>/tasks/<id>")
        def account_task(organizationName, exchangeService, primaryEmailAddress, id):  # noqa: A002
            return self._single(lambda key: be.account_task(organizationName, exchangeService, primaryEmailAddress,
                                                            self._long(key)), id)

        @app.get(SERVICE + "/domain")
        def domains(organizationName, exchangeService):
            query = self._query(("main", "state"))
            filters = {}
            if query["main"] is not None:
                if query["main"] not in ("true", "false"):
                    raise bad_request("Query parameter main isn't formated correctly: expected true or false")
                filters["main"] = query["main"] == "true"
            if query["state"] is not None:
                filters["state"] = query["state"]
            return self._list(be.domain_objects(organizationName, exchangeService, filters), "name")

        @app.get(SERVICE + "/domain/<domainName>")
        def domain(organizationName, exchangeService, domainName):
            return self._single(lambda key: be.get_domain(organizationName, exchangeService, key), domainName)

        @app.put(SERVICE + "/domain/<domainName>/changeDefaultSBR")
        def change_default_sbr(organizationName, exchangeService, domainName):
            return json_response(be.change_default_sbr(organizationName, exchangeService, domainName,
                                                       self._body()))

        @app.get(SERVICE + "/task")
        def tasks(organizationName, exchangeService):
            self._query(())
            return self._list(be.task_objects(organizationName, exchangeService), "id")

        @app.get(SERVICE + "/task/<id>")
        def task(organizationName, exchangeService, id):  # noqa: A002
            return self._single(lambda key: be.get_task(organizationName, exchangeService, self._long(key)), id)

        @app.post("/auth/oauth2/token")
        def oauth2_token():
            auth = request.authorization
            client_id = auth.username if auth else request.form.get("client_id")
            client_secret = auth.password if auth else request.form.get("client_secret")
            if request.form.get("grant_type") != "client_credentials":
                return json_response({"error": "unsupported_grant_type"}, 400)
            expected = self.backend.oauth2_secret(client_id or "")
            if expected is None or not secrets.compare_digest(expected, client_secret or ""):
                return json_response({"error": "invalid_client", "error_description": "bad client id or secret"}, 401)
            token = secrets.token_urlsafe(24)
            self.tokens[token] = time.time() + self.token_seconds
            return json_response({"access_token": token, "token_type": "Bearer", "expires_in": self.token_seconds,
                                  "scope": request.form.get("scope", "all")})

    # ----------------------------------------------------------------- control plane
    def _control_routes(self):
        app = self.app

        @app.get("/_sim/health")
        def health():
            return json_response({"ok": True, "pid": os.getpid()})

        @app.post("/_sim/reset")
        def reset():
            body = request.get_json(silent=True) or {}
            try:
                self.reseed(body)
            except (ValueError, TypeError, KeyError) as error:
                return json_response({"message": f"reset failed: {error}"}, 400)
            self.recorder.clear()
            return json_response({"ok": True})

        @app.get("/_sim/stats")
        def stats():
            return json_response(self.recorder.stats())

        @app.get("/_sim/requests")
        def requests_log():
            return json_response(self.recorder.requests())

        @app.get("/_sim/state")
        def state():
            return json_response(self.backend.snapshot())

        @app.route("/_sim/faults", methods=["GET", "PUT"])
        def faults():
            if request.method == "PUT":
                try:
                    self.faults.update(request.get_json(force=True) or {})
                except (ValueError, TypeError, AttributeError) as error:
                    return json_response({"message": str(error)}, 400)
            return json_response(self.faults.to_dict())
