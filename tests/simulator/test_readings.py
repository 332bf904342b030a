"""Each API reading (docs/simulator.md, "Readings"), switched on through the reset body, through the SDK."""
from __future__ import annotations

import time

import pytest
from ovh import exceptions

from sim_helpers import (BASE, HOSTED_BASE, PAGED, RELAY, WAIT_LIMIT, create_connector, failed_connector_update,
                         wait_idle, wait_task)

ACCOUNT = f"{BASE}/account/contact@mydomain.ovh"
DOMAIN = f"{BASE}/domain/mydomain.ovh"


def eventually(read, check):
    """Read until check(value) holds (a safety net, not a timing assertion); returns the last value."""
    deadline = time.monotonic() + WAIT_LIMIT
    while True:
        value = read()
        if check(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def addresses(answer):
    return sorted(a["primaryEmailAddress"] for a in answer.json())


def paged(client, path, **headers):
    return client.raw_call("GET", path, headers={**PAGED, **headers})


# 1. A new connector is listed only once its creation task ends.
def test_connector_listed_only_after_its_creation_task(sim):
    sim.reset(connector_listed_after_task=True, task_seconds=0.6)
    client = sim.client()
    task = client.post(f"{BASE}/sendConnector", **RELAY)
    assert client.get(f"{BASE}/sendConnector") == []
    assert paged(client, f"{BASE}/sendConnector").json() == []
    assert task["id"] in client.get(f"{BASE}/task")  # the pending creation is in the platform's task list
    assert wait_task(client, task["id"])["status"] == "done"
    (connector_id,) = client.get(f"{BASE}/sendConnector")
    assert client.get(f"{BASE}/sendConnector/{connector_id}")["state"] == "ok"


def test_connector_listed_at_once_by_default(sim):
    sim.reset(task_seconds=5)
    client = sim.client()
    client.post(f"{BASE}/sendConnector", **RELAY)
    (connector_id,) = client.get(f"{BASE}/sendConnector")
    assert client.get(f"{BASE}/sendConnector/{connector_id}")["state"] == "creating"


# 2. Writes visible late; changeDefaultSBR with no task.
def test_account_write_is_invisible_for_a_while(sim):
    client = sim.client()
    connector_id, dummy = create_connector(client)
    sim.set_readings(late_writes=1.0)
    assert client.put(ACCOUNT, sendConnectorId=connector_id) is None
    right_after = client.get(ACCOUNT)
    assert (right_after["sendConnectorId"], right_after["taskPendingId"]) == (None, 0)
    assert client.get(f"{ACCOUNT}/tasks") == []
    done = eventually(lambda: client.get(ACCOUNT), lambda a: a["sendConnectorId"] == connector_id)
    assert (done["sendConnectorId"], done["taskPendingId"]) == (connector_id, 0)
    (task_id,) = client.get(f"{ACCOUNT}/tasks")  # listed once visible
    assert client.get(f"{ACCOUNT}/tasks/{task_id}")["function"] == "setAccount"


def test_default_sbr_write_is_invisible_for_a_while(sim):
    client = sim.client()
    connector_id, dummy = create_connector(client)
    sim.set_readings(late_writes=1.0)
    client.put(f"{DOMAIN}/changeDefaultSBR", sendConnectorIdDefault=connector_id)
    right_after = client.get(DOMAIN)
    assert (right_after["sendConnectorIdDefault"], right_after["taskPendingId"]) == (None, 0)
    done = eventually(lambda: client.get(DOMAIN), lambda d: d["sendConnectorIdDefault"] == connector_id)
    assert done["sendConnectorIdDefault"] == connector_id


def test_change_default_sbr_without_a_task(sim):
    client = sim.client()
    connector_id, dummy = create_connector(client)
    tasks_before = client.get(f"{BASE}/task")
    sim.set_readings(sbr_without_task=True)
    client.put(f"{DOMAIN}/changeDefaultSBR", sendConnectorIdDefault=connector_id)
    domain = client.get(DOMAIN)
    assert (domain["sendConnectorIdDefault"], domain["taskPendingId"]) == (connector_id, 0)
    assert client.get(f"{BASE}/task") == tasks_before


def test_change_default_sbr_without_a_task_and_late(sim):
    client = sim.client()
    connector_id, dummy = create_connector(client)
    tasks_before = client.get(f"{BASE}/task")
    sim.set_readings(sbr_without_task=True, late_writes=0.5)
    client.put(f"{DOMAIN}/changeDefaultSBR", sendConnectorIdDefault=connector_id)
    assert client.get(DOMAIN)["sendConnectorIdDefault"] is None
    seen = eventually(lambda: client.get(DOMAIN), lambda d: d["sendConnectorIdDefault"] == connector_id)
    assert (seen["sendConnectorIdDefault"], seen["taskPendingId"]) == (connector_id, 0)
    assert client.get(f"{BASE}/task") == tasks_before


# 3. Filters in the manager's syntax.
@pytest.mark.parametrize("syntax", ["lenient", "manager"])
def test_manager_filter_operators(sim, syntax):
    sim.reset(filter_syntax=syntax)
    client = sim.client()
    url = f"{BASE}/account"

    def matching(expression):
        answer = paged(client, url, **{"X-Pagination-Filter": expression})
        assert answer.status_code == 200, answer.text
        return addresses(answer)

    assert matching("primaryEmailAddress:in=contact@mydomain.ovh,sales@mydomain.ovh") == [
        "contact@mydomain.ovh", "sales@mydomain.ovh"]
    assert matching("accountLicense:ne=standard") == ["john.smith@guides.ovh", "sales@mydomain.ovh"]
    assert matching("lastName:isnil=1&company:eq=MyCompany") == [
        "contact@mydomain.ovh", "newsletter@mydomain.ovh", "sales@mydomain.ovh", "support@mydomain.ovh"]
    assert matching("lastName:isnil=0") == ["jane.doe@guides.ovh", "john.smith@guides.ovh"]
    assert matching("company:eq=Guides&accountLicense:ne=basic") == ["jane.doe@guides.ovh"]
    assert matching("spamAndVirusConfiguration.deleteVirus:eq=true&id:gt=1004&id:lt=1006") == [
        "john.smith@guides.ovh"]


def test_manager_syntax_decodes_values_and_refuses_legacy_forms(sim):
    sim.reset(filter_syntax="manager")
    client = sim.client()
    encoded = paged(client, f"{BASE}/account", **{"X-Pagination-Filter": "primaryEmailAddress:like=%25%40guides.ovh"})
    assert addresses(encoded) == ["jane.doe@guides.ovh", "john.smith@guides.ovh"]
    legacy_operator = paged(client, f"{BASE}/account", **{"X-Pagination-Filter": "accountLicense:nq=standard"})
    assert legacy_operator.status_code == 400 and "eq, ne, in, isnil, like, lt, gt" in legacy_operator.json()["message"]
    # A `,` does not join filters: it is part of the value, which matches nothing.
    comma = paged(client, f"{BASE}/account", **{"X-Pagination-Filter": "company:eq=Guides,accountLicense:eq=basic"})
    assert comma.status_code == 200 and comma.json() == [] and comma.headers["X-Pagination-Elements"] == "0"


def test_lenient_syntax_still_takes_comma_joins_and_nq(sim):
    answer = paged(sim.client(), f"{BASE}/account",
                   **{"X-Pagination-Filter": "company:eq=Guides,accountLicense:nq=basic"})
    assert addresses(answer) == ["jane.doe@guides.ovh"]


# 4. Paging, per-route object lists, batch, cursors.
def test_paging_without_size_echo_and_the_managers_page_sizes(sim):
    sim.reset(no_pagination_size_echo=True, accounts=20)
    client = sim.client()
    page = paged(client, f"{BASE}/account", **{"X-Pagination-Size": "10", "X-Pagination-Number": "3"})
    assert len(page.json()) == 6 and page.headers["X-Pagination-Elements"] == "26"
    assert "X-Pagination-Size" not in page.headers
    for size in ("5000", "50000"):
        answer = paged(client, f"{BASE}/account", **{"X-Pagination-Size": size})
        assert answer.status_code == 200 and len(answer.json()) == 26
    assert paged(client, f"{BASE}/account", **{"X-Pagination-Size": "50001"}).status_code == 400


def test_page_size_is_echoed_by_default(sim):
    page = paged(sim.client(), f"{BASE}/account", **{"X-Pagination-Size": "2"})
    assert page.headers["X-Pagination-Size"] == "2" and len(page.json()) == 2


def test_paged_mode_off_per_route_family(sim):
    client = sim.client()
    connector_id, task = create_connector(client)
    sim.set_readings(unpaged_routes=["sendConnector", "domain", "task"])
    assert paged(client, f"{BASE}/sendConnector").json() == [connector_id]
    assert sorted(paged(client, f"{BASE}/domain").json()) == ["guides.ovh", "mydomain.ovh"]
    assert paged(client, f"{BASE}/task").json() == [task["id"]]
    assert paged(client, f"{BASE}/account").json()[0]["primaryEmailAddress"] == "contact@mydomain.ovh"
    sim.set_readings(unpaged_routes=["account"])
    assert paged(client, f"{BASE}/account").json()[0] == "contact@mydomain.ovh"
    assert paged(client, f"{BASE}/sendConnector").json()[0]["id"] == connector_id


def test_batch_gets_off(sim):
    sim.reset(no_batch=True)
    client = sim.client()
    answer = client.raw_call("GET", f"{BASE}/account/contact@mydomain.ovh,sales@mydomain.ovh",
                             headers={"X-Ovh-Batch": ","})
    assert answer.status_code == 404
    single = client.raw_call("GET", ACCOUNT, headers={"X-Ovh-Batch": ","})
    assert single.status_code == 200 and single.json()["primaryEmailAddress"] == "contact@mydomain.ovh"


def test_cursor_paging(sim):
    sim.reset(cursor_paging=True, accounts=25)
    client = sim.client()
    cursor_mode = {"X-Pagination-Mode": "CachedObjectList-Cursor", "X-Pagination-Size": "10",
                   "X-Pagination-Filter": "primaryEmailAddress:like=user%"}
    seen, cursor, requests_made = [], None, 0
    while True:
        headers = {**cursor_mode, **({"X-Pagination-Cursor": cursor} if cursor else {})}
        answer = client.raw_call("GET", f"{BASE}/account", headers=headers)
        requests_made += 1
        assert answer.status_code == 200, answer.text
        seen += [a["primaryEmailAddress"] for a in answer.json()]
        cursor = answer.headers.get("X-Pagination-Cursor-Next")
        if not cursor:
            break
    assert requests_made == 3 and seen == [f"user{n:05d}@mydomain.ovh" for n in range(1, 26)]
    bad = client.raw_call("GET", f"{BASE}/account", headers={**cursor_mode, "X-Pagination-Cursor": "bogus"})
    assert bad.status_code == 400 and bad.json()["message"] == "invalid cursor"


def test_cursors_on_a_route_whose_paged_mode_is_off(sim):
    # unpaged_routes turns the paged mode off, not the cursor mode: the collection's cursor fallback is tested on it.
    sim.reset(cursor_paging=True, unpaged_routes=["account"], accounts=3)
    client = sim.client()
    assert paged(client, f"{BASE}/account").json()[0] == "contact@mydomain.ovh"
    cursor_mode = {"X-Pagination-Mode": "CachedObjectList-Cursor", "X-Pagination-Size": "5"}
    cursor = client.raw_call("GET", f"{BASE}/account", headers=cursor_mode)
    assert cursor.json()[0]["primaryEmailAddress"] == "contact@mydomain.ovh" and "X-Pagination-Cursor-Next" in cursor.headers
    sim.set_faults(object_lists=False)  # both modes off
    cursor = client.raw_call("GET", f"{BASE}/account", headers={"X-Pagination-Mode": "CachedObjectList-Cursor"})
    assert cursor.json()[0] == "contact@mydomain.ovh"


def test_cursor_mode_is_ignored_by_default(sim):
    answer = sim.client().raw_call("GET", f"{BASE}/account", headers={"X-Pagination-Mode": "CachedObjectList-Cursor"})
    assert answer.json()[0] == "contact@mydomain.ovh" and "X-Pagination-Cursor-Next" not in answer.headers


# 5. Writes while a task is pending.
def test_account_writes_while_pending_last_write_wins(sim):
    sim.reset(writes_while_pending=True, task_seconds=0.6)
    client = sim.client()
    client.put(ACCOUNT, displayName="first")
    first_task = client.get(ACCOUNT)["taskPendingId"]
    client.put(ACCOUNT, displayName="second")
    assert client.get(ACCOUNT)["taskPendingId"] not in (0, first_task)
    assert wait_task(client, first_task)["status"] == "done"
    assert wait_idle(client, ACCOUNT)["displayName"] == "second"
    assert len(client.get(f"{ACCOUNT}/tasks")) == 2


def test_account_write_while_pending_is_409_by_default(sim):
    sim.reset(task_seconds=5)
    client = sim.client()
    client.put(ACCOUNT, displayName="first")
    with pytest.raises(exceptions.ResourceConflictError):
        client.put(ACCOUNT, displayName="second")


# 6. Read-only fields in a PUT body.
def test_read_only_fields_accepted_and_ignored(sim):
    sim.reset(accept_read_only_fields=True)
    client = sim.client()
    whole = client.get(ACCOUNT)
    client.put(ACCOUNT, **{**whole, "displayName": "Contact desk", "primaryEmailAddress": "other@mydomain.ovh"})
    account = wait_idle(client, ACCOUNT)
    assert account["displayName"] == "Contact desk" and account["primaryEmailAddress"] == "contact@mydomain.ovh"
    with pytest.raises(exceptions.BadParametersError, match="not described"):
        client.put(ACCOUNT, colour="red")  # unknown fields are still refused


# 7. A task in error, retried by OVH, ends done.
def test_failed_update_is_retried_and_ends_done(sim):
    sim.reset(task_error_retry=0.5)
    client = sim.client()
    connector_id, task_id = failed_connector_update(sim, client)
    retried = eventually(lambda: client.get(f"{BASE}/task/{task_id}"), lambda t: t["status"] == "done")
    assert retried["status"] == "done" and retried["finishDate"]
    assert client.get(f"{BASE}/sendConnector/{connector_id}")["port"] == 2525


def test_failed_creation_is_retried_and_the_connector_appears(sim):
    sim.reset(task_error_retry=0.5)
    client = sim.client()
    sim.set_faults(script=[{"fault": "task_error"}])
    task = client.post(f"{BASE}/sendConnector", **RELAY)
    assert wait_task(client, task["id"])["status"] == "error"
    assert client.get(f"{BASE}/sendConnector") == []
    eventually(lambda: client.get(f"{BASE}/task/{task['id']}"), lambda t: t["status"] == "done")
    (connector_id,) = client.get(f"{BASE}/sendConnector")
    connector = client.get(f"{BASE}/sendConnector/{connector_id}")
    assert (connector["state"], connector["taskPendingId"], connector["port"]) == ("ok", 0, 587)


# 8. Offers.
def test_connectors_on_any_offer(sim):
    sim.reset(platforms=6)
    client = sim.client()
    provider = "/email/exchange/provider-zz900006-1/service/provider-zz900006-1"
    trusted = "/email/exchange/trusted-zz900002-1/service/trusted-zz900002-1"
    assert client.get(provider)["offer"] == "provider"
    for base in (HOSTED_BASE, provider):
        with pytest.raises(exceptions.APIError) as refused:
            client.post(f"{base}/sendConnector", **RELAY)
        assert refused.value.response.status_code == 403
    assert client.post(f"{trusted}/sendConnector", **RELAY)["function"] == "addSendConnector"
    sim.set_readings(connectors_on_any_offer=True)
    for base in (HOSTED_BASE, provider):
        task = client.post(f"{base}/sendConnector", **RELAY)
        assert wait_task(client, task["id"], base=base)["status"] == "done"
        assert len(client.get(f"{base}/sendConnector")) == 1


# The profile.
def test_pessimistic_profile_turns_every_unfriendly_reading_on(sim):
    sim.reset(api_profile="pessimistic")
    readings = sim.readings()
    assert readings["connector_listed_after_task"] and readings["sbr_without_task"] and readings["no_batch"]
    assert readings["filter_syntax"] == "manager" and readings["late_writes"] > 0
    assert set(readings["unpaged_routes"]) == {"sendConnector", "domain", "task"}
    client = sim.client()
    task = client.post(f"{HOSTED_BASE}/sendConnector", **RELAY)  # accepted on hosted
    assert client.get(f"{HOSTED_BASE}/sendConnector") == []  # not listed before its task ends
    assert "X-Pagination-Size" not in paged(client, f"{BASE}/account").headers
    assert wait_task(client, task["id"], base=HOSTED_BASE)["status"] == "done"
    sim.reset()
    assert sim.readings()["connector_listed_after_task"] is False


def test_unknown_reading_is_refused(sim):
    with pytest.raises(Exception, match="400"):
        sim.reset(teapot=True)
    with pytest.raises(Exception, match="400"):
        sim.set_readings(unpaged_routes=["mailbox"])
