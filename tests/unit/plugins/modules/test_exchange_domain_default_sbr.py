"""exchange_domain_default_sbr through its main(), with every HTTP request expected, in order."""
from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible_collections.ovhcloud.exchange.plugins.module_utils._mailbox_connectors import DEFAULT_NOTE
from ansible_collections.ovhcloud.exchange.plugins.modules import exchange_domain_default_sbr
from ansible_collections.ovhcloud.exchange.tests.unit.plugins.module_utils.scripted_http import Step, listing

RELAY = {"id": 29, "displayName": "relay", "state": "ok", "taskPendingId": 0}


def domain(name, connector=0, task=0):
    return {"name": name, "sendConnectorIdDefault": connector, "taskPendingId": task}


def test_sets_the_default_through_change_default_sbr(api):
    result, sdk = api(exchange_domain_default_sbr, {"domain": "x.ovh", "connector": "relay"}, [
        listing("/sendConnector", [RELAY]),
        listing("/domain", [domain("x.ovh")]),
        Step("PUT", "/domain/x.ovh/changeDefaultSBR", data=None, body={"sendConnectorIdDefault": 29}),
        listing("/domain", [domain("x.ovh", 0, 700)]),
        listing("/task", [{"id": 700, "status": "done", "function": "setDomain"}]),
    ])
    assert result["changed"] is True and result["note"] == DEFAULT_NOTE
    assert result["domains"] == [{"domain": "x.ovh", "before": {"id": 0, "name": None}, "after": {"id": 29, "name": "relay"},
                                  "status": "set", "task_id": 700}]


def test_absent_resets_to_the_platform_server_and_a_rerun_writes_nothing(api):
    steps = [listing("/sendConnector", [RELAY]), listing("/domain", [domain("x.ovh", 29)]),
             Step("PUT", "/domain/x.ovh/changeDefaultSBR", data=None, body={"sendConnectorIdDefault": 0}),
             listing("/domain", [domain("x.ovh", 0, 0)])]
    result, sdk = api(exchange_domain_default_sbr, {"domains": ["x.ovh"], "state": "absent", "wait": False}, steps)
    assert result["counts"] == {"set": 0, "reset": 1, "unchanged": 0, "failed": 0} and "note" not in result
    result, sdk = api(exchange_domain_default_sbr, {"domains": ["x.ovh"], "state": "absent"},
                      [listing("/sendConnector", [RELAY]), listing("/domain", [domain("x.ovh")])])
    assert result["changed"] is False and sdk.writes() == []


def test_an_unknown_domain_is_named_before_any_write(api):
    result, sdk = api(exchange_domain_default_sbr, {"domains": ["x.ovh", "nowhere.example"], "connector": "relay"}, [
        listing("/sendConnector", [RELAY]),
        listing("/domain", [domain("x.ovh")]),
        Step("GET", "/domain", data=["x.ovh"], request_headers={}),
    ])
    assert result["failed"] and result["problems"] == [
        "nowhere.example is not a domain of platform private-zz111111-1 (its domains: x.ovh)"]
    assert sdk.writes() == []
