"""The task waiter on a fake clock: many tasks through the task list, failures, timeouts, idle guard."""
from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import pytest

from ansible_collections.ovhcloud.exchange.plugins.module_utils._client import ExchangeClient, RetryPolicy
from ansible_collections.ovhcloud.exchange.plugins.module_utils._tasks import TaskFailed, TaskTimeout, TaskWaiter
from ansible_collections.ovhcloud.exchange.tests.unit.plugins.module_utils.scripted_http import Step, ScriptedSdk

ORG = "private-zz111111-1"
BASE = f"/email/exchange/{ORG}/service/{ORG}"


class FakeClock:
    def __init__(self):
        self.now = 1000.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def make(steps, timeout=60):
    sdk = ScriptedSdk(steps)
    clock = FakeClock()
    client = ExchangeClient({"organization": ORG}, retry=RetryPolicy(attempts=1), sleep=clock.sleep, sdk_client=sdk)
    return TaskWaiter(client, timeout, sleep=clock.sleep, clock=clock, interval=1.0, max_interval=4.0), sdk, clock


def task(task_id, status, function="addSendConnector"):
    return {"id": task_id, "status": status, "function": function, "todoDate": "2026-01-01T00:00:00+01:00"}


PAGED = {"X-Pagination-Mode": "CachedObjectList-Pages", "X-Pagination-Size": "5000", "X-Pagination-Number": "1",
         "Pragma": "no-cache"}


def listing(*tasks):
    """GET .../task read as one page of full objects."""
    return Step("GET", BASE + "/task", data=list(tasks), request_headers=PAGED,
                headers={"X-Pagination-Elements": str(len(tasks))})


def test_many_tasks_are_followed_with_one_request_per_poll():
    waiter, sdk, clock = make([
        listing(task(11, "todo"), task(12, "todo"), task(99, "doing", "setAccount")),
        listing(task(11, "done"), task(12, "doing"), task(99, "doing", "setAccount")),
        listing(task(99, "done", "setAccount")),
        Step("GET", BASE + "/task/12", status=404, data={"message": "The requested object (id = 12) does not exist"}),
    ])
    result = waiter.wait([11, 12, 11])
    assert result == {11: task(11, "done"), 12: {"id": 12, "status": "done"}}
    assert clock.sleeps == [1.0, 1.5, 2.25]
    assert waiter.waited == [11, 12]
    sdk.assert_done()


def test_a_gateway_that_lists_plain_ids_gets_batch_reads_of_the_pending_tasks():
    waiter, sdk, dummy_clock = make([
        Step("GET", BASE + "/task", data=[11, 12, 99], request_headers=PAGED),
        Step("GET", BASE + "/task/11,12", data=[task(11, "doing"), task(12, "done")], request_headers={"X-Ovh-Batch": ","}),
        Step("GET", BASE + "/task", data=[11, 99], request_headers=PAGED),
        Step("GET", BASE + "/task/11", data=task(11, "done"), request_headers={}),  # one key: a plain GET
    ])
    assert {k: v["status"] for k, v in waiter.wait([11, 12]).items()} == {11: "done", 12: "done"}
    sdk.assert_done()


def test_read_many_reads_the_tasks_that_left_the_list_together():
    asked = []

    def read_many(ids):
        asked.append(list(ids))
        return {11: task(11, "done")}  # 12 was purged

    waiter, sdk, dummy_clock = make([listing(task(99, "doing", "setAccount"))])
    waiter.read_many = read_many
    assert waiter.wait([11, 12]) == {11: task(11, "done"), 12: {"id": 12, "status": "done"}}
    assert asked == [[11, 12]]
    sdk.assert_done()


def test_no_task_no_request():
    waiter, sdk, dummy_clock = make([])
    assert waiter.wait([]) == {}
    assert waiter.wait([0, None]) == {}
    assert sdk.requests == []


@pytest.mark.parametrize("status", ["error", "cancelled"])
def test_a_failed_task_names_its_function_and_id(status):
    waiter, dummy_sdk, dummy_clock = make([listing(task(11, status, "deleteSendConnector"))])
    with pytest.raises(TaskFailed) as caught:
        waiter.wait([11])
    assert "deleteSendConnector (task 11)" in str(caught.value) and repr(status) in str(caught.value)
    assert caught.value.tasks[11]["status"] == status


def test_timeout_returns_the_partial_result_and_never_sleeps_past_the_deadline():
    waiter, dummy_sdk, clock = make([
        listing(task(11, "todo"), task(12, "done", "setAccount")),
        listing(task(11, "doing")),
        listing(task(11, "doing")),
    ], timeout=3)
    with pytest.raises(TaskTimeout) as caught:
        waiter.wait([11, 12])
    assert caught.value.tasks[12]["status"] == "done"
    assert caught.value.tasks[11]["status"] == "doing"
    assert "addSendConnector (task 11)" in str(caught.value) and "task 12" not in str(caught.value)
    assert clock.sleeps == [1.0, 1.5, 0.5]
    assert clock.now == 1003.0


def test_wait_idle_reads_once_when_nothing_is_pending():
    waiter, sdk, clock = make([Step("GET", BASE + "/sendConnector/29", data={"id": 29, "taskPendingId": 0})])
    assert waiter.wait_idle(BASE + "/sendConnector/29") == {"id": 29, "taskPendingId": 0}
    assert clock.sleeps == []
    sdk.assert_done()


def test_wait_idle_waits_for_the_pending_task_then_reads_again():
    waiter, sdk, dummy_clock = make([
        Step("GET", BASE + "/sendConnector/29", data={"id": 29, "taskPendingId": 77}),
        listing(task(77, "done", "setSendConnector")),
        Step("GET", BASE + "/sendConnector/29", data={"id": 29, "taskPendingId": 0, "port": 587}),
    ])
    assert waiter.wait_idle(BASE + "/sendConnector/29")["port"] == 587
    assert waiter.waited == [77]
    sdk.assert_done()
