"""exchange_account_connector against the simulator: real ansible-playbook runs, state and request counts."""
import pytest

from bindings_support import ROUTE, account_connectors, bind_directly, create_connector, task, users, writes

pytestmark = pytest.mark.integration

PUT_ACCOUNT = f"PUT {ROUTE}/account/{{primaryEmailAddress}}"


def bind(run_playbook, *args, **options):
    run = run_playbook(task("exchange_account_connector", options), *args)
    return run, run.task("under test")


def test_bind_300_then_the_same_task_writes_nothing(sim, run_playbook):
    sim.reset(accounts=2000)
    relay = create_connector(sim, "relay")
    before = sim.stats()
    wanted = users(1, 300)
    run, result = bind(run_playbook, connector="relay", accounts=wanted)
    assert run.rc == 0, run.stdout
    stats = sim.stats()
    state = account_connectors(sim)
    assert {a for a, c in state.items() if c == relay} == set(wanted)
    assert result["changed"] is True
    assert result["counts"] == {"bound": 300, "unbound": 0, "unchanged": 0, "skipped": 0, "failed": 0, "not_attempted": 0}
    assert result["read_strategy"] == "object_list"
    # PUT answers null: task ids are read back from the mailboxes, so a task already over has none.
    assert len(set(result["task_ids"])) == len(result["task_ids"]) <= 300
    assert {item["account"]: (item["before"]["id"], item["after"]) for item in result["accounts"]} == {
        a: (0, {"id": relay, "name": "relay"}) for a in wanted}
    # N writes plus a handful of reads and task polls.
    puts = stats["by_route"][PUT_ACCOUNT] - before["by_route"].get(PUT_ACCOUNT, 0)
    assert puts == 300
    assert writes(stats) - writes(before) == 300
    assert stats["total"] - before["total"] <= 300 + 10
    assert result["api_calls"]["by_method"]["PUT"] == 300

    again_before = sim.stats()
    run, result = bind(run_playbook, connector="relay", accounts=wanted)
    assert run.rc == 0, run.stdout
    assert result["changed"] is False
    assert result["counts"]["unchanged"] == 300
    assert writes(sim.stats()) == writes(again_before)


def test_a_no_op_on_2000_mailboxes_costs_at_most_5_requests(sim, run_playbook):
    sim.reset(accounts=2000)
    relay = create_connector(sim, "relay")
    everyone = sorted(account_connectors(sim))
    assert len(everyone) >= 2000
    run, result = bind(run_playbook, connector="relay", accounts=everyone, parallel=16)
    assert run.rc == 0, run.stdout
    assert set(account_connectors(sim).values()) == {relay}
    before = sim.stats()
    run, result = bind(run_playbook, connector=str(relay), accounts=everyone, exclusive=True)
    assert run.rc == 0, run.stdout
    after = sim.stats()
    assert result["changed"] is False
    assert result["counts"]["unchanged"] == len(everyone)
    assert writes(after) == writes(before)
    assert after["total"] - before["total"] <= 5, after["by_route"]


def test_exclusive_unbinds_exactly_the_unlisted_ones(sim, run_playbook):
    sim.reset(accounts=50)
    relay = create_connector(sim, "relay")
    other = create_connector(sim, "other-relay", "smtp.other.example.com")
    bind_directly(sim, relay, users(1, 10))
    bind_directly(sim, other, users(20, 22))
    listed = users(6, 15)
    run, result = bind(run_playbook, "--diff", connector="relay", accounts=listed, exclusive=True)
    assert run.rc == 0, run.stdout
    state = account_connectors(sim)
    assert {a for a, c in state.items() if c == relay} == set(listed)
    assert {a for a, c in state.items() if c == other} == set(users(20, 22))  # never touched
    assert all(state[a] == 0 for a in users(1, 5))
    assert result["counts"] == {"bound": 5, "unbound": 5, "unchanged": 5, "skipped": 0, "failed": 0, "not_attempted": 0}
    assert sorted(item["account"] for item in result["accounts"] if item["status"] == "unbound") == users(1, 5)
    assert result["diff"]["before"]["user00001@mydomain.ovh"] == f"relay ({relay})"
    assert result["diff"]["after"]["user00001@mydomain.ovh"] == "the platform's own server (0)"
    assert "user00006@mydomain.ovh" not in result["diff"]["after"]  # already bound: not moving


