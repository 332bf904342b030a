"""exchange_send_connector_info through its main(), with every HTTP request expected, in order."""
from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible_collections.ovhcloud.exchange.plugins.modules import exchange_send_connector_info
from ansible_collections.ovhcloud.exchange.tests.unit.plugins.module_utils.scripted_http import Step, listing, named

RELAY = {"id": 29, "displayName": "relay", "smartHost": "smtp.example.com", "state": "ok", "taskPendingId": 0}
OTHER = {"id": 31, "displayName": "other", "smartHost": "other.example.com", "state": "ok", "taskPendingId": 0}
ACCOUNTS = [{"primaryEmailAddress": "b@x.ovh", "sendConnectorId": 29}, {"primaryEmailAddress": "A@x.ovh", "sendConnectorId": 29},
            {"primaryEmailAddress": "c@x.ovh", "sendConnectorId": 0}]
DOMAINS = [{"name": "x.ovh", "sendConnectorIdDefault": 31}]


def test_every_connector_with_its_users_in_three_reads(api):
    result, sdk = api(exchange_send_connector_info, {}, [
        listing("/sendConnector", [OTHER, RELAY]),
        listing("/account", ACCOUNTS),
        listing("/domain", DOMAINS),
    ])
    assert [(c["id"], c["accounts"], c["default_for_domains"]) for c in result["connectors"]] == [
        (29, ["A@x.ovh", "b@x.ovh"], []), (31, [], ["x.ovh"])]
    assert result["connectors"][0]["smartHost"] == "smtp.example.com"
    assert result["changed"] is False and result["read_strategy"] == "object_list" and "accounts" not in result


def test_one_connector_lets_the_gateway_filter(api):
    result, sdk = api(exchange_send_connector_info, {"connector": "relay"}, [
        listing("/sendConnector", [OTHER, RELAY]),
        listing("/account", ACCOUNTS[:2], filters="sendConnectorId:eq=29"),
        listing("/domain", [], filters="sendConnectorIdDefault:eq=29"),
    ])
    assert [(c["id"], c["accounts"]) for c in result["connectors"]] == [(29, ["A@x.ovh", "b@x.ovh"])]


def test_looking_up_mailboxes_and_domains_reads_only_them(api):
    result, sdk = api(exchange_send_connector_info, {"accounts": ["a@X.ovh"], "domains": ["x.ovh"]}, [
        listing("/sendConnector", [RELAY]),
        # Asked for by name; a gateway that compares with case finds nothing, and the whole list decides.
        listing("/account", [], named("a@X.ovh")),
        listing("/account", ACCOUNTS),
        listing("/domain", DOMAINS),
    ])
    assert result["accounts"] == [{"account": "A@x.ovh", "connector": {"id": 29, "name": "relay"}}]
    assert result["domains"] == [{"domain": "x.ovh", "connector": {"id": 31, "name": None}}]
    assert result["connectors"][0]["accounts"] == ["A@x.ovh"]


def test_unknown_mailboxes_and_domains_fail_naming_each(api):
    result, sdk = api(exchange_send_connector_info, {"accounts": ["ghost@x.ovh"], "domains": ["nowhere.example"]}, [
        listing("/sendConnector", [RELAY]),
        listing("/account", [], named("ghost@x.ovh")),
        listing("/account", ACCOUNTS),
        listing("/domain", DOMAINS),
        Step("GET", "/domain", data=["x.ovh"], request_headers={}),
        Step("GET", "/domain", data=["x.ovh"], request_headers={}),
    ])
    assert result["failed"] and result["problems"] == [
        "ghost@x.ovh: no such mailbox on platform private-zz111111-1",
        "nowhere.example is not a domain of platform private-zz111111-1 (its domains: x.ovh)"]


def test_an_unknown_connector_is_an_error(api):
    result, sdk = api(exchange_send_connector_info, {"connector": "nope"}, [listing("/sendConnector", [RELAY])])
    assert result["failed"] and "no send connector has the name or id 'nope'" in result["msg"]


def test_platform_server_costs_nothing_when_everything_is_read(api):
    result, sdk = api(exchange_send_connector_info, {"platform_server": True}, [
        listing("/sendConnector", [OTHER, RELAY]),
        listing("/account", ACCOUNTS + [{"primaryEmailAddress": "d@x.ovh", "sendConnectorId": None}]),
        listing("/domain", DOMAINS + [{"name": "y.ovh", "sendConnectorIdDefault": 0}]),
    ])
    assert result["platform_server"] == {"id": 0, "accounts": ["c@x.ovh", "d@x.ovh"], "default_for_domains": ["y.ovh"]}


def test_platform_server_with_one_connector_reads_null_and_zero_filtered(api):
    # A never-set connector reads null, a reset one 0: no one filter of the manager's syntax matches both.
    result, sdk = api(exchange_send_connector_info, {"connector": "relay", "platform_server": True}, [
        listing("/sendConnector", [OTHER, RELAY]),
        listing("/account", ACCOUNTS[:2], filters="sendConnectorId:eq=29"),
        listing("/domain", [], filters="sendConnectorIdDefault:eq=29"),
        listing("/account", [{"primaryEmailAddress": "d@x.ovh", "sendConnectorId": None}], filters="sendConnectorId:isnil=1"),
        listing("/account", [ACCOUNTS[2]], filters="sendConnectorId:eq=0"),
        listing("/domain", [], filters="sendConnectorIdDefault:isnil=1"),
        listing("/domain", [{"name": "y.ovh", "sendConnectorIdDefault": 0}], filters="sendConnectorIdDefault:eq=0"),
    ])
    assert result["platform_server"] == {"id": 0, "accounts": ["c@x.ovh", "d@x.ovh"], "default_for_domains": ["y.ovh"]}
    assert "platform_server" not in api(exchange_send_connector_info, {}, [
        listing("/sendConnector", []), ])[0]
