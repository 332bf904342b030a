"""_mailbox_connectors.py: plans, validation and apply, with the exact requests expected."""
from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import pytest

from ansible_collections.ovhcloud.exchange.plugins.module_utils import _mailbox_connectors as choices
from ansible_collections.ovhcloud.exchange.plugins.module_utils._errors import InputError
from ansible_collections.ovhcloud.exchange.plugins.module_utils._tasks import TaskWaiter
from ansible_collections.ovhcloud.exchange.tests.unit.plugins.module_utils.scripted_http import (
    expect, fake_exchange, listing, named, paged, plain_ids)

RELAY = {"id": 29, "displayName": "relay", "state": "ok", "taskPendingId": 0}
OTHER = {"id": 31, "displayName": "other", "state": "ok", "taskPendingId": 0}


def account(address, connector=0, task=0):
    return {"primaryEmailAddress": address, "sendConnectorId": connector, "taskPendingId": task}


def connectors_read():
    return expect("GET", "/sendConnector", [RELAY, OTHER], headers=paged())


def test_exclusive_plan_and_apply_write_only_what_differs_and_wait_for_all_tasks_at_once():
    exchange, sdk = fake_exchange([
        connectors_read(),
        expect("GET", "/account", [account("a@x.ovh"), account("b@x.ovh", 29), account("c@x.ovh", 29),
                                   account("d@x.ovh", 31)], headers=paged()),
        expect("PUT", "/account/a%40x.ovh", None, body={"sendConnectorId": 29}),
        expect("PUT", "/account/c%40x.ovh", None, body={"sendConnectorId": 0}),
        # The PUTs answer null: one read back finds the tasks.
        expect("GET", "/account", [account("a@x.ovh", 0, 501), account("c@x.ovh", 29, 502)],
               headers=paged(filters=named("a@x.ovh", "c@x.ovh"))),
        expect("GET", "/task", [{"id": 501, "status": "done", "function": "setAccount"},
                                {"id": 502, "status": "done", "function": "setAccount"}], headers=paged()),
    ])
    plan = choices.plan_mailbox_connectors(exchange, ["a@x.ovh", "B@x.ovh"], "relay", exclusive=True)
    assert [(c.key, c.before, c.after) for c in plan.to_change] == [("a@x.ovh", 0, 29), ("c@x.ovh", 29, 0)]
    plan.apply(TaskWaiter(exchange, 60, sleep=lambda s: None), True)
    sdk.assert_done()
    result = plan.result(True)
    assert result["counts"] == {"bound": 1, "unbound": 1, "unchanged": 1, "skipped": 0, "failed": 0, "not_attempted": 0}
    assert result["task_ids"] == [501, 502]
    assert plan.diff() == {"before": {"a@x.ovh": "the platform's own server (0)", "c@x.ovh": "relay (29)"},
                           "after": {"a@x.ovh": "relay (29)", "c@x.ovh": "the platform's own server (0)"}}
    assert plan.failure() is None


def test_every_input_problem_is_named_before_any_write():
    exchange, sdk = fake_exchange([
        connectors_read(),
        expect("GET", "/account", [account("a@x.ovh")], headers=paged()),
        expect("GET", "/domain", ["x.ovh"]),
    ])
    with pytest.raises(InputError) as raised:
        choices.plan_mailbox_connectors(exchange, ["a@x.ovh", "A@X.ovh", "ghost@x.ovh", "info@elsewhere.ovh", ""],
                                        "nope", state="absent", exclusive=True)
    sdk.assert_done()
    problems = raised.value.problems
    assert problems[0] == "A@X.ovh is listed twice in accounts (items 0 and 1)"
    assert problems[1] == "accounts[4] is empty"
    assert "exclusive=true goes with state=present only" in problems[2]
    assert problems[3].startswith("no send connector has the name or id 'nope'")
    assert problems[4] == "ghost@x.ovh: no such mailbox on platform private-zz111111-1"
    assert problems[5].startswith("info@elsewhere.ovh: elsewhere.ovh is not a domain of platform private-zz111111-1")
    assert len(problems) == 6


