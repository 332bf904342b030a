"""Backend rules driven directly (no HTTP), with a fake clock."""
from __future__ import annotations

import pytest

from ovh_api_sim.backend import ApiError, Backend
from ovh_api_sim.seed import load_seed

ORG = SVC = "private-zz111111-1"
HOSTED = "hosted-zz222222-1"
CONNECTOR = {"displayName": "relay", "smartHost": "smtp-relay.example.com"}


class Clock:
    def __init__(self):
        self.now = 1_700_000_000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def backend(clock):
    return Backend(load_seed(), task_seconds=3, clock=clock)


def error_of(call, *args):
    with pytest.raises(ApiError) as info:
        call(*args)
    return info.value


def create(backend, clock, **fields):
    task = backend.create_connector(ORG, SVC, {**CONNECTOR, **fields})
    clock.now += 3
    return backend.list_connectors(ORG, SVC)[-1], task


def test_default_seed_is_the_guides_world(backend):
    assert backend.list_organizations() == [HOSTED, ORG]
    assert backend.get_service(ORG, SVC)["offer"] == "dedicated"
    assert backend.get_service(HOSTED, HOSTED)["offer"] == "hosted"
    addresses = [a["primaryEmailAddress"] for a in backend.account_objects(ORG, SVC)]
    assert {"contact@mydomain.ovh", "newsletter@mydomain.ovh"} <= set(addresses)
    assert {d["name"] for d in backend.domain_objects(ORG, SVC)} == {"mydomain.ovh", "guides.ovh"}
    assert backend.list_connectors(ORG, SVC) == []


def test_task_moves_todo_doing_done_and_connector_follows(backend, clock):
    task = backend.create_connector(ORG, SVC, dict(CONNECTOR))
    assert task["status"] == "todo" and task["finishDate"] is None and task["function"] == "addSendConnector"
    connector_id = backend.list_connectors(ORG, SVC)[0]
    connector = backend.get_connector(ORG, SVC, connector_id)
    assert (connector["state"], connector["taskPendingId"]) == ("creating", task["id"])
    assert connector["maxSendSize"] == 100 and connector["smartHostAuthMechanism"] == "none"
    clock.now += 1.5
    assert backend.get_task(ORG, SVC, task["id"])["status"] == "doing"
    clock.now += 1.5
    done = backend.get_task(ORG, SVC, task["id"])
    assert done["status"] == "done" and done["finishDate"] is not None
    connector = backend.get_connector(ORG, SVC, connector_id)
    assert (connector["state"], connector["taskPendingId"]) == ("ok", 0)
    assert task["id"] in [t["id"] for t in backend.task_objects(ORG, SVC)]  # done tasks stay listed


def test_put_applies_when_the_task_ends_and_pending_write_is_409(backend, clock):
    connector_id, dummy = create(backend, clock)
    assert backend.update_connector(ORG, SVC, connector_id, {"port": 587}) is None
    assert backend.get_connector(ORG, SVC, connector_id)["port"] == 25  # not applied yet
    conflict = error_of(backend.update_connector, ORG, SVC, connector_id, {"port": 2525})
    assert conflict.status == 409
    clock.now += 3
    connector = backend.get_connector(ORG, SVC, connector_id)
    assert connector["port"] == 587 and connector["lastUpdateDate"] is not None


def test_task_error_leaves_the_object_unchanged_and_released(backend, clock):
    connector_id, dummy = create(backend, clock)
    backend.task_fails = lambda: True
    backend.update_connector(ORG, SVC, connector_id, {"smartHost": "other.example.com"})
    pending = backend.get_connector(ORG, SVC, connector_id)["taskPendingId"]
    clock.now += 3
    connector = backend.get_connector(ORG, SVC, connector_id)
    assert connector["smartHost"] == "smtp-relay.example.com" and connector["taskPendingId"] == 0
    assert backend.get_task(ORG, SVC, pending)["status"] == "error"


def test_failed_creation_leaves_no_connector(backend, clock):
    backend.task_fails = lambda: True
    backend.create_connector(ORG, SVC, dict(CONNECTOR))
    assert len(backend.list_connectors(ORG, SVC)) == 1
    clock.now += 3
    assert backend.list_connectors(ORG, SVC) == []


def test_delete_disappears_when_the_task_ends(backend, clock):
    connector_id, dummy = create(backend, clock)
    task = backend.delete_connector(ORG, SVC, connector_id)
    assert task["function"] == "deleteSendConnector"
    assert backend.get_connector(ORG, SVC, connector_id)["state"] == "deleting"
    clock.now += 3
    assert error_of(backend.get_connector, ORG, SVC, connector_id).status == 404


