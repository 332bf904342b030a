"""exchange_domain_default_sbr against the simulator."""
import pytest

from bindings_support import account_connectors, create_connector, domain_defaults, platform_state, task, writes

pytestmark = pytest.mark.integration


def default_sbr(run_playbook, *args, **options):
    run = run_playbook(task("exchange_domain_default_sbr", options), *args)
    return run, run.task("under test")


def test_set_then_reset_the_default(sim, run_playbook):
    relay = create_connector(sim, "relay")
    run, result = default_sbr(run_playbook, "--diff", domains=["mydomain.ovh", "guides.ovh"], connector="relay")
    assert run.rc == 0, run.stdout
    assert domain_defaults(sim) == {"mydomain.ovh": relay, "guides.ovh": relay}
    assert result["changed"] is True
    assert result["counts"] == {"set": 2, "reset": 0, "unchanged": 0, "failed": 0}
    assert "mailboxes created on it from now on" in result["note"]
    assert result["diff"]["after"] == {"mydomain.ovh": f"relay ({relay})", "guides.ovh": f"relay ({relay})"}
    # The default is for new mailboxes only: existing ones keep the platform's server.
    assert set(account_connectors(sim).values()) == {0}

    before = sim.stats()
    run, result = default_sbr(run_playbook, domains=["mydomain.ovh", "guides.ovh"], connector=str(relay))
    assert run.rc == 0 and result["changed"] is False and "note" not in result
    assert writes(sim.stats()) == writes(before)

    run, result = default_sbr(run_playbook, domain="guides.ovh", state="absent")
    assert run.rc == 0, run.stdout
    assert domain_defaults(sim) == {"mydomain.ovh": relay, "guides.ovh": 0}
    [reported] = result["domains"]
    task_id = reported.pop("task_id", None)
    assert reported == {"domain": "guides.ovh", "before": {"id": relay, "name": "relay"},
                        "after": {"id": 0, "name": None}, "status": "reset"}
    # The reported task is the simulator's: the one setDomain task the reset queued, and it ended.
    set_domain_tasks = [t for t in platform_state(sim)["tasks"].values() if t["function"] == "setDomain"]
    reset_task = max(set_domain_tasks, key=lambda t: t["id"])
    assert task_id == reset_task["id"], (task_id, set_domain_tasks)
    assert reset_task["_final"] == "done" and reset_task["_target"][-1] == "guides.ovh", reset_task


def test_check_mode_writes_nothing(sim, run_playbook):
    create_connector(sim, "relay")
    before = sim.stats()
    run, result = default_sbr(run_playbook, "--check", domain="mydomain.ovh", connector="relay")
    assert run.rc == 0 and result["changed"] is True and result["counts"]["set"] == 1
    assert writes(sim.stats()) == writes(before)
    assert domain_defaults(sim)["mydomain.ovh"] == 0


def test_unknown_domain_or_connector_is_a_clear_error_before_any_write(sim, run_playbook):
    create_connector(sim, "relay")
    before = sim.stats()
    run, result = default_sbr(run_playbook, domains=["mydomain.ovh", "example.org"], connector="nope")
    assert run.failed_tasks == ["under test"]
    assert "example.org is not a domain of platform private-zz111111-1 (its domains: guides.ovh, mydomain.ovh)" in result["msg"]
    assert "no send connector has the name or id 'nope'" in result["msg"]
    assert writes(sim.stats()) == writes(before)
    assert domain_defaults(sim)["mydomain.ovh"] == 0


def test_without_paged_reads_the_results_are_the_same(sim, run_playbook):
    relay = create_connector(sim, "relay")
    sim.set_faults(object_lists=False)
    run, result = default_sbr(run_playbook, domain="mydomain.ovh", connector="relay")
    assert run.rc == 0, run.stdout
    assert result["read_strategy"] == "single" and result["counts"]["set"] == 1
    assert domain_defaults(sim) == {"mydomain.ovh": relay, "guides.ovh": 0}
