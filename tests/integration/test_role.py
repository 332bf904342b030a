"""The send_connector role and its playbooks, run for real with ansible-playbook against the simulator."""
from __future__ import annotations

import json
import time
from urllib.parse import unquote

import pytest

from testlib import REPO
from smtp_servers import PASSWORD, USER, ThrowawayCA, received_no_password, smtp_server
from role_play import ROLE_PLAY
from shared_constants import BASE, DEMO_CONNECTOR, PLATFORM
from bindings_support import account_connectors, bind_directly, create_connector, users

INVENTORY = str(REPO / "playbooks" / "inventory")
APPLY = REPO / "playbooks" / "send_connector.yml"
REMOVE = REPO / "playbooks" / "remove_send_connector.yml"

pytestmark = pytest.mark.integration


def connectors(sim):
    client = sim.client()
    return [client.get(f"{BASE}/sendConnector/{cid}") for cid in client.get(f"{BASE}/sendConnector")]


def binding(sim, address):
    return sim.client().get(f"{BASE}/account/{address}")["sendConnectorId"]


def domain_default(sim, domain):
    return sim.client().get(f"{BASE}/domain/{domain}")["sendConnectorIdDefault"]


def extra_vars(tmp_path, data):
    path = tmp_path / f"vars-{len(list(tmp_path.glob('vars-*')))}.json"
    path.write_text(json.dumps(data))
    return f"@{path}"


def test_role_converges_from_empty_then_changes_nothing(sim, run_playbook):
    first = run_playbook(APPLY, "-i", INVENTORY, "--diff")
    assert first.rc == 0, first.stdout + first.stderr

    [connector] = connectors(sim)
    assert connector["displayName"] == "newsletter-relay"
    assert (connector["smartHost"], connector["port"], connector["requireTLS"]) == ("smtp-relay.example.com", 587, True)
    assert connector["smartHostAuthMechanism"] == "basicAuthRequireTLS"
    assert connector["maxSendSize"] == 50
    assert binding(sim, "newsletter@mydomain.ovh") == connector["id"]
    assert binding(sim, "contact@mydomain.ovh") in (0, None)
    assert domain_default(sim, "guides.ovh") == connector["id"]
    # The password reached the API but never the output.
    assert "demo-relay-password" not in first.stdout + first.stderr

    writes_before = sim.stats()["writes"]
    second = run_playbook(APPLY, "-i", INVENTORY)
    assert second.rc == 0, second.stdout + second.stderr
    assert second.changed_tasks == []
    assert sim.stats()["writes"] == writes_before
    assert len(connectors(sim)) == 1


def test_changing_one_mailbox_list_moves_only_those_mailboxes(sim, run_playbook, tmp_path):
    sim.reset(accounts=20)
    assert run_playbook(APPLY, "-i", INVENTORY).rc == 0
    [connector] = connectors(sim)
    untouched = [a for a in sim.client().get(f"{BASE}/account") if a not in ("user00001@mydomain.ovh", "user00002@mydomain.ovh")]
    before = {a: binding(sim, a) for a in untouched}

    moved = ["newsletter@mydomain.ovh", "user00001@mydomain.ovh", "user00002@mydomain.ovh"]
    overrides = {
        "send_connector_connectors": [{**DEMO_CONNECTOR, "mailboxes": moved, "default_for_domains": ["guides.ovh"]}]
    }
    sim_requests_before = len(sim.requests())
    run = run_playbook(APPLY, "-i", INVENTORY, "-e", extra_vars(tmp_path, overrides))
    assert run.rc == 0, run.stdout + run.stderr
    writes = [r for r in sim.requests()[sim_requests_before:] if r["method"] in ("POST", "PUT", "DELETE")]
    assert sorted(unquote(r["path"]).rsplit("/", 1)[-1] for r in writes) == ["user00001@mydomain.ovh", "user00002@mydomain.ovh"]
    assert binding(sim, "user00001@mydomain.ovh") == connector["id"]
    assert {a: binding(sim, a) for a in untouched} == before


def test_check_mode_reports_changes_and_writes_nothing(sim, run_playbook):
    run = run_playbook(APPLY, "-i", INVENTORY, "--check", "--diff")
    assert run.rc == 0, run.stdout + run.stderr
    assert run.changed_tasks, "check mode should report the changes it would make"
    assert sim.stats()["writes"] == 0
    assert connectors(sim) == []


