"""Rough edges of issue 15 against the simulator: smart host values, password rotation, what a delete moves,
connector names differing only by case, and the mailboxes still on the platform's own server. Each test
checks the simulator's state and write counters, not only the module's words."""
import json
import time

import pytest

from bindings_support import BASE, account_connectors, bind_directly, create_connector, domain_defaults, platform_state, task

pytestmark = pytest.mark.integration

SECRET = "edge-Password-15"
OTHER_SECRET = "edge-Password-15-rotated"


def run_task(run_playbook, module, args, *ansible_args):
    run = run_playbook(task(module, args), *ansible_args)
    return run, run.task("under test")


def send_connector(run_playbook, args, *ansible_args):
    return run_task(run_playbook, "exchange_send_connector", args, *ansible_args)


def connectors(sim):
    return sorted(platform_state(sim)["connectors"].values(), key=lambda c: c["id"])


def writes_since(sim, before):
    return sim.stats()["writes"] - before["writes"]


def wait_until(predicate, what):
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(what)


# 1. smart_host ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("value,words", [
    ("smtp://relay.example.invalid", "drop `smtp://`"),
    ("relay.example.invalid:587", "put 587 in `port`"),
    ("relay.example.invalid/path", "drop `/path`"),
    ("relay.example.invalid ", "write 'relay.example.invalid'"),
])
def test_a_bad_smart_host_is_refused_with_the_fix_and_nothing_written(sim, run_playbook, value, words):
    run, result = send_connector(run_playbook, {"name": "relay", "smart_host": value})
    assert run.rc != 0 and words in result["msg"], result
    assert sim.stats()["writes"] == 0 and connectors(sim) == []


def test_an_idn_smart_host_is_stored_in_ascii(sim, run_playbook):
    run, result = send_connector(run_playbook, {"name": "relay", "smart_host": "relais.exemple-\u00e9t\u00e9.fr"})
    assert run.rc == 0, run.stdout
    assert [c["smartHost"] for c in connectors(sim)] == ["relais.xn--exemple-t-i4ab.fr"]
    before = sim.stats()
    run, result = send_connector(run_playbook, {"name": "relay", "smart_host": "relais.exemple-\u00e9t\u00e9.fr"})
    assert run.rc == 0 and result["changed"] is False and writes_since(sim, before) == 0


@pytest.mark.parametrize("stored", ["relay.example.invalid ", "smtp://relay.example.invalid", "Relay.Example.Invalid."])
def test_a_bad_stored_smart_host_is_corrected_by_the_next_run(sim, run_playbook, stored):
    # Stored by another tool (or by an earlier version of this collection, which took these values as given).
    connector_id = create_connector(sim, "relay", smart_host=stored)
    before = sim.stats()
    run, result = send_connector(run_playbook, {"name": "relay", "smart_host": "relay.example.invalid"})
    assert run.rc == 0 and result["changed"] is True, run.stdout
    assert platform_state(sim)["connectors"][str(connector_id)]["smartHost"] == "relay.example.invalid"
    assert writes_since(sim, before) == 1
    before = sim.stats()
    run, result = send_connector(run_playbook, {"name": "relay", "smart_host": "relay.example.invalid"})
    assert result["changed"] is False and writes_since(sim, before) == 0


def test_a_smart_host_differing_only_by_case_is_left_alone(sim, run_playbook):
    # DNS names are case-insensitive (RFC 4343): the same relay, no write.
    create_connector(sim, "relay", smart_host="Relay.Example.Invalid")
    before = sim.stats()
    run, result = send_connector(run_playbook, {"name": "relay", "smart_host": "relay.example.invalid"})
    assert run.rc == 0 and result["changed"] is False and writes_since(sim, before) == 0


# 2. Password rotation -----------------------------------------------------------------------------------

RELAY = {"name": "relay", "smart_host": "smtp-relay.example.com", "port": 587, "require_tls": True,
         "auth_mechanism": "basicAuthRequireTLS", "user": "relay-user", "password": SECRET}


def test_a_password_not_sent_is_warned_about(sim, run_playbook):
    run, result = send_connector(run_playbook, RELAY)
    key = str(result["id"])
    before = sim.stats()
    run, result = send_connector(run_playbook, {**RELAY, "password": OTHER_SECRET})
    assert run.rc == 0 and result["changed"] is False and writes_since(sim, before) == 0
    assert platform_state(sim)["connector_secrets"][key]["password"] == SECRET
    assert "update_password: always" in " ".join(result.get("warnings", [])) + run.stdout
    assert OTHER_SECRET not in run.stdout + json.dumps(run.results)


def test_always_shows_the_authentication_re_sent_in_the_diff(sim, run_playbook):
    run, result = send_connector(run_playbook, RELAY)
    key = str(result["id"])
    always = {**RELAY, "password": OTHER_SECRET, "update_password": "always"}
    before = sim.stats()
    run, result = send_connector(run_playbook, always, "--check", "--diff")
    assert result["changed"] is True and writes_since(sim, before) == 0
    assert result["diff"]["after"]["authentication"] == "re-sent" and "authentication" not in result["diff"]["before"]
    run, result = send_connector(run_playbook, always, "--diff")
    assert run.rc == 0 and result["diff"]["after"]["authentication"] == "re-sent"
    assert platform_state(sim)["connector_secrets"][key]["password"] == OTHER_SECRET and writes_since(sim, before) == 1
    assert OTHER_SECRET not in run.stdout + json.dumps(run.results)