def test_a_refused_write_and_a_failed_task_are_reported_per_mailbox():
    exchange, sdk = fake_exchange([
        connectors_read(),
        expect("GET", "/account", [account("a@x.ovh"), account("b@x.ovh"), account("c@x.ovh")],
               headers=paged(filters=named("a@x.ovh", "b@x.ovh", "c@x.ovh"))),
        expect("PUT", "/account/a%40x.ovh", None, body={"sendConnectorId": 29}),
        expect("PUT", "/account/b%40x.ovh", {"message": "sendConnectorId 29 is not allowed"}, status=400,
               body={"sendConnectorId": 29}),
        expect("PUT", "/account/c%40x.ovh", None, body={"sendConnectorId": 29}),
        expect("GET", "/account", [account("a@x.ovh", 0, 601), account("c@x.ovh", 0, 602)],
               headers=paged(filters=named("a@x.ovh", "c@x.ovh"))),
        expect("GET", "/task", [{"id": 601, "status": "error", "function": "setAccount"},
                                {"id": 602, "status": "done", "function": "setAccount"}], headers=paged()),
        # The waiter stops at the first failed task; the others are polled again, not given up.
        expect("GET", "/task", [{"id": 602, "status": "done", "function": "setAccount"}], headers=paged()),
        # The failed one is read back, to report it as it is.
        expect("GET", "/account", [account("a@x.ovh")], headers=paged(filters=named("a@x.ovh"))),
    ])
    plan = choices.plan_mailbox_connectors(exchange, ["a@x.ovh", "b@x.ovh", "c@x.ovh"], "29")
    plan.apply(TaskWaiter(exchange, 60, sleep=lambda s: None), True)
    sdk.assert_done()
    result = plan.result(True)
    assert result["counts"] == {"bound": 1, "unbound": 0, "unchanged": 0, "skipped": 0, "failed": 2, "not_attempted": 0}
    assert result["changed"] is True
    by_account = dict((item["account"], item) for item in result["accounts"])
    assert "task 601 (setAccount) ended with status 'error': a@x.ovh still uses the platform's own server (0)" in \
        by_account["a@x.ovh"]["error"]
    assert "sendConnectorId 29 is not allowed" in by_account["b@x.ovh"]["error"]
    assert by_account["b@x.ovh"]["after"] == {"id": 0, "name": None}
    assert by_account["c@x.ovh"]["status"] == "bound"
    assert plan.failure().startswith("2 of 3 mailboxes could not be changed (1 changed): a@x.ovh: ")


def test_domain_defaults_with_plain_ids_use_batch_reads():
    exchange, sdk = fake_exchange([
        expect("GET", "/sendConnector", [29], headers=paged()),
        expect("GET", "/sendConnector/29", RELAY),
        *plain_ids("/domain", ["x.ovh", "y.ovh", "z.ovh"]),
        expect("GET", "/domain/x.ovh,y.ovh", [{"key": "x.ovh", "value": {"name": "x.ovh", "sendConnectorIdDefault": 0}},
                                              {"key": "y.ovh", "value": {"name": "y.ovh", "sendConnectorIdDefault": 29}}],
               headers={"X-Ovh-Batch": ","}),
    ])
    plan = choices.plan_domain_defaults(exchange, ["x.ovh", "y.ovh"], "relay")
    sdk.assert_done()
    assert plan.strategy == "batch"
    assert [(c.key, c.before, c.after) for c in plan.choices] == [("x.ovh", 0, 29), ("y.ovh", 29, 29)]
    assert plan.result(False)["counts"] == {"set": 1, "reset": 0, "unchanged": 1, "failed": 0, "not_attempted": 0}


