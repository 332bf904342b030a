"""The task waiter on a fake clock: many tasks through the task list, failures, timeouts."""
from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import pytest

from ansible_collections.ovhcloud.exchange.plugins.module_utils._tasks import TaskFailed, TaskTimeout, TaskWaiter
from ansible_collections.ovhcloud.exchange.tests.unit.plugins.module_utils.scripted_http import (
    BATCH, Step, fake_exchange, listing, plain_ids)


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
    clock = FakeClock()
    exchange, sdk = fake_exchange(steps, parallel=1, attempts=1, sleep=clock.sleep)
    return TaskWaiter(exchange, timeout, sleep=clock.sleep, clock=clock, interval=1.0, max_interval=4.0), sdk, clock


def task(task_id, status, function="addSendConnector"):
    return {"id": task_id, "status": status, "function": function, "todoDate": "2026-01-01T00:00:00+01:00"}


def tasks(*listed):
    """GET .../task read as one page of full objects."""
    return listing("/task", list(listed))


def statuses(result):
    return dict((task_id, (found.status, found.function)) for task_id, found in result.items())


def test_many_tasks_are_followed_with_one_request_per_poll():
    waiter, sdk, clock = make([
        tasks(task(11, "todo"), task(12, "todo"), task(99, "doing", "setAccount")),
        tasks(task(11, "done"), task(12, "doing"), task(99, "doing", "setAccount")),
        tasks(task(99, "done", "setAccount")),
        Step("GET", "/task/12", status=404, data={"message": "The requested object (id = 12) does not exist"}),
    ])
    result = waiter.wait([11, 12, 11])
    assert statuses(result) == {11: ("done", "addSendConnector"), 12: ("done", None)}
    assert result[11].api == task(11, "done")
    assert clock.sleeps == [1.0, 1.5, 2.25]
    sdk.assert_done()


def test_a_gateway_that_lists_plain_ids_gets_batch_reads_of_the_pending_tasks():
    waiter, sdk, dummy_clock = make([
        *plain_ids("/task", [11, 12, 99]),
        Step("GET", "/task/11,12", data=[task(11, "doing"), task(12, "done")], request_headers=BATCH),
        # Plain ids remembered: the next poll reads the plain list straight away.
        Step("GET", "/task", data=[11, 99], request_headers={}),
        Step("GET", "/task/11", data=task(11, "done"), request_headers={}),  # one key: a plain GET
    ])
    assert {k: v.status for k, v in waiter.wait([11, 12]).items()} == {11: "done", 12: "done"}
    sdk.assert_done()


def test_tasks_that_left_the_list_are_read_together_and_a_purged_one_is_done():
    waiter, sdk, dummy_clock = make([
        tasks(task(99, "doing", "setAccount")),
        Step("GET", "/task/11,12", data=[{"key": 11, "value": task(11, "done")}, {"key": 12, "error": "not found"}],
             request_headers=BATCH),
    ])
    assert statuses(waiter.wait([11, 12])) == {11: ("done", "addSendConnector"), 12: ("done", None)}
    sdk.assert_done()


def test_no_task_no_request():
    waiter, sdk, dummy_clock = make([])
    assert waiter.wait([]) == {}
    assert waiter.wait([0, None]) == {}
    assert sdk.requests == []


@pytest.mark.parametrize("status", ["error", "cancelled"])
def test_a_failed_task_names_its_function_and_id(status):
    waiter, dummy_sdk, dummy_clock = make([tasks(task(11, status, "deleteSendConnector"))])
    with pytest.raises(TaskFailed) as caught:
        waiter.wait([11])
    assert "deleteSendConnector (task 11)" in str(caught.value) and repr(status) in str(caught.value)
    assert caught.value.tasks[11].status == status


def test_timeout_returns_the_partial_result_and_never_sleeps_past_the_deadline():
    waiter, dummy_sdk, clock = make([
        tasks(task(11, "todo"), task(12, "done", "setAccount")),
        tasks(task(11, "doing")),
        tasks(task(11, "doing")),
    ], timeout=3)
    with pytest.raises(TaskTimeout) as caught:
        waiter.wait([11, 12])
    assert caught.value.tasks[12].status == "done"
    assert caught.value.tasks[11].status == "doing"
    assert "addSendConnector (task 11)" in str(caught.value) and "task 12" not in str(caught.value)
    assert clock.sleeps == [1.0, 1.5, 0.5]
    assert clock.now == 1003.0


def test_wait_for_all_goes_on_after_a_failed_task():
    waiter, sdk, dummy_clock = make([
        tasks(task(601, "error", "setAccount"), task(602, "doing", "setAccount")),
        tasks(task(602, "done", "setAccount")),
    ])
    assert statuses(waiter.wait_for_all([601, 602])) == {601: ("error", "setAccount"), 602: ("done", "setAccount")}
    sdk.assert_done()
