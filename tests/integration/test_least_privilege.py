"""The access rules that docs/credentials.md publishes are exactly enough: the doc's block is the test's input."""
from __future__ import annotations

import copy
import json
import re

import pytest
from ovh_api_sim.seed import load_seed

from testlib import REPO
from shared_constants import PLATFORM

pytestmark = pytest.mark.integration

INVENTORY = str(REPO / "playbooks" / "inventory")
APPLY = REPO / "playbooks" / "send_connector.yml"
REMOVE = REPO / "playbooks" / "remove_send_connector.yml"
LIMITED_KEY = "least-privilege-consumer-key"


def documented_rules():
    text = (REPO / "docs" / "credentials.md").read_text()
    section = text.split("## Access rules", 1)[1]
    block = re.search(r"```json\n(.*?)```", section, re.S).group(1)
    return json.loads(block)


def reseed_with_rules(sim, rules):
    seed = copy.deepcopy(load_seed())
    application_key = seed["credentials"]["applications"][0]["key"]
    seed["credentials"]["consumer_keys"].append({"key": LIMITED_KEY, "application_key": application_key, "rules": rules})
    sim.reset(seed=seed)


def write_vars(tmp_path, data):
    path = tmp_path / f"vars-{len(list(tmp_path.glob('vars-*')))}.json"
    path.write_text(json.dumps(data))
    return f"@{path}"


def test_documented_rules_are_enough_for_the_whole_lifecycle(sim, run_playbook, tmp_path):
    reseed_with_rules(sim, documented_rules())
    env = {"OVH_CONSUMER_KEY": LIMITED_KEY}

    assert run_playbook(APPLY, "-i", INVENTORY, env=env).rc == 0
    # An update of settings (PUT) and of authentication (changeAuthentication).
    changed = {
        "send_connector_connectors": [
            {"name": "newsletter-relay", "smart_host": "relay2.example.com", "port": 2525, "auth_mechanism": "none",
             "mailboxes": ["newsletter@mydomain.ovh"], "default_for_domains": ["guides.ovh"]}
        ]
    }
    update = run_playbook(APPLY, "-i", INVENTORY, "-e", write_vars(tmp_path, changed), env=env)
    assert update.rc == 0, update.stdout + update.stderr
    remove = run_playbook(REMOVE, "-i", INVENTORY, "-e", write_vars(tmp_path, {"remove_connectors": ["newsletter-relay"]}), env=env)
    assert remove.rc == 0, remove.stdout + remove.stderr

    methods = {(r["method"], r["route"]) for r in sim.requests()}
    assert not [r for r in sim.requests() if r["status"] == 403]
    for expected in ("POST", "PUT", "DELETE"):
        assert any(method == expected for method, _route in methods)
    client = sim.client()
    assert client.get(f"/email/exchange/{PLATFORM}/service/{PLATFORM}/sendConnector") == []


def test_read_only_rule_is_enough_to_review_a_change_in_check_mode(sim, run_playbook):
    reseed_with_rules(sim, documented_rules()[:1])
    run = run_playbook(APPLY, "-i", INVENTORY, "--check", "--diff", env={"OVH_CONSUMER_KEY": LIMITED_KEY})
    assert run.rc == 0, run.stdout + run.stderr
    assert run.changed_tasks
    assert sim.stats()["writes"] == 0


def test_a_missing_rule_fails_naming_the_call_to_grant(sim, run_playbook):
    rules = [rule for rule in documented_rules() if not rule["path"].endswith("changeDefaultSBR")]
    reseed_with_rules(sim, rules)
    run = run_playbook(APPLY, "-i", INVENTORY, env={"OVH_CONSUMER_KEY": LIMITED_KEY})
    assert run.rc != 0
    assert "not allowed to call PUT" in run.stdout and "changeDefaultSBR" in run.stdout, run.stdout
    assert "Traceback" not in run.stdout + run.stderr