def test_a_refusal_of_the_credentials_stops_the_bulk_write_with_one_message():
    exchange, sdk = fake_exchange([
        connectors_read(),
        expect("GET", "/account", [account("a@x.ovh"), account("b@x.ovh"), account("c@x.ovh")],
               headers=paged(filters=named("a@x.ovh", "b@x.ovh", "c@x.ovh"))),
        expect("PUT", "/account/a%40x.ovh", {"message": "This call has not been granted"}, status=403,
               body={"sendConnectorId": 29}),
    ])
    plan = choices.plan_mailbox_connectors(exchange, ["a@x.ovh", "b@x.ovh", "c@x.ovh"], "relay")
    plan.apply(TaskWaiter(exchange, 60, sleep=lambda s: None), True)
    sdk.assert_done()  # one PUT, no other write, no read-back
    result = plan.result(True)
    assert result["counts"] == {"bound": 0, "unbound": 0, "unchanged": 0, "skipped": 0, "failed": 1, "not_attempted": 2}
    assert result["changed"] is False
    assert [item["status"] for item in result["accounts"]] == ["failed", "not_attempted", "not_attempted"]
    message = plan.failure()
    assert message.startswith("3 of 3 mailboxes could not be changed (0 changed): 1 failed, 2 not attempted, because ")
    assert message.count("/account/*") == 1 and "/account/a%40x.ovh" in message


def test_a_cancel_leaves_the_writes_not_started_as_not_attempted():
    from ansible_collections.ovhcloud.exchange.plugins.module_utils._cancel import Cancellation

    cancellation = Cancellation()
    exchange, sdk = fake_exchange([
        connectors_read(),
        expect("GET", "/account", [account("a@x.ovh"), account("b@x.ovh")], headers=paged(filters=named("a@x.ovh", "b@x.ovh"))),
    ])
    exchange.client.cancellation = cancellation
    plan = choices.plan_mailbox_connectors(exchange, ["a@x.ovh", "b@x.ovh"], "relay")
    cancellation.cancel("received SIGINT")
    plan.apply(TaskWaiter(exchange, 60, sleep=lambda s: None), True)
    sdk.assert_done()  # nothing written after the cancel
    assert plan.result(True)["counts"]["not_attempted"] == 2
    assert "because" in plan.failure() and "received SIGINT" in plan.failure()


def waiter(exchange, timeout=60):
    return TaskWaiter(exchange, timeout, sleep=lambda s: None, clock=FakeClock(), interval=1.0, max_interval=4.0)


