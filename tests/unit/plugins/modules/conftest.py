"""Run an API module's main() in-process over the scripted HTTP boundary, the way Ansible would."""
from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json

import pytest

from ansible_collections.ovhcloud.exchange.plugins.module_utils import _runner
from ansible_collections.ovhcloud.exchange.plugins.module_utils._client import OvhClient
from ansible_collections.ovhcloud.exchange.plugins.module_utils._tasks import TaskWaiter
from ansible_collections.ovhcloud.exchange.tests.unit.module_runner import module_result, patch_module_args
from ansible_collections.ovhcloud.exchange.tests.unit.plugins.module_utils.scripted_http import ORG, SECRET, ScriptedSdk

CREDENTIALS = {"endpoint": "ovh-eu", "application_key": "unit-test-ak", "application_secret": "unit-test-as",
               "consumer_key": "unit-test-ck", "organization": ORG}


@pytest.fixture
def api(monkeypatch, capsys):
    """api(module, args, steps, check=False, diff=False) -> (result, sdk): steps are every request expected, in order."""
    clock = [0.0]
    sleeps = []

    def fake_sleep(seconds):
        sleeps.append(seconds)
        clock[0] += seconds

    monkeypatch.setattr(_runner, "TaskWaiter", lambda exchange, timeout: TaskWaiter(
        exchange, timeout, sleep=fake_sleep, clock=lambda: clock[0], interval=1.0, max_interval=10.0))

    def run(module, args, steps, check=False, diff=False):
        sdk = ScriptedSdk(steps)
        monkeypatch.setattr(_runner, "connect", lambda options, warn=None: OvhClient(sdk, sleep=fake_sleep, warn=warn))
        with patch_module_args(dict(CREDENTIALS, **args, _ansible_check_mode=check, _ansible_diff=diff)):
            with pytest.raises(SystemExit):
                module.main()
        out = capsys.readouterr().out
        assert SECRET not in out.replace('"_ansible_new_secrets"', "")  # 2.22 hands no_log values to the controller
        result = module_result(out)
        assert SECRET not in json.dumps(result)
        sdk.assert_done()
        return result, sdk

    run.sleeps = sleeps
    return run