def test_delete_refused_while_accounts_or_domain_defaults_use_it(backend, clock):
    connector_id, dummy = create(backend, clock)
    backend.update_account(ORG, SVC, "contact@mydomain.ovh", {"sendConnectorId": connector_id})
    error = error_of(backend.delete_connector, ORG, SVC, connector_id)  # pending change counts too
    assert error.status == 400 and "contact@mydomain.ovh" in error.body["message"]
    clock.now += 3
    backend.change_default_sbr(ORG, SVC, "guides.ovh", {"sendConnectorIdDefault": connector_id})
    clock.now += 3
    message = error_of(backend.delete_connector, ORG, SVC, connector_id).body["message"]
    assert "contact@mydomain.ovh" in message and "guides.ovh" in message
    backend.update_account(ORG, SVC, "contact@mydomain.ovh", {"sendConnectorId": 0})
    backend.change_default_sbr(ORG, SVC, "guides.ovh", {"sendConnectorIdDefault": 0})
    clock.now += 3
    assert backend.get_account(ORG, SVC, "contact@mydomain.ovh")["sendConnectorId"] == 0
    assert backend.get_domain(ORG, SVC, "guides.ovh")["sendConnectorIdDefault"] == 0
    assert backend.delete_connector(ORG, SVC, connector_id)["status"] == "todo"


@pytest.mark.parametrize("body, words", [
    ({"displayName": "x"}, "Missing parameter"),
    ({**CONNECTOR, "colour": "red"}, "not described parameters: (colour)"),
    ({**CONNECTOR, "port": "587"}, "port"),
    ({**CONNECTOR, "port": 0}, "port"),
    ({**CONNECTOR, "port": 65536}, "port"),
    ({**CONNECTOR, "maxSendSize": 101}, "maxSendSize"),
    ({**CONNECTOR, "requireTLS": "yes"}, "requireTLS"),
    ({**CONNECTOR, "smartHostAuthMechanism": "ntlm"}, "smartHostAuthMechanism"),
    ({**CONNECTOR, "smartHostAuthMechanism": "basicAuth"}, "user and password"),
])
def test_create_validation_happens_before_any_change(backend, body, words):
    error = error_of(backend.create_connector, ORG, SVC, body)
    assert error.status == 400 and words in error.body["message"]
    assert error.body["class"] == "Client::BadRequest"
    assert backend.list_connectors(ORG, SVC) == [] and backend.task_objects(ORG, SVC) == []


def test_put_refuses_read_only_fields_and_dangling_connector_ids(backend, clock):
    connector_id, dummy = create(backend, clock)
    assert error_of(backend.update_connector, ORG, SVC, connector_id,
                    {"smartHostAuthMechanism": "basicAuth"}).status == 400
    assert error_of(backend.update_account, ORG, SVC, "contact@mydomain.ovh", {"sendConnectorId": 999}).status == 400
    assert error_of(backend.update_account, ORG, SVC, "contact@mydomain.ovh", {"primaryEmailAddress": "x"}).status == 400
    assert error_of(backend.update_account, ORG, SVC, "nobody@mydomain.ovh", {"sendConnectorId": 0}).status == 404


def test_change_authentication_sets_mechanism_and_keeps_the_secret(backend, clock):
    connector_id, dummy = create(backend, clock)
    task = backend.change_authentication(ORG, SVC, connector_id, {
        "smartHostAuthMechanism": "basicAuthRequireTLS", "user": "apikey", "password": "s3cret"})
    assert task["function"] == "setSendConnector"
    clock.now += 3
    assert backend.get_connector(ORG, SVC, connector_id)["smartHostAuthMechanism"] == "basicAuthRequireTLS"
    secrets = backend.snapshot()["services"][0]["connector_secrets"][str(connector_id)]
    assert secrets == {"user": "apikey", "password": "s3cret"}
    assert "password" not in backend.get_connector(ORG, SVC, connector_id)


def test_hosted_offer_refuses_send_connectors(backend):
    error = error_of(backend.create_connector, HOSTED, HOSTED, dict(CONNECTOR))
    assert error.status == 403 and "hosted" in error.body["message"]


