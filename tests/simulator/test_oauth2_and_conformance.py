"""OAuth2 client credentials through the SDK, and conformance with OVH's published schema."""
from __future__ import annotations

import json

import pytest
import requests
from ovh import exceptions

from testlib import shared_file
from ovh_api_sim import models
from sim_helpers import BASE, create_connector


def test_sdk_oauth2_mode_against_the_simulator(sim):
    # SimulatorProcess.oauth2_client() registers the endpoint name in ovh.client.ENDPOINTS and
    # OAUTH2_TOKEN_URLS, and sets OAUTHLIB_INSECURE_TRANSPORT=1 (oauthlib refuses http:// otherwise).
    client = sim.oauth2_client()
    assert "contact@mydomain.ovh" in client.get(f"{BASE}/account")
    log = sim.requests()
    assert [r["route"] for r in log] == ["/email/exchange/{organizationName}/service/{exchangeService}/account"]


def test_oauth2_wrong_secret_and_bad_token(sim):
    with pytest.raises(exceptions.OAuth2FailureError):
        sim.oauth2_client(client_secret="wrong").get(f"{BASE}/account")
    answer = requests.get(f"{sim.endpoint}{BASE}/account", headers={"Authorization": "Bearer forged"}, timeout=30)
    assert answer.status_code == 401
    token = requests.post(sim.exports["OVH_SIM_OAUTH2_TOKEN_URL"], auth=(
        sim.exports["OVH_SIM_OAUTH2_CLIENT_ID"], sim.exports["OVH_SIM_OAUTH2_CLIENT_SECRET"]),
        data={"grant_type": "client_credentials", "scope": "all"}, timeout=30).json()
    assert token["token_type"] == "Bearer" and token["expires_in"] > 0
    ok = requests.get(f"{sim.endpoint}{BASE}/account",
                      headers={"Authorization": f"Bearer {token['access_token']}"}, timeout=30)
    assert ok.status_code == 200


# --------------------------------------------------------------------- conformance
ROUTES = [  # (method, path) the simulator implements, as the schema writes them
    ("GET", "/email/exchange"),
    ("GET", "/email/exchange/{organizationName}/service"),
    ("GET", "/email/exchange/{organizationName}/service/{exchangeService}"),
    ("GET", "/email/exchange/{organizationName}/service/{exchangeService}/sendConnector"),
    ("POST", "/email/exchange/{organizationName}/service/{exchangeService}/sendConnector"),
    ("GET", "/email/exchange/{organizationName}/service/{exchangeService}/sendConnector/{id}"),
    ("PUT", "/email/exchange/{organizationName}/service/{exchangeService}/sendConnector/{id}"),
    ("DELETE", "/email/exchange/{organizationName}/service/{exchangeService}/sendConnector/{id}"),
    ("POST", "/email/exchange/{organizationName}/service/{exchangeService}/sendConnector/{id}/changeAuthentication"),
    ("GET", "/email/exchange/{organizationName}/service/{exchangeService}/account"),
    ("GET", "/email/exchange/{organizationName}/service/{exchangeService}/account/{primaryEmailAddress}"),
    ("PUT", "/email/exchange/{organizationName}/service/{exchangeService}/account/{primaryEmailAddress}"),
    ("GET", "/email/exchange/{organizationName}/service/{exchangeService}/account/{primaryEmailAddress}/tasks"),
    ("GET", "/email/exchange/{organizationName}/service/{exchangeService}/account/{primaryEmailAddress}/tasks/{id}"),
    ("GET", "/email/exchange/{organizationName}/service/{exchangeService}/domain"),
    ("GET", "/email/exchange/{organizationName}/service/{exchangeService}/domain/{domainName}"),
    ("PUT", "/email/exchange/{organizationName}/service/{exchangeService}/domain/{domainName}/changeDefaultSBR"),
    ("GET", "/email/exchange/{organizationName}/service/{exchangeService}/task"),
    ("GET", "/email/exchange/{organizationName}/service/{exchangeService}/task/{id}"),
]


@pytest.fixture(scope="module")
def schema():
    return json.loads(shared_file("ovh-api/email_exchange.json").read_text())


def schema_type(name):
    return name.replace("email.exchange.", "")


def test_every_route_exists_in_the_schema(schema):
    declared = {(op["httpMethod"], api["path"]) for api in schema["apis"] for op in api["operations"]}
    assert [route for route in ROUTES if route not in declared] == []
    assert simulator_routes() == set(ROUTES)


