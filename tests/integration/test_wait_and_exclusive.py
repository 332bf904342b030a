"""wait_timeout expiring end to end, then a rerun; the role's `exclusive`, including an empty mailbox list."""
from __future__ import annotations

import pytest

from bindings_support import ORG, account_connectors, bind_directly, create_connector, platform_state, task
from role_play import ROLE_PLAY, extra_vars_file
from testlib import run_ansible_playbook

pytestmark = pytest.mark.integration

RELAY = {"name": "slow-relay", "smart_host": "smtp-relay.example.com", "port": 587}


def test_wait_timeout_expires_then_a_rerun_converges(sim, run_playbook):
    sim.reset(task_seconds=8)  # tasks take 8 s: a 1 s wait_timeout expires
    run = run_playbook(task("exchange_send_connector", {**RELAY, "wait_timeout": 1}))
    result = run.task("under test")
    assert run.rc != 0
    assert "timed out after 1s waiting for OVH task(s)" in result["msg"] and "wait_timeout" in result["msg"], result["msg"]
    [connector] = platform_state(sim)["connectors"].values()
    assert connector["state"] == "creating" and connector["taskPendingId"], connector  # the create is still under way
    writes = sim.stats()["writes"]

    rerun = run_playbook(task("exchange_send_connector", {**RELAY, "wait_timeout": 60}))
    assert rerun.rc == 0, rerun.stdout[-3000:]
    # Still one connector, and ready: with wait=true the rerun waits for the create still pending.
    # (Fails on the code of 2026-11-27: the rerun returns the connector still "creating".)
    [connector] = platform_state(sim)["connectors"].values()
    assert (connector["displayName"], connector["state"], connector["taskPendingId"]) == ("slow-relay", "ok", 0)
    assert rerun.task("under test")["id"] == connector["id"]
    assert sim.stats()["writes"] == writes, "the rerun wrote again instead of waiting for the pending create"


def run_role(sim, tmp_path, name, connectors, **role_variables):
    variables = {"send_connector_organization": ORG, "send_connector_connectors": connectors, **role_variables}
    return run_ansible_playbook(ROLE_PLAY, tmp_path, env=sim.env, args=("-e", extra_vars_file(tmp_path, name, variables)))


def test_role_wait_timeout_expires_then_a_rerun_converges(sim, tmp_path):
    """The same through the role, with a mailbox to bind: the rerun must bind it to the one connector."""
    sim.reset(task_seconds=8)
    connectors = [{**RELAY, "mailboxes": ["newsletter@mydomain.ovh"]}]
    first = run_role(sim, tmp_path, "timeout-1", connectors, send_connector_wait_timeout=1)
    assert first.rc != 0 and "timed out after 1s" in first.stdout, first.stdout[-3000:]
    rerun = run_role(sim, tmp_path, "timeout-60", connectors, send_connector_wait_timeout=60)
    assert rerun.rc == 0, rerun.stdout[-3000:]
    [connector] = platform_state(sim)["connectors"].values()
    assert connector["state"] == "ok"
    assert account_connectors(sim)["newsletter@mydomain.ovh"] == connector["id"]


@pytest.fixture
def bound(sim):
    """relay (contact@, sales@ bound by another tool) and other-relay (support@); returns their ids."""
    relay, other = create_connector(sim, "relay"), create_connector(sim, "other-relay")
    bind_directly(sim, relay, ["contact@mydomain.ovh", "sales@mydomain.ovh"])
    bind_directly(sim, other, ["support@mydomain.ovh"])
    return relay, other


def test_exclusive_makes_the_list_exactly_the_bound_set(sim, tmp_path, bound):
    relay, other = bound
    run = run_role(sim, tmp_path, "exclusive", [{"name": "relay", "smart_host": "smtp-relay.example.com", "port": 587,
                                                 "mailboxes": ["newsletter@mydomain.ovh"], "exclusive": True}])
    assert run.rc == 0, run.stdout[-3000:]
    assert {a: c for a, c in account_connectors(sim).items() if c} == {
        "newsletter@mydomain.ovh": relay, "support@mydomain.ovh": other}


def test_exclusive_with_an_empty_list_is_refused_before_any_write(sim, tmp_path, bound):
    """`exclusive: true` with `mailboxes: []` would unbind every mailbox of that connector: a templating
    mistake must not cost the bindings. The role refuses before any write and says how to really do it.
    (Fails on the code of 2026-11-27: the run succeeds and contact@ and sales@ lose their connector.)"""
    relay, other = bound
    before, writes = account_connectors(sim), sim.stats()["writes"]
    run = run_role(sim, tmp_path, "exclusive-empty", [{"name": "relay", "smart_host": "smtp-relay.example.com", "port": 587,
                                                       "mailboxes": [], "exclusive": True}])
    assert run.rc != 0, run.stdout[-3000:]
    assert "send_connector_connectors[0] (relay): exclusive is true with no mailboxes" in run.stdout, run.stdout[-3000:]
    assert "exclusive_empty_ok: true" in run.stdout
    assert sim.stats()["writes"] == writes
    assert account_connectors(sim) == before
    assert {a: c for a, c in before.items() if c} == {
        "contact@mydomain.ovh": relay, "sales@mydomain.ovh": relay, "support@mydomain.ovh": other}


def test_exclusive_empty_ok_unbinds_every_mailbox_of_that_connector(sim, tmp_path, bound):
    """Asked for explicitly (exclusive_empty_ok), an empty exclusive list sends every mailbox of that
    connector back to the platform's own server; the other connector and the connector itself stay."""
    relay, other = bound
    run = run_role(sim, tmp_path, "exclusive-empty-ok", [{"name": "relay", "smart_host": "smtp-relay.example.com", "port": 587,
                                                          "mailboxes": [], "exclusive": True, "exclusive_empty_ok": True}])
    assert run.rc == 0, run.stdout[-3000:]
    assert {a: c for a, c in account_connectors(sim).items() if c} == {"support@mydomain.ovh": other}
    assert relay in {c["id"] for c in platform_state(sim)["connectors"].values()}  # the connector itself stays
