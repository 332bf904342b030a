"""exchange_send_connector_info against the simulator: its answer matches the simulator's state."""
import pytest

from bindings_support import BASE, account_connectors, bind_directly, create_connector, platform_state, task, users, writes

pytestmark = pytest.mark.integration


def info(run_playbook, *args, **options):
    run = run_playbook(task("exchange_send_connector_info", options), *args)
    assert run.rc == 0, run.stdout
    return run.task("under test")


def expected(sim):
    """The answer the module should give, from the simulator's own state."""
    state = platform_state(sim)
    bound = account_connectors(sim)
    result = []
    for key in sorted(state["connectors"], key=int):
        connector = dict(state["connectors"][key])
        connector["accounts"] = sorted((a for a, c in bound.items() if c == connector["id"]), key=str.lower)
        connector["default_for_domains"] = sorted(
            name for name, domain in state["domains"].items() if domain.get("sendConnectorIdDefault") == connector["id"])
        result.append(connector)
    return result


@pytest.mark.parametrize("object_lists", [True, False])
def test_info_matches_the_simulator_state(sim, run_playbook, object_lists):
    sim.reset(accounts=100)
    relay = create_connector(sim, "relay")
    other = create_connector(sim, "other-relay", "smtp.other.example.com")
    bind_directly(sim, relay, users(1, 12))
    bind_directly(sim, other, ["newsletter@mydomain.ovh"])
    sim.client().put(f"{BASE}/domain/guides.ovh/changeDefaultSBR", sendConnectorIdDefault=other)
    sim.set_faults(object_lists=object_lists)
    want = expected(sim)
    assert [c["default_for_domains"] for c in want] in ([[], []], [[], ["guides.ovh"]])  # task may be running

    before = sim.stats()
    result = info(run_playbook, "--check")
    assert result["changed"] is False
    assert result["connectors"] == expected(sim)
    assert [c["id"] for c in result["connectors"]] == [relay, other]
    assert result["connectors"][0]["accounts"] == users(1, 12)
    assert writes(sim.stats()) == writes(before)
    if object_lists:
        # /auth/time, connectors, accounts, domains.
        assert sim.stats()["total"] - before["total"] <= 4

    one = info(run_playbook, connector="other-relay")
    assert one["connectors"] == [c for c in expected(sim) if c["id"] == other]


def test_unknown_connector_is_an_error(sim, run_playbook):
    create_connector(sim, "relay")
    run = run_playbook(task("exchange_send_connector_info", {"connector": "nope"}))
    assert run.failed_tasks == ["under test"]
    assert "no send connector has the name or id 'nope'" in run.task("under test")["msg"]


def test_no_connector_at_all(sim, run_playbook):
    result = info(run_playbook)
    assert result["connectors"] == [] and result["read_strategy"] is None
