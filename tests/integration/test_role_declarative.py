"""The send_connector role as declarative input (issue 15, items 4 and 5), run with ansible-playbook against the simulator.

Item 4: a domain taken out of an `exclusive_domains` connector, or listed in `send_connector_platform_domains`,
goes back to the platform's own server, and a rerun writes nothing. Item 5: an unknown `send_connector_*`
variable is reported with the closest known name, and a misspelled key in a connector entry fails with a short
message naming it, before anything is written.
"""
from __future__ import annotations

import pytest

from bindings_support import ORG, account_connectors, bind_directly, create_connector, domain_defaults, platform_state
from role_play import ROLE_PLAY, extra_vars_file

pytestmark = pytest.mark.integration

RELAY = {"name": "relay-d", "smart_host": "smtp-relay.example.com", "port": 587}


def role_vars(connectors, **more):
    return {"send_connector_organization": ORG, "send_connector_connectors": connectors, **more}


def connector_id(sim, name):
    [found] = [c["id"] for c in platform_state(sim)["connectors"].values() if c["displayName"] == name]
    return found


def apply(run_playbook, tmp_path, name, variables, *args):
    run = run_playbook(ROLE_PLAY, "-e", extra_vars_file(tmp_path, name, variables), *args)
    assert run.rc == 0, run.stdout[-4000:] + run.stderr[-2000:]
    return run


# Item 4: domain defaults follow the list ----------------------------------------------------------------

def test_domain_taken_out_of_an_exclusive_connector_goes_back_to_the_platform(sim, run_playbook, tmp_path):
    both = {**RELAY, "default_for_domains": ["mydomain.ovh", "guides.ovh"]}
    apply(run_playbook, tmp_path, "both", role_vars([both]))
    relay = connector_id(sim, "relay-d")
    assert domain_defaults(sim) == {"mydomain.ovh": relay, "guides.ovh": relay}

    one = role_vars([{**RELAY, "default_for_domains": ["guides.ovh"], "exclusive_domains": True}])
    # --check --diff shows the reset and writes nothing.
    writes_before = sim.stats()["writes"]
    check = apply(run_playbook, tmp_path, "check", one, "--check", "--diff")
    assert sim.stats()["writes"] == writes_before
    assert domain_defaults(sim) == {"mydomain.ovh": relay, "guides.ovh": relay}
    reset = check.task("Send domains back to the platform's own server")
    assert reset["changed"] is True
    assert [(d["domain"], d["status"]) for d in reset["domains"]] == [("mydomain.ovh", "reset")]
    assert "mydomain.ovh" in check.stdout  # the diff names the domain

    apply(run_playbook, tmp_path, "one", one)
    assert domain_defaults(sim) == {"mydomain.ovh": 0, "guides.ovh": relay}

    writes_before = sim.stats()["writes"]
    again = apply(run_playbook, tmp_path, "one-again", one)
    assert sim.stats()["writes"] == writes_before
    assert again.changed_tasks == []


def test_domain_moved_to_another_connector_is_written_once(sim, run_playbook, tmp_path):
    other = {**RELAY, "name": "relay-e"}
    apply(run_playbook, tmp_path, "first", role_vars([{**RELAY, "default_for_domains": ["guides.ovh"]}, other]))
    writes_before = sim.stats()["writes"]
    moved = role_vars([{**RELAY, "exclusive_domains": True}, {**other, "default_for_domains": ["guides.ovh"]}])
    run = apply(run_playbook, tmp_path, "moved", moved)
    assert domain_defaults(sim)["guides.ovh"] == connector_id(sim, "relay-e")
    # One domain write (the move); no reset to the platform's server in between.
    assert sim.stats()["writes"] == writes_before + 1, run.stdout[-3000:]


def test_platform_domains_reset_a_default_set_by_an_earlier_run(sim, run_playbook, tmp_path):
    apply(run_playbook, tmp_path, "set", role_vars([{**RELAY, "default_for_domains": ["guides.ovh", "mydomain.ovh"]}]))
    relay = connector_id(sim, "relay-d")

    back = role_vars([{**RELAY, "default_for_domains": ["mydomain.ovh"]}], send_connector_platform_domains=["guides.ovh"])
    apply(run_playbook, tmp_path, "back", back)
    assert domain_defaults(sim) == {"mydomain.ovh": relay, "guides.ovh": 0}

    writes_before = sim.stats()["writes"]
    again = apply(run_playbook, tmp_path, "back-again", back)
    assert sim.stats()["writes"] == writes_before
    assert again.changed_tasks == []


def test_a_domain_in_two_places_is_refused_before_any_write(sim, run_playbook, tmp_path):
    writes_before = sim.stats()["writes"]
    both = role_vars([{**RELAY, "default_for_domains": ["guides.ovh"]}], send_connector_platform_domains=["Guides.ovh"])
    run = run_playbook(ROLE_PLAY, "-e", extra_vars_file(tmp_path, "both", both))
    assert run.rc != 0
    assert "guides.ovh" in run.stdout and "more than once" in run.stdout, run.stdout[-3000:]
    assert sim.stats()["writes"] == writes_before


# Item 5: misspelled names are named, shortly -----------------------------------------------------------

