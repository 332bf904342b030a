"""Chaos: the role converges through API faults, killed runs and simulator restarts, and leaves nothing wrong.

One simulator with `--state-file` (60 generated mailboxes, fast tasks). Before each scenario another
tool has made a connector and bound a few mailboxes to it; the role must leave those alone. After
each scenario: exactly one connector per name, every mailbox and domain default where the inventory
says, everything else as it was, and a rerun (faults off) changes nothing and writes nothing.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bindings_support import ORG, bind_directly, create_connector, users
from testlib import REPO, ansible_env, run_ansible_playbook
from role_play import ROLE_PLAY as PLAY
from role_play import extra_vars_file

pytestmark = pytest.mark.integration

OTHER = "other-tool-relay"  # made by "another tool": must stay as it is
RELAY_A = {"name": "relay-a", "smart_host": "smtp-a.example.com", "port": 587, "require_tls": True,
           "auth_mechanism": "basicAuthRequireTLS", "user": "relay-a", "password": "chaos-relay-password",
           "mailboxes": users(1, 20), "default_for_domains": ["guides.ovh"]}
RELAY_B = {"name": "relay-b", "smart_host": "smtp-b.example.com", "port": 25, "mailboxes": users(21, 30)}
PLATFORM_MAILBOXES = ["contact@mydomain.ovh", "user00031@mydomain.ovh"]
ROLE_VARS = {"send_connector_organization": ORG, "send_connector_connectors": [RELAY_A, RELAY_B],
             "send_connector_platform_mailboxes": PLATFORM_MAILBOXES, "send_connector_wait_timeout": 60}
DESIRED_ACCOUNTS = {**{a: "relay-a" for a in RELAY_A["mailboxes"]}, **{a: "relay-b" for a in RELAY_B["mailboxes"]},
                    **{a: None for a in PLATFORM_MAILBOXES}}
# Fields the role may change on a listed mailbox (the binding and the bookkeeping of its task).
BINDING_FIELDS = {"sendConnectorId", "taskPendingId", "lastUpdateDate"}
FAULTS = {"500": 0.025, "502": 0.025, "429": 0.025, "reset": 0.025, "task_error": 0.03, "retry_after": 0.1}


@pytest.fixture(scope="module")
def chaos_sim(tmp_path_factory):
    from ovh_api_sim.testing import SimulatorProcess

    state_file = tmp_path_factory.mktemp("chaos-state") / "state.json"
    with SimulatorProcess(args=["--task-seconds", "0.2", "--accounts", "60", "--state-file", str(state_file)]) as sim:
        yield sim


@pytest.fixture
def platform(chaos_sim):
    """The simulator back to its start, plus another tool's connector with three mailboxes; the state then."""
    chaos_sim.reset(accounts=60)
    other = create_connector(chaos_sim, OTHER, smart_host="smtp.other-tool.example.com")
    bind_directly(chaos_sim, other, users(50, 52))
    return chaos_sim.state()


def services(state):
    return {(s["organization"], s["name"]): s for s in state["services"]}


def assert_converged(sim, before):
    """Exactly the inventory on the platform, and nothing else changed since `before`."""
    after = services(sim.state())
    old = services(before)
    assert after.keys() == old.keys()
    for key, service in after.items():
        if key != (ORG, ORG):
            assert service == old[key], f"service {key} was touched"
    mine, was = after[(ORG, ORG)], old[(ORG, ORG)]

    names = [c["displayName"] for c in mine["connectors"].values()]
    assert sorted(names) == sorted([OTHER, "relay-a", "relay-b"]), f"connectors: {names}"
    ids = {c["displayName"]: c["id"] for c in mine["connectors"].values()}
    for connector in mine["connectors"].values():
        assert connector["state"] == "ok", connector
        if connector["displayName"] == OTHER:
            assert connector == next(c for c in was["connectors"].values() if c["displayName"] == OTHER)
    relay_a = next(c for c in mine["connectors"].values() if c["displayName"] == "relay-a")
    assert (relay_a["smartHost"], relay_a["port"], relay_a["smartHostAuthMechanism"]) == ("smtp-a.example.com", 587,
                                                                                          "basicAuthRequireTLS")

    assert mine["accounts"].keys() == was["accounts"].keys()
    for address, account in mine["accounts"].items():
        if address in DESIRED_ACCOUNTS:
            wanted = DESIRED_ACCOUNTS[address]
            assert (account["sendConnectorId"] or 0) == (ids[wanted] if wanted else 0), address
            assert not account["taskPendingId"], address
            unchanged = {k: v for k, v in account.items() if k not in BINDING_FIELDS}
            assert unchanged == {k: v for k, v in was["accounts"][address].items() if k not in BINDING_FIELDS}, address
        else:
            assert account == was["accounts"][address], f"{address} was touched"

    for name, domain in mine["domains"].items():
        if name == "guides.ovh":
            assert domain["sendConnectorIdDefault"] == ids["relay-a"]
        else:
            assert domain == was["domains"][name], f"domain {name} was touched"