@pytest.mark.parametrize(
    "connector_override, expected",
    [
        ({"smart_hots": "relay.example.com"}, "smart_hots"),
        ({"port": "not-a-port"}, "port"),
        ({"mailboxes": ["newsletter@mydomain.ovh", "nobody@mydomain.ovh"]}, "nobody@mydomain.ovh"),
    ],
    ids=["misspelled-key", "wrong-type", "unknown-mailbox"],
)
def test_bad_input_fails_before_any_write(sim, run_playbook, tmp_path, connector_override, expected):
    connector = {"name": "newsletter-relay", "smart_host": "smtp-relay.example.com", "mailboxes": ["newsletter@mydomain.ovh"]}
    connector.update(connector_override)
    run = run_playbook(APPLY, "-i", INVENTORY, "-e", extra_vars(tmp_path, {"send_connector_connectors": [connector]}))
    assert run.rc != 0
    assert expected in run.stdout, run.stdout
    assert "Traceback" not in run.stdout + run.stderr
    assert sim.stats()["writes"] == 0
    assert connectors(sim) == []


def test_remove_playbook_unbinds_and_deletes(sim, run_playbook, tmp_path):
    assert run_playbook(APPLY, "-i", INVENTORY).rc == 0
    run = run_playbook(REMOVE, "-i", INVENTORY, "-e", extra_vars(tmp_path, {"remove_connectors": ["newsletter-relay"]}))
    assert run.rc == 0, run.stdout + run.stderr
    assert connectors(sim) == []
    assert binding(sim, "newsletter@mydomain.ovh") in (0, None)
    assert domain_default(sim, "guides.ovh") in (0, None)


def preflight_vars(tmp_path, port, ca_file, password, **role_vars):
    connector = {
        "name": "newsletter-relay",
        "smart_host": "localhost",
        "port": port,
        "require_tls": True,
        "auth_mechanism": "basicAuthRequireTLS",
        "user": USER,
        "password": password,
        "mailboxes": ["newsletter@mydomain.ovh"],
        "preflight": True,
    }
    # The loopback relay's port is not an SMTP port, hence allow_any_port.
    return extra_vars(tmp_path, dict({"send_connector_connectors": [connector], "send_connector_preflight_ca_path": str(ca_file),
                                      "send_connector_preflight_allow_any_port": True}, **role_vars))


def test_preflight_passes_then_the_role_applies(sim, run_playbook, tmp_path):
    ca = ThrowawayCA(tmp_path)
    with smtp_server(tls_context=ca.server_context("localhost"), auth=True) as relay:
        run = run_playbook(APPLY, "-i", INVENTORY, "-e", preflight_vars(tmp_path, relay.port, ca.ca_file, PASSWORD))
    assert run.rc == 0, run.stdout + run.stderr
    [check] = run.task("Check each smart host as the connector will reach it")["results"]
    assert check["status"] == "success"
    assert check["auth"]["succeeded"] is True
    [connector] = connectors(sim)
    assert binding(sim, "newsletter@mydomain.ovh") == connector["id"]
    assert PASSWORD not in run.stdout + run.stderr


def test_preflight_failure_stops_the_role_before_any_write(sim, run_playbook, tmp_path):
    ca = ThrowawayCA(tmp_path)
    with smtp_server(tls_context=ca.server_context("localhost"), auth=True) as relay:
        run = run_playbook(APPLY, "-i", INVENTORY, "-e", preflight_vars(tmp_path, relay.port, ca.ca_file, "wrong-password"))
    assert run.rc != 0
    assert "auth_failed" in run.stdout, run.stdout
    assert sim.stats()["writes"] == 0
    assert connectors(sim) == []


def test_preflight_sends_no_password_to_an_unverified_relay(sim, run_playbook, tmp_path):
    """A relay whose certificate the role cannot verify (no ca_path) receives no AUTH, and the role stops."""
    ca = ThrowawayCA(tmp_path)
    with smtp_server(tls_context=ca.server_context("localhost"), auth=True) as relay:
        run = run_playbook(APPLY, "-i", INVENTORY, "-e", preflight_vars(tmp_path, relay.port, "", PASSWORD))
    assert run.rc != 0
    assert received_no_password(relay), bytes(relay.received)
    assert "certificate_untrusted" in run.stdout and "auth_not_tested" in run.stdout, run.stdout
    assert sim.stats()["writes"] == 0
    assert connectors(sim) == []


