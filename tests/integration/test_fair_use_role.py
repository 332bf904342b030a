"""Fair use and failure: the write path under throttling, an API that goes away, refusals and interruption.

The simulator's fair-use limit (a token bucket per consumer key, docs/simulator.md "Fair use") stands for
OVH's gateway; ansible-playbook runs for real. The tests assert what the simulator holds and logged
(bindings, connectors, throttled requests, the time of each write), and what the modules returned.
Each ansible-playbook run gets its own TMPDIR, so the pacer's per-key budget starts fresh in each test
while the forks of one run still share it.
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from bindings_support import ORG, account_connectors, create_connector, task, users
from platforms_support import connector_vars, mailboxes, platform_name, platforms_seed, service_state
from role_play import ROLE_PLAY, extra_vars_file
from testlib import REPO, ansible_env, private_tmpdir, run_ansible_playbook

pytestmark = pytest.mark.integration

READONLY = "demo-readonly-consumer-key"
BIND_TASK = "Bind a chunk of mailboxes"
PLATFORMS_PLAYBOOK = REPO / "playbooks" / "send_connector_platforms.yml"
WRITES = ("POST", "PUT", "DELETE")
PARALLEL = 8
# "N of M mailboxes could not be changed (K changed)", as docs/troubleshooting.md documents it.
PARTIAL = re.compile(r"(\d+) of (\d+) mailboxes could not be changed \((\d+) changed\)")
# The access rule to grant, with a wildcard for the mailbox (and possibly for the platform).
ACCOUNT_RULE = re.compile(r"PUT /email/exchange/(\*|%s)/service/(\*|%s)/account/\*" % (ORG, ORG))


def role_vars(count, name="relay", **extra):
    return {"send_connector_organization": ORG, "send_connector_wait_timeout": 120,
            "send_connector_connectors": [{"name": name, "smart_host": f"smtp.{name}.example.com", "port": 587,
                                           "mailboxes": users(1, count)}], **extra}


def run_role(sim, tmp_path, variables, env=None):
    return run_ansible_playbook(ROLE_PLAY, tmp_path, env={**sim.env, **(env or {})},
                                args=("-e", extra_vars_file(tmp_path, f"vars-{time.monotonic_ns()}", variables)))


def connectors_named(sim, name):
    connectors = next(s for s in sim.state()["services"] if s["name"] == ORG)["connectors"].values()
    return [c for c in connectors if c["displayName"] == name]


def settled(sim, timeout=30):
    """The platform's accounts once no task is pending (the simulator settles tasks when read)."""
    deadline = time.monotonic() + timeout
    while True:
        service = next(s for s in sim.state()["services"] if s["name"] == ORG)
        if not any(a.get("taskPendingId") for a in service["accounts"].values()) or time.monotonic() > deadline:
            return {address: account.get("sendConnectorId") or 0 for address, account in service["accounts"].items()}
        time.sleep(0.2)


def assert_rerun_changes_nothing(sim, tmp_path, variables):
    writes = sim.stats()["writes"]
    rerun = run_role(sim, tmp_path, variables)
    assert rerun.rc == 0, rerun.stdout[-3000:]
    assert rerun.changed_tasks == [], rerun.changed_tasks
    assert sim.stats()["writes"] == writes


def account_puts(sim):
    return [r for r in sim.requests() if r["method"] == "PUT" and r["route"].endswith("/account/{primaryEmailAddress}")]


def start_playbook(sim, tmp_path, variables, env=None, playbook=ROLE_PLAY, args=()):
    """ansible-playbook in the background, in its own session (as a terminal's foreground job): the Popen."""
    path = tmp_path / "background.yml"
    path.write_text(playbook)
    record = tmp_path / "background-results.jsonl"
    command = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(path),
               "-e", extra_vars_file(tmp_path, "background-vars", variables), *args]
    run_env = ansible_env({**sim.env, **private_tmpdir(tmp_path), "RECORD_RESULTS_FILE": str(record), **(env or {})})
    with open(tmp_path / "background-output.txt", "w", encoding="utf-8") as output:  # a file: a pipe could fill up
        return subprocess.Popen(command, env=run_env, cwd=REPO, stdout=output, stderr=subprocess.STDOUT,
                                start_new_session=True)