def converge(sim, tmp_path, runs=3):
    """Run the role until it succeeds, at most `runs` times; returns the runs made."""
    made = []
    for dummy_attempt in range(runs):
        made.append(run_ansible_playbook(PLAY, tmp_path, env=sim.env, args=("-e", vars_file(tmp_path))))
        if made[-1].rc == 0:
            break
    return made


def vars_file(tmp_path):
    return extra_vars_file(tmp_path, "chaos-vars", ROLE_VARS)


def assert_rerun_changes_nothing(sim, tmp_path):
    sim.set_faults(rates={key: 0 for key in ("500", "502", "429", "reset", "task_error")})
    writes_before = sim.stats()["writes"]
    run = run_ansible_playbook(PLAY, tmp_path, env=sim.env, args=("-e", vars_file(tmp_path)))
    assert run.rc == 0, run.stdout[-3000:]
    assert run.changed_tasks == [], run.changed_tasks
    assert sim.stats()["writes"] == writes_before


def describe(runs):
    return "\n---\n".join(run.stdout[-2500:] for run in runs)


WRITES = ("POST", "PUT", "DELETE")
AMBIGUOUS_CREATE = {"fault": "reset_after", "method": "POST", "path": "/sendConnector"}


def faulted_writes(log):
    """[(fault, method, route)] of the write requests a fault hit."""
    return [(r["fault"], r["method"], r["route"]) for r in log if r["fault"] and r["method"] in WRITES]


def converged_now(sim, before):
    try:
        assert_converged(sim, before)
    except AssertionError:
        return False
    return True


def start_play(sim, tmp_path, name):
    """ansible-playbook in the background, in its own session (a kill takes its module processes too)."""
    play = tmp_path / f"{name}.yml"
    play.write_text(PLAY)
    command = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(play),
               "-e", vars_file(tmp_path)]
    env = ansible_env({**sim.env, "RECORD_RESULTS_FILE": str(tmp_path / f"{name}.jsonl")})
    return subprocess.Popen(command, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)


