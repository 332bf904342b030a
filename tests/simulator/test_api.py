"""Each route and each error class, through the official `ovh` SDK over real HTTP."""
from __future__ import annotations

import hashlib
import json
import time

import ovh
import pytest
import requests
from ovh import exceptions

from sim_helpers import BASE, HOSTED_BASE, PRIVATE, RELAY, create_connector, wait_idle, wait_task


def test_auth_time_is_the_server_clock(sim):
    assert abs(sim.client().get("/auth/time", _need_auth=False) - time.time()) < 5


def test_organization_service_and_lists(sim):
    client = sim.client()
    assert client.get("/email/exchange") == ["hosted-zz222222-1", PRIVATE]
    assert client.get(f"/email/exchange/{PRIVATE}/service") == [PRIVATE]
    service = client.get(BASE)
    assert service["offer"] == "dedicated" and service["domain"] == PRIVATE
    assert set(client.get(f"{BASE}/domain")) == {"mydomain.ovh", "guides.ovh"}
    assert client.get(f"{BASE}/domain", main=True) == ["mydomain.ovh"]
    assert client.get(f"{BASE}/domain/mydomain.ovh")["sendConnectorIdDefault"] is None
    assert "contact@mydomain.ovh" in client.get(f"{BASE}/account")
    assert client.get(f"{BASE}/sendConnector") == []


def test_connector_lifecycle_through_the_sdk(sim):
    client = sim.client()
    connector_id, task = create_connector(client, smartHostAuthMechanism="basicAuthRequireTLS",
                                          user="apikey", password="s3cret")
    assert task["status"] == "done" and task["function"] == "addSendConnector"
    connector = client.get(f"{BASE}/sendConnector/{connector_id}")
    assert connector["state"] == "ok" and connector["port"] == 587 and connector["requireTLS"] is True
    assert client.put(f"{BASE}/sendConnector/{connector_id}", displayName="renamed", maxSendSize=50) is None
    assert wait_idle(client, f"{BASE}/sendConnector/{connector_id}")["displayName"] == "renamed"
    auth_task = client.post(f"{BASE}/sendConnector/{connector_id}/changeAuthentication", smartHostAuthMechanism="none")
    assert wait_task(client, auth_task["id"])["function"] == "setSendConnector"
    assert client.get(f"{BASE}/sendConnector/{connector_id}")["smartHostAuthMechanism"] == "none"
    delete_task = client.delete(f"{BASE}/sendConnector/{connector_id}")
    assert delete_task["function"] == "deleteSendConnector"
    assert wait_task(client, delete_task["id"])["status"] == "done"
    with pytest.raises(exceptions.ResourceNotFoundError):
        client.get(f"{BASE}/sendConnector/{connector_id}")
    assert delete_task["id"] in client.get(f"{BASE}/task")
    log = sim.requests()
    create = next(r for r in log if r["method"] == "POST" and r["route"].endswith("/sendConnector"))
    assert create["body"]["password"] == "********" and create["status"] == 200 and create["query_id"]


def test_attach_account_and_domain_default_then_reset_to_zero(sim):
    client = sim.client()
    connector_id, dummy = create_connector(client)
    account = f"{BASE}/account/newsletter@mydomain.ovh"
    client.put(account, sendConnectorId=connector_id)
    assert wait_idle(client, account)["sendConnectorId"] == connector_id
    tasks = client.get(f"{account}/tasks")
    assert client.get(f"{account}/tasks/{tasks[-1]}")["function"] == "setAccount"
    client.put(f"{BASE}/domain/mydomain.ovh/changeDefaultSBR", sendConnectorIdDefault=connector_id)
    assert wait_idle(client, f"{BASE}/domain/mydomain.ovh")["sendConnectorIdDefault"] == connector_id
    with pytest.raises(exceptions.BadParametersError, match="newsletter@mydomain.ovh"):
        client.delete(f"{BASE}/sendConnector/{connector_id}")
    client.put(account, sendConnectorId=0)
    assert wait_idle(client, account)["sendConnectorId"] == 0
    state = sim.state()
    assert state["services"][0]["accounts"]["newsletter@mydomain.ovh"]["sendConnectorId"] == 0


def test_write_on_pending_object_is_409(sim):
    sim.reset(task_seconds=5)
    client = sim.client()
    task = client.post(f"{BASE}/sendConnector", **RELAY)
    (connector_id,) = client.get(f"{BASE}/sendConnector")
    assert client.get(f"{BASE}/sendConnector/{connector_id}")["taskPendingId"] == task["id"]
    with pytest.raises(exceptions.ResourceConflictError):
        client.put(f"{BASE}/sendConnector/{connector_id}", port=2525)


