"""Chaos: the role converges through API faults, killed runs and simulator restarts, and leaves nothing wrong.

One simulator with `--state-file` (60 generated mailboxes, fast tasks). Before each scenario another
tool has made a connector and bound a few mailboxes to it; the role must leave those alone. After
each scenario: exactly one connector per name, every mailbox and domain default where the inventory
says, everything else as it was, and a rerun (faults off) changes nothing and writes nothing.
"""
from __future__ import annotations

import os
import random
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


def test_converges_through_random_api_faults(chaos_sim, platform, tmp_path):
    chaos_sim.set_faults(**FAULTS, seed=8)
    runs = converge(chaos_sim, tmp_path)
    faults = chaos_sim.stats()["faults"]
    assert runs[-1].rc == 0, f"not converged in 3 runs:\n{describe(runs)}"
    assert sum(faults.values()) > 0, "no fault was injected: the test proves nothing"
    chaos_sim.set_faults(rates={key: 0 for key in FAULTS if key != "retry_after"})
    assert_converged(chaos_sim, platform)
    assert_rerun_changes_nothing(chaos_sim, tmp_path)


def test_converges_after_runs_killed_mid_way(chaos_sim, platform, tmp_path):
    rng = random.Random(20260808)
    record = tmp_path / "killed-results.jsonl"
    command = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", "-c", "local",
               str(tmp_path / "killed.yml"), "-e", vars_file(tmp_path)]
    (tmp_path / "killed.yml").write_text(PLAY)
    kills = []
    for delay in sorted(rng.uniform(1.5, 12.0) for dummy_kill in range(3)):
        # A new session, so that the kill takes the module processes too: as if the controller died.
        proc = subprocess.Popen(command, env=ansible_env({**chaos_sim.env, "RECORD_RESULTS_FILE": str(record)}), cwd=REPO,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        time.sleep(delay)
        finished = proc.poll() is not None
        if not finished:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        kills.append((round(delay, 1), chaos_sim.stats()["writes"], "finished first" if finished else "killed"))
    assert any(kill[-1] == "killed" for kill in kills), f"no run was killed mid-way: {kills}"
    runs = converge(chaos_sim, tmp_path, runs=1)
    assert runs[-1].rc == 0, f"kills {kills}:\n{describe(runs)}"
    assert_converged(chaos_sim, platform)
    assert_rerun_changes_nothing(chaos_sim, tmp_path)


def test_converges_across_simulator_restarts(chaos_sim, platform, tmp_path):
    chaos_sim.set_faults(**FAULTS, seed=3)
    first = run_ansible_playbook(PLAY, tmp_path, env=chaos_sim.env, args=("-e", vars_file(tmp_path)))
    chaos_sim.restart()  # from the state file; faults are back to none
    runs = [first]
    if first.rc != 0:
        chaos_sim.set_faults(**FAULTS, seed=4)
        runs += converge(chaos_sim, tmp_path, runs=2)
    assert runs[-1].rc == 0, describe(runs)
    chaos_sim.restart()
    chaos_sim.set_faults(rates={key: 0 for key in FAULTS if key != "retry_after"})
    assert_converged(chaos_sim, platform)
    assert_rerun_changes_nothing(chaos_sim, tmp_path)
