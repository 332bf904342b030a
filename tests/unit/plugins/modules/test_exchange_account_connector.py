"""exchange_account_connector through its main(), with every HTTP request expected, in order."""
from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible_collections.ovhcloud.exchange.plugins.modules import exchange_account_connector
from ansible_collections.ovhcloud.exchange.tests.unit.plugins.module_utils.scripted_http import Step, listing, named

RELAY = {"id": 29, "displayName": "relay", "state": "ok", "taskPendingId": 0}


def account(address, connector=0, task=0):
    return {"primaryEmailAddress": address, "sendConnectorId": connector, "taskPendingId": task}


def test_binds_only_what_differs_and_waits_for_the_tasks(api):
    result, sdk = api(exchange_account_connector, {"accounts": ["a@x.ovh", "b@x.ovh"], "connector": "relay"}, [
        listing("/sendConnector", [RELAY]),
        listing("/account", [account("a@x.ovh"), account("b@x.ovh", 29)], named("a@x.ovh", "b@x.ovh")),
        Step("PUT", "/account/a%40x.ovh", data=None, body={"sendConnectorId": 29}),
        listing("/account", [account("a@x.ovh", 0, 501)], named("a@x.ovh")),
        listing("/task", [{"id": 501, "status": "done", "function": "setAccount"}]),
    ], diff=True)
    assert result["changed"] is True and "failed" not in result
    assert result["counts"] == {"bound": 1, "unbound": 0, "unchanged": 1, "skipped": 0, "failed": 0, "not_attempted": 0}
    assert result["task_ids"] == [501]
    assert result["diff"] == {"before": {"a@x.ovh": "the platform's own server (0)"}, "after": {"a@x.ovh": "relay (29)"}}
    assert result["api_calls"] == {"total": 5, "by_method": {"GET": 4, "PUT": 1}, "retries": 0}


def test_check_mode_reads_and_writes_nothing(api):
    result, sdk = api(exchange_account_connector, {"account": "a@x.ovh", "connector": "29"}, [
        listing("/sendConnector", [RELAY]),
        listing("/account", [account("a@x.ovh")], named("a@x.ovh")),
    ], check=True)
    assert result["changed"] is True and result["accounts"][0]["status"] == "bound"
    assert sdk.writes() == [] and "diff" not in result


def test_the_platform_server_is_connector_0_and_a_rerun_changes_nothing(api):
    result, sdk = api(exchange_account_connector, {"account": "a@x.ovh", "connector": "0"}, [
        listing("/sendConnector", [RELAY]),
        listing("/account", [account("a@x.ovh")], named("a@x.ovh")),
    ])
    assert result["changed"] is False and result["connector"] == {"id": 0, "name": None}
    assert sdk.writes() == []


def test_bad_bulk_options_fail_before_any_request(api):
    result, sdk = api(exchange_account_connector, {"account": "a@x.ovh", "connector": "relay", "parallel": 0,
                                                   "max_requests_per_second": -1}, [])
    assert result["failed"] and len(result["problems"]) == 2 and "parallel must be 1 or more" in result["msg"]
    assert sdk.requests == []


def test_a_refused_write_fails_the_module_with_the_whole_result(api):
    result, sdk = api(exchange_account_connector, {"accounts": ["a@x.ovh"], "connector": "relay", "wait": False}, [
        listing("/sendConnector", [RELAY]),
        listing("/account", [account("a@x.ovh")], named("a@x.ovh")),
        Step("PUT", "/account/a%40x.ovh", status=409, data={"message": "a task is running"}, body={"sendConnectorId": 29}),
    ])
    assert result["failed"] and result["msg"].startswith("1 of 1 mailboxes could not be changed (0 changed)")
    assert result["counts"]["failed"] == 1 and result["changed"] is False
