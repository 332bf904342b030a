"""Small helpers shared by the simulator tests."""
from __future__ import annotations

import time

PRIVATE = "private-zz111111-1"
BASE = f"/email/exchange/{PRIVATE}/service/{PRIVATE}"
HOSTED_BASE = "/email/exchange/hosted-zz222222-1/service/hosted-zz222222-1"
RELAY = {"displayName": "relay", "smartHost": "smtp-relay.example.com", "port": 587, "requireTLS": True}
PAGED = {"X-Pagination-Mode": "CachedObjectList-Pages"}
WAIT_LIMIT = 30.0  # a safety net for a broken simulator, not a speed assertion


def wait_task(client, task_id, base=BASE):
    """Poll a task until it is final; returns it."""
    deadline = time.monotonic() + WAIT_LIMIT
    while True:
        task = client.get(f"{base}/task/{task_id}")
        if task["status"] in ("done", "error", "cancelled") or time.monotonic() > deadline:
            return task
        time.sleep(0.05)


def create_connector(client, **fields):
    """Create a connector, wait for its task, return (connector id, task)."""
    before = set(client.get(f"{BASE}/sendConnector"))
    task = client.post(f"{BASE}/sendConnector", **{**RELAY, **fields})
    (connector_id,) = set(client.get(f"{BASE}/sendConnector")) - before
    return connector_id, wait_task(client, task["id"])


def wait_idle(client, path):
    deadline = time.monotonic() + WAIT_LIMIT
    while True:
        obj = client.get(path)
        if not obj["taskPendingId"] or time.monotonic() > deadline:
            return obj
        time.sleep(0.05)


def failed_connector_update(sim, client):
    """A connector whose PUT (port 2525) ended in `error` (a scripted task_error): (connector id, task id)."""
    connector_id, dummy = create_connector(client)
    sim.set_faults(script=[{"fault": "task_error"}])
    client.put(f"{BASE}/sendConnector/{connector_id}", port=2525)
    task_id = client.get(f"{BASE}/sendConnector/{connector_id}")["taskPendingId"]
    assert wait_task(client, task_id)["status"] == "error"
    connector = client.get(f"{BASE}/sendConnector/{connector_id}")
    assert (connector["port"], connector["taskPendingId"]) == (587, 0)
    return connector_id, task_id
