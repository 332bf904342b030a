"""The role end to end under each unconfirmed reading of the real API (docs/simulator.md, "Readings").

Every case runs ONE ansible-playbook with three plays on the shared session simulator (reset with the
reading): converge a connector with a few mailboxes and a domain default, converge again (the rerun),
then remove it with force. Between the plays a `uri` task reads the simulator's state and counters
(the control plane answers loopback clients), so the test sees each phase's outcome from the
simulator itself: exactly one connector per name, every mailbox and domain where it should be, no
write on the rerun. One playbook per case instead of three keeps the file to a few minutes.
"""
from __future__ import annotations

import json
import time

import pytest

from shared_constants import BASE, DEMO_CONNECTOR, PLATFORM
from sim_helpers import WAIT_LIMIT, wait_task

HOSTED = "hosted-zz222222-1"
NAME = DEMO_CONNECTOR["name"]
MAILBOXES = ["newsletter@mydomain.ovh", "sales@mydomain.ovh", "jane.doe@guides.ovh"]
DOMAINS = ["guides.ovh"]
# The settings of the connector, as the role's entry and as the API's POST body (an earlier run's POST).
CONNECTOR = {
    **DEMO_CONNECTOR,
    # dnsRouting is written by a PUT once the connector exists: creation, then an update, on the first run.
    "dns_routing": True,
    "mailboxes": MAILBOXES,
    "default_for_domains": DOMAINS,
}
POST_BODY = {"displayName": NAME, "smartHost": "smtp-relay.example.com", "port": 587, "requireTLS": True,
             "smartHostAuthMechanism": "basicAuthRequireTLS", "user": "relay-user@mydomain.ovh",
             "password": "demo-relay-password", "maxSendSize": 50}
ALL_LIST_ROUTES = ["sendConnector", "domain", "task", "account"]

pytestmark = pytest.mark.integration

# Each reading alone (the reset field and its value), then combinations that force one read path.
READINGS = {
    "connector_listed_after_task": {"connector_listed_after_task": True},
    "late_writes": {"late_writes": 0.5},
    "sbr_without_task": {"sbr_without_task": True},
    "filter_syntax_manager": {"filter_syntax": "manager"},
    "no_pagination_size_echo": {"no_pagination_size_echo": True},
    "unpaged_routes": {"unpaged_routes": ALL_LIST_ROUTES},
    "no_batch": {"no_batch": True},
    "cursor_paging": {"cursor_paging": True},
    "writes_while_pending": {"writes_while_pending": True},
    "accept_read_only_fields": {"accept_read_only_fields": True},
    "task_error_retry": {"task_error_retry": 0.5},
    "connectors_on_any_offer": {"connectors_on_any_offer": True},
    # Read paths: single GETs only (no object lists, no batch), and cursors as the only bulk read.
    "single_gets_only": {"unpaged_routes": ALL_LIST_ROUTES, "no_batch": True},
    "cursor_only": {"unpaged_routes": ALL_LIST_ROUTES, "no_batch": True, "cursor_paging": True},
    "pessimistic": {"api_profile": "pessimistic"},
}


# Playbook ------------------------------------------------------------------------------------------

def scenario_vars(connectors, organization=PLATFORM):
    return {
        "send_connector_organization": organization,
        "send_connector_connectors": connectors,
        # A hang fails the test in minutes, not the role's default 15.
        "send_connector_wait_timeout": 60,
    }


def play(name, tasks, play_vars=None):
    """A play on a host of its own: each play's registered results stay its own, as in separate runs."""
    host = name.replace(" ", "-")
    LOCAL_HOSTS.add(host)
    local = {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}
    return {"name": name, "hosts": host, "gather_facts": False, "vars": {**local, **(play_vars or {})}, "tasks": tasks}


LOCAL_HOSTS = set()