def output_of(tmp_path):
    return (tmp_path / "background-output.txt").read_text()[-3000:]


def recorded(tmp_path):
    record = tmp_path / "background-results.jsonl"
    return [json.loads(line) for line in record.read_text().splitlines()] if record.exists() else []


def wait_for_puts(sim, proc, count, tmp_path, timeout=60):
    """Poll the simulator's request log until `count` mailbox PUTs arrived (the binding is under way)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(account_puts(sim)) >= count:
            return
        if proc.poll() is not None:
            raise AssertionError(f"the run ended before {count} mailbox writes:\n{output_of(tmp_path)}")
        time.sleep(0.05)
    stop_group(proc)
    raise AssertionError(f"fewer than {count} mailbox writes in {timeout} s")


def stop_group(proc):
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def bind_result(results):
    """The exchange_account_connector result of the role's last binding chunk."""
    matches = [r for r in results if " : " + BIND_TASK in r["task"]]
    assert matches, [r["task"] for r in results]
    return matches[-1]["result"]


# Throttled: the role converges in one run ------------------------------------------------------------


@pytest.mark.parametrize("answer", ["429", "408", "reset", "mix"])
def test_the_role_converges_in_one_run_under_the_fair_use_limit(sim, tmp_path, answer):
    sim.reset(accounts=80, rate_limit="10/s", burst=10, rate_limit_answer=answer)
    variables = role_vars(80)
    run = run_role(sim, tmp_path, variables)
    throttled = sim.stats()["throttled"]
    assert run.rc == 0, run.stdout[-4000:]
    assert run.failed_tasks == []
    assert sum(throttled.values()) > 0, "the limit was never reached: the test proves nothing"
    [relay] = connectors_named(sim, "relay")
    bindings = settled(sim)
    assert {address: bindings[address] for address in users(1, 80)} == dict.fromkeys(users(1, 80), relay["id"])
    result = bind_result(run.results)
    assert result["counts"]["bound"] == 80 and result["counts"]["failed"] == 0
    assert_rerun_changes_nothing(sim, tmp_path, variables)


def test_forks_sharing_one_key_share_its_rate(sim, tmp_path):
    """Four platforms in four forks, one consumer key: together they stay within the key's limit."""
    numbers, count, rate, burst = range(1, 5), 30, 10, 10
    sim.reset(seed=platforms_seed(len(numbers), mailbox_count=count, others=0), rate_limit=f"{rate}/s", burst=burst,
              rate_limit_answer="mix")
    inventory = tmp_path / "inventory"
    (inventory / "host_vars").mkdir(parents=True)
    (inventory / "hosts.yml").write_text(yaml.safe_dump(
        {"ovh_exchange_platforms": {"hosts": {platform_name(n): {} for n in numbers}}}))
    for number in numbers:
        (inventory / "host_vars" / f"{platform_name(number)}.yml").write_text(json.dumps(connector_vars(number, count)))
    env = dict(sim.env)
    run = run_ansible_playbook(PLATFORMS_PLAYBOOK, tmp_path, env=env, args=("-i", str(inventory), "--forks", "4"))
    assert run.rc == 0, run.stdout[-4000:]

    log = [r for r in sim.requests() if "/email/exchange" in r["path"]]
    throttled = [r for r in log if r["throttled"]]
    # At most one parallel burst refused before the first signal pauses every fork, then a few while the shared
    # pace settles: not one refusal per request over the limit.
    assert len(throttled) <= PARALLEL + len(log) // 20, (len(throttled), len(log), sim.stats()["throttled"])
    # What the forks sent, refused requests included, stayed near the limit over any 5 s.
    times = sorted(r["time"] for r in log)
    busiest = max(sum(1 for t in times if start <= t < start + 5) for start in times)
    assert busiest <= 1.2 * (rate * 5 + burst), busiest
    for number in numbers:
        connectors, bindings = service_state(sim, platform_name(number))
        assert set(connectors) == {"relay"}
        relay_id = connectors["relay"]["id"]
        assert {a: bindings[a] for a in mailboxes(number, count)} == dict.fromkeys(mailboxes(number, count), relay_id)


# The API goes away mid-binding -----------------------------------------------------------------------