def test_hosted_offer_refuses_creation(sim):
    with pytest.raises(exceptions.APIError, match="hosted") as info:
        sim.client().post(f"{HOSTED_BASE}/sendConnector", **RELAY)
    assert info.value.response.status_code == 403
    assert sim.client().get(f"{HOSTED_BASE}/sendConnector") == []


@pytest.mark.parametrize("call, message", [
    (lambda c: c.post(f"{BASE}/sendConnector", displayName="x"), "Missing parameter"),
    (lambda c: c.post(f"{BASE}/sendConnector", **RELAY, unknown=1), "not described parameters"),
    (lambda c: c.post(f"{BASE}/sendConnector", **{**RELAY, "port": 70000}), "port"),
    (lambda c: c.post(f"{BASE}/sendConnector", **{**RELAY, "maxSendSize": 200}), "maxSendSize"),
    (lambda c: c.post(f"{BASE}/sendConnector", **{**RELAY, "smartHostAuthMechanism": "bogus"}), "smartHostAuth"),
    (lambda c: c.put(f"{BASE}/account/contact@mydomain.ovh", sendConnectorId=12345), "sendConnectorId"),
    (lambda c: c.put(f"{BASE}/account/contact@mydomain.ovh", sendConnectorId="29"), "sendConnectorId"),
    (lambda c: c.put(f"{BASE}/account/contact@mydomain.ovh", primaryEmailAddress="x@y"), "read-only"),
    (lambda c: c.get(f"{BASE}/account", accountLicense="gold"), "accountLicense"),
    (lambda c: c.get(f"{BASE}/account", colour="red"), "Unknown query parameter"),
])
def test_bad_requests_are_400_with_ovh_body(sim, call, message):
    with pytest.raises(exceptions.BadParametersError, match=message) as info:
        call(sim.client())
    body = info.value.response.json()
    assert body["class"] == "Client::BadRequest" and info.value.query_id
    assert sim.state()["services"][0]["tasks"] == {}


def test_read_only_field_through_put_on_connector_is_400(sim):
    client = sim.client()
    connector_id, dummy = create_connector(client)
    with pytest.raises(exceptions.BadParametersError, match="read-only"):
        client.put(f"{BASE}/sendConnector/{connector_id}", smartHostAuthMechanism="basicAuth")


def signed_request(sim, method, path, body=b"", consumer_key=None, application_secret=None, timestamp=None):
    """A hand-signed request (to send bodies and signatures the SDK would not)."""
    env = sim.env
    url = f"{sim.endpoint}{path}"
    consumer_key = consumer_key or env["OVH_CONSUMER_KEY"]
    timestamp = str(int(time.time()) if timestamp is None else timestamp)
    secret = application_secret or env["OVH_APPLICATION_SECRET"]
    raw = f"{secret}+{consumer_key}+{method}+{url}+".encode() + body + f"+{timestamp}".encode()
    headers = {"X-Ovh-Application": env["OVH_APPLICATION_KEY"], "X-Ovh-Consumer": consumer_key,
               "X-Ovh-Timestamp": timestamp, "X-Ovh-Signature": "$1$" + hashlib.sha1(raw).hexdigest(),
               "Content-Type": "application/json"}
    return requests.request(method, url, data=body or None, headers=headers, timeout=30)


def test_hand_signed_request_is_accepted_and_a_tampered_one_refused(sim):
    good = signed_request(sim, "GET", f"{BASE}/sendConnector")
    assert good.status_code == 200 and good.json() == [] and good.headers["X-Ovh-Queryid"]
    bad = signed_request(sim, "GET", f"{BASE}/sendConnector", application_secret="wrong")
    assert bad.status_code == 400 and bad.json()["errorCode"] == "INVALID_SIGNATURE"


def test_signature_covers_the_raw_body_bytes(sim):
    # Spaces and key order differ from the SDK's compact JSON: the check must hash these exact bytes.
    body = json.dumps({"smartHost": "smtp.example.com", "displayName": "spaced"}, indent=2).encode()
    assert signed_request(sim, "POST", f"{BASE}/sendConnector", body).status_code == 200


