"""The /_sim control plane: unsigned, for tests. Loopback clients only, loopback `Host` names only
(against DNS rebinding), and JSON bodies only (a cross-site form or text/plain POST is refused)."""
from __future__ import annotations

import os

from flask import request

from .responses import json_response

LOOPBACK = ("127.0.0.1", "::1", "::ffff:127.0.0.1")
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


def _host_name(host):
    """`Host` without its port: `[::1]:8080` -> `::1`, `localhost:80` -> `localhost`."""
    if host.startswith("["):
        return host[1:].partition("]")[0]
    return host.rpartition(":")[0] if host.count(":") == 1 else host


def refusal(req):
    """The answer refusing a control request, or None when it may go on."""
    if req.remote_addr not in LOOPBACK:
        return json_response({"message": "the control plane answers on loopback only"}, 403)
    if _host_name(req.host or "").lower() not in LOOPBACK_NAMES:
        return json_response({"message": f"the control plane answers to loopback Host names only, not {req.host!r}"},
                             403)
    if req.method in ("POST", "PUT") and req.mimetype != "application/json":
        return json_response({"message": "control requests must be JSON (Content-Type: application/json)"}, 415)
    return None


def register(app, sim):
    """Add the /_sim routes; `sim` is the Simulator (backend, faults, recorder, reseed)."""

    def json_body():
        body = request.get_json(silent=True)
        if body is None and request.get_data(cache=True).strip():
            raise ValueError("the body is not valid JSON")
        if not isinstance(body or {}, dict):
            raise ValueError("the body must be a JSON object")
        return body or {}

    @app.get("/_sim/health")
    def health():
        return json_response({"ok": True, "pid": os.getpid()})

    @app.post("/_sim/reset")
    def reset():
        try:
            sim.reseed(json_body())
        except (ValueError, TypeError, KeyError) as error:
            return json_response({"message": f"reset failed: {error}"}, 400)
        sim.recorder.clear()
        return json_response({"ok": True})

    @app.get("/_sim/stats")
    def stats():
        return json_response(sim.recorder.stats())

    @app.get("/_sim/requests")
    def requests_log():
        return json_response(sim.recorder.requests())

    @app.get("/_sim/state")
    def state():
        return json_response(sim.backend.snapshot())

    @app.route("/_sim/faults", methods=["GET", "PUT"])
    def faults():
        if request.method == "PUT":
            try:
                sim.faults.update(json_body())
            except (ValueError, TypeError, AttributeError) as error:
                return json_response({"message": str(error)}, 400)
        return json_response(sim.faults.to_dict())

    @app.route("/_sim/readings", methods=["GET", "PUT"])
    def readings():
        if request.method == "PUT":
            try:
                sim.backend.readings.update(json_body())
            except (ValueError, TypeError) as error:
                return json_response({"message": str(error)}, 400)
        return json_response({**sim.backend.readings.to_dict(), **sim.throttle.to_dict()})
