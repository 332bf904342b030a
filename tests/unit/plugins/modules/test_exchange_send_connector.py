"""exchange_send_connector's decisions, with the exact requests expected at the HTTP boundary."""
from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json

import pytest

from ansible_collections.ovhcloud.exchange.plugins.module_utils._connectors import check_settings
from ansible_collections.ovhcloud.exchange.plugins.modules import exchange_send_connector
from ansible_collections.ovhcloud.exchange.tests.unit.plugins.module_utils.scripted_http import (
    BASE, ORG, SECRET, Step, listing, named, reset)


@pytest.fixture
def send_connector(api):
    """send_connector(args, steps, check=False, diff=False) runs exchange_send_connector; returns (result, sdk)."""
    def run(args, steps, check=False, diff=False):
        return api(exchange_send_connector, args, steps, check=check, diff=diff)
    return run


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


def creations(*running):
    """The platform's connector creations still running, read before a creation (and after an ambiguous POST)."""
    return listing("/task", list(running), "function:eq=addSendConnector&status:in=init,todo,doing")


def test_create_waits_and_returns_the_new_connector(send_connector):
    result, sdk = send_connector({"name": "relay", "smart_host": "smtp.example.com", "port": 587, "require_tls": True,
                                  "auth_mechanism": "basicAuthRequireTLS", "user": "relay-user", "password": SECRET}, [
        listing("/sendConnector", []),
        service(),
        creations(),
        Step("POST", BASE + "/sendConnector", data=task(700, "todo"),
             body={"displayName": "relay", "smartHost": "smtp.example.com", "port": 587, "requireTLS": True,
                   "smartHostAuthMechanism": "basicAuthRequireTLS", "user": "relay-user", "password": SECRET}),
        # The creation task first: OVH may list the connector only once it has ended.
        listing("/task", [task(700)]),
        listing("/sendConnector", [connector(smartHostAuthMechanism="basicAuthRequireTLS")]),
    ])
    assert result["changed"] is True and "failed" not in result
    assert (result["id"], result["task_ids"]) == (29, [700])
    assert result["connector"]["smartHostAuthMechanism"] == "basicAuthRequireTLS"
    assert result["api_calls"] == {"total": 6, "by_method": {"GET": 5, "POST": 1}, "retries": 0}


def test_create_without_wait_of_a_connector_not_listed_yet_returns_its_task(send_connector):
    result, sdk = send_connector({"name": "relay", "smart_host": "smtp.example.com", "wait": False}, [
        listing("/sendConnector", []),
        service(),
        creations(),
        Step("POST", BASE + "/sendConnector", data=task(700, "todo")),
        listing("/sendConnector", []),
    ])
    assert result["changed"] is True and "failed" not in result
    assert (result["id"], result["connector"], result["task_ids"]) == (None, None, [700])


def test_a_creation_still_running_is_waited_for_and_found_instead_of_creating_a_second(send_connector):
    # An earlier run POSTed "relay" and stopped; OVH lists the connector only once that creation ends.
    result, sdk = send_connector({"name": "relay", "smart_host": "smtp.example.com", "port": 587, "wait": False}, [
        listing("/sendConnector", []),
        service(),
        creations(task(650, "doing")),
        listing("/task", [task(650, "doing")]),
        listing("/task", [task(650, "done")]),
        listing("/sendConnector", [connector()]),
    ])
    assert result["changed"] is False and result["id"] == 29 and result["operation"] == "unchanged"
    assert sdk.writes() == []


def test_a_creation_still_running_after_wait_timeout_creates_nothing(send_connector):
    result, sdk = send_connector({"name": "relay", "smart_host": "smtp.example.com", "wait_timeout": 2}, [
        listing("/sendConnector", []),
        service(),
        creations(task(650, "doing")),
        listing("/task", [task(650, "doing")]),
        listing("/task", [task(650, "doing")]),
    ])
    assert result["failed"] and "650" in result["msg"] and "never two connectors" in result["msg"]
    assert sdk.writes() == []