def role_play(name, connectors, organization=PLATFORM, checkpoint=None):
    """A play that runs the role, then (with `checkpoint`) records the simulator's state and counters."""
    tasks = [{"name": f"Run the role: {name}", "ansible.builtin.include_role": {"name": "ovhcloud.exchange.send_connector"}}]
    if checkpoint:
        tasks += [
            {"name": f"{what} after {checkpoint}", "ansible.builtin.uri": {"url": f"{{{{ sim_url }}}}/_sim/{what}"},
             "changed_when": False}
            for what in ("state", "stats")
        ]
    return play(name, tasks, scenario_vars(connectors, organization))


def module_play(name, module_args):
    """A play that runs exchange_send_connector once (an earlier, interrupted or unwaited run)."""
    return play(name, [{"name": name, "ovhcloud.exchange.exchange_send_connector": {"organization": PLATFORM, **module_args}}])


CONVERGE = role_play("converge", [CONNECTOR], checkpoint="converge")
RERUN = role_play("rerun", [CONNECTOR], checkpoint="rerun")
REMOVE = role_play("forced removal", [{"name": NAME, "state": "absent", "force": True}], checkpoint="removal")


class Scenario:
    """A playbook run split at its checkpoints: per phase, the simulator's state, counters and changed tasks."""

    def __init__(self, run):
        self.run = run

    def checkpoint(self, what, phase):
        return self.run.task(f"{what} after {phase}")["json"]

    def service(self, phase, platform=PLATFORM):
        return next(s for s in self.checkpoint("state", phase)["services"] if s["name"] == platform)

    def writes(self, phase):
        return self.checkpoint("stats", phase)["writes"]

    def changed_tasks(self, phase, previous=None):
        """Tasks reported changed between the checkpoint `previous` (or the start) and `phase`."""
        names = [r["task"] for r in self.run.results]
        start = names.index(f"stats after {previous}") + 1 if previous else 0
        end = names.index(f"state after {phase}")
        return [r["task"] for r in self.run.results[start:end] if r["result"].get("changed")]


def run_plays(run_playbook, sim, *plays):
    """One ansible-playbook run of these plays (each on its own local host)."""
    hosts = ",".join(sorted(LOCAL_HOSTS)) + ","
    return run_playbook(json.dumps(list(plays)), "-i", hosts, "-e", json.dumps({"sim_url": sim.base_url}))


def run_scenario(run_playbook, sim, *plays):
    run = run_plays(run_playbook, sim, *plays)
    return run, Scenario(run)


def connector_posts(log):
    return [r for r in log if r["method"] == "POST" and r["route"].endswith("/sendConnector")]


def output(run):
    return run.stdout[-6000:] + run.stderr[-3000:]


# Outcomes, read from the simulator's state ----------------------------------------------------------

def named(service, name=NAME):
    return [c for c in service["connectors"].values() if c["displayName"] == name]


def the_connector(service):
    connectors = named(service)
    assert len(connectors) == 1, f"expected exactly one connector named {NAME!r}: {connectors}"
    return connectors[0]


def assert_converged(service):
    connector = the_connector(service)
    assert (connector["smartHost"], connector["port"], connector["requireTLS"], connector["maxSendSize"],
            connector["smartHostAuthMechanism"], connector["dnsRouting"]) == (
        "smtp-relay.example.com", 587, True, 50, "basicAuthRequireTLS", True)
    assert {address: service["accounts"][address]["sendConnectorId"] for address in MAILBOXES} == dict.fromkeys(
        MAILBOXES, connector["id"])
    assert service["accounts"]["contact@mydomain.ovh"]["sendConnectorId"] in (0, None)
    assert {name: service["domains"][name]["sendConnectorIdDefault"] for name in DOMAINS} == dict.fromkeys(
        DOMAINS, connector["id"])
    assert service["domains"]["mydomain.ovh"]["sendConnectorIdDefault"] in (0, None)
    return connector