def test_preflight_refuses_a_port_that_is_not_smtp(sim, run_playbook, tmp_path):
    ca = ThrowawayCA(tmp_path)
    with smtp_server(tls_context=ca.server_context("localhost"), auth=True) as relay:
        run = run_playbook(APPLY, "-i", INVENTORY, "-e", preflight_vars(
            tmp_path, relay.port, ca.ca_file, PASSWORD, send_connector_preflight_allow_any_port=False))
    assert run.rc != 0
    assert f"port {relay.port} is not an SMTP port" in run.stdout, run.stdout
    assert bytes(relay.received) == b""
    assert sim.stats()["writes"] == 0


def role_run(run_playbook, tmp_path, variables, *args):
    """The role alone (no inventory defaults) with `variables`; returns the run."""
    return run_playbook(ROLE_PLAY, "-e", extra_vars(tmp_path, {"send_connector_organization": PLATFORM, **variables}), *args)


def summary(run, check=False):
    """The summary's lines after its first, which must name the platform, its service and the host."""
    lines = run.task("Report what changed, per connector")["msg"]
    assert lines[0] == f"platform {PLATFORM} (service {PLATFORM}, host localhost)" + (" (check mode: would be)" if check else "")
    return lines[1:]


def outcome(run, task="Publish this platform's outcome (AWX shows it as the job's artifacts)"):
    """What the role published with set_stats, for this platform (and only this one)."""
    data = run.task(task)["ansible_stats"]["data"]["send_connector_outcome"]
    assert list(data) == [f"{PLATFORM}/{PLATFORM}"], data
    return data[f"{PLATFORM}/{PLATFORM}"]


MINIMAL_INPUTS = {
    "no-connectors": ({"send_connector_connectors": []}, ["nothing was asked"]),
    "only-platform-mailboxes": ({"send_connector_platform_mailboxes": ["contact@mydomain.ovh"]},
                                ["platform's own server: 0 mailboxes moved back, 1 already there"]),
    "only-absent-connectors": ({"send_connector_connectors": [{"name": "gone-relay", "state": "absent"}]},
                               ["connector 'gone-relay': already absent"]),
}


@pytest.mark.parametrize("variables, expected", MINIMAL_INPUTS.values(), ids=MINIMAL_INPUTS.keys())
@pytest.mark.parametrize("check", [False, True], ids=["run", "check"])
def test_minimal_input_changes_nothing_and_says_so(sim, run_playbook, tmp_path, variables, expected, check):
    run = role_run(run_playbook, tmp_path, variables, *(["--check"] if check else []))
    assert run.rc == 0, run.stdout + run.stderr
    assert run.changed_tasks == []
    lines = summary(run, check)
    assert [line for line in lines if any(words in line for words in expected)], lines
    assert sim.stats()["writes"] == 0
    assert connectors(sim) == []
    assert binding(sim, "contact@mydomain.ovh") in (0, None)


def test_a_connector_without_mailboxes_is_created_then_left_alone(sim, run_playbook, tmp_path):
    variables = {"send_connector_connectors": [{"name": "bare-relay", "smart_host": "smtp-relay.example.com"}]}
    first = role_run(run_playbook, tmp_path, variables)
    assert first.rc == 0, first.stdout + first.stderr
    [connector] = connectors(sim)
    assert (connector["displayName"], connector["smartHost"]) == ("bare-relay", "smtp-relay.example.com")
    assert summary(first) == [f"connector 'bare-relay' (id {connector['id']}): created"]

    writes, requests = sim.stats()["writes"], len(sim.requests())
    second = role_run(run_playbook, tmp_path, variables)
    assert second.rc == 0, second.stdout + second.stderr
    assert second.changed_tasks == []
    assert sim.stats()["writes"] == writes
    # One read: the connector list (no mailbox nor domain to check, nothing to bind).
    assert len(sim.requests()) - requests == 1
    assert summary(second) == [f"connector 'bare-relay' (id {connector['id']}): unchanged"]


def test_the_pre_write_check_only_reads(sim, run_playbook, tmp_path):
    """An unknown mailbox stops the role at its read-only check: nothing is created, nothing written."""
    variables = {"send_connector_connectors": [{"name": "relay", "smart_host": "smtp-relay.example.com",
                                                "mailboxes": ["newsletter@mydomain.ovh", "ghost@mydomain.ovh"],
                                                "default_for_domains": ["nowhere.example"]}]}
    run = role_run(run_playbook, tmp_path, variables)
    assert run.rc != 0
    failed = run.task("Check that every listed mailbox and domain exists on the platform")
    assert "ghost@mydomain.ovh: no such mailbox" in failed["msg"] and "nowhere.example is not a domain" in failed["msg"]
    assert sim.stats()["writes"] == 0 and connectors(sim) == []
    assert {r["method"] for r in sim.requests()} == {"GET"}