# 3. What a delete moves ---------------------------------------------------------------------------------

def test_the_delete_diff_names_every_mailbox_and_domain_moved_back(sim, run_playbook):
    connector_id = create_connector(sim, "relay")
    bind_directly(sim, connector_id, ["contact@mydomain.ovh", "sales@mydomain.ovh"])
    sim.client().put(f"{BASE}/domain/guides.ovh/changeDefaultSBR", sendConnectorIdDefault=connector_id)
    wait_until(lambda: domain_defaults(sim)["guides.ovh"] == connector_id, "the domain default was not applied")
    moved = {"accounts": ["contact@mydomain.ovh", "sales@mydomain.ovh"], "default_for_domains": ["guides.ovh"]}
    absent = {"name": "relay", "state": "absent", "force": True}

    before = sim.stats()
    run, result = send_connector(run_playbook, absent, "--check", "--diff")
    assert run.rc == 0 and result["changed"] is True and writes_since(sim, before) == 0
    assert result["diff"]["after"] == {"moved_to_platform_server": moved}
    assert (result["diff"]["before"]["accounts"], result["diff"]["before"]["default_for_domains"]) == (
        moved["accounts"], moved["default_for_domains"])
    assert len(connectors(sim)) == 1

    run, result = send_connector(run_playbook, absent, "--diff")
    assert run.rc == 0, run.stdout
    assert result["diff"]["after"] == {"moved_to_platform_server": moved}
    assert result["moves"] == {"accounts": moved["accounts"], "domains": moved["default_for_domains"]}
    assert connectors(sim) == [] and writes_since(sim, before) == 4  # two mailboxes, one domain, the delete
    assert account_connectors(sim)["contact@mydomain.ovh"] == 0 and domain_defaults(sim)["guides.ovh"] == 0


# 6. Names differing only by case ------------------------------------------------------------------------

def test_a_name_differing_only_by_case_is_refused_before_any_write(sim, run_playbook):
    connector_id = create_connector(sim, "relay-e")
    before = sim.stats()
    run, result = send_connector(run_playbook, {"name": "Relay-E", "smart_host": "smtp-relay.example.com"})
    assert run.rc != 0 and f"'relay-e' (id {connector_id})" in result["msg"] and "only by case" in result["msg"]
    assert writes_since(sim, before) == 0 and [c["displayName"] for c in connectors(sim)] == ["relay-e"]
    # The exact name still manages it.
    run, result = send_connector(run_playbook, {"name": "relay-e", "port": 2525})
    assert run.rc == 0 and result["id"] == connector_id and connectors(sim)[0]["port"] == 2525


def test_a_rename_to_a_case_twin_is_refused(sim, run_playbook):
    create_connector(sim, "relay-e")
    other = create_connector(sim, "other", smart_host="smtp.other.example.com")
    before = sim.stats()
    run, result = send_connector(run_playbook, {"id": other, "name": "RELAY-E"})
    assert run.rc != 0 and "only by case" in result["msg"]
    assert writes_since(sim, before) == 0 and sorted(c["displayName"] for c in connectors(sim)) == ["other", "relay-e"]


# 8. The mailboxes still on the platform's own server ---------------------------------------------------

@pytest.mark.parametrize("options", [{}, {"connector": "relay"}])
def test_info_lists_the_mailboxes_on_the_platform_server(sim, run_playbook, options):
    connector_id = create_connector(sim, "relay")
    bind_directly(sim, connector_id, ["contact@mydomain.ovh", "sales@mydomain.ovh"])
    bind_directly(sim, 0, ["sales@mydomain.ovh"])  # reset: reads 0, the others never set read null
    state = platform_state(sim)["accounts"]
    assert state["sales@mydomain.ovh"].get("sendConnectorId") == 0 and state["support@mydomain.ovh"].get("sendConnectorId") is None
    on_platform = sorted((a for a, c in account_connectors(sim).items() if c == 0), key=str.lower)
    assert "sales@mydomain.ovh" in on_platform and "contact@mydomain.ovh" not in on_platform

    before = sim.stats()
    run, result = run_task(run_playbook, "exchange_send_connector_info", {**options, "platform_server": True})
    assert run.rc == 0, run.stdout
    assert result["platform_server"] == {"id": 0, "accounts": on_platform,
                                         "default_for_domains": sorted(n for n, c in domain_defaults(sim).items() if c == 0)}
    assert writes_since(sim, before) == 0
    # Everything listed: no request more than without the option (connectors, mailboxes, domains);
    # one connector: its two filtered reads, then null and 0 for mailboxes and for domains.
    assert result["api_calls"]["total"] == (3 if not options else 7)
