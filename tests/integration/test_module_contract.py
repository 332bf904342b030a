"""Every API module, called twice with the same options: the second call changes nothing and writes nothing.

Run through pytest-ansible (tests/pytest_ansible_support.py), in-process, against the simulator.
"""
from __future__ import annotations

import pytest

from shared_constants import PLATFORM as PLATFORM_NAME

pytestmark = pytest.mark.integration

PLATFORM = {"organization": PLATFORM_NAME}
CONNECTOR = {"name": "contract-relay", "smart_host": "relay.example.com", "port": 587, "require_tls": True}

# (module, options, setup calls made first); each entry converges something, then must be idempotent.
CASES = [
    ("exchange_send_connector", CONNECTOR, []),
    ("exchange_account_connector", {"connector": "contract-relay", "accounts": ["newsletter@mydomain.ovh", "sales@mydomain.ovh"]},
     [("exchange_send_connector", CONNECTOR)]),
    ("exchange_account_connector", {"connector": 0, "accounts": ["newsletter@mydomain.ovh"]},
     [("exchange_send_connector", CONNECTOR),
      ("exchange_account_connector", {"connector": "contract-relay", "accounts": ["newsletter@mydomain.ovh"]})]),
    ("exchange_domain_default_sbr", {"domain": "guides.ovh", "connector": "contract-relay"}, [("exchange_send_connector", CONNECTOR)]),
    ("exchange_send_connector", dict(CONNECTOR, state="absent", force=True),
     [("exchange_send_connector", CONNECTOR), ("exchange_domain_default_sbr", {"domain": "guides.ovh", "connector": "contract-relay"})]),
]


@pytest.mark.parametrize("module, options, setup", CASES,
                         ids=["create-connector", "bind", "bind-to-platform-server", "domain-default", "delete-with-force"])
def test_second_call_changes_nothing_and_writes_nothing(call_module, sim, module, options, setup):
    for setup_module, setup_options in setup:
        assert not call_module(setup_module, **PLATFORM, **setup_options).get("failed")
    first = call_module(module, **PLATFORM, **options)
    assert not first.get("failed"), first.get("msg")
    assert first["changed"] is True

    writes = sim.stats()["writes"]
    second = call_module(module, **PLATFORM, **options)
    assert not second.get("failed"), second.get("msg")
    assert second["changed"] is False
    assert sim.stats()["writes"] == writes


def test_info_module_is_read_only_and_sees_every_binding(call_module, sim):
    created = call_module("exchange_send_connector", **PLATFORM, **CONNECTOR)
    call_module("exchange_account_connector", **PLATFORM, connector=created["id"], accounts=["sales@mydomain.ovh"])
    writes = sim.stats()["writes"]

    info = call_module("exchange_send_connector_info", **PLATFORM, connector="contract-relay")
    assert not info.get("failed"), info.get("msg")
    assert info["changed"] is False
    assert sim.stats()["writes"] == writes
    [connector] = info["connectors"]
    assert connector["id"] == created["id"]
    assert "sales@mydomain.ovh" in str(connector)
