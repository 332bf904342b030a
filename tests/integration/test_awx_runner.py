"""The playbook as AWX runs it: through ansible-runner, with the credential type's injectors."""
from __future__ import annotations

import ansible_runner
import jinja2
import pytest
import yaml

from testlib import COLLECTIONS, REPO
from shared_constants import BASE, PLATFORM

pytestmark = pytest.mark.integration


def injected_environment(sim):
    """Render docs/awx's injectors the way AWX does, from credential inputs holding the simulator's keys."""
    injectors = yaml.safe_load((REPO / "docs" / "awx" / "credential_type_injectors.yml").read_text())
    inputs = {
        "endpoint": sim.env["OVH_ENDPOINT"],
        "application_key": sim.env["OVH_APPLICATION_KEY"],
        "application_secret": sim.env["OVH_APPLICATION_SECRET"],
        "consumer_key": sim.env["OVH_CONSUMER_KEY"],
        "client_id": "",
        "client_secret": "",
    }
    # AWX injects every variable, blank fields as empty strings: an empty OAuth2 pair must not count as
    # a second set of credentials (the modules treat an empty OVH_* variable as unset).
    return {name: jinja2.Template(template).render(**inputs) for name, template in injectors["env"].items()}


def test_playbook_through_ansible_runner_with_injected_credentials(sim, tmp_path):
    env = injected_environment(sim)
    assert set(env) >= {"OVH_ENDPOINT", "OVH_APPLICATION_KEY", "OVH_APPLICATION_SECRET", "OVH_CONSUMER_KEY"}
    assert env.get("OVH_CLIENT_ID") == "" and env.get("OVH_CLIENT_SECRET") == ""
    env.update({"ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS), "ANSIBLE_NOCOLOR": "1"})

    private_data_dir = tmp_path / "runner"
    private_data_dir.mkdir()
    run = ansible_runner.run(
        private_data_dir=str(private_data_dir),
        project_dir=str(REPO),
        playbook="playbooks/send_connector.yml",
        inventory=str(REPO / "playbooks" / "inventory"),
        envvars=env,
        quiet=True,
    )
    events = list(run.events)
    failed = [e for e in events if e["event"] == "runner_on_failed"]
    assert run.status == "successful", [e["event_data"].get("res", {}).get("msg") for e in failed]
    assert run.rc == 0
    assert not failed
    ok_tasks = {e["event_data"]["task"] for e in events if e["event"] == "runner_on_ok"}
    assert "Create or update each connector" in ok_tasks
    assert "Bind each connector's mailboxes in one bulk call" in ok_tasks
    assert run.stats["changed"], "the first run against an empty platform changes it"
    # No secret reaches AWX's job events.
    stdout = run.stdout.read()
    for secret in (sim.env["OVH_APPLICATION_SECRET"], sim.env["OVH_CONSUMER_KEY"], "demo-relay-password"):
        assert secret not in stdout

    client = sim.client()
    [connector_id] = client.get(f"{BASE}/sendConnector")
    assert client.get(f"{BASE}/account/newsletter@mydomain.ovh")["sendConnectorId"] == connector_id
    # The role's outcome reaches the job's artifacts, keyed by its platform (organization/service).
    [stats] = [e["event_data"] for e in events if e["event"] == "playbook_on_stats"]
    outcome = stats["artifact_data"]["send_connector_outcome"][f"{PLATFORM}/{PLATFORM}"]
    assert (outcome["organization"], outcome["service"], outcome["status"]) == (PLATFORM, PLATFORM, "converged")
    assert outcome["connectors"]["newsletter-relay"]["id"] == connector_id
    assert outcome["connectors"]["newsletter-relay"]["mailboxes"]["bound"] == 1
