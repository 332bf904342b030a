"""The HTTP pipeline: query ids, gateway behaviour (fair use, faults, latency), authentication, the
request log; the routes themselves are in routes.py (/1.0) and control.py (/_sim). State and rules
live in backend.py, which knows nothing of HTTP."""
from __future__ import annotations

import functools
import json
import os
import random
import socket
import struct
import time
import uuid

from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException

from . import control, routes
from .auth import API, Auth
from .errors import ApiError, bad_request
from .recorder import Recorder, redact
from .responses import GATEWAY_HTML, TIMEOUT_HTML, html_response, json_response
from .throttle import Throttle, retry_after_text

CHANNEL_ENVIRON_KEY = "ovh_api_sim.channel"  # the waitress channel of the client, put in the environ by server.py


@functools.cache
def route_template(rule):
    """'/1.0/email/exchange/<organizationName>/...' -> '/email/exchange/{organizationName}/...'."""
    return rule[len(API):].replace("<", "{").replace(">", "}")


class Simulator:
    """Everything the Flask app needs; `app` is the WSGI application.

    `reseed(body)` resets the backend, faults, readings and throttle as at start-up (POST /_sim/reset).
    """

    def __init__(self, backend, faults, reseed, token_seconds=3600, throttle=None):
        self.backend = backend
        self.faults = faults
        self.reseed = reseed
        self.throttle = throttle or Throttle()
        self.auth = Auth(backend, token_seconds)
        self.recorder = Recorder()
        self.pid = os.getpid()
        self.app = Flask("ovh_api_sim", static_folder=None)
        self.app.json.sort_keys = False
        self._install()

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

        @app.post("/auth/oauth2/token")
        def oauth2_token():
            status, body = self.auth.issue_token(request)
            return json_response(body, status)

        routes.register(app, self.backend, self.faults)
        control.register(app, self)

    def _before(self):
        # The real ids end with a UUID too; random's generator spares a system call per request (os.urandom).
        g.query_id = f"EU.ext-sim.{self.pid:x}.{uuid.UUID(int=random.getrandbits(128), version=4)}"
        g.fault = g.throttled = None
        req = request._get_current_object()  # noqa: SLF001 - werkzeug's documented way past the proxy, once
        path = req.path
        if not path.startswith(API + "/"):
            return control.refusal(req) if path.startswith("/_sim") else None
        if path != API + "/auth/time":
            early = self._throttle(req)
            if early is not None:
                return early
        if self.faults.latency_ms:
            time.sleep(self.faults.latency_ms / 1000)
        if path != API + "/auth/time":
            g.fault = self.faults.decide(req.method, path, req.method in ("POST", "PUT", "DELETE"))
            early = self._fault_response(g.fault)
            if early is not None:
                return early
            self.auth.check(req)
            if req.method in ("GET", "DELETE") and req.get_data(cache=True).strip():
                raise bad_request("You provided an input body while none was expected")
        return None

    def _throttle(self, req):
        """Fair use, as a gateway does it: before faults and authentication, per consumer key."""
        if not self.throttle.rate:  # off: spare the lookup of the caller
            return None
        verdict = self.throttle.admit(self.auth.caller(req.headers))
        if verdict is None:
            return None
        answer, wait = verdict
        g.throttled = answer
        if answer == "429":
            return json_response({"class": "Client::TooManyRequests", "message": "Too many requests"}, 429,
                                 {"Retry-After": retry_after_text(wait)})
        if answer == "408":
            return html_response(TIMEOUT_HTML, 408)
        return Response(b"", 500)  # never sent: _after drops the connection

    def _fault_response(self, fault):
        if fault == "500":
            return json_response({"class": "Server::InternalServerError", "message": "Internal server error"}, 500)
        if fault == "502":
            return html_response(GATEWAY_HTML, 502)
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
        """Close the client's connection with no answer: the client sees a reset (RST), not a close (FIN)."""
        channel = request.environ.get(CHANNEL_ENVIRON_KEY)
        if channel is None:  # not under server.py's server: nothing better to do than fail loudly
            raise RuntimeError("the connection reset fault needs the simulator's own server (server.py)")
        # A zero linger makes close() send an RST. No shutdown(): it would send a FIN first, which a client
        # reads as an orderly end. The server's loop closes the socket; the answer is never written.
        channel.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        with channel.outbuf_lock:
            channel.connected = False  # waitress then drops the answer (ClientDisconnected)
            channel.will_close = True  # and its loop closes the socket
        channel.server.pull_trigger()

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
        fault, throttled = g.get("fault"), g.get("throttled")
        reset = (fault is not None and fault.startswith("reset")) or throttled == "reset"
        self.recorder.record({
            "method": req.method, "path": req.path, "query": req.query_string.decode(),
            "route": route_template(rule) if rule else req.path[len(API):],
            "status": "reset" if reset else response.status_code,
            "query_id": g.query_id, "body": logged_body, "fault": fault, "throttled": throttled,
            "time": time.time(),
        })
        response.headers.setdefault("Cache-Control", "no-cache")
        if reset:  # logged first, so a test sees it once the client fails
            self._drop_connection()
        return response
