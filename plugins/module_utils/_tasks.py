# -*- coding: utf-8 -*-
# Copyright (c) 2026 ovhcloud.exchange contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""PRIVATE: waiting for OVH Exchange tasks. May change at any time without notice.

Exchange writes are asynchronous: they queue a task (todo -> doing -> done; error and cancelled are
final failures). The waiter follows many tasks at once through the service's task list, and reads the
tasks that left it in batches (finished tasks may leave it, or be purged: unreadable then means done).
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import time

PENDING_STATUSES = ("init", "todo", "doing")
FAILED_STATUSES = ("error", "cancelled")


class TaskError(Exception):
    """A wait that did not end well; `.tasks` is the result so far ({id: Task})."""

    def __init__(self, message, tasks):
        super(TaskError, self).__init__(message)
        self.tasks = tasks


class TaskFailed(TaskError):
    pass


class TaskTimeout(TaskError):
    pass


def describe(task):
    return "{0} (task {1})".format(task.function or "task", task.id)


class TaskWaiter:
    """Wait for Exchange tasks with a monotonic deadline; sleep and clock are injectable for tests.

    Polls after ``interval`` seconds, then 1.5 times longer each time up to ``max_interval``: the first poll comes
    soon because the tasks still running after a bulk write are its last few (the older ones have ended), and the
    role waits once per chunk; a long task costs one poll more than starting at 1 s would.
    """

    def __init__(self, exchange, timeout, sleep=time.sleep, clock=time.monotonic, interval=0.5, max_interval=10.0):
        self.exchange = exchange
        self.timeout = timeout
        self.sleep = sleep
        self.clock = clock
        self.interval = interval
        self.max_interval = max_interval

    def wait(self, task_ids):
        """Wait until every task is done; returns {id: Task}. Raises TaskFailed or TaskTimeout."""
        ids = []
        for task_id in task_ids:
            if task_id and int(task_id) not in ids:
                ids.append(int(task_id))
        tasks = {}
        pending = list(ids)
        deadline = self.clock() + self.timeout
        interval = self.interval
        while pending:
            self.sleep(max(0.0, min(interval, deadline - self.clock())))
            for task_id, task in self._poll(pending).items():
                tasks[task_id] = task
                if task.status in FAILED_STATUSES:
                    raise TaskFailed(
                        "OVH task {0} ended with status {1!r}; the change it carried was not applied (see the task "
                        "in the OVH control panel, fix the cause and run again)".format(describe(task), task.status), tasks)
                if task.status not in PENDING_STATUSES:
                    pending.remove(task_id)
            if pending and self.clock() >= deadline:
                raise TaskTimeout(
                    "timed out after {0}s waiting for OVH task(s) {1}; they may still complete: raise wait_timeout, or "
                    "run again later".format(self.timeout, ", ".join(
                        describe(tasks[t]) if t in tasks else "task {0}".format(t) for t in pending)), tasks)
            interval = min(self.max_interval, interval * 1.5)
        return tasks

    def until(self, read, settled):
        """Call ``read()`` at the task polls' pace until ``settled(value)`` holds or the timeout passes; returns
        (the last value, whether it settled). For writes that show late: neither their task nor their values yet."""
        deadline = self.clock() + self.timeout
        interval = self.interval
        while True:
            self.sleep(max(0.0, min(interval, deadline - self.clock())))
            value = read()
            if settled(value):
                return value, True
            if self.clock() >= deadline:
                return value, False
            interval = min(self.max_interval, interval * 1.5)

    def wait_for_all(self, task_ids):
        """{id: Task} for every task: a failed task does not stop the wait for the others; a timeout ends it."""
        tasks = {}
        remaining = list(task_ids)
        while remaining:
            try:
                tasks.update(self.wait(remaining))
                return tasks
            except TaskTimeout as error:
                tasks.update(error.tasks)
                return tasks
            except TaskFailed as error:
                tasks.update(error.tasks)
                remaining = [task_id for task_id in remaining
                             if task_id not in tasks or tasks[task_id].status in PENDING_STATUSES]
        return tasks

    def _poll(self, pending):
        """The current state of the pending tasks: the task list, then the ones that left it."""
        found = self.exchange.pending_tasks(pending)
        gone = [task_id for task_id in pending if task_id not in found]
        if gone:
            found.update(self.exchange.tasks(gone))
        return found