@pytest.fixture
def old_relay(sim):
    """old-relay (made by another tool) with contact@ and sales@ bound, and the default of guides.ovh."""
    relay = create_connector(sim, "old-relay")
    bind_directly(sim, relay, ["contact@mydomain.ovh", "sales@mydomain.ovh"])
    sim.client().put(f"{BASE}/domain/guides.ovh/changeDefaultSBR", sendConnectorIdDefault=relay)
    deadline = time.monotonic() + 30
    while domain_default(sim, "guides.ovh") != relay:
        assert time.monotonic() < deadline, "the domain default was not applied"
        time.sleep(0.1)
    return relay


MOVE = {"send_connector_connectors": [
    {"name": "new-relay", "smart_host": "smtp-relay.example.com", "port": 587, "mailboxes": ["contact@mydomain.ovh"]},
    {"name": "old-relay", "smart_host": "smtp-relay.example.com", "port": 587, "mailboxes": ["sales@mydomain.ovh"]}],
    "send_connector_platform_domains": ["guides.ovh"]}


def test_summary_and_set_stats_name_the_platform_losses_and_domain_resets(sim, run_playbook, tmp_path, old_relay):
    """The summary and set_stats say which platform, that old-relay lost contact@ to new-relay (not just
    "unchanged"), and that guides.ovh went back to the platform's own server; set_stats is keyed by platform.
    (Fails on the code of 2026-11-27: no platform line, old-relay "unchanged", no domain reset, flat set_stats.)"""
    run = role_run(run_playbook, tmp_path, MOVE)
    assert run.rc == 0, run.stdout + run.stderr
    new_relay = next(c["id"] for c in connectors(sim) if c["displayName"] == "new-relay")
    assert binding(sim, "contact@mydomain.ovh") == new_relay and binding(sim, "sales@mydomain.ovh") == old_relay
    assert domain_default(sim, "guides.ovh") in (0, None)
    assert summary(run) == [
        f"connector 'new-relay' (id {new_relay}): created",
        "  mailboxes: 1 bound, 0 unbound, 0 unchanged, 0 failed",
        f"connector 'old-relay' (id {old_relay}): unchanged, lost mailboxes",
        "  mailboxes: 0 bound, 0 unbound, 1 unchanged, 0 failed",
        "  lost 1 mailbox(es) to 'new-relay'",
        "domains sent back to the platform's own server: 1 reset, 0 already there (guides.ovh)"]
    published = outcome(run)
    assert (published["organization"], published["service"], published["host"]) == (PLATFORM, PLATFORM, "localhost")
    assert published["connectors"]["new-relay"]["id"] == new_relay
    assert published["connectors"]["new-relay"]["mailboxes"] == {
        "bound": 1, "unbound": 0, "unchanged": 0, "skipped": 0, "failed": 0, "not_attempted": 0}
    assert published["connectors"]["old-relay"]["lost_mailboxes"] == {"new-relay": 1}
    assert published["domains_reset"] == ["guides.ovh"] and published["removals"] == {}


def requests_of(sim, run_and_check):
    """The run, and every request it made (the simulator's counter, and its log to say which)."""
    before, logged = sim.stats()["total"], len(sim.requests())
    run = run_and_check()
    made = [f"{r['method']} {r['route']}" for r in sim.requests()[logged:]]
    assert len(made) == sim.stats()["total"] - before
    return run, made


def test_request_budget_of_a_no_op_rerun_and_of_check_mode(sim, run_playbook, tmp_path, old_relay):
    """The role's whole request count (reads included), measured on the simulator: a rerun that changes
    nothing, and check mode, stay within a fixed budget whatever they are asked to converge."""
    writes = sim.stats()["writes"]
    check, check_requests = requests_of(sim, lambda: role_run(run_playbook, tmp_path, MOVE, "--check"))
    assert check.rc == 0, check.stdout + check.stderr
    assert sim.stats()["writes"] == writes
    first = role_run(run_playbook, tmp_path, MOVE)
    assert first.rc == 0, first.stdout + first.stderr
    writes = sim.stats()["writes"]
    rerun, rerun_requests = requests_of(sim, lambda: role_run(run_playbook, tmp_path, MOVE))
    assert rerun.rc == 0 and rerun.changed_tasks == [], rerun.stdout + rerun.stderr
    assert sim.stats()["writes"] == writes
    assert outcome(rerun)["connectors"]["old-relay"]["lost_mailboxes"] == {}
    # Measured on 2026-11-27 for two connectors, two mailboxes and one domain to reset: the connector list,
    # the mailbox and domain check, and the domain read back; the platform check found every mailbox bound,
    # so no binding chunk ran (it was 11 requests when each connector's chunk read its mailboxes again).
    assert len(rerun_requests) == 7, rerun_requests
    # Check mode plans new-relay's creation: the offer and the running creations are read first (issue 14); old-relay's
    # mailbox to move is the one chunk that runs (new-relay's waits for its connector to exist).
    assert len(check_requests) == 9, check_requests