TWO_RUNS = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: a first run registers the role's results (send_connector_connector_results...)
      ansible.builtin.include_role:
        name: ovhcloud.exchange.send_connector
      vars:
        send_connector_organization: {org}
        send_connector_connectors: [{{name: relay-d, smart_host: smtp-relay.example.com, port: 587}}]
    - name: a second run with a misspelled variable
      ansible.builtin.include_role:
        name: ovhcloud.exchange.send_connector
      vars:
        send_connector_organization: {org}
        send_connector_connectors: [{{name: relay-d, smart_host: smtp-relay.example.com, port: 587}}]
        send_connector_platform_mailbox: [newsletter@mydomain.ovh]
"""


def warning_lines(run):
    return [line for result in run.results if result["task"].endswith("Warn about unknown send_connector_* variables")
            for line in result["result"].get("msg") or []]


def test_misspelled_top_level_variable_is_named_with_the_closest_name(sim, run_playbook):
    # newsletter@ sends through a connector: the misspelled list would move it back, and must not.
    relay = create_connector(sim, "relay-d")
    bind_directly(sim, relay, ["newsletter@mydomain.ovh"])
    writes_before = sim.stats()["writes"]

    run = run_playbook(TWO_RUNS.format(org=ORG))

    assert run.rc == 0, run.stdout[-3000:]
    # Named once (second run), with the right name; the role's own registered results are not reported.
    assert warning_lines(run) == [
        "WARNING: the send_connector role does not know these variables and ignores them:",
        "send_connector_platform_mailbox (did you mean send_connector_platform_mailboxes?)",
    ], run.stdout[-3000:]
    assert "send_connector_platform_mailbox (did you mean send_connector_platform_mailboxes?)" in run.stdout
    assert sim.stats()["writes"] == writes_before
    assert account_connectors(sim)["newsletter@mydomain.ovh"] == relay


def test_unknown_variables_fail_before_any_write_when_asked(sim, run_playbook, tmp_path):
    variables = role_vars([{**RELAY, "mailboxes": ["newsletter@mydomain.ovh"]}],
                          send_connector_unknown_variables="fail", send_connector_prefligth=True)
    run = run_playbook(ROLE_PLAY, "-e", extra_vars_file(tmp_path, "strict", variables))
    assert run.rc != 0
    assert "send_connector_prefligth (did you mean send_connector_preflight?)" in run.stdout, run.stdout[-3000:]
    assert sim.stats()["writes"] == 0
    assert platform_state(sim)["connectors"] == {}


def test_misspelled_key_in_an_entry_fails_with_a_short_message_naming_it(sim, run_playbook, tmp_path):
    entry = {**RELAY, "mailboxs": ["newsletter@mydomain.ovh"], "password": "entry-secret-1234"}
    run = run_playbook(ROLE_PLAY, "-e", extra_vars_file(tmp_path, "entry", role_vars([entry])))

    assert run.rc != 0
    [failed] = [r for r in run.results if r["status"] == "failed"]
    message = failed["result"]["msg"]
    assert "send_connector_connectors[0] (relay-d): unknown key mailboxs (did you mean mailboxes?)" in message
    assert len(message) < 300, message
    # The whole run's output stays short: no dump of the argument spec, and no password.
    assert len(run.stdout) < 2500, run.stdout
    assert "entry-secret-1234" not in run.stdout + run.stderr
    assert sim.stats()["writes"] == 0


# Item 3 (role part): removal without force refuses a connector still in use ---------------------------

def test_removal_without_force_refuses_a_used_connector_and_force_or_a_migration_removes_it(sim, run_playbook, tmp_path):
    old = create_connector(sim, "relay-old")
    bind_directly(sim, old, ["newsletter@mydomain.ovh", "sales@mydomain.ovh"])
    writes_before = sim.stats()["writes"]

    # Refused before any write, though another connector is to be created in the same run.
    refused = run_playbook(ROLE_PLAY, "-e", extra_vars_file(tmp_path, "refused", role_vars(
        [{**RELAY, "mailboxes": ["sales@mydomain.ovh"]}, {"name": "relay-old", "state": "absent"}])))
    assert refused.rc != 0
    [failed] = [r for r in refused.results if r["status"] == "failed"]
    message = failed["result"]["msg"]
    # sales@ moves to relay-d in this run: only newsletter@ would be left on relay-old.
    assert "send connector 'relay-old' would still be used by 1 mailbox(es): newsletter@mydomain.ovh" in message, message
    assert "sales@" not in message and "force: true" in message
    assert sim.stats()["writes"] == writes_before
    assert [c["displayName"] for c in platform_state(sim)["connectors"].values()] == ["relay-old"]

    # A migration: every user listed elsewhere, so no force is needed, in --check (nothing moved yet) too.
    migration = role_vars([{**RELAY, "mailboxes": ["sales@mydomain.ovh"]}, {"name": "relay-old", "state": "absent"}],
                          send_connector_platform_mailboxes=["newsletter@mydomain.ovh"])
    apply(run_playbook, tmp_path, "migration-check", migration, "--check")
    assert sim.stats()["writes"] == writes_before
    apply(run_playbook, tmp_path, "migration", migration)
    relay = connector_id(sim, "relay-d")
    assert [c["displayName"] for c in platform_state(sim)["connectors"].values()] == ["relay-d"]
    assert account_connectors(sim)["sales@mydomain.ovh"] == relay
    assert account_connectors(sim)["newsletter@mydomain.ovh"] == 0

    # force: true on the entry removes a connector still in use, sending its users back to the platform.
    apply(run_playbook, tmp_path, "forced", role_vars([{**RELAY, "state": "absent", "force": True}]))
    assert platform_state(sim)["connectors"] == {}
    assert account_connectors(sim)["sales@mydomain.ovh"] == 0