def assert_removed(service):
    assert service["connectors"] == {}
    assert all(account["sendConnectorId"] in (0, None) for account in service["accounts"].values())
    assert all(domain["sendConnectorIdDefault"] in (0, None) for domain in service["domains"].values())


def assert_whole_cycle(run, scenario):
    """Converge, a rerun that writes nothing, a forced removal: each checked on the simulator's state."""
    assert run.rc == 0, output(run)
    converged = assert_converged(scenario.service("converge"))
    rerun = scenario.service("rerun")
    assert the_connector(rerun)["id"] == converged["id"]
    assert_converged(rerun)
    assert scenario.writes("rerun") == scenario.writes("converge"), "the rerun wrote"
    assert scenario.changed_tasks("rerun", previous="converge") == []
    assert_removed(scenario.service("removal"))


# Tests ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("reading", list(READINGS), ids=list(READINGS))
def test_role_converges_reruns_and_removes_under_each_reading(sim, run_playbook, reading):
    sim.reset(accounts=20, task_seconds=0.3, **READINGS[reading])
    run, scenario = run_scenario(run_playbook, sim, CONVERGE, RERUN, REMOVE)
    assert_whole_cycle(run, scenario)


# The connector alone (no dnsRouting, mailboxes nor domains): with long tasks, each of those would wait one more.
CREATE_ONLY = {key: CONNECTOR[key] for key in ("name", "smart_host", "port", "require_tls", "auth_mechanism", "user",
                                               "password", "max_send_size")}


def assert_one_creation_while_pending(run, scenario, sim, posted_at, task_seconds):
    """One connector, created by the earlier POST only; the role looked while that creation was still running."""
    assert run.rc == 0, output(run)
    for phase in ("converge", "rerun"):
        assert the_connector(scenario.service(phase))["smartHost"] == "smtp-relay.example.com"
    assert scenario.writes("rerun") == scenario.writes("converge")
    log = sim.requests()
    assert len(connector_posts(log)) == 1, "a connector was created while the earlier creation was pending"
    # After the POST, one look at the list was the POST's author's own (the test's, or the unwaited module's);
    # the next one is the role's.
    first_look = [r for r in log if r["route"].endswith("/sendConnector") and r["method"] == "GET" and r["time"] > posted_at][1]
    assert first_look["time"] < posted_at + task_seconds, "the role looked only once the creation had ended"


@pytest.mark.parametrize("profile", ["friendly", "pessimistic"])
def test_rerun_while_the_creation_task_is_pending_creates_no_second_connector(sim, run_playbook, profile):
    """An earlier run POSTed the connector and stopped (interrupted, or wait=false); its creation task is
    still running and, under this reading, the connector is not listed until it ends."""
    task_seconds = 25  # longer than ansible-playbook takes to reach the connector task on a loaded machine
    sim.reset(api_profile=profile, connector_listed_after_task=True, task_seconds=task_seconds)
    client = sim.client()
    posted_at = time.time()
    task = client.post(f"{BASE}/sendConnector", **POST_BODY)
    assert client.get(f"{BASE}/sendConnector") == [] and task["id"] in client.get(f"{BASE}/task")

    run, scenario = run_scenario(run_playbook, sim, role_play("converge", [CREATE_ONLY], checkpoint="converge"),
                                 role_play("rerun", [CREATE_ONLY], checkpoint="rerun"))
    assert_one_creation_while_pending(run, scenario, sim, posted_at, task_seconds)