def test_the_api_stopped_mid_binding_ends_the_run_quickly_with_exact_partial_counts(tmp_path):
    from ovh_api_sim.testing import SimulatorProcess

    count = 150
    state_file = tmp_path / "state.json"
    with SimulatorProcess(args=["--task-seconds", "0.2", "--accounts", str(count), "--state-file", str(state_file),
                                "--latency-ms", "250"]) as outage:
        # One chunk: the module's own partial result is the subject here.
        variables = role_vars(count, send_connector_wait_timeout=60, send_connector_chunk_size=count)
        proc = start_playbook(outage, tmp_path, variables)
        try:
            wait_for_puts(outage, proc, 24, tmp_path)
            outage.stop()
            stopped = time.monotonic()
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                pass
            elapsed = time.monotonic() - stopped
        finally:
            stop_group(proc)
        output = output_of(tmp_path)
        assert elapsed <= 30, f"the run went on {elapsed:.0f} s after the API went away:\n{output}"
        assert proc.returncode != 0, output

        result = bind_result(recorded(tmp_path))
        statuses = {entry["account"]: entry["status"] for entry in result["accounts"]}
        assert set(statuses) == set(users(1, count))
        done = {a for a, status in statuses.items() if status == "bound"}
        failed = [e for e in result["accounts"] if e["status"] == "failed"]
        assert set(statuses.values()) <= {"bound", "failed", "not_attempted"}, set(statuses.values())
        assert done and result["changed"] is True
        assert all(e.get("error") for e in failed), failed[:3]
        counts = result["counts"]
        assert (counts["bound"], counts["failed"], counts["not_attempted"]) == (
            len(done), len(failed), count - len(done) - len(failed))
        match = PARTIAL.search(result["msg"])
        assert match and tuple(map(int, match.groups())) == (count - len(done), count, len(done)), result["msg"][:500]

        outage.start()  # from the state file
        outage.set_faults(latency_ms=0)
        [relay] = connectors_named(outage, "relay")
        bindings = settled(outage)
        applied = {a for a in users(1, count) if bindings[a] == relay["id"]}
        # Every mailbox reported done is bound; at most the writes in flight at the stop were applied unreported.
        assert done <= applied and len(applied - done) <= PARALLEL, (len(done), len(applied))

        rerun = run_role(outage, tmp_path, variables)
        assert rerun.rc == 0, rerun.stdout[-3000:]
        assert set(settled(outage)[a] for a in users(1, count)) == {relay["id"]}
        assert_rerun_changes_nothing(outage, tmp_path, variables)


# Refusals --------------------------------------------------------------------------------------------


def test_a_read_only_key_stops_the_bulk_write_at_once_with_one_message(sim, run_playbook):
    sim.reset(accounts=100)
    relay = create_connector(sim, "relay")
    writes = sim.stats()["writes"]
    run = run_playbook(task("exchange_account_connector", {"connector": "relay", "accounts": users(1, 100),
                                                           "parallel": PARALLEL}), env={"OVH_CONSUMER_KEY": READONLY})
    result = run.task("under test")
    assert run.rc != 0
    assert len(account_puts(sim)) <= PARALLEL and sim.stats()["writes"] - writes <= PARALLEL
    assert result["changed"] is False and result["counts"]["bound"] == 0
    statuses = [entry["status"] for entry in result["accounts"]]
    assert len(statuses) == 100 and set(statuses) <= {"failed", "not_attempted"}
    # One message, naming the rule to grant once, with a wildcard for the mailboxes.
    assert len(ACCOUNT_RULE.findall(result["msg"])) == 1, result["msg"][:2000]
    assert len(result["msg"]) < 1500, len(result["msg"])
    assert "Traceback" not in run.stdout + run.stderr
    assert set(account_connectors(sim)[a] for a in users(1, 100)) == {0}
    assert relay not in set(account_connectors(sim).values())