def wait_for(condition, proc, what, timeout=120):
    """Poll `condition()` until true while `proc` runs; fails if the run ended first (nothing was interrupted)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if proc.poll() is not None:
            raise AssertionError(f"the run ended (rc={proc.returncode}) before {what}:\n{proc.stdout.read()[-2500:]}")
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_converges_through_random_api_faults(chaos_sim, platform, tmp_path):
    # The scripted fault makes the first connector creation ambiguous: applied, but its answer lost.
    chaos_sim.set_faults(**FAULTS, seed=8, script=[AMBIGUOUS_CREATE])
    runs = converge(chaos_sim, tmp_path)
    faults, log = chaos_sim.stats()["faults"], chaos_sim.requests()
    assert runs[-1].rc == 0, f"not converged in 3 runs:\n{describe(runs)}"
    assert sum(faults.values()) > 0, "no fault was injected: the test proves nothing"
    hit = faulted_writes(log)
    assert ("reset_after", "POST", "/email/exchange/{organizationName}/service/{exchangeService}/sendConnector") in hit, hit
    assert {fault for fault, dummy_method, dummy_route in hit} - {"reset_after"}, f"only the scripted fault hit a write: {hit}"
    chaos_sim.set_faults(rates={key: 0 for key in FAULTS if key != "retry_after"})
    assert_converged(chaos_sim, platform)  # among others: one connector per name despite the lost answer
    assert_rerun_changes_nothing(chaos_sim, tmp_path)


def test_converges_after_runs_killed_mid_way(chaos_sim, platform, tmp_path):
    kills = []
    # First kill at the first write, the second once a run has made several writes (bindings under way).
    for name, writes_needed in (("killed-at-first-write", 1), ("killed-mid-way", 6)):
        writes_at_start = chaos_sim.stats()["writes"]
        proc = start_play(chaos_sim, tmp_path, name)
        try:
            wait_for(lambda: chaos_sim.stats()["writes"] - writes_at_start >= writes_needed, proc,
                     f"{writes_needed} writes of run {name}")
            converged = converged_now(chaos_sim, platform)
            os.killpg(proc.pid, signal.SIGKILL)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        kills.append((name, chaos_sim.stats()["writes"] - writes_at_start, proc.returncode, converged))
    # Each run was killed by the signal (not finished), after writing, before the platform converged.
    assert [(rc, converged) for dummy_name, dummy_writes, rc, converged in kills] == [(-signal.SIGKILL, False)] * 2, kills
    assert all(writes >= needed for (dummy, writes, dummy_rc, dummy_c), needed in zip(kills, (1, 6))), kills
    runs = converge(chaos_sim, tmp_path, runs=1)
    assert runs[-1].rc == 0, f"kills {kills}:\n{describe(runs)}"
    assert_converged(chaos_sim, platform)
    assert_rerun_changes_nothing(chaos_sim, tmp_path)


def test_converges_across_a_simulator_restart_during_a_run(chaos_sim, platform, tmp_path):
    chaos_sim.set_faults(**FAULTS, seed=3)
    proc = start_play(chaos_sim, tmp_path, "restarted-under-it")
    try:
        wait_for(lambda: chaos_sim.stats()["writes"] >= 3, proc, "the run's third write")
        connectors_before = {c["id"]: c["displayName"] for c in services(chaos_sim.state())[(ORG, ORG)]["connectors"].values()}
        in_flight = proc.poll() is None
        chaos_sim.restart()  # from the state file; faults are back to none; the run is still going
        output, dummy = proc.communicate(timeout=600)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert in_flight, "the run ended before the simulator restarted: the restart interrupted nothing"
    # The state file kept what the run had done before the restart.
    kept = services(chaos_sim.state())[(ORG, ORG)]["connectors"]
    assert {key: value for key, value in connectors_before.items() if key in {c["id"] for c in kept.values()}} == \
        connectors_before, (connectors_before, kept)
    runs = [] if proc.returncode == 0 else converge(chaos_sim, tmp_path, runs=2)
    assert not runs or runs[-1].rc == 0, output[-2500:] + describe(runs)
    chaos_sim.set_faults(rates={key: 0 for key in FAULTS if key != "retry_after"})
    assert_converged(chaos_sim, platform)
    assert_rerun_changes_nothing(chaos_sim, tmp_path)


def test_two_runs_at_once_make_one_connector_per_name(chaos_sim, platform, tmp_path):
    procs = [start_play(chaos_sim, tmp_path, f"concurrent-{number}") for number in (1, 2)]
    outputs = [proc.communicate(timeout=600)[0] for proc in procs]
    # Whatever each run reports (one may trip on the other's pending task), the platform never holds a
    # duplicate; a rerun then converges it.
    names = sorted(c["displayName"] for c in services(chaos_sim.state())[(ORG, ORG)]["connectors"].values())
    assert names == sorted([OTHER, "relay-a", "relay-b"]), (names, [o[-2000:] for o in outputs])
    runs = converge(chaos_sim, tmp_path, runs=2)
    assert runs[-1].rc == 0, describe(runs)
    assert_converged(chaos_sim, platform)
    assert_rerun_changes_nothing(chaos_sim, tmp_path)
