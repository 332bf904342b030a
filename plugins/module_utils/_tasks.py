# -*- coding: utf-8 -*-
# Copyright (c) 2026 ovhcloud.exchange contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""PRIVATE: waiting for OVH Exchange tasks. May change at any time without notice.

Exchange writes are asynchronous: they queue a task (todo -> doing -> done; error and cancelled are
final failures). The waiter follows many tasks at once through the service's task list
(`GET .../task` read as full objects by the bulk layer), and reads a task by id only when the list
does not hold it (finished tasks may leave it, or be purged: a 404 then means done).
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import time

from ansible_collections.ovhcloud.exchange.plugins.module_utils import _bulk
from ansible_collections.ovhcloud.exchange.plugins.module_utils._client import OvhApiError

PENDING_STATUSES = ("init", "todo", "doing")
FAILED_STATUSES = ("error", "cancelled")


class TaskError(Exception):
    """A wait that did not end well; `.tasks` is the result so far ({id: task})."""

    def __init__(self, message, tasks):
        super(TaskError, self).__init__(message)
        self.tasks = tasks


class TaskFailed(TaskError):
    pass


class TaskTimeout(TaskError):
    pass


def _by_id(tasks):
    return dict((int(task["id"]), task) for task in tasks if isinstance(task, dict) and task.get("id"))


def _describe(task):
    return "{0} (task {1})".format(task.get("function") or "task", task.get("id"))


class TaskWaiter:
    """Wait for Exchange tasks with a monotonic deadline; sleep and clock are injectable for tests."""

    def __init__(self, client, timeout, sleep=time.sleep, clock=time.monotonic, interval=1.0, max_interval=10.0,
                 read_many=None):
        self.client = client
        # read_many(ids) -> {id: task}: reads several tasks that left the list at once (e.g. batch GETs).
        self.read_many = read_many
        self.timeout = timeout
        self.sleep = sleep
        self.clock = clock
        self.interval = interval
        self.max_interval = max_interval
        self.waited = []

    def wait(self, task_ids):
        """Wait until every task is done; returns {id: task}. Raises TaskFailed or TaskTimeout."""
        ids = []
        for task_id in task_ids:
            if task_id and int(task_id) not in ids:
                ids.append(int(task_id))
        self.waited.extend(task_id for task_id in ids if task_id not in self.waited)
        tasks = dict((task_id, {"id": task_id, "status": "todo"}) for task_id in ids)
        pending = list(ids)
        deadline = self.clock() + self.timeout
        interval = self.interval
        while pending:
            self.sleep(max(0.0, min(interval, deadline - self.clock())))
            for task_id, task in self._poll(pending).items():
                tasks[task_id] = task
                status = task.get("status")
                if status in FAILED_STATUSES:
                    raise TaskFailed(
                        "OVH task {0} ended with status {1!r}; the change it carried was not applied (see the task "
                        "in the OVH control panel, fix the cause and run again)".format(_describe(task), status), tasks)
                if status not in PENDING_STATUSES:
                    pending.remove(task_id)
            if pending and self.clock() >= deadline:
                raise TaskTimeout(
                    "timed out after {0}s waiting for OVH task(s) {1}; they may still complete: raise wait_timeout, or "
                    "run again later".format(self.timeout, ", ".join(_describe(tasks[t]) for t in pending)), tasks)
            interval = min(self.max_interval, interval * 1.5)
        return tasks

    def _poll(self, pending):
        """The current state of the pending tasks: one read of the task list when the gateway pages objects."""
        path = self.client.service_path("task")
        listed, dummy = _bulk.list_objects(self.client, path, lambda key: self.client.service_path("task", key),
                                           key="id", only=pending)
        found = _by_id(listed)
        gone = [task_id for task_id in pending if task_id not in found]
        if gone and self.read_many is not None:
            read = self.read_many(gone)
            found.update(_by_id(read.values() if isinstance(read, dict) else read))
            # Unreadable after leaving the pending list: purged, so done.
            found.update((task_id, {"id": task_id, "status": "done"}) for task_id in gone if task_id not in found)
        for task_id in gone:
            if task_id not in found:
                found[task_id] = self._read(task_id)
        return found

    def _read(self, task_id):
        try:
            task = self.client.get(self.client.service_path("task", task_id))
        except OvhApiError as error:
            if error.kind == "not_found":
                # Finished tasks may be purged: gone from the pending list and unreadable means done.
                return {"id": task_id, "status": "done"}
            raise
        return task if isinstance(task, dict) else {"id": task_id, "status": "done"}

    def wait_idle(self, object_path, pending_field="taskPendingId"):
        """Read an object; if a task is pending on it, wait for that task and read it again. Returns the object."""
        current = self.client.get(object_path)
        task_id = current.get(pending_field) if isinstance(current, dict) else None
        if not task_id:
            return current
        self.wait([task_id])
        return self.client.get(object_path)
