"""The command line, start-up output, state file and restarts, each in its own simulator process."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from ovh import exceptions

from ovh_api_sim.server import parse_args, write_atomically
from ovh_api_sim.testing import SimulatorProcess
from sim_helpers import BASE, PAGED, create_connector, wait_idle

PACKAGE_PARENT = str(Path(__file__).resolve().parent)


def test_export_lines_come_first_and_set_up_a_shell():
    env = {**os.environ, "PYTHONPATH": PACKAGE_PARENT}
    server = subprocess.Popen([sys.executable, "-m", "ovh_api_sim", "--port", "0"], stdout=subprocess.PIPE,
                              text=True, env=env)
    try:
        first_lines = [server.stdout.readline() for dummy in range(4)]
    finally:
        server.terminate()
        server.wait(timeout=30)
        server.stdout.close()
    script = 'eval "$(cat)"; echo "$OVH_ENDPOINT|$OVH_APPLICATION_KEY|$OVH_APPLICATION_SECRET|$OVH_CONSUMER_KEY"'
    out = subprocess.run(["bash", "-c", script], input="".join(first_lines), capture_output=True, text=True,
                         timeout=60, check=False).stdout
    endpoint, key, secret, consumer = out.strip().split("|")
    assert endpoint.startswith("http://127.0.0.1:") and endpoint.endswith("/1.0")
    assert not endpoint.endswith(":0/1.0")  # the real port, not 0
    assert (key, secret, consumer) == ("demo-application-key", "demo-application-secret", "demo-consumer-key")


def test_state_file_survives_a_restart(tmp_path):
    state_file = tmp_path / "state.json"
    with SimulatorProcess(args=["--task-seconds", "0.1", "--state-file", str(state_file)]) as sim:
        client = sim.client()
        connector_id, dummy = create_connector(client, displayName="kept")
        client.put(f"{BASE}/account/contact@mydomain.ovh", sendConnectorId=connector_id)
        wait_idle(client, f"{BASE}/account/contact@mydomain.ovh")
        port = sim.port
        sim.restart()
        assert sim.port == port
        client = sim.client()
        assert client.get(f"{BASE}/sendConnector/{connector_id}")["displayName"] == "kept"
        assert client.get(f"{BASE}/account/contact@mydomain.ovh")["sendConnectorId"] == connector_id
    saved = json.loads(state_file.read_text())
    assert str(connector_id) in saved["services"][0]["connectors"]
    assert not [p for p in tmp_path.iterdir() if p.name != "state.json"]  # no temporary file left


def test_atomic_write_keeps_the_old_file_when_serialising_fails(tmp_path):
    target = tmp_path / "state.json"
    target.write_text('{"old": true}')
    with pytest.raises(TypeError):
        write_atomically(str(target), {"bad": object()})
    assert json.loads(target.read_text()) == {"old": True}
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


def test_generated_accounts_and_reset_with_a_count():
    with SimulatorProcess(args=["--accounts", "10000"]) as sim:
        client = sim.client()
        answer = client.raw_call("GET", f"{BASE}/account", headers={**PAGED, "X-Pagination-Size": "10000"})
        assert answer.headers["X-Pagination-Elements"] == "10006" and len(answer.json()) == 10000
        assert client.get(f"{BASE}/account/user10000@mydomain.ovh")["primaryEmailAddress"] == "user10000@mydomain.ovh"
        sim.reset(accounts=3)
        assert len(client.get(f"{BASE}/account")) == 9
        sim.reset()
        assert len(client.get(f"{BASE}/account")) == 10006  # back to the start-up count


def test_no_object_lists_flag_and_start_up_faults():
    with SimulatorProcess(args=["--no-object-lists", "--faults", "500=1,seed=3"]) as sim:
        client = sim.client()
        with pytest.raises(exceptions.APIError, match="Internal server error"):
            client.get(f"{BASE}/account")
        assert sim.faults()["rates"]["500"] == 1.0
        sim.set_faults(**{"500": 0})
        assert client.raw_call("GET", f"{BASE}/account", headers=PAGED).json()[0] == "contact@mydomain.ovh"
        sim.reset()
        assert sim.faults()["rates"]["500"] == 1.0 and sim.faults()["object_lists"] is False


def test_latency_flag_is_reported():
    with SimulatorProcess(args=["--latency-ms", "30"]) as sim:
        assert sim.faults()["latency_ms"] == 30.0
        assert sim.client().get("/email/exchange")


def test_bad_flags_fail_with_a_message():
    with pytest.raises(SystemExit):
        parse_args(["--faults", "418=0.5"])
    proc = subprocess.run([sys.executable, "-m", "ovh_api_sim", "--faults", "nonsense"], capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": PACKAGE_PARENT}, timeout=60, check=False)
    assert proc.returncode == 2 and "--faults" in proc.stderr


def test_control_plane_answers_only_loopback_clients():
    from ovh_api_sim.server import build

    backend, simulator = build(parse_args(["--port", "0"]))
    outside = simulator.app.test_client().get("/_sim/state", environ_base={"REMOTE_ADDR": "192.0.2.7"})
    inside = simulator.app.test_client().get("/_sim/health", environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert (outside.status_code, inside.status_code) == (403, 200)