def test_absent_unbinds_only_what_uses_the_connector(sim, run_playbook):
    sim.reset(accounts=10)
    relay = create_connector(sim, "relay")
    other = create_connector(sim, "other-relay", "smtp.other.example.com")
    bind_directly(sim, relay, users(1, 2))
    bind_directly(sim, other, users(3, 3))
    run, result = bind(run_playbook, connector="relay", accounts=users(1, 4), state="absent")
    assert run.rc == 0, run.stdout
    state = account_connectors(sim)
    assert [state[a] for a in users(1, 4)] == [0, 0, other, 0]
    assert [item["status"] for item in result["accounts"]] == ["unbound", "unbound", "skipped", "unchanged"]
    assert "other-relay" in result["accounts"][2]["reason"]


def test_check_mode_reports_and_writes_nothing(sim, run_playbook):
    sim.reset(accounts=20)
    create_connector(sim, "relay")
    before = sim.stats()
    run, result = bind(run_playbook, "--check", "--diff", connector="relay", accounts=users(1, 5))
    assert run.rc == 0, run.stdout
    assert result["changed"] is True
    assert result["counts"]["bound"] == 5
    assert sorted(result["diff"]["after"]) == users(1, 5)
    assert writes(sim.stats()) == writes(before)
    assert set(account_connectors(sim).values()) == {0}


def test_bad_input_is_refused_before_any_write_each_problem_named(sim, run_playbook):
    sim.reset(accounts=5)
    create_connector(sim, "relay")
    before = sim.stats()
    accounts = ["user00001@mydomain.ovh", "ghost@mydomain.ovh", "USER00001@mydomain.ovh", "info@hosted-example.ovh"]
    run, result = bind(run_playbook, connector="no-such-relay", accounts=accounts)
    assert run.rc != 0
    assert run.failed_tasks == ["under test"]
    message = result["msg"]
    assert "nothing was changed" in message
    assert "USER00001@mydomain.ovh is listed twice" in message
    assert "ghost@mydomain.ovh: no such mailbox" in message
    assert "hosted-example.ovh is not a domain of platform private-zz111111-1" in message
    assert "no send connector has the name or id 'no-such-relay'" in message
    assert len(result["problems"]) == 4
    assert writes(sim.stats()) == writes(before)


@pytest.mark.parametrize("task_seconds", [None, 0], ids=["task-read-while-running", "task-failed-before-read-back"])
def test_a_failed_task_is_reported_exactly_and_a_rerun_finishes(sim, run_playbook, task_seconds):
    """With task_seconds=0 the failed task has released the mailbox before the module reads it back: it shows
    neither its task nor the change, like a write that shows late. The module finds the failed task in the task
    list instead of waiting wait_timeout (600 s) for a change that will never come."""
    sim.reset(accounts=20, **({} if task_seconds is None else {"task_seconds": task_seconds}))
    relay = create_connector(sim, "relay")
    sim.set_faults(script=[{"fault": "task_error"}])
    run, result = bind(run_playbook, connector="relay", accounts=users(1, 6))
    assert run.rc != 0
    failed = [item for item in result["accounts"] if item["status"] == "failed"]
    assert len(failed) == 1 and "ended with status 'error'" in failed[0]["error"], failed
    assert "after wait_timeout" not in failed[0]["error"]
    assert result["counts"]["bound"] == 5 and result["changed"] is True
    state = account_connectors(sim)
    assert state[failed[0]["account"]] == 0
    assert {a for a in users(1, 6) if state[a] == relay} == {i["account"] for i in result["accounts"] if i["status"] == "bound"}
    assert "1 of 6 mailboxes could not be changed" in result["msg"]

    run, result = bind(run_playbook, connector="relay", accounts=users(1, 6))
    assert run.rc == 0, run.stdout
    assert result["counts"]["bound"] == 1 and result["counts"]["unchanged"] == 5
    assert all(account_connectors(sim)[a] == relay for a in users(1, 6))


def test_without_paged_reads_the_results_are_the_same(sim, run_playbook):
    sim.reset(accounts=120)
    relay = create_connector(sim, "relay")
    bind_directly(sim, relay, users(100, 105))
    sim.set_faults(object_lists=False)
    listed = users(1, 60)
    run, result = bind(run_playbook, connector="relay", accounts=listed, exclusive=True)
    assert run.rc == 0, run.stdout
    assert result["read_strategy"] == "single"  # the switch turns batch GETs off too
    assert result["counts"] == {"bound": 60, "unbound": 6, "unchanged": 0, "skipped": 0, "failed": 0, "not_attempted": 0}
    assert {a for a, c in account_connectors(sim).items() if c == relay} == set(listed)
    before = sim.stats()
    run, result = bind(run_playbook, connector="relay", accounts=listed, exclusive=True)
    assert result["changed"] is False and writes(sim.stats()) == writes(before)
