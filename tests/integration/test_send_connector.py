"""exchange_send_connector against the simulator: real ansible-playbook runs; the simulator's state and
request log are the evidence, not only the module's output."""
import json

import pytest

from bindings_support import BASE, ORG, ROUTE, bind_directly, domain_defaults, platform_state

pytestmark = pytest.mark.integration

SECRET = "relay-Password-4-integration"
CONNECTORS = f"{ROUTE}/sendConnector"


def play(*tasks, check_name="under test"):
    """A play of exchange_send_connector tasks; each task is (name, args)."""
    lines = ["- hosts: localhost", "  gather_facts: false", "  tasks:"]
    for name, args in tasks:
        lines += [f"    - name: {name}",
                  f"      ovhcloud.exchange.exchange_send_connector: {json.dumps({'organization': ORG, **args})}"]
    return "\n".join(lines) + "\n"


def run_one(run_playbook, args, *ansible_args, env=None):
    run = run_playbook(play(("under test", args)), *ansible_args, env=env)
    return run, run.task("under test")


def connectors(sim):
    return list(platform_state(sim)["connectors"].values())


def writes_since(sim, before):
    return sim.stats()["writes"] - before["writes"]


RELAY = {"name": "relay", "smart_host": "smtp-relay.example.com", "port": 587, "require_tls": True,
         "auth_mechanism": "basicAuthRequireTLS", "user": "relay-user", "password": SECRET, "max_send_size": 50}


def test_create_then_the_same_play_changes_nothing(sim, run_playbook):
    run, result = run_one(run_playbook, RELAY)
    assert run.rc == 0, run.stdout
    [created] = connectors(sim)
    assert (created["displayName"], created["smartHost"], created["port"], created["requireTLS"],
            created["smartHostAuthMechanism"], created["maxSendSize"], created["state"]) == \
        ("relay", "smtp-relay.example.com", 587, True, "basicAuthRequireTLS", 50, "ok")
    assert result["changed"] is True and result["id"] == created["id"]
    assert result["connector"]["state"] == "ok" and len(result["task_ids"]) == 1
    assert SECRET not in run.stdout + json.dumps(run.results)
    posts = [r for r in sim.requests() if r["method"] == "POST"]
    assert len(posts) == 1 and SECRET not in json.dumps(posts)

    before = sim.stats()
    run, result = run_one(run_playbook, RELAY)
    assert run.rc == 0 and result["changed"] is False
    assert writes_since(sim, before) == 0
    # The module signs with the local clock (no GET /auth/time) and reports every request it made: one here.
    assert result["api_calls"]["total"] == sim.stats()["total"] - before["total"] == 1


def test_check_mode_and_diff_change_nothing(sim, run_playbook):
    run, result = run_one(run_playbook, RELAY, "--check", "--diff")
    assert run.rc == 0, run.stdout
    assert result["changed"] is True and result["id"] is None
    assert result["diff"]["after"]["smartHost"] == "smtp-relay.example.com" and result["diff"]["before"] == {}
    assert connectors(sim) == [] and sim.stats()["writes"] == 0

    run_one(run_playbook, RELAY)
    before = sim.stats()
    run, result = run_one(run_playbook, {**RELAY, "port": 2525}, "--check", "--diff")
    assert result["changed"] is True
    assert (result["diff"]["before"]["port"], result["diff"]["after"]["port"]) == (587, 2525)
    assert "password" not in json.dumps(result["diff"]) and SECRET not in run.stdout
    assert writes_since(sim, before) == 0 and connectors(sim)[0]["port"] == 587


@pytest.mark.parametrize("option,field,value", [
    ("smart_host", "smartHost", "relay2.example.net"),
    ("port", "port", 2525),
    ("require_tls", "requireTLS", False),
    ("max_send_size", "maxSendSize", 25),
    ("dns_routing", "dnsRouting", True),
])
def test_each_field_is_updated_with_one_put(sim, run_playbook, option, field, value):
    run_one(run_playbook, RELAY)
    before = sim.stats()
    run, result = run_one(run_playbook, {**RELAY, option: value})
    assert run.rc == 0, run.stdout
    assert result["changed"] is True and connectors(sim)[0][field] == value
    assert result["connector"][field] == value
    assert sim.stats()["by_route"].get(f"PUT {CONNECTORS}/{{id}}", 0) - before["by_route"].get(f"PUT {CONNECTORS}/{{id}}", 0) == 1
    assert writes_since(sim, before) == 1
    put = [r for r in sim.requests() if r["method"] == "PUT"][-1]
    assert put["body"] == {field: value}


