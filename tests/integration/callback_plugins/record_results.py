# Test-only callback: writes every task result as one JSON line to $RECORD_RESULTS_FILE, so that
# integration tests read structured results (what the module returned, after no_log censoring)
# instead of scraping the console output.
from __future__ import annotations

DOCUMENTATION = """
name: record_results
type: aggregate
short_description: write task results as JSON lines (tests only)
description: Writes every task result to the file named by E(RECORD_RESULTS_FILE).
requirements: [enable in configuration]
"""

import json
import os
import time

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "record_results"
    CALLBACK_NEEDS_ENABLED = True

    def _record(self, result, status):
        path = os.environ.get("RECORD_RESULTS_FILE")
        if not path:
            return
        task = result._task
        entry = {
            "task": task.get_name(),
            "action": task.action,
            "host": result._host.get_name(),
            "status": status,
            "result": result._result,
            "time": time.time(),  # when the result arrived: tests tie the simulator's request log to tasks
        }
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry, default=str) + "\n")

    def v2_runner_on_ok(self, result):
        self._record(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, "failed")

    def v2_runner_on_skipped(self, result):
        self._record(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._record(result, "unreachable")
