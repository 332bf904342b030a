"""The one place the tests use pytest-ansible (imported by tests/conftest.py) (retired by its maintainers in December 2026).

`call_module` runs a module of this collection through pytest-ansible's in-process host manager on
localhost, with the simulator's credentials in the environment. Swapping pytest-ansible out means
rewriting this fixture only (for example on ansible-runner's `run_command` or a one-task playbook).
"""
from __future__ import annotations

import os
import sys

from pathlib import Path

import pytest

# pytest-ansible reads Ansible's configuration when it builds its host manager: point it at this tree.
os.environ.setdefault("ANSIBLE_COLLECTIONS_PATH", str(Path(__file__).resolve().parents[1] / ".collections"))
os.environ.setdefault("ANSIBLE_PYTHON_INTERPRETER", sys.executable)


@pytest.fixture
def call_module(localhost, sim, monkeypatch):
    """call_module("exchange_send_connector", **options) -> the module's result on localhost (a dict)."""
    for name, value in sim.env.items():
        monkeypatch.setenv(name, value)

    def _call(module, **options):
        contacted = getattr(localhost, f"ovhcloud.exchange.{module}")(**options)
        return dict(contacted["localhost"])

    return _call
