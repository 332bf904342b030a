"""Paged object lists, batch GETs, their switch, and every injected fault, through the SDK."""
from __future__ import annotations

import http.client

import pytest
import requests
from ovh import exceptions

from sim_helpers import BASE, PAGED, RELAY, create_connector, failed_connector_update


def paged(client, path, **headers):
    answer = client.raw_call("GET", path, headers={**PAGED, **headers})
    assert answer.status_code == 200, answer.text
    return answer


def test_paged_account_list_returns_full_objects_in_pages(sim):
    sim.reset(accounts=2500)
    client = sim.client()
    first = paged(client, f"{BASE}/account", **{"X-Pagination-Size": "1000"})
    assert first.headers["X-Pagination-Elements"] == "2506"
    page = first.json()
    assert len(page) == 1000 and page[0]["primaryEmailAddress"] == "contact@mydomain.ovh"
    assert {"sendConnectorId", "taskPendingId", "state"} <= set(page[0])
    last = paged(client, f"{BASE}/account", **{"X-Pagination-Size": "1000", "X-Pagination-Number": "3"}).json()
    assert len(last) == 506 and last[-1]["primaryEmailAddress"] == "user02500@mydomain.ovh"
    assert sim.stats()["by_method"]["GET"] == 3  # /auth/time and two pages


def test_paged_filter_and_sort(sim):
    client = sim.client()
    headers = {"X-Pagination-Filter": "primaryEmailAddress:like=%@guides.ovh",
               "X-Pagination-Sort": "primaryEmailAddress",
               "X-Pagination-Sort-Order": "DESC"}
    answer = paged(client, f"{BASE}/account", **headers)
    assert [a["primaryEmailAddress"] for a in answer.json()] == ["john.smith@guides.ovh", "jane.doe@guides.ovh"]
    assert answer.headers["X-Pagination-Elements"] == "2"
    enterprise = paged(client, f"{BASE}/account", **{"X-Pagination-Filter": "accountLicense:eq=enterprise"}).json()
    assert [a["primaryEmailAddress"] for a in enterprise] == ["sales@mydomain.ovh"]
    others = paged(client, f"{BASE}/account", **{"X-Pagination-Filter": "accountLicense:nq=standard,"
                                                                        "company:eq=Guides"}).json()
    assert [a["primaryEmailAddress"] for a in others] == ["john.smith@guides.ovh"]
    # schema query filters combine with the paged mode
    queried = client.raw_call("GET", f"{BASE}/account?primaryEmailAddress=%25newsletter%25", headers=PAGED).json()
    assert [a["primaryEmailAddress"] for a in queried] == ["newsletter@mydomain.ovh"]


def test_paged_task_and_connector_lists(sim):
    client = sim.client()
    connector_id, task = create_connector(client)
    assert [c["id"] for c in paged(client, f"{BASE}/sendConnector").json()] == [connector_id]
    tasks = paged(client, f"{BASE}/task", **{"X-Pagination-Filter": "status:eq=done"}).json()
    assert tasks == [task]
    assert paged(client, f"{BASE}/task", **{"X-Pagination-Filter": "status:nq=done"}).json() == []
    domains = paged(client, f"{BASE}/domain").json()
    assert {d["name"] for d in domains} == {"mydomain.ovh", "guides.ovh"}


def test_bad_pagination_filter_is_400(sim):
    answer = sim.client().raw_call("GET", f"{BASE}/account", headers={**PAGED, "X-Pagination-Filter": "id:zz=1"})
    assert answer.status_code == 400 and "X-Pagination-Filter" in answer.json()["message"]


def test_batch_get_returns_one_entry_per_key(sim):
    client = sim.client()
    keys = "contact@mydomain.ovh,nobody@mydomain.ovh,newsletter@mydomain.ovh"
    entries = client.raw_call("GET", f"{BASE}/account/{keys}", headers={"X-Ovh-Batch": ","}).json()
    assert [e["key"] for e in entries] == keys.split(",")
    assert entries[0]["value"]["primaryEmailAddress"] == "contact@mydomain.ovh" and entries[0]["error"] is None
    assert entries[1]["value"] is None and "does not exist" in entries[1]["error"]
    connector_id, task = create_connector(client)
    tasks = client.raw_call("GET", f"{BASE}/task/{task['id']},1", headers={"X-Ovh-Batch": ","}).json()
    assert tasks[0]["value"] == task and tasks[1]["value"] is None