@pytest.mark.parametrize("existing", [False, True], ids=["create", "update"])
def test_a_refused_connector_write_reports_no_change_and_no_action(sim, run_playbook, existing):
    if existing:
        create_connector(sim, "relay", smart_host="smtp.relay.example.com")
    writes = sim.stats()["writes"]
    run = run_playbook(task("exchange_send_connector", {"name": "relay", "smart_host": "smtp.relay.example.com",
                                                        "port": 2525}), env={"OVH_CONSUMER_KEY": READONLY})
    result = run.task("under test")
    assert run.rc != 0 and "Traceback" not in run.stdout + run.stderr
    assert result["changed"] is False, result
    assert not result.get("actions"), result.get("actions")
    assert sim.stats()["writes"] - writes == 1  # the one refused write, not retried
    assert [c["port"] for c in connectors_named(sim, "relay")] == ([587] if existing else [])


# Interruption ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_an_interrupted_binding_stops_writing_and_the_next_intent_wins(sim, tmp_path, how):
    """Ctrl-C (SIGINT to the terminal's process group) or a SIGTERM to ansible-playbook (as AWX's runner
    sends): no write 2 s after ansible-playbook exits, and an immediate rerun towards another connector wins."""
    count = 150
    # Paced by the fair-use limit: the binding takes about 10 s, so there is something left to stop.
    sim.reset(accounts=count, rate_limit="15/s", burst=5)
    proc = start_playbook(sim, tmp_path, role_vars(count, name="relay-a"))
    try:
        wait_for_puts(sim, proc, 24, tmp_path)
        if how == "ctrl-c":
            os.killpg(proc.pid, signal.SIGINT)
        else:
            proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        exited = time.time()
    finally:
        stop_group(proc)
    [relay_a] = connectors_named(sim, "relay-a")

    rerun = run_role(sim, tmp_path, role_vars(count, name="relay-b"))
    time.sleep(max(0.0, exited + 3 - time.time()))
    late = [r for r in sim.requests() if r["method"] in WRITES and r["time"] > exited + 2
            and (r["body"] or {}).get("sendConnectorId") == relay_a["id"]]
    assert late == [], f"{len(late)} writes of the interrupted run reached the API more than 2 s after it exited"
    assert rerun.rc == 0, rerun.stdout[-3000:]
    [relay_b] = connectors_named(sim, "relay-b")
    bindings = settled(sim)
    assert {a: bindings[a] for a in users(1, count)} == dict.fromkeys(users(1, count), relay_b["id"])


def test_an_interrupted_run_leaves_no_secret_on_disk(sim, tmp_path):
    """Credentials as docs/credentials.md shows them first (module options through the role's variables, i.e.
    module_defaults), the shipped playbook and inventory, Ctrl-C mid-binding: no file holds a secret."""
    count = 150
    sim.reset(accounts=count)
    sim.set_faults(latency_ms=200)
    secrets = {sim.env["OVH_APPLICATION_SECRET"], sim.env["OVH_CONSUMER_KEY"]}
    folders = {name: tmp_path / name for name in ("remote-tmp", "local-tmp", "tmp")}
    for folder in folders.values():
        folder.mkdir(exist_ok=True)
    variables = role_vars(count, send_connector_endpoint=sim.env["OVH_ENDPOINT"],
                          send_connector_application_key=sim.env["OVH_APPLICATION_KEY"],
                          send_connector_application_secret=sim.env["OVH_APPLICATION_SECRET"],
                          send_connector_consumer_key=sim.env["OVH_CONSUMER_KEY"])
    credential_free = {name: "" for name in ("OVH_APPLICATION_KEY", "OVH_APPLICATION_SECRET", "OVH_CONSUMER_KEY")}
    env = {**credential_free, "ANSIBLE_REMOTE_TEMP": str(folders["remote-tmp"]),
           "ANSIBLE_LOCAL_TEMP": str(folders["local-tmp"]), "TMPDIR": str(folders["tmp"])}
    playbook = (REPO / "playbooks" / "send_connector.yml").read_text()
    proc = start_playbook(sim, tmp_path, variables, env=env, playbook=playbook,
                          args=("-i", str(REPO / "playbooks" / "inventory")))
    try:
        wait_for_puts(sim, proc, 24, tmp_path)
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=60)
    finally:
        stop_group(proc)
    time.sleep(2)  # whatever the module processes still do
    holding = [str(path) for folder in folders.values() for path in folder.rglob("*")
               if path.is_file() and any(secret.encode() in path.read_bytes() for secret in secrets)]
    assert holding == [], holding