def test_invalid_json_and_body_where_none_expected(sim):
    broken = signed_request(sim, "POST", f"{BASE}/sendConnector", b'{"displayName": ')
    assert broken.status_code == 400 and "valid JSON" in broken.json()["message"]
    unexpected = signed_request(sim, "DELETE", f"{BASE}/sendConnector/1", b'{"a":1}')
    assert unexpected.status_code == 400 and "none was expected" in unexpected.json()["message"]


def test_timestamp_too_far_from_server_time_is_refused(sim):
    answer = signed_request(sim, "GET", f"{BASE}/sendConnector", timestamp=int(time.time()) - 3600)
    assert answer.status_code == 400 and answer.json()["errorCode"] == "QUERY_TIME_OUT"


def test_auth_errors_map_to_the_sdks_exceptions(sim):
    env = sim.env
    with pytest.raises(exceptions.InvalidKey):
        sim.client(application_key="unknown-key").get(f"{BASE}/sendConnector")
    with pytest.raises(exceptions.InvalidCredential):
        sim.client(consumer_key="unknown-consumer").get(f"{BASE}/sendConnector")
    with pytest.raises(exceptions.BadParametersError, match="Invalid signature"):
        sim.client(application_secret="not-the-secret").get(f"{BASE}/sendConnector")
    read_only = sim.client(consumer_key=env["OVH_SIM_READONLY_CONSUMER_KEY"])
    assert read_only.get(f"{BASE}/sendConnector") == []
    with pytest.raises(exceptions.NotGrantedCall):
        read_only.post(f"{BASE}/sendConnector", **RELAY)
    unsigned = requests.get(f"{sim.endpoint}{BASE}/sendConnector", timeout=30)
    assert unsigned.status_code == 401 and unsigned.json()["class"] == "Client::Unauthorized"
    assert sim.state()["services"][0]["connectors"] == {}


def test_unknown_objects_are_404(sim):
    client = sim.client()
    for path in (f"{BASE}/sendConnector/4242", f"{BASE}/account/nobody@mydomain.ovh", f"{BASE}/domain/x.ovh",
                 f"{BASE}/task/1", "/email/exchange/nope/service/nope/sendConnector"):
        with pytest.raises(exceptions.ResourceNotFoundError):
            client.get(path)


def test_stats_count_api_requests_by_method_and_route(sim):
    client = sim.client()
    client.get(f"{BASE}/account")
    client.get(f"{BASE}/account/contact@mydomain.ovh")
    client.put(f"{BASE}/account/contact@mydomain.ovh", displayName="Contact desk")
    stats = sim.stats()
    route = "GET /email/exchange/{organizationName}/service/{exchangeService}/account"
    assert stats["by_route"][route] == 1
    assert stats["by_route"][route + "/{primaryEmailAddress}"] == 1
    assert stats["by_method"] == {"GET": 3, "PUT": 1}  # includes the SDK's GET /auth/time
    assert stats["total"] == 4 and stats["writes"] == 1
    sim.reset()
    assert sim.stats()["total"] == 0 and sim.requests() == []


def test_every_answer_has_a_query_id(sim):
    client = sim.client()
    answer = client.raw_call("GET", f"{BASE}/account/contact@mydomain.ovh")
    assert answer.headers["X-Ovh-Queryid"].startswith("EU.ext-sim.")
    with pytest.raises(exceptions.ResourceNotFoundError) as info:
        client.get(f"{BASE}/task/1")
    assert info.value.query_id == sim.requests()[-1]["query_id"]


def test_sdk_rejects_url_endpoints_so_client_registers_a_name(sim):
    with pytest.raises(exceptions.InvalidRegion):
        ovh.Client(endpoint=sim.endpoint, application_key="a", application_secret="b")
    assert sim.client().get("/email/exchange")


def test_concurrent_clients_get_distinct_connectors_and_consistent_counts(sim):
    from concurrent.futures import ThreadPoolExecutor

    def create(index):
        return sim.client().post(f"{BASE}/sendConnector", **{**RELAY, "displayName": f"relay-{index}"})["id"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        task_ids = list(pool.map(create, range(24)))
    client = sim.client()
    connectors = client.get(f"{BASE}/sendConnector")
    assert len(set(task_ids)) == 24 and len(set(connectors)) == 24
    names = {client.get(f"{BASE}/sendConnector/{i}")["displayName"] for i in connectors}
    assert names == {f"relay-{i}" for i in range(24)}
    assert sim.stats()["by_method"]["POST"] == 24