def test_duplicate_display_names_are_allowed(backend, clock):
    first, dummy = create(backend, clock)
    second, dummy = create(backend, clock)
    assert first != second
    names = [backend.get_connector(ORG, SVC, i)["displayName"] for i in (first, second)]
    assert names == ["relay", "relay"]


def test_account_filters_like_and_license(clock):
    backend = Backend(load_seed(), task_seconds=0, clock=clock, extra_accounts=10_000)
    assert len(backend.account_objects(ORG, SVC)) == 10_006
    found = backend.account_objects(ORG, SVC, {"primaryEmailAddress": "user0001%"})
    assert [a["primaryEmailAddress"] for a in found][:2] == ["user00010@mydomain.ovh", "user00011@mydomain.ovh"]
    assert len(found) == 10
    exact = backend.account_objects(ORG, SVC, {"primaryEmailAddress": "user09999@mydomain.ovh"})
    assert [a["primaryEmailAddress"] for a in exact] == ["user09999@mydomain.ovh"]
    assert [a["primaryEmailAddress"] for a in backend.account_objects(ORG, SVC, {"accountLicense": "enterprise"})] \
        == ["sales@mydomain.ovh"]
    assert {a["company"] for a in backend.account_objects(ORG, SVC, {"company": "%guid%"})} == {"Guides"}


def test_unknown_service_and_objects_are_404(backend):
    assert error_of(backend.list_connectors, "nope", "nope").status == 404
    assert error_of(backend.get_task, ORG, SVC, 1).body["message"] == "The requested object (id = 1) does not exist"
    assert error_of(backend.get_domain, ORG, SVC, "unknown.ovh").status == 404


# ----------------------------------------------------------------- readings, on a fake clock
def backend_with(clock, **readings):
    from ovh_api_sim.readings import readings_for

    return Backend(load_seed(), task_seconds=3, clock=clock, readings=readings_for(**readings))


def test_late_write_timeline(clock):
    backend = backend_with(clock, late_writes=2)
    backend.update_account(ORG, SVC, "contact@mydomain.ovh", {"displayName": "Desk"})
    hidden = backend.get_account(ORG, SVC, "contact@mydomain.ovh")
    assert (hidden["displayName"], hidden["taskPendingId"]) == ("Contact", 0)
    assert backend.task_objects(ORG, SVC) == []
    clock.now += 2  # visible: pending, todo for a third of the task's time
    (task,) = backend.task_objects(ORG, SVC)
    assert task["status"] == "todo"
    assert backend.get_account(ORG, SVC, "contact@mydomain.ovh")["taskPendingId"] == task["id"]
    clock.now += 3
    done = backend.get_account(ORG, SVC, "contact@mydomain.ovh")
    assert (done["displayName"], done["taskPendingId"]) == ("Desk", 0)


def test_retry_after_error_survives_a_state_reload(clock):
    backend = backend_with(clock, task_error_retry=5)
    backend.task_fails = lambda: True
    task = backend.create_connector(ORG, SVC, dict(CONNECTOR))
    clock.now += 3
    assert backend.list_connectors(ORG, SVC) == [] and backend.get_task(ORG, SVC, task["id"])["status"] == "error"
    reloaded = backend_with(clock, task_error_retry=5)
    reloaded.load_state(backend.snapshot())  # as a restart with --state-file does
    clock.now += 5
    assert reloaded.get_task(ORG, SVC, task["id"])["status"] == "done"
    (connector_id,) = reloaded.list_connectors(ORG, SVC)
    assert reloaded.get_connector(ORG, SVC, connector_id)["state"] == "ok"
    assert reloaded.snapshot()["services"][0]["connector_secrets"][str(connector_id)] == {"user": None,
                                                                                          "password": None}


def test_earlier_task_ending_does_not_release_a_later_write(clock):
    backend = backend_with(clock, writes_while_pending=True)
    backend.update_account(ORG, SVC, "contact@mydomain.ovh", {"displayName": "First"})
    clock.now += 1
    backend.update_account(ORG, SVC, "contact@mydomain.ovh", {"displayName": "Second"})
    second = backend.get_account(ORG, SVC, "contact@mydomain.ovh")["taskPendingId"]
    clock.now += 2  # the first task ends: its change applies, the second still owns the account
    account = backend.get_account(ORG, SVC, "contact@mydomain.ovh")
    assert (account["displayName"], account["taskPendingId"]) == ("First", second)
    clock.now += 1
    account = backend.get_account(ORG, SVC, "contact@mydomain.ovh")
    assert (account["displayName"], account["taskPendingId"]) == ("Second", 0)