def test_a_refused_removal_is_published_and_writes_nothing(sim, run_playbook, tmp_path, old_relay):
    """A removal refused before any write says so in set_stats (per platform) and in the failure.
    (Fails on the code of 2026-11-27: nothing is published.)"""
    run = role_run(run_playbook, tmp_path, {"send_connector_connectors": [{"name": "old-relay", "state": "absent"}]})
    assert run.rc != 0
    assert sim.stats()["writes"] == 1 + 2 + 1  # the fixture's connector, two bindings and domain default; nothing since
    published = outcome(run, "Publish the refused removals (nothing was written)")
    assert published["status"] == "refused before any write"
    [refused] = published["refused_removals"]
    assert "send connector 'old-relay' would still be used by 2 mailbox(es): contact@mydomain.ovh, sales@mydomain.ovh" in refused
    assert "guides.ovh" in refused
    assert binding(sim, "contact@mydomain.ovh") == old_relay


def test_only_the_mailboxes_to_change_are_chunked_and_exclusive_unbinds_the_rest(sim, run_playbook, tmp_path):
    """The platform check's read decides what the chunks write: mailboxes already on the connector are counted
    unchanged and never written; the others are bound in chunks that name their progress; with exclusive=true a
    last pass unbinds the connector's mailboxes that are not listed. A rerun runs no binding chunk."""
    sim.reset(accounts=20)
    relay = create_connector(sim, "relay")
    other = create_connector(sim, "other")
    bind_directly(sim, relay, users(1, 4) + ["user00011@mydomain.ovh"])  # 1-4 listed and settled, 11 not listed
    bind_directly(sim, other, ["user00006@mydomain.ovh"])  # listed for relay: it moves
    variables = {"send_connector_chunk_size": 4, "send_connector_connectors": [
        {"name": "relay", "smart_host": "smtp-relay.example.com", "port": 587, "exclusive": True,
         "mailboxes": users(1, 10)}]}
    logged = len(sim.requests())
    run = role_run(run_playbook, tmp_path, variables)
    assert run.rc == 0, run.stdout + run.stderr

    bound = account_connectors(sim)
    assert {address: bound[address] for address in users(1, 11)} == {
        **{address: relay for address in users(1, 10)}, "user00011@mydomain.ovh": 0}
    written = sorted(unquote(r["path"]).rsplit("/", 1)[-1] for r in sim.requests()[logged:]
                     if r["method"] == "PUT" and "/account/" in r["path"])
    assert written == users(5, 11)  # the six to bind and the one to unbind; never the four already bound
    chunks = [r["task"].split("done after it: ", 1)[1] for r in run.results if "Bind a chunk of mailboxes" in r["task"]]
    assert chunks == ["relay 4 of 6 to bind (4 already bound)", "relay 6 of 6 to bind (4 already bound)",
                      "relay 10 listed, unbinding those not listed"], chunks
    assert summary(run) == [f"connector 'relay' (id {relay}): unchanged, lost mailboxes",
                            "  mailboxes: 6 bound, 1 unbound, 4 unchanged, 0 failed",
                            "  lost 1 mailbox(es) to platform's own server",
                            "connector 'other' (not in send_connector_connectors): lost 1 mailbox(es)"]
    assert outcome(run)["connectors"]["relay"]["mailboxes"] == {
        "bound": 6, "unbound": 1, "unchanged": 4, "skipped": 0, "failed": 0, "not_attempted": 0}

    writes = sim.stats()["writes"]
    rerun = role_run(run_playbook, tmp_path, variables)
    assert rerun.rc == 0 and rerun.changed_tasks == [], rerun.stdout + rerun.stderr
    assert sim.stats()["writes"] == writes
    chunks = [r["task"].split("done after it: ", 1)[1] for r in rerun.results if "Bind a chunk of mailboxes" in r["task"]]
    assert chunks == ["relay 10 listed, unbinding those not listed"], chunks
    assert outcome(rerun)["connectors"]["relay"]["mailboxes"] == {
        "bound": 0, "unbound": 0, "unchanged": 10, "skipped": 0, "failed": 0, "not_attempted": 0}
