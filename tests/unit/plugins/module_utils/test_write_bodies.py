"""Every body the resource layer writes, checked against the published schema (docs/simulator.md, reading 6).

The real API may accept read-only fields in a PUT body (OVH's control panel sends some) or refuse them;
the collection is right under both readings only if it never sends one. Each write is made through the
scripted HTTP fake with every setting the modules can change, and its body compared with the schema.
"""
from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json

import pytest

from ansible_collections.ovhcloud.exchange.plugins.module_utils._connectors import CREATABLE, UPDATABLE
from ansible_collections.ovhcloud.exchange.tests.unit.plugins.module_utils.scripted_http import ScriptedSdk, Step, fake_exchange
from ansible_collections.ovhcloud.exchange.tests.testlib import shared_file

ROUTE = "/email/exchange/{organizationName}/service/{exchangeService}"
SETTINGS = {"name": "relay", "smart_host": "smtp.example.com", "port": 587, "require_tls": True, "max_send_size": 50,
            "dns_routing": True, "auth_mechanism": "basicAuth", "user": "u", "password": "p"}


@pytest.fixture(scope="module")
def schema():
    return json.loads(shared_file("ovh-api/email_exchange.json").read_text())


def operation(schema, path, method):
    api = next(api for api in schema["apis"] if api["path"] == ROUTE + path)
    return next(op for op in api["operations"] if op["httpMethod"] == method)


def accepted_fields(schema, path, method):
    """The body fields the schema lets a client send: writable fields of a body model, or body parameters."""
    body = [p for p in operation(schema, path, method)["parameters"] if p["paramType"] == "body"]
    if len(body) == 1 and body[0].get("name") is None:
        properties = schema["models"][body[0]["dataType"]]["properties"]
        return set(name for name, field in properties.items() if not field.get("readOnly"))
    return set(p["name"] for p in body)


def body_of(write):
    """The body of the one write `write(exchange)` makes; the fake answers any request with a Task."""
    exchange, sdk = fake_exchange([])
    write(exchange)
    [(dummy_method, dummy_path, body)] = sdk.requests
    return body


@pytest.fixture(autouse=True)
def any_request(monkeypatch):
    task = Step("POST", "/task", data={"id": 1, "status": "todo", "function": "addSendConnector"})

    def raw_call(self, method, path, data=None, need_auth=True, headers=None):
        self.requests.append((method, path, data))
        return task.response()

    monkeypatch.setattr(ScriptedSdk, "raw_call", raw_call)


@pytest.mark.parametrize("path,method,write", [
    ("/sendConnector", "POST", lambda exchange: exchange.create_connector(dict((o, SETTINGS[o]) for o in ("name",) + CREATABLE))),
    ("/sendConnector/{id}", "PUT", lambda exchange: exchange.update_connector(29, dict((o, SETTINGS[o]) for o in ("name",) + UPDATABLE))),
    ("/account/{primaryEmailAddress}", "PUT", lambda exchange: exchange.set_mailbox_connector("a@x.ovh", 29)),
    ("/domain/{domainName}/changeDefaultSBR", "PUT", lambda exchange: exchange.set_domain_default("x.ovh", 29)),
], ids=["create connector", "update connector", "bind mailbox", "domain default"])
def test_writes_send_only_fields_the_schema_lets_a_client_write(schema, path, method, write):
    body = body_of(write)
    assert body and set(body) <= accepted_fields(schema, path, method), sorted(set(body) - accepted_fields(schema, path, method))