def simulator_routes():
    """(method, schema path) of every /email route the Flask app serves."""
    from ovh_api_sim.app import API, route_template
    from ovh_api_sim.server import build, parse_args

    backend, simulator = build(parse_args(["--port", "0"]))
    return {(method, route_template(rule.rule)) for rule in simulator.app.url_map.iter_rules()
            if rule.rule.startswith(API + "/email") for method in rule.methods - {"HEAD", "OPTIONS"}}


def test_list_query_filters_match_the_schema(schema):
    account_list = next(a for a in schema["apis"] if a["path"].endswith("{exchangeService}/account"))
    get = next(op for op in account_list["operations"] if op["httpMethod"] == "GET")
    assert {p["name"] for p in get["parameters"] if p["paramType"] == "query"} == {
        "accountLicense", "company", "id", "primaryEmailAddress"}


def check_object(obj, model_name, schema):
    """Every field the simulator returned exists in the schema with a matching type and nullability."""
    model = schema["models"][model_name]["properties"]
    problems = sorted(set(model) ^ set(obj))
    for name, value in obj.items():
        prop = model.get(name)
        if prop is None:
            continue
        if value is None:
            if not prop["canBeNull"]:
                problems.append(f"{name} is null but canBeNull is false")
            continue
        type_name = schema_type(prop["type"])
        enum_model = schema["models"].get(prop["type"].rstrip("[]"))
        if enum_model and "enum" in enum_model:
            values = value if isinstance(value, list) else [value]
            problems += [f"{name}={v!r} not in {enum_model['enum']}" for v in values if v not in enum_model["enum"]]
        elif type_name in ("DomainDkimDiagnostics",):
            problems += [f"{name}.{k}" for k in value if k not in schema["models"]["email.exchange." + type_name]["properties"]]
        elif not models.type_ok(value, type_name):
            problems.append(f"{name}={value!r} is not a {prop['type']}")
    return problems


# Tasks have no table: the simulator renders them (backend.render_task); test_served_objects_match_the_schema
# checks a served one.
MODELS = {"email.exchange.sendConnector": models.SEND_CONNECTOR, "email.exchange.Account": models.ACCOUNT,
          "email.exchange.Domain": models.DOMAIN}


@pytest.mark.parametrize("model_name", sorted(MODELS))
def test_simulator_models_match_the_schema(schema, model_name):
    properties = schema["models"][model_name]["properties"]
    ours = MODELS[model_name]
    assert sorted(ours) == sorted(properties)
    for name, (type_name, nullable, read_only) in ours.items():
        prop = properties[name]
        assert (schema_type(prop["type"]), prop["canBeNull"], prop["readOnly"]) == (type_name, nullable, read_only), name
        enum_model = schema["models"].get(prop["type"])
        if enum_model and "enum" in enum_model and type_name in models.ENUMS and type_name != "TaskFunctionEnum":
            assert sorted(models.ENUMS[type_name]) == sorted(enum_model["enum"]), name


def test_task_functions_exist_in_the_schema(schema):
    assert set(models.ENUMS["TaskFunctionEnum"]) <= set(schema["models"]["email.exchange.TaskFunctionEnum"]["enum"])


def test_served_objects_match_the_schema(schema, sim):
    client = sim.client()
    connector_id, task = create_connector(client, smartHostAuthMechanism="basicAuth", user="u", password="p")
    client.put(f"{BASE}/account/contact@mydomain.ovh", sendConnectorId=connector_id)
    served = {
        "email.exchange.sendConnector": client.get(f"{BASE}/sendConnector/{connector_id}"),
        "email.exchange.Account": client.get(f"{BASE}/account/contact@mydomain.ovh"),
        "email.exchange.Domain": client.get(f"{BASE}/domain/mydomain.ovh"),
        "email.exchange.Task": client.get(f"{BASE}/task/{task['id']}"),
        "email.exchange.ExchangeServiceWithIAM": {k: v for k, v in client.get(BASE).items() if k != "iam"},
    }
    served["email.exchange.ExchangeServiceWithIAM"]["iam"] = None
    problems = {name: check_object(obj, name, schema) for name, obj in served.items()}
    assert problems == dict.fromkeys(served, [])
    assert served["email.exchange.sendConnector"]["creationDate"][-6] in "+-"  # an ISO-8601 offset