def test_unwaited_creation_then_the_role_creates_no_second_connector(sim, run_playbook):
    """exchange_send_connector with wait=false returns while the creation runs; the role, run right after,
    must find that pending creation and wait for it."""
    task_seconds = 10
    sim.reset(connector_listed_after_task=True, task_seconds=task_seconds)
    run, scenario = run_scenario(run_playbook, sim, module_play("create without waiting", {**CREATE_ONLY, "wait": False}),
                                 role_play("converge", [CREATE_ONLY], checkpoint="converge"),
                                 role_play("rerun", [CREATE_ONLY], checkpoint="rerun"))
    assert run.rc == 0, output(run)
    unwaited = run.task("create without waiting")
    assert unwaited["changed"] and unwaited["task_ids"] and unwaited["id"] is None  # not listed yet
    posted_at = next(r["time"] for r in sim.requests() if r["method"] == "POST")
    assert_one_creation_while_pending(run, scenario, sim, posted_at, task_seconds)


def test_failed_creation_is_reported_with_the_real_state_then_converges_once(sim, run_playbook):
    """Reading 7: the creation task ends in `error` (a scripted fault), and OVH retries it 3 s later
    (longer than the collection's first poll, so that the run sees the error). The run fails naming the
    task, with the connector read back; a later run finds the retried connector instead of creating a
    second one."""
    sim.reset(task_error_retry=3, task_seconds=0.3)
    sim.set_faults(script=[{"fault": "task_error"}])
    first = run_plays(run_playbook, sim, role_play("first run", [CONNECTOR]))
    assert first.rc != 0
    [failed_task] = [r["result"] for r in first.results if r["status"] == "failed"]
    [failed] = [item for item in failed_task.get("results", [failed_task]) if item.get("failed")]
    assert "addSendConnector" in failed["msg"] and "error" in failed["msg"], failed["msg"]
    # The object read back after the failure: absent at that moment (the retry comes later), or the retried one.
    assert "connector" in failed, f"the failure does not report the connector's real state: {sorted(failed)}"
    assert failed["connector"] is None or failed["connector"]["displayName"] == NAME
    # Later: OVH has retried the task.
    [task_id] = sim.client().get(f"{BASE}/task")
    assert wait_task(sim.client(), task_id)["status"] == "error"
    deadline = time.monotonic() + WAIT_LIMIT
    while sim.client().get(f"{BASE}/task/{task_id}")["status"] != "done" and time.monotonic() < deadline:
        time.sleep(0.2)

    run, scenario = run_scenario(run_playbook, sim, CONVERGE, RERUN, REMOVE)
    assert_whole_cycle(run, scenario)
    assert len(connector_posts(sim.requests())) == 1, "the retried creation was not found: a second one was created"


def test_hosted_offer_is_refused_before_any_write_by_default(sim, run_playbook):
    """Reading 8: even where the API accepts connectors on `hosted`, the role refuses before any write."""
    sim.reset(connectors_on_any_offer=True)
    hosted_connector = {**CONNECTOR, "mailboxes": [], "default_for_domains": []}
    run = run_plays(run_playbook, sim, role_play("converge on hosted", [hosted_connector], organization=HOSTED))
    assert run.rc != 0
    assert "hosted" in run.stdout and "allow_unsupported_offer" in run.stdout, output(run)
    assert sim.stats()["writes"] == 0


def test_hosted_offer_allowed_creates_one_connector_and_warns(sim, run_playbook):
    """Reading 8 with allow_unsupported_offer: created once, with a warning that OVH may disable it."""
    sim.reset(connectors_on_any_offer=True, task_seconds=0.3)
    args = {"organization": HOSTED, "name": NAME, "smart_host": "smtp-relay.example.com",
            "allow_unsupported_offer": True}
    run = run_plays(run_playbook, sim, play("hosted", [
        {"name": f"create on hosted, run {n}", "ovhcloud.exchange.exchange_send_connector": args} for n in (1, 2)]))
    assert run.rc == 0, output(run)
    first, second = run.task("create on hosted, run 1"), run.task("create on hosted, run 2")
    assert first["changed"] and not second["changed"]
    assert any("disable" in warning for warning in first.get("warnings", [])), first.get("warnings")
    hosted = next(s for s in sim.state()["services"] if s["name"] == HOSTED)
    assert len(named(hosted)) == 1