def test_object_lists_switched_off_at_runtime(sim):
    client = sim.client()
    sim.set_faults(object_lists=False)
    ids = client.raw_call("GET", f"{BASE}/account", headers=PAGED).json()
    assert ids[0] == "contact@mydomain.ovh"
    batch = client.raw_call("GET", f"{BASE}/account/contact@mydomain.ovh,newsletter@mydomain.ovh",
                            headers={"X-Ovh-Batch": ","})
    assert batch.status_code == 404
    sim.reset()
    assert sim.faults()["object_lists"] is True


@pytest.mark.parametrize("status, exception", [("500", exceptions.APIError), ("429", exceptions.APIError)])
def test_status_faults(sim, status, exception):
    client = sim.client()
    sim.set_faults(**{status: 1.0, "retry_after": 0.25})
    with pytest.raises(exception) as info:
        client.get(f"{BASE}/sendConnector")
    assert info.value.response.status_code == int(status)
    if status == "429":
        assert info.value.response.headers["Retry-After"] == "0.25"
    assert sim.stats()["faults"] == {status: 1}


def test_502_is_an_html_gateway_page(sim):
    client = sim.client()
    sim.set_faults(**{"502": 1.0})
    with pytest.raises(exceptions.InvalidResponse) as info:
        client.get(f"{BASE}/sendConnector")
    assert info.value.args[0] == "Failed to decode API response"
    page = requests.get(f"{sim.endpoint}{BASE}/sendConnector", timeout=30)
    assert page.status_code == 502 and page.headers["Content-Type"].startswith("text/html")


def test_reset_before_write_drops_the_connection_and_applies_nothing(sim):
    client = sim.client()
    sim.set_faults(script=[{"fault": "reset_before", "method": "POST"}])
    with pytest.raises(exceptions.HTTPError) as info:
        client.post(f"{BASE}/sendConnector", **RELAY)
    assert isinstance(info.value.args[1], requests.ConnectionError)
    assert client.get(f"{BASE}/sendConnector") == []
    assert sim.requests()[-2]["status"] == "reset"


def test_reset_after_write_applies_it_then_drops_the_connection(sim):
    client = sim.client()
    sim.set_faults(script=[{"fault": "reset_after", "method": "POST"}])
    with pytest.raises(exceptions.HTTPError):
        client.post(f"{BASE}/sendConnector", **RELAY)
    assert len(client.get(f"{BASE}/sendConnector")) == 1  # the ambiguous create did happen


def test_reset_drops_a_kept_alive_connection_and_the_next_call_reconnects(sim):
    client = sim.client()
    assert client.get(f"{BASE}/sendConnector") == []  # the SDK's session now holds an open connection
    sim.set_faults(script=[{"fault": "reset_before", "method": "GET", "path": "/sendConnector"}])
    with pytest.raises(exceptions.HTTPError) as info:
        client.get(f"{BASE}/sendConnector")
    assert isinstance(info.value.args[1], requests.ConnectionError)
    assert client.get(f"{BASE}/sendConnector") == []
    assert [r["status"] for r in sim.requests()[-3:]] == [200, "reset", 200]


def test_connections_are_kept_alive_and_answers_carry_a_length(sim):
    connection = http.client.HTTPConnection("127.0.0.1", sim.port, timeout=30)
    sockets = []
    try:
        for path in ("/1.0/auth/time", "/1.0/no/such/route", "/_sim/health"):
            connection.request("GET", path)
            answer = connection.getresponse()
            body = answer.read()
            assert answer.getheader("Content-Length") == str(len(body))
            sockets.append(connection.sock)  # http.client drops it when the server says `Connection: close`
    finally:
        connection.close()
    assert sockets[0] is not None and sockets == [sockets[0]] * 3


def test_random_resets_split_between_before_and_after_on_writes(sim):
    sim.reset(task_seconds=0)
    client = sim.client()
    sim.set_faults(reset=1.0, seed=7, methods=["PUT"])
    for dummy in range(20):
        with pytest.raises(exceptions.HTTPError):
            client.put(f"{BASE}/account/contact@mydomain.ovh", displayName="x")
    faults = [r["fault"] for r in sim.requests() if r["method"] == "PUT"]
    assert len(faults) == 20 and set(faults) == {"reset_before", "reset_after"}
    tasks = sim.state()["services"][0]["tasks"]
    assert len(tasks) == faults.count("reset_after")  # only the late resets applied the write


def test_task_error_fault(sim):
    failed_connector_update(sim, sim.client())  # it asserts the error and that nothing was applied


def test_faults_rejects_unknown_settings(sim):
    with pytest.raises(Exception, match="400"):
        sim.set_faults(teapot=0.5)
