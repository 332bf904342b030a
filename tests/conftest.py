"""Shared fixtures: the simulator, playbook runs, module calls. Helpers are in tests/testlib.py."""
from __future__ import annotations

import pytest

# A fixture, imported for pytest to find: the only use of pytest-ansible.
try:  # plain pytest puts this folder on sys.path (this file's folder has no __init__.py)
    from pytest_ansible_support import call_module  # noqa: F401  # pylint: disable=unused-import
    from testlib import run_ansible_playbook
except ImportError:  # `ansible-test units` imports this file through Ansible's collection loader
    from ansible_collections.ovhcloud.exchange.tests.pytest_ansible_support import call_module  # noqa: F401  # pylint: disable=unused-import
    from ansible_collections.ovhcloud.exchange.tests.testlib import run_ansible_playbook


@pytest.fixture(scope="session")
def simulator():
    """One simulator process for the session (fast task completion); reset it with the `sim` fixture."""
    from ovh_api_sim.testing import SimulatorProcess

    with SimulatorProcess(args=["--task-seconds", "0.2"]) as process:
        yield process


@pytest.fixture
def sim(simulator):
    """The session simulator, reset to its seed with zeroed statistics and no faults."""
    simulator.reset()
    return simulator


@pytest.fixture
def run_playbook(tmp_path, sim):
    """run_playbook(yaml_or_path, *ansible_args, env={...}): ansible-playbook against the simulator."""

    def _run(playbook, *args, env=None):
        return run_ansible_playbook(playbook, tmp_path, env={**sim.env, **(env or {})}, args=args)

    return _run