def test_dns_routing_on_create(sim, run_playbook):
    run, result = run_one(run_playbook, {"name": "mx", "smart_host": "relay.example.net", "dns_routing": True})
    assert run.rc == 0, run.stdout
    assert connectors(sim)[0]["dnsRouting"] is True and result["connector"]["dnsRouting"] is True


def test_authentication_none_then_basic_tls_then_none(sim, run_playbook):
    base = {"name": "relay", "smart_host": "smtp-relay.example.com"}
    run_one(run_playbook, {**base, "auth_mechanism": "none"})
    assert connectors(sim)[0]["smartHostAuthMechanism"] == "none"
    before = sim.stats()
    run, result = run_one(run_playbook, {**base, "auth_mechanism": "basicAuthRequireTLS", "user": "u", "password": SECRET})
    assert run.rc == 0, run.stdout
    assert connectors(sim)[0]["smartHostAuthMechanism"] == "basicAuthRequireTLS"
    assert platform_state(sim)["connector_secrets"][str(result["id"])]["user"] == "u"
    change = [r for r in sim.requests() if r["route"].endswith("changeAuthentication")]
    assert len(change) == 1 and writes_since(sim, before) == 1
    run, result = run_one(run_playbook, {**base, "auth_mechanism": "none"})
    assert run.rc == 0 and result["changed"] is True
    assert connectors(sim)[0]["smartHostAuthMechanism"] == "none"


def test_password_policies(sim, run_playbook):
    run_one(run_playbook, RELAY)
    before = sim.stats()
    run, result = run_one(run_playbook, {**RELAY, "password": "another-password"})
    assert result["changed"] is False and writes_since(sim, before) == 0
    key = str(result["id"])
    assert platform_state(sim)["connector_secrets"][key]["password"] == SECRET

    for dummy in range(2):
        run, result = run_one(run_playbook, {**RELAY, "password": "another-password", "update_password": "always"})
        assert run.rc == 0 and result["changed"] is True
    assert platform_state(sim)["connector_secrets"][key]["password"] == "another-password"
    assert writes_since(sim, before) == 2


def test_bad_input_is_refused_before_any_write(sim, run_playbook):
    for args, words in [({**RELAY, "user": None}, "needs user"), ({**RELAY, "max_send_size": 101}, "between 1 and 100"),
                        ({**RELAY, "port": 0}, "between 1 and 65535"), ({**RELAY, "smart_host": ""}, "smart_host")]:
        args = {k: v for k, v in args.items() if v is not None}
        run, result = run_one(run_playbook, args)
        assert run.rc != 0 and words in result["msg"], result
    assert sim.stats()["writes"] == 0 and connectors(sim) == []


def test_a_hosted_platform_is_refused_naming_its_offer(sim, run_playbook):
    hosted = "hosted-zz222222-1"
    run = run_playbook(play(("under test", {**RELAY, "organization": hosted})))
    result = run.task("under test")
    assert run.rc != 0 and "'hosted'" in result["msg"] and "allow_unsupported_offer" in result["msg"]
    assert sim.stats()["writes"] == 0


