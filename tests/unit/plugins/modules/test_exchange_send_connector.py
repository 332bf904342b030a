"""exchange_send_connector's decisions, with the exact requests expected at the HTTP boundary."""
from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json

import pytest

from ansible_collections.ovhcloud.exchange.plugins.module_utils import _client
from ansible_collections.ovhcloud.exchange.plugins.module_utils._client import ExchangeClient
from ansible_collections.ovhcloud.exchange.plugins.module_utils._connectors import check_input
from ansible_collections.ovhcloud.exchange.plugins.module_utils._tasks import TaskWaiter
from ansible_collections.ovhcloud.exchange.plugins.modules import exchange_send_connector
from ansible_collections.ovhcloud.exchange.tests.unit.module_runner import module_result, patch_module_args
from ansible_collections.ovhcloud.exchange.tests.unit.plugins.module_utils.scripted_http import ScriptedSdk, Step, reset

ORG = "private-zz111111-1"
BASE = f"/email/exchange/{ORG}/service/{ORG}"
SECRET = "s3cr3t-relay-password"
CREDENTIALS = {"endpoint": "ovh-eu", "application_key": "unit-test-ak", "application_secret": "unit-test-as",
               "consumer_key": "unit-test-ck",
               "organization": ORG}


def paged(filters=None):
    headers = {"X-Pagination-Mode": "CachedObjectList-Pages", "X-Pagination-Size": "5000", "X-Pagination-Number": "1",
               "Pragma": "no-cache"}
    if filters:
        headers["X-Pagination-Filter"] = filters
    return headers


def listing(route, objects, filters=None):
    return Step("GET", BASE + route, data=objects, request_headers=paged(filters),
                headers={"X-Pagination-Elements": str(len(objects))})


def service(offer="dedicated"):
    return Step("GET", BASE, data={"offer": offer, "state": "ok", "domain": ORG})


def connector(**fields):
    base = {"id": 29, "displayName": "relay", "smartHost": "smtp.example.com", "port": 587, "requireTLS": True,
            "smartHostAuthMechanism": "none", "maxSendSize": 100, "dnsRouting": False, "default": False,
            "state": "ok", "taskPendingId": 0, "creationDate": "2026-01-05T10:00:00+01:00", "lastUpdateDate": None}
    base.update(fields)
    return base


def task(task_id, status="done", function="addSendConnector"):
    return {"id": task_id, "status": status, "function": function, "todoDate": "2026-01-05T10:00:00+01:00",
            "finishDate": None}


@pytest.fixture
def api(monkeypatch, capsys):
    """api(args, steps, check=False, diff=False) runs the module over scripted requests; returns (result, sdk)."""
    sleeps = []
    monkeypatch.setattr(ExchangeClient.__init__, "__defaults__", (None, sleeps.append, lambda: 0.0, None, None, False))
    clock = [0.0]

    def fake_sleep(seconds):
        clock[0] += seconds

    monkeypatch.setattr(TaskWaiter.__init__, "__defaults__", (fake_sleep, lambda: clock[0], 1.0, 10.0, None))

    def run(args, steps, check=False, diff=False):
        sdk = ScriptedSdk(steps)
        monkeypatch.setattr(_client, "build_sdk_client", lambda params: sdk)
        module_args = dict(CREDENTIALS, **args, _ansible_check_mode=check, _ansible_diff=diff)
        with patch_module_args(module_args):
            with pytest.raises(SystemExit):
                exchange_send_connector.main()
        result = module_result(capsys.readouterr().out)
        assert SECRET not in json.dumps(result)
        sdk.assert_done()
        return result, sdk

    run.sleeps = sleeps
    return run


def test_create_waits_and_returns_the_new_connector(api):
    created = connector(state="creating", taskPendingId=700)
    result, sdk = api({"name": "relay", "smart_host": "smtp.example.com", "port": 587, "require_tls": True,
                       "auth_mechanism": "basicAuthRequireTLS", "user": "relay-user", "password": SECRET}, [
        listing("/sendConnector", []),
        service(),
        Step("POST", BASE + "/sendConnector", data=task(700, "todo"),
             body={"displayName": "relay", "smartHost": "smtp.example.com", "port": 587, "requireTLS": True,
                   "smartHostAuthMechanism": "basicAuthRequireTLS", "user": "relay-user", "password": SECRET}),
        listing("/sendConnector", [created]),
        listing("/task", [task(700)]),
        Step("GET", BASE + "/sendConnector/29", data=connector(smartHostAuthMechanism="basicAuthRequireTLS")),
    ])
    assert result["changed"] is True and "failed" not in result
    assert (result["id"], result["task_ids"]) == (29, [700])
    assert result["connector"]["smartHostAuthMechanism"] == "basicAuthRequireTLS"
    assert result["api_calls"] == {"total": 6, "by_method": {"GET": 5, "POST": 1}, "retries": 0}