def test_nothing_to_change_makes_no_write(send_connector):
    result, sdk = send_connector({"name": "relay", "smart_host": "SMTP.example.com", "port": 587, "require_tls": True,
                                  "auth_mechanism": "none", "max_send_size": 100, "dns_routing": False},
                                 [listing("/sendConnector", [connector()])])
    assert result["changed"] is False and result["id"] == 29 and result["task_ids"] == []
    assert sdk.writes() == []


def test_check_mode_reports_the_change_and_writes_nothing(send_connector):
    result, sdk = send_connector({"name": "relay", "port": 2525, "max_send_size": 50}, [listing("/sendConnector", [connector()])],
                                 check=True, diff=True)
    assert result["changed"] is True
    assert result["diff"]["before"]["port"] == 587 and result["diff"]["after"]["port"] == 2525
    assert result["diff"]["after"]["maxSendSize"] == 50
    assert result["connector"]["port"] == 2525
    assert result["actions"] == ["PUT sendConnector/29 ['maxSendSize', 'port']"]
    assert sdk.writes() == []


def test_check_mode_create_has_no_id(send_connector):
    result, sdk = send_connector({"name": "new", "smart_host": "relay.example.net"},
                                 [listing("/sendConnector", []), service(), creations()], check=True, diff=True)
    assert result["changed"] is True and result["id"] is None
    assert result["diff"] == {"before": {}, "after": {"displayName": "new", "smartHost": "relay.example.net"}}
    assert sdk.writes() == []