def test_delete_in_use_fails_unless_forced(sim, run_playbook):
    run, result = run_one(run_playbook, RELAY)
    connector_id = result["id"]
    bind_directly(sim, connector_id, ["contact@mydomain.ovh"])
    sim.client().put(f"{BASE}/domain/guides.ovh/changeDefaultSBR", sendConnectorIdDefault=connector_id)

    before = sim.stats()
    run, result = run_one(run_playbook, {"name": "relay", "state": "absent"})
    assert run.rc != 0
    assert "contact@mydomain.ovh" in result["msg"] and "guides.ovh" in result["msg"] and "force" in result["msg"]
    assert writes_since(sim, before) == 0 and len(connectors(sim)) == 1

    run, result = run_one(run_playbook, {"name": "relay", "state": "absent", "force": True})
    assert run.rc == 0, run.stdout
    assert result["changed"] is True and connectors(sim) == []
    assert platform_state(sim)["accounts"]["contact@mydomain.ovh"].get("sendConnectorId") in (0, None)
    assert domain_defaults(sim)["guides.ovh"] == 0

    run, result = run_one(run_playbook, {"name": "relay", "state": "absent"})
    assert run.rc == 0 and result["changed"] is False


def test_delete_unused_connector(sim, run_playbook):
    run_one(run_playbook, RELAY)
    before = sim.stats()
    run, result = run_one(run_playbook, {"name": "relay", "state": "absent"})
    assert run.rc == 0 and result["changed"] is True and connectors(sim) == []
    assert writes_since(sim, before) == 1


@pytest.mark.parametrize("fault", ["429", "500", "reset_before", "reset_after", "502"])
def test_a_fault_during_create_still_gives_exactly_one_connector(sim, run_playbook, fault):
    sim.set_faults(script=[{"fault": fault, "method": "POST", "path": "/sendConnector"}], retry_after=0.2)
    run, result = run_one(run_playbook, RELAY)
    assert run.rc == 0, run.stdout
    [created] = connectors(sim)
    assert created["displayName"] == "relay" and result["id"] == created["id"]
    faulted = [r for r in sim.requests() if r["fault"]]
    assert len(faulted) == 1 and faulted[0]["method"] == "POST"


def test_random_faults_still_give_exactly_one_connector(sim, run_playbook):
    sim.set_faults(**{"500": 0.15, "502": 0.1, "429": 0.15, "reset": 0.1, "retry_after": 0.1, "seed": 7})
    run, result = run_one(run_playbook, RELAY)
    faults = sim.stats()["faults"]
    sim.set_faults(**{"500": 0, "502": 0, "429": 0, "reset": 0})
    # With this seed the retries absorb every fault (one outcome, asserted: no branch that never runs).
    assert sum(faults.values()) > 0, "no fault was injected: the test proves nothing"
    assert run.rc == 0, run.stdout[-3000:]
    assert [c["displayName"] for c in connectors(sim)] == ["relay"]
    assert result["id"] == connectors(sim)[0]["id"]
    run, result = run_one(run_playbook, RELAY)
    assert run.rc == 0, run.stdout
    assert [c["displayName"] for c in connectors(sim)] == ["relay"]


def test_bad_credentials_give_a_clear_message(sim, run_playbook):
    run, result = run_one(run_playbook, RELAY, env={"OVH_CONSUMER_KEY": "not-a-consumer-key"})
    assert run.rc != 0
    assert "rejected the credentials" in result["msg"] and "consumer_key" in result["msg"]
    assert "Traceback" not in run.stdout and sim.stats()["writes"] == 0


def test_missing_rights_name_the_call(sim, run_playbook):
    run, result = run_one(run_playbook, RELAY, env={"OVH_CONSUMER_KEY": "demo-readonly-consumer-key"})
    assert run.rc != 0
    assert f"not allowed to call POST {BASE}/sendConnector" in result["msg"]
    assert connectors(sim) == []


@pytest.mark.parametrize("endpoint,words", [
    ("http://api.example.net/1.0", "allowed only to a loopback address"),
    ("ovh-moon", "neither an OVH region"),
])
def test_a_bad_endpoint_gives_a_clear_message(sim, run_playbook, endpoint, words):
    run, result = run_one(run_playbook, RELAY, env={"OVH_ENDPOINT": endpoint})
    assert run.rc != 0 and words in result["msg"] and "Traceback" not in run.stdout
    assert sim.stats()["total"] == 0


def test_an_unknown_platform_is_named(sim, run_playbook):
    run, result = run_one(run_playbook, {**RELAY, "organization": "private-zz999999-9"})
    assert run.rc != 0 and result["msg"].startswith("Exchange platform not found: organization 'private-zz999999-9'")