def test_nothing_to_change_makes_no_write(api):
    result, sdk = api({"name": "relay", "smart_host": "SMTP.example.com.", "port": 587, "require_tls": True,
                       "auth_mechanism": "none", "max_send_size": 100, "dns_routing": False},
                      [listing("/sendConnector", [connector()])])
    assert result["changed"] is False and result["id"] == 29 and result["task_ids"] == []
    assert sdk.writes() == []


def test_check_mode_reports_the_change_and_writes_nothing(api):
    result, sdk = api({"name": "relay", "port": 2525, "max_send_size": 50}, [listing("/sendConnector", [connector()])],
                      check=True, diff=True)
    assert result["changed"] is True
    assert result["diff"]["before"]["port"] == 587 and result["diff"]["after"]["port"] == 2525
    assert result["diff"]["after"]["maxSendSize"] == 50
    assert result["connector"]["port"] == 2525
    assert result["actions"] == ["PUT sendConnector/29 ['maxSendSize', 'port']"]
    assert sdk.writes() == []


def test_check_mode_create_has_no_id(api):
    result, sdk = api({"name": "new", "smart_host": "relay.example.net"}, [listing("/sendConnector", []), service()],
                      check=True, diff=True)
    assert result["changed"] is True and result["id"] is None
    assert result["diff"] == {"before": {}, "after": {"displayName": "new", "smartHost": "relay.example.net"}}
    assert sdk.writes() == []


def test_update_then_switch_authentication(api):
    result, sdk = api({"name": "relay", "port": 25, "auth_mechanism": "basicAuth", "user": "u", "password": SECRET}, [
        listing("/sendConnector", [connector()]),
        Step("PUT", BASE + "/sendConnector/29", data=None, body={"port": 25}),
        Step("GET", BASE + "/sendConnector/29", data=connector(port=25, taskPendingId=801)),
        listing("/task", [task(801, function="setSendConnector")]),
        Step("GET", BASE + "/sendConnector/29", data=connector(port=25)),
        Step("POST", BASE + "/sendConnector/29/changeAuthentication", data=task(802, "todo", "setSendConnector"),
             body={"smartHostAuthMechanism": "basicAuth", "user": "u", "password": SECRET}),
        listing("/task", [task(802, function="setSendConnector")]),
        Step("GET", BASE + "/sendConnector/29", data=connector(port=25, smartHostAuthMechanism="basicAuth")),
    ], diff=True)
    assert result["changed"] and result["task_ids"] == [801, 802]
    assert result["diff"]["after"]["smartHostAuthMechanism"] == "basicAuth"
    assert "password" not in json.dumps(result["diff"])


@pytest.mark.parametrize("policy,writes", [("on_create", 0), ("always", 1)])
def test_password_policy(api, policy, writes):
    steps = [listing("/sendConnector", [connector(smartHostAuthMechanism="basicAuth")])]
    if writes:
        steps += [Step("POST", BASE + "/sendConnector/29/changeAuthentication", data=task(9),
                       body={"smartHostAuthMechanism": "basicAuth", "user": "u", "password": SECRET})]
    result, sdk = api({"name": "relay", "auth_mechanism": "basicAuth", "user": "u", "password": SECRET,
                       "update_password": policy, "wait": False}, steps)
    assert result["changed"] is bool(writes) and len(sdk.writes()) == writes


def test_a_shared_name_fails_listing_the_ids(api):
    result, sdk = api({"name": "relay", "port": 25}, [listing("/sendConnector", [connector(id=3), connector(id=4)])])
    assert result["failed"] and "ids 3, 4" in result["msg"] and result["ids"] == [3, 4]
    assert sdk.writes() == []


@pytest.mark.parametrize("args,words", [
    ({"port": 70000}, "port must be between 1 and 65535"),
    ({"max_send_size": 101}, "between 1 and 100"),
    ({"smart_host": "  "}, "smart_host must not be empty"),
    ({"auth_mechanism": "basicAuth", "password": SECRET}, "needs user"),
])
def test_bad_input_fails_before_any_request(api, args, words):
    result, sdk = api({"name": "relay", **args}, [])
    assert result["failed"] and words in result["msg"]
    assert sdk.requests == []