def test_update_then_switch_authentication(send_connector):
    result, sdk = send_connector({"name": "relay", "port": 25, "auth_mechanism": "basicAuth", "user": "u", "password": SECRET}, [
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
def test_password_policy(send_connector, policy, writes):
    steps = [listing("/sendConnector", [connector(smartHostAuthMechanism="basicAuth")])]
    if writes:
        steps += [Step("POST", BASE + "/sendConnector/29/changeAuthentication", data=task(9),
                       body={"smartHostAuthMechanism": "basicAuth", "user": "u", "password": SECRET})]
    result, sdk = send_connector({"name": "relay", "auth_mechanism": "basicAuth", "user": "u", "password": SECRET,
                                  "update_password": policy, "wait": False}, steps)
    assert result["changed"] is bool(writes) and len(sdk.writes()) == writes


def test_a_shared_name_fails_listing_the_ids(send_connector):
    result, sdk = send_connector({"name": "relay", "port": 25}, [listing("/sendConnector", [connector(id=3), connector(id=4)])])
    assert result["failed"] and "ids 3, 4" in result["msg"] and result["ids"] == [3, 4]
    assert sdk.writes() == []


@pytest.mark.parametrize("args,words", [
    ({"port": 70000}, "port must be between 1 and 65535"),
    ({"max_send_size": 101}, "between 1 and 100"),
    ({"smart_host": "  "}, "smart_host must not be empty"),
    ({"smart_host": "smtp://relay.example.com"}, "drop `smtp://`"),
    ({"smart_host": "relay.example.com:587"}, "put 587 in `port`"),
    ({"smart_host": "relay.example.com/path"}, "drop `/path`"),
    ({"smart_host": "relay.example.com "}, "write 'relay.example.com'"),
    ({"auth_mechanism": "basicAuth", "password": SECRET}, "needs user"),
])
def test_bad_input_fails_before_any_request(send_connector, args, words):
    result, sdk = send_connector({"name": "relay", **args}, [])
    assert result["failed"] and words in result["msg"]
    assert sdk.requests == []


def test_a_hosted_offer_is_refused_unless_allowed(send_connector):
    result, sdk = send_connector({"name": "relay", "smart_host": "smtp.example.com"}, [listing("/sendConnector", []), service("hosted")])
    assert result["failed"] and "'hosted'" in result["msg"] and "allow_unsupported_offer" in result["msg"]
    result, sdk = send_connector({"name": "relay", "smart_host": "smtp.example.com", "allow_unsupported_offer": True, "wait": False},
                                 [listing("/sendConnector", []), service("hosted"), creations(),
                                  Step("POST", BASE + "/sendConnector", data=task(702, "todo")),
                                  listing("/sendConnector", [connector(state="creating", taskPendingId=702)])])
    assert result["changed"] is True
    # An existing connector is managed without reading the offer at all (one request for a no-op).
    result, sdk = send_connector({"name": "relay", "smart_host": "smtp.example.com"}, [listing("/sendConnector", [connector()])])
    assert result["changed"] is False and len(sdk.requests) == 1


def test_port_465_gets_a_warning():
    # Checked on the decision itself: how warnings reach the module's output differs between ansible-core versions.
    assert any("STARTTLS" in warning for warning in check_settings("relay", None, "present", {"port": 465}))
    assert check_settings("relay", None, "present", {"port": 587}) == []


def test_a_create_cut_off_by_a_reset_is_found_instead_of_posted_again(send_connector):
    result, sdk = send_connector({"name": "relay", "smart_host": "smtp.example.com", "wait": False}, [
        listing("/sendConnector", []),
        service(),
        creations(),
        Step("POST", BASE + "/sendConnector", raises=reset()),
        listing("/sendConnector", [connector(state="creating", taskPendingId=700)]),
    ])
    assert result["changed"] and result["id"] == 29 and result["task_ids"] == [700]
    assert [w[0] for w in sdk.writes()] == ["POST"]


def test_a_create_cut_off_by_a_reset_and_not_listed_yet_is_found_by_its_running_task(send_connector):
    result, sdk = send_connector({"name": "relay", "smart_host": "smtp.example.com"}, [
        listing("/sendConnector", []),
        service(),
        creations(),
        Step("POST", BASE + "/sendConnector", raises=reset()),
        listing("/sendConnector", []),
        creations(task(700, "todo")),
        listing("/task", [task(700)]),
        listing("/sendConnector", [connector()]),
    ])
    assert result["changed"] and result["id"] == 29 and result["task_ids"] == [700]
    assert [w[0] for w in sdk.writes()] == ["POST"]


def test_a_create_that_failed_with_500_and_left_nothing_is_posted_again(send_connector):
    post = Step("POST", BASE + "/sendConnector", status=500, data={"message": "Internal Server Error"})
    result, sdk = send_connector({"name": "relay", "smart_host": "smtp.example.com", "wait": False}, [
        listing("/sendConnector", []),
        service(),
        creations(),
        post,
        listing("/sendConnector", []),
        creations(),
        Step("POST", BASE + "/sendConnector", data=task(701, "todo")),
        listing("/sendConnector", [connector(state="creating", taskPendingId=701)]),
    ])
    assert result["changed"] and result["id"] == 29 and result["task_ids"] == [701]
    assert len(sdk.writes()) == 2


def test_deleting_a_connector_in_use_fails_listing_its_users(send_connector):
    result, sdk = send_connector({"name": "relay", "state": "absent"}, [
        listing("/sendConnector", [connector()]),
        listing("/account", [{"primaryEmailAddress": "a@example.com", "sendConnectorId": 29}], "sendConnectorId:eq=29"),
        listing("/domain", [{"name": "example.com", "sendConnectorIdDefault": 29}], "sendConnectorIdDefault:eq=29"),
    ])
    assert result["failed"] and "a@example.com" in result["msg"] and "example.com" in result["msg"]
    assert "force=true" in result["msg"] and result["accounts"] == ["a@example.com"]
    assert sdk.writes() == []


def test_force_moves_the_users_to_the_platform_server_then_deletes(send_connector):
    result, sdk = send_connector({"name": "relay", "state": "absent", "force": True}, [
        listing("/sendConnector", [connector()]),
        listing("/account", [{"primaryEmailAddress": "a@example.com", "sendConnectorId": 29}], "sendConnectorId:eq=29"),
        listing("/domain", [], "sendConnectorIdDefault:eq=29"),
        Step("PUT", BASE + "/account/a%40example.com", data=None, body={"sendConnectorId": 0}),
        listing("/account", [{"primaryEmailAddress": "a@example.com", "sendConnectorId": 0, "taskPendingId": 900}],
                named("a@example.com")),
        listing("/task", [task(900, function="setAccount")]),
        Step("DELETE", BASE + "/sendConnector/29", data=task(901, "todo", "deleteSendConnector")),
        listing("/task", [task(901, function="deleteSendConnector")]),
    ])
    assert result["changed"] and result["connector"] is None and result["task_ids"] == [900, 901]


def test_absent_and_already_gone_is_no_change(send_connector):
    result, sdk = send_connector({"id": 5, "state": "absent"}, [
        Step("GET", BASE + "/sendConnector/5", status=404, data={"message": "The requested object (id = 5) does not exist"})])
    assert result["changed"] is False and sdk.writes() == []


def test_a_failed_task_is_reported_with_what_was_done(send_connector):
    result, dummy = send_connector({"name": "relay", "smart_host": "smtp.example.com"}, [
        listing("/sendConnector", []),
        service(),
        creations(),
        Step("POST", BASE + "/sendConnector", data=task(700, "todo")),
        listing("/task", [task(700, "error")]),
        # Read back for the report: no connector (OVH may still retry the task and create it).
        listing("/sendConnector", []),
    ])
    assert result["failed"] and "addSendConnector (task 700)" in result["msg"]
    assert result["changed"] is True and result["task_ids"] == [700]


@pytest.mark.parametrize("stored", ["smtp.example.com ", "smtp://smtp.example.com", "smtp.example.com.", "smtp.example.com:587"])
def test_a_bad_stored_smart_host_is_rewritten_exactly(send_connector, stored):
    result, sdk = send_connector({"name": "relay", "smart_host": "smtp.example.com", "wait": False}, [
        listing("/sendConnector", [connector(smartHost=stored)]),
        Step("PUT", BASE + "/sendConnector/29", data=None, body={"smartHost": "smtp.example.com"}),
        Step("GET", BASE + "/sendConnector/29", data=connector(taskPendingId=810)),
    ])
    assert result["changed"] is True and result["task_ids"] == [810]


def test_a_smart_host_differing_only_by_case_is_already_set(send_connector):
    # DNS names are case-insensitive: Relay.Example.com and relay.example.com are one host.
    result, sdk = send_connector({"name": "relay", "smart_host": "SMTP.Example.com"}, [listing("/sendConnector", [connector()])])
    assert result["changed"] is False and sdk.writes() == []


def test_an_idn_smart_host_is_sent_in_ascii(send_connector):
    result, sdk = send_connector({"name": "relay", "smart_host": "relais.exemple-\u00e9t\u00e9.fr", "wait": False}, [
        listing("/sendConnector", [connector()]),
        Step("PUT", BASE + "/sendConnector/29", data=None, body={"smartHost": "relais.xn--exemple-t-i4ab.fr"}),
        Step("GET", BASE + "/sendConnector/29", data=connector(smartHost="relais.xn--exemple-t-i4ab.fr")),
    ])
    assert result["changed"] is True


def test_an_unsent_password_is_warned_about():
    from ansible_collections.ovhcloud.exchange.plugins.module_utils._connectors import Wanted, plan_send_connector
    from ansible_collections.ovhcloud.exchange.plugins.module_utils._exchange import _connector

    class Platform:
        def connectors(self):
            return [_connector(connector(smartHostAuthMechanism="basicAuth"))]

    plan = plan_send_connector(Platform(), Wanted(name="relay", settings={"auth_mechanism": "basicAuth", "user": "u",
                                                                          "password": SECRET}))
    assert not plan.changed
    assert [w for w in plan.warnings if "update_password: always" in w and "not sent" in w]
    assert not any(SECRET in w for w in plan.warnings)


def test_always_shows_the_authentication_re_sent_in_the_diff(send_connector):
    result, sdk = send_connector({"name": "relay", "auth_mechanism": "basicAuth", "user": "u", "password": SECRET,
                                  "update_password": "always"},
                                 [listing("/sendConnector", [connector(smartHostAuthMechanism="basicAuth")])], check=True, diff=True)
    assert result["changed"] is True and sdk.writes() == []
    assert result["diff"]["after"]["authentication"] == "re-sent" and "authentication" not in result["diff"]["before"]
    assert SECRET not in json.dumps(result)


def test_the_delete_diff_names_every_user_moved_back(send_connector):
    result, sdk = send_connector({"name": "relay", "state": "absent", "force": True}, [
        listing("/sendConnector", [connector()]),
        listing("/account", [{"primaryEmailAddress": "a@example.com", "sendConnectorId": 29}], "sendConnectorId:eq=29"),
        listing("/domain", [{"name": "example.com", "sendConnectorIdDefault": 29}], "sendConnectorIdDefault:eq=29"),
    ], check=True, diff=True)
    assert result["changed"] is True and sdk.writes() == []
    assert result["diff"]["before"]["accounts"] == ["a@example.com"]
    assert result["diff"]["before"]["default_for_domains"] == ["example.com"]
    assert result["diff"]["after"] == {"moved_to_platform_server": {"accounts": ["a@example.com"],
                                                                    "default_for_domains": ["example.com"]}}


def test_a_name_differing_only_by_case_is_refused_before_any_write(send_connector):
    result, sdk = send_connector({"name": "Relay", "smart_host": "smtp.example.com"}, [listing("/sendConnector", [connector()])])
    assert result["failed"] and "'relay' (id 29)" in result["msg"] and "differs only by case" in result["msg"]
    assert sdk.writes() == []


def test_a_rename_to_a_case_twin_is_refused(send_connector):
    result, sdk = send_connector({"id": 30, "name": "RELAY"}, [
        Step("GET", BASE + "/sendConnector/30", data=connector(id=30, displayName="other")),
        listing("/sendConnector", [connector(), connector(id=30, displayName="other")])])
    assert result["failed"] and "'relay' (id 29)" in result["msg"] and sdk.writes() == []
    assert result["changed"] is False and result["ids"] == [29]


def test_a_failed_update_is_reported_with_the_connector_as_it_is(send_connector):
    result, dummy = send_connector({"name": "relay", "port": 2525}, [
        listing("/sendConnector", [connector()]),
        Step("PUT", BASE + "/sendConnector/29", data=None, body={"port": 2525}),
        Step("GET", BASE + "/sendConnector/29", data=connector(taskPendingId=801)),
        listing("/task", [task(801, "error", "setSendConnector")]),
        Step("GET", BASE + "/sendConnector/29", data=connector()),
    ])
    assert result["failed"] and "setSendConnector (task 801)" in result["msg"]
    assert result["connector"]["port"] == 587 and result["task_ids"] == [801]


def test_an_update_that_shows_late_is_read_again_until_it_shows(send_connector):
    result, dummy = send_connector({"name": "relay", "port": 2525}, [
        listing("/sendConnector", [connector()]),
        Step("PUT", BASE + "/sendConnector/29", data=None, body={"port": 2525}),
        # Neither a task nor the new port yet: not a failure, a write not visible yet.
        Step("GET", BASE + "/sendConnector/29", data=connector()),
        Step("GET", BASE + "/sendConnector/29", data=connector()),
        Step("GET", BASE + "/sendConnector/29", data=connector(taskPendingId=801)),
        listing("/task", [task(801, "done", "setSendConnector")]),
        Step("GET", BASE + "/sendConnector/29", data=connector(port=2525)),
    ])
    assert result["changed"] and "failed" not in result and result["connector"]["port"] == 2525


def test_a_rerun_with_nothing_to_change_waits_for_the_creation_still_running(send_connector):
    # An earlier run timed out waiting for the creation: with wait, the rerun returns the connector ready.
    result, sdk = send_connector({"name": "relay", "smart_host": "smtp.example.com", "port": 587}, [
        listing("/sendConnector", [connector(state="creating", taskPendingId=700)]),
        listing("/task", [task(700, "done")]),
        Step("GET", BASE + "/sendConnector/29", data=connector()),
    ])
    assert result["changed"] is False and result["connector"]["state"] == "ok" and sdk.writes() == []
    result, sdk = send_connector({"name": "relay", "smart_host": "smtp.example.com", "wait": False},
                                 [listing("/sendConnector", [connector(state="creating", taskPendingId=700)])])
    assert result["changed"] is False and result["connector"]["state"] == "creating"
