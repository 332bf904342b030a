"""The command line, start-up output, state file and restarts, each in its own simulator process."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests
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


def test_control_plane_checks_host_names(sim):
    health = f"{sim.base_url}/_sim/health"
    assert requests.get(health, timeout=30).status_code == 200
    assert requests.get(health, headers={"Host": f"localhost:{sim.port}"}, timeout=30).status_code == 200
    assert requests.get(health, headers={"Host": f"[::1]:{sim.port}"}, timeout=30).status_code == 200
    rebound = requests.get(f"{sim.base_url}/_sim/state", headers={"Host": f"attacker.example:{sim.port}"}, timeout=30)
    assert rebound.status_code == 403 and "Host" in rebound.json()["message"]


def test_control_plane_accepts_only_json_bodies(sim):
    client = sim.client()
    connector_id, dummy = create_connector(client)
    reset = f"{sim.base_url}/_sim/reset"
    # What a cross-site page can send without a preflight: text/plain, a form, or no body at all.
    for headers, data in (({"Content-Type": "text/plain"}, "{}"),
                          ({"Content-Type": "application/x-www-form-urlencoded"}, "accounts=5"),
                          ({}, None)):
        answer = requests.post(reset, headers=headers, data=data, timeout=30)
        assert answer.status_code == 415, (headers, answer.text)
    put = requests.put(f"{sim.base_url}/_sim/faults", data='{"500": 1}', headers={"Content-Type": "text/plain"},
                       timeout=30)
    assert put.status_code == 415 and sim.faults()["rates"]["500"] == 0
    assert client.get(f"{BASE}/sendConnector") == [connector_id]  # nothing was reset
    assert requests.post(reset, json={}, timeout=30).status_code == 200
    assert client.get(f"{BASE}/sendConnector") == []


def test_generated_platforms(sim):
    sim.reset(platforms=12, platform_accounts=3)
    client = sim.client()
    organizations = client.get("/email/exchange")
    assert len(organizations) == 14 and "private-zz900001-1" in organizations
    offers = {}
    for number in range(1, 13):
        name = next(o for o in organizations if o.endswith(f"-zz9{number:05d}-1"))
        base = f"/email/exchange/{name}/service/{name}"
        offers[name] = client.get(base)["offer"]
        assert sorted(client.get(f"{base}/domain")) == [f"platform{number:03d}-alt.ovh", f"platform{number:03d}.ovh"]
        assert client.get(f"{base}/account") == [f"user{i:03d}@platform{number:03d}.ovh" for i in (1, 2, 3)]
    assert sorted(set(offers.values())) == ["dedicated", "dedicatedCluster", "hosted", "provider"]
    assert offers["hosted-zz900004-1"] == "hosted" and offers["provider-zz900012-1"] == "provider"
    sim.reset()
    assert len(client.get("/email/exchange")) == 2


def test_readings_platforms_and_fair_use_from_the_command_line():
    with SimulatorProcess(api_profile="pessimistic", late_writes=0.2, unpaged_routes=["task"], platforms=6,
                          platform_accounts=2, rate_limit="600/min", burst=50, rate_limit_answer="408") as sim:
        readings = sim.readings()
        assert readings["late_writes"] == 0.2 and readings["unpaged_routes"] == ["task"]
        assert readings["connector_listed_after_task"] and readings["filter_syntax"] == "manager"
        assert (readings["rate_limit"], readings["burst"], readings["rate_limit_answer"]) == (10.0, 50.0, "408")
        client = sim.client()
        assert len(client.get("/email/exchange")) == 8
        assert client.get("/email/exchange/provider-zz900006-1/service/provider-zz900006-1/account") == [
            "user001@platform006.ovh", "user002@platform006.ovh"]
        sim.reset(late_writes=0)  # a reset keeps the start-up readings, but for what its body says
        assert sim.readings()["late_writes"] == 0 and sim.readings()["no_batch"] is True


def test_bad_reading_flags_fail_with_a_message():
    for argv in (["--api-profile", "grumpy"], ["--unpaged-routes", "mailbox"], ["--rate-limit", "4/h"],
                 ["--rate-limit-answer", "503"], ["--filter-syntax", "sql"]):
        with pytest.raises(SystemExit):
            parse_args(argv)