class FakeClock:
    """Each reading moves one second on: a timeout is reached after that many polls."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        self.now += 1.0
        return self.now


def test_a_write_that_shows_late_is_read_again_not_reported_failed():
    exchange, sdk = fake_exchange([
        connectors_read(),
        expect("GET", "/account", [account("a@x.ovh")], headers=paged(filters=named("a@x.ovh"))),
        expect("PUT", "/account/a%40x.ovh", None, body={"sendConnectorId": 29}),
        # Right after the PUT: the old value and no task (the write is not visible yet), twice.
        expect("GET", "/account", [account("a@x.ovh")], headers=paged(filters=named("a@x.ovh"))),
        expect("GET", "/account", [account("a@x.ovh")], headers=paged(filters=named("a@x.ovh"))),
        expect("GET", "/account", [account("a@x.ovh", 0, 701)], headers=paged(filters=named("a@x.ovh"))),
        expect("GET", "/task", [{"id": 701, "status": "done", "function": "setAccount"}], headers=paged()),
    ])
    plan = choices.plan_mailbox_connectors(exchange, ["a@x.ovh"], "relay")
    plan.apply(waiter(exchange), True)
    sdk.assert_done()
    assert plan.failure() is None and plan.result(True)["task_ids"] == [701]


def test_a_write_that_never_shows_fails_after_wait_timeout():
    never = expect("GET", "/account", [account("a@x.ovh")], headers=paged(filters=named("a@x.ovh")))
    exchange, sdk = fake_exchange([
        connectors_read(),
        never,
        expect("PUT", "/account/a%40x.ovh", None, body={"sendConnectorId": 29}),
        never, never, never,
    ])
    plan = choices.plan_mailbox_connectors(exchange, ["a@x.ovh"], "relay")
    plan.apply(waiter(exchange, timeout=3), True)
    sdk.assert_done()
    assert "after wait_timeout=3s a@x.ovh still uses the platform's own server (0) and shows no task" in plan.failure()


def test_a_task_that_failed_before_the_read_back_is_found_in_the_task_list():
    """A failed task releases the mailbox, so one that failed before the read back looks like a late write: the
    failed setAccount tasks created since the writes began (the API's Date header) are read, not wait_timeout waited.
    Task 650 failed an hour earlier (another run): it is not taken for this write's."""
    read = expect("GET", "/account", [account("a@x.ovh")], headers=paged(filters=named("a@x.ovh")))
    exchange, sdk = fake_exchange([
        connectors_read(),
        expect("GET", "/account", [account("a@x.ovh")], headers=paged(filters=named("a@x.ovh")),
               response_headers={"Date": "Fri, 27 Nov 2026 10:00:00 GMT"}),
        expect("PUT", "/account/a%40x.ovh", None, body={"sendConnectorId": 29}),
        read,
        read,
        listing("/task", [{"id": 650, "status": "error", "function": "setAccount", "todoDate": "2026-11-27T10:00:00+01:00"},
                          {"id": 701, "status": "error", "function": "setAccount", "todoDate": "2026-11-27T11:00:01+01:00"}],
                "function:eq=setAccount&status:in=error,cancelled"),
    ])
    plan = choices.plan_mailbox_connectors(exchange, ["a@x.ovh"], "relay")
    plan.apply(waiter(exchange, timeout=600), True)
    sdk.assert_done()
    [item] = plan.result(True)["accounts"]
    assert item["status"] == "failed"
    assert item["error"] == ("task 701 (setAccount) ended with status 'error' before it could be read back: a@x.ovh "
                             "still uses the platform's own server (0); run again to retry")


def test_a_domain_default_changed_without_a_task_is_done():
    # No public source says whether changeDefaultSBR queues a task: the new value alone is enough.
    exchange, sdk = fake_exchange([
        connectors_read(),
        expect("GET", "/domain", [{"name": "x.ovh", "sendConnectorIdDefault": 0, "taskPendingId": 0}], headers=paged()),
        expect("PUT", "/domain/x.ovh/changeDefaultSBR", None, body={"sendConnectorIdDefault": 29}),
        expect("GET", "/domain", [{"name": "x.ovh", "sendConnectorIdDefault": 29, "taskPendingId": 0}], headers=paged()),
    ])
    plan = choices.plan_domain_defaults(exchange, ["x.ovh"], "relay")
    plan.apply(waiter(exchange), True)
    sdk.assert_done()
    assert plan.failure() is None and plan.result(True)["counts"]["set"] == 1 and plan.result(True)["task_ids"] == []


def test_a_failed_task_that_ovh_retried_is_reported_as_done():
    exchange, sdk = fake_exchange([
        connectors_read(),
        expect("GET", "/account", [account("a@x.ovh")], headers=paged(filters=named("a@x.ovh"))),
        expect("PUT", "/account/a%40x.ovh", None, body={"sendConnectorId": 29}),
        expect("GET", "/account", [account("a@x.ovh", 0, 601)], headers=paged(filters=named("a@x.ovh"))),
        expect("GET", "/task", [{"id": 601, "status": "error", "function": "setAccount"}], headers=paged()),
        # Read back: the change is there (OVH retried the task).
        expect("GET", "/account", [account("a@x.ovh", 29)], headers=paged(filters=named("a@x.ovh"))),
    ])
    plan = choices.plan_mailbox_connectors(exchange, ["a@x.ovh"], "relay")
    plan.apply(waiter(exchange), True)
    sdk.assert_done()
    result = plan.result(True)
    assert plan.failure() is None and result["counts"]["bound"] == 1
    assert result["accounts"][0]["note"] == ("task 601 (setAccount) ended with status 'error', yet a@x.ovh shows the "
                                             "change (OVH retried it)")