def test_a_hosted_offer_is_refused_unless_allowed(api):
    result, sdk = api({"name": "relay", "smart_host": "smtp.example.com"}, [listing("/sendConnector", []), service("hosted")])
    assert result["failed"] and "'hosted'" in result["msg"] and "allow_unsupported_offer" in result["msg"]
    result, sdk = api({"name": "relay", "smart_host": "smtp.example.com", "allow_unsupported_offer": True, "wait": False},
                      [listing("/sendConnector", []), service("hosted"),
                       Step("POST", BASE + "/sendConnector", data=task(702, "todo")),
                       listing("/sendConnector", [connector(state="creating", taskPendingId=702)])])
    assert result["changed"] is True
    # An existing connector is managed without reading the offer at all (one request for a no-op).
    result, sdk = api({"name": "relay", "smart_host": "smtp.example.com"}, [listing("/sendConnector", [connector()])])
    assert result["changed"] is False and len(sdk.requests) == 1


def test_port_465_gets_a_warning():
    # Checked on the decision itself: how warnings reach the module's output differs between ansible-core versions.
    assert any("STARTTLS" in warning for warning in check_input({"name": "relay", "port": 465}))
    assert check_input({"name": "relay", "port": 587}) == []


def test_a_create_cut_off_by_a_reset_is_found_instead_of_posted_again(api):
    result, sdk = api({"name": "relay", "smart_host": "smtp.example.com", "wait": False}, [
        listing("/sendConnector", []),
        service(),
        Step("POST", BASE + "/sendConnector", raises=reset()),
        listing("/sendConnector", [connector(state="creating", taskPendingId=700)]),
    ])
    assert result["changed"] and result["id"] == 29 and result["task_ids"] == [700]
    assert [w[0] for w in sdk.writes()] == ["POST"]


def test_a_create_that_failed_with_500_and_left_nothing_is_posted_again(api):
    post = Step("POST", BASE + "/sendConnector", status=500, data={"message": "Internal Server Error"})
    result, sdk = api({"name": "relay", "smart_host": "smtp.example.com", "wait": False}, [
        listing("/sendConnector", []),
        service(),
        post,
        listing("/sendConnector", []),
        Step("POST", BASE + "/sendConnector", data=task(701, "todo")),
        listing("/sendConnector", [connector(state="creating", taskPendingId=701)]),
    ])
    assert result["changed"] and result["id"] == 29 and result["task_ids"] == [701]
    assert len(sdk.writes()) == 2


def test_deleting_a_connector_in_use_fails_listing_its_users(api):
    result, sdk = api({"name": "relay", "state": "absent"}, [
        listing("/sendConnector", [connector()]),
        listing("/account", [{"primaryEmailAddress": "a@example.com", "sendConnectorId": 29}], "sendConnectorId:eq=29"),
        listing("/domain", [{"name": "example.com", "sendConnectorIdDefault": 29}], "sendConnectorIdDefault:eq=29"),
    ])
    assert result["failed"] and "a@example.com" in result["msg"] and "example.com" in result["msg"]
    assert "force=true" in result["msg"] and result["accounts"] == ["a@example.com"]
    assert sdk.writes() == []


def test_force_moves_the_users_to_the_platform_server_then_deletes(api):
    result, sdk = api({"name": "relay", "state": "absent", "force": True}, [
        listing("/sendConnector", [connector()]),
        listing("/account", [{"primaryEmailAddress": "a@example.com", "sendConnectorId": 29}], "sendConnectorId:eq=29"),
        listing("/domain", [], "sendConnectorIdDefault:eq=29"),
        Step("PUT", BASE + "/account/a%40example.com", data=None, body={"sendConnectorId": 0}),
        listing("/account", [{"primaryEmailAddress": "a@example.com", "sendConnectorId": 0, "taskPendingId": 900}]),
        listing("/task", [task(900, function="setAccount")]),
        Step("DELETE", BASE + "/sendConnector/29", data=task(901, "todo", "deleteSendConnector")),
        listing("/task", [task(901, function="deleteSendConnector")]),
    ])
    assert result["changed"] and result["connector"] is None and result["task_ids"] == [900, 901]


def test_absent_and_already_gone_is_no_change(api):
    result, sdk = api({"id": 5, "state": "absent"}, [
        Step("GET", BASE + "/sendConnector/5", status=404, data={"message": "The requested object (id = 5) does not exist"})])
    assert result["changed"] is False and sdk.writes() == []


def test_a_failed_task_is_reported_with_what_was_done(api):
    result, dummy = api({"name": "relay", "smart_host": "smtp.example.com"}, [
        listing("/sendConnector", []),
        service(),
        Step("POST", BASE + "/sendConnector", data=task(700, "todo")),
        listing("/sendConnector", [connector(state="creating", taskPendingId=700)]),
        listing("/task", [task(700, "error")]),
    ])
    assert result["failed"] and "addSendConnector (task 700)" in result["msg"]
    assert result["changed"] is True and result["task_ids"] == [700]
