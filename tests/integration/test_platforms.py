"""Many platforms: the exchange_services inventory plugin and playbooks/send_connector_platforms.yml, for real.

ansible-inventory and ansible-playbook run against the simulator seeded with many platforms; the tests
assert what the simulator holds and counts (requests, writes), not what the output says.
"""
from __future__ import annotations

import json

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from platforms_support import (
    OTHER_OFFERS, ansible_inventory, connector_vars, mailboxes, other_name, platform_domain, platform_name,
    platforms_seed, service_state, write_inventory)
from testlib import REPO, ansible_env, run_ansible_playbook

PLAYBOOK = REPO / "playbooks" / "send_connector_platforms.yml"
PLATFORMS = 12

pytestmark = pytest.mark.integration


@pytest.fixture
def platforms(sim):
    """The session simulator reseeded with 12 Private and Trusted platforms, a Hosted and a Provider one."""
    sim.reset(seed=platforms_seed(PLATFORMS))
    return sim


def others():
    """The services of other offers in the seed, by name: {name: offer}."""
    return {other_name(offer, 1): offer for offer in OTHER_OFFERS}


def exchange_requests(sim):
    return [r for r in sim.requests() if r["path"].startswith("/email/exchange")]


# The inventory plugin ------------------------------------------------------------------------------


def test_inventory_lists_the_platforms_with_their_variables_and_groups(platforms, tmp_path):
    inventory = write_inventory(tmp_path / "inventory", {
        "keyed_groups": [{"key": "ovh_exchange_offer", "prefix": "offer"}],
        "groups": {"first_three": "ovh_exchange_service in ['%s', '%s', '%s']" % tuple(platform_name(n) for n in (1, 2, 3))},
        "compose": {"relay_host": "'smtp.' ~ ovh_exchange_domains[0]"},
    })
    # A consumer key with only the two GET rules of docs/credentials.md is enough.
    data, proc = ansible_inventory(inventory, {**platforms.env, "OVH_CONSUMER_KEY": "demo-inventory-consumer-key"})

    expected = {platform_name(n) for n in range(1, PLATFORMS + 1)}
    assert set(data["ovh_exchange_platforms"]["hosts"]) == expected
    host = data["_meta"]["hostvars"][platform_name(5)]
    assert host["ovh_exchange_organization"] == platform_name(5)
    assert host["ovh_exchange_service"] == platform_name(5)
    assert host["ovh_exchange_offer"] == "dedicatedCluster"
    assert host["ovh_exchange_state"] == "ok"
    assert host["ovh_exchange_domains"] == [platform_domain(5)]
    assert host["relay_host"] == "smtp." + platform_domain(5)
    assert set(data["first_three"]["hosts"]) == {platform_name(n) for n in (1, 2, 3)}
    assert set(data["offer_dedicated"]["hosts"]) == {platform_name(n) for n in range(2, PLATFORMS + 1, 2)}
    assert set(data["offer_dedicatedCluster"]["hosts"]) == {platform_name(n) for n in range(1, PLATFORMS + 1, 2)}
    # The Hosted and Provider platforms are left out by default, and the warning names them.
    assert not set(others()) & set(data["_meta"]["hostvars"])
    assert all(f"{name} ({offer})" in " ".join(proc.stderr.split()) for name, offer in others().items())
    # One organization list, a service list and a GET per organization, a domain list per platform kept.
    assert platforms.stats()["total"] == 1 + 2 * (PLATFORMS + 2) + PLATFORMS
    assert all(r["method"] == "GET" for r in platforms.requests())


def test_inventory_filters_by_offer_and_organization(platforms, tmp_path):
    data, proc = ansible_inventory(write_inventory(tmp_path / "all", {"offers": []}), platforms.env)
    assert set(others()) <= set(data["ovh_exchange_platforms"]["hosts"])
    assert len(data["ovh_exchange_platforms"]["hosts"]) == PLATFORMS + 2
    assert "left out" not in proc.stderr

    platforms.reset(seed=platforms_seed(PLATFORMS))
    data, proc = ansible_inventory(write_inventory(tmp_path / "some", {
        "organizations": ["private-zz10000[123]-1"], "offers": ["dedicatedCluster"], "domains": False,
    }), platforms.env)
    assert set(data["ovh_exchange_platforms"]["hosts"]) == {platform_name(1), platform_name(3)}
    assert "ovh_exchange_domains" not in data["_meta"]["hostvars"][platform_name(1)]
    # Organizations left out by the pattern cost no request; no domain list was read.
    paths = {r["path"] for r in exchange_requests(platforms)}
    assert not any(platform_name(5) in path for path in paths)
    assert not any(path.endswith("/domain") for path in paths)
    assert platforms.stats()["total"] == 1 + 2 * 3


def test_inventory_cache_makes_the_second_load_free(platforms, tmp_path):
    inventory = write_inventory(tmp_path / "inventory", {
        "cache": True, "cache_plugin": "ansible.builtin.jsonfile", "cache_connection": str(tmp_path / "cache"),
        "cache_timeout": 600,
    })
    first, dummy = ansible_inventory(inventory, platforms.env)
    after_first = platforms.stats()["total"]
    assert after_first > 0

    second, dummy = ansible_inventory(inventory, platforms.env)
    assert platforms.stats()["total"] == after_first, "the second load must come from the cache"
    assert second["_meta"]["hostvars"] == first["_meta"]["hostvars"]

    # Another account's keys are another inventory: they do not read this one's cache entry.
    other_env = {**platforms.env, "OVH_CONSUMER_KEY": "no-such-consumer-key"}
    command = [str(Path(sys.executable).parent / "ansible-inventory"), "-i", str(inventory), "--list"]
    proc = subprocess.run(command, env=ansible_env(other_env), capture_output=True, text=True, timeout=300, check=False)
    assert "OVH rejected the credentials" in proc.stdout + proc.stderr
    assert platforms.stats()["total"] > after_first

    # --flush-cache reads the API again.
    before_flush = platforms.stats()["total"]
    ansible_inventory(inventory, platforms.env, "--flush-cache")
    assert platforms.stats()["total"] == before_flush + after_first


# The playbook on many platforms ----------------------------------------------------------------------


def platform_inventory(folder, numbers, extra_mailboxes=None):
    extra_mailboxes = extra_mailboxes or {}
    return write_inventory(folder, {}, host_vars={
        platform_name(n): connector_vars(n, extra_mailboxes=extra_mailboxes.get(n, ())) for n in numbers})


def assert_converged(sim, numbers):
    for number in numbers:
        connectors, bindings = service_state(sim, platform_name(number))
        assert set(connectors) == {"relay"}, (number, connectors)
        relay = connectors["relay"]
        assert (relay["smartHost"], relay["port"], relay["state"]) == (f"smtp.platform{number:03d}.example", 587, "ok")
        assert {address: bindings[address] for address in mailboxes(number, 3)} == dict.fromkeys(mailboxes(number, 3), relay["id"])


def platform_stats(run):
    """The send_connector_platforms entries that the run published with set_stats, by host."""
    published = {}
    for entry in run.results:
        stats = entry["result"].get("ansible_stats", {}).get("data", {})
        published.update(stats.get("send_connector_platforms", {}))
    return published


def job_stats(run):
    """The job's custom stats as Ansible aggregated them over every host (what AWX keeps as artifacts)."""
    [line] = [line for line in run.stdout.splitlines() if line.startswith("\tRUN: ")]
    return json.loads(line[len("\tRUN: "):])


def test_twelve_platforms_with_four_forks_converge_then_a_rerun_writes_nothing(platforms, tmp_path):
    numbers = range(1, PLATFORMS + 1)
    inventory = platform_inventory(tmp_path / "inventory", numbers)
    first = run_ansible_playbook(PLAYBOOK, tmp_path, env={**platforms.env, "ANSIBLE_SHOW_CUSTOM_STATS": "1"},
                                 args=("-i", str(inventory), "--forks", "4"))
    assert first.rc == 0, first.stdout + first.stderr
    assert_converged(platforms, numbers)
    # The role's own outcome, keyed by organization/service: twelve platforms, none overwritten by another.
    # (Fails on the code of 2026-11-27: the role published send_connector_ids, one dict for all platforms.)
    outcome = job_stats(first)["send_connector_outcome"]
    assert set(outcome) == {f"{platform_name(n)}/{platform_name(n)}" for n in numbers}
    for number in numbers:
        connectors, dummy = service_state(platforms, platform_name(number))
        entry = outcome[f"{platform_name(number)}/{platform_name(number)}"]
        assert (entry["organization"], entry["host"]) == (platform_name(number), platform_name(number))
        assert entry["connectors"]["relay"]["id"] == connectors["relay"]["id"]
        assert entry["connectors"]["relay"]["mailboxes"]["bound"] == 3
    published = platform_stats(first)
    assert set(published) == {platform_name(n) for n in numbers}
    assert all(entry["status"] == "converged" and entry["changed"] for entry in published.values())
    for number in numbers:
        connectors, dummy = service_state(platforms, platform_name(number))
        assert published[platform_name(number)]["connector_ids"] == {"relay": connectors["relay"]["id"]}

    writes = platforms.stats()["writes"]
    second = run_ansible_playbook(PLAYBOOK, tmp_path, env=platforms.env, args=("-i", str(inventory), "--forks", "4"))
    assert second.rc == 0, second.stdout + second.stderr
    assert platforms.stats()["writes"] == writes
    assert not any(entry["changed"] for entry in platform_stats(second).values())


def test_one_platform_with_a_bad_mailbox_fails_alone(platforms, tmp_path):
    numbers = range(1, PLATFORMS + 1)
    bad = 5
    inventory = platform_inventory(tmp_path / "inventory", numbers,
                                   extra_mailboxes={bad: [f"ghost@{platform_domain(bad)}"]})
    run = run_ansible_playbook(PLAYBOOK, tmp_path, env=platforms.env, args=("-i", str(inventory), "--forks", "4"))
    assert run.rc == 2, run.stdout + run.stderr
    assert {entry["host"] for entry in run.results if entry["status"] == "failed"} == {platform_name(bad)}
    assert_converged(platforms, [n for n in numbers if n != bad])
    # The bad platform was checked before any write: nothing was created or bound there.
    connectors, bindings = service_state(platforms, platform_name(bad))
    assert connectors == {} and set(bindings.values()) <= {0, None}
    published = platform_stats(run)
    assert published[platform_name(bad)]["status"] == "failed"
    assert "ghost@" + platform_domain(bad) in published[platform_name(bad)]["error"]
    assert {published[platform_name(n)]["status"] for n in numbers if n != bad} == {"converged"}


def test_slices_in_parallel_processes_converge_every_platform(platforms, tmp_path):
    numbers = list(range(1, PLATFORMS + 1))
    inventory = platform_inventory(tmp_path / "inventory", numbers)
    # As AWX job slicing does: disjoint host sets, one ansible-playbook process each, at the same time.
    slices = [numbers[index::3] for index in range(3)]

    def run_slice(index):
        folder = tmp_path / f"slice{index}"
        folder.mkdir()
        limit = ",".join(platform_name(n) for n in slices[index])
        return run_ansible_playbook(PLAYBOOK, folder, env=platforms.env,
                                    args=("-i", str(inventory), "--forks", "2", "--limit", limit))

    with ThreadPoolExecutor(max_workers=3) as pool:
        runs = list(pool.map(run_slice, range(3)))
    for index, run in enumerate(runs):
        assert run.rc == 0, run.stdout + run.stderr
        assert set(platform_stats(run)) == {platform_name(n) for n in slices[index]}
    assert_converged(platforms, numbers)


# Several OVH accounts in one job ---------------------------------------------------------------------


def vaulted(text, password):
    from ansible.parsing.vault import VaultLib, VaultSecret

    return VaultLib([("default", VaultSecret(password.encode()))]).encrypt(text).decode()


def test_two_accounts_in_one_run_each_platform_with_its_own_vaulted_credentials(platforms, tmp_path):
    """Account A's credentials come from OVH_* (the job's AWX credential); account B's platforms are the
    group customer_b, whose vaulted group_vars hold B's endpoint and keys, for the role and the inventory."""
    from ovh_api_sim.testing import SimulatorProcess

    password = "test-vault-password"
    password_file = tmp_path / "vault-password"
    password_file.write_text(password)
    platforms.reset(seed=platforms_seed(3, others=0))
    seed_b = tmp_path / "seed-b.yaml"
    seed_b.write_text(yaml.safe_dump(platforms_seed(3, others=0, first=101, prefix="customer-b")))

    with SimulatorProcess(args=["--seed", str(seed_b), "--task-seconds", "0.2"]) as account_b:
        keys_b = account_b.env
        assert keys_b["OVH_CONSUMER_KEY"] == "customer-b-consumer-key"
        source_b = "\n".join([
            "plugin: ovhcloud.exchange.exchange_services",
            f"endpoint: {keys_b['OVH_ENDPOINT']}",
            f"application_key: {keys_b['OVH_APPLICATION_KEY']}",
            "application_secret: !vault |",
            *("  " + line for line in vaulted(keys_b["OVH_APPLICATION_SECRET"], password).splitlines()),
            "consumer_key: !vault |",
            *("  " + line for line in vaulted(keys_b["OVH_CONSUMER_KEY"], password).splitlines()),
            "groups:",
            "  customer_b: true",
            "",
        ])
        numbers_a, numbers_b = [1, 2, 3], [101, 102, 103]
        inventory = write_inventory(tmp_path / "inventory", {}, name="customer-a.exchange_services.yml", host_vars={
            platform_name(n): connector_vars(n) for n in numbers_a + numbers_b})
        write_inventory(inventory, source_b, name="customer-b.exchange_services.yml")
        (inventory / "group_vars" / "customer_b").mkdir(parents=True)
        (inventory / "group_vars" / "customer_b" / "vault.yml").write_text(vaulted(yaml.safe_dump({
            "send_connector_endpoint": keys_b["OVH_ENDPOINT"],
            "send_connector_application_key": keys_b["OVH_APPLICATION_KEY"],
            "send_connector_application_secret": keys_b["OVH_APPLICATION_SECRET"],
            "send_connector_consumer_key": keys_b["OVH_CONSUMER_KEY"],
        }), password))

        run = run_ansible_playbook(PLAYBOOK, tmp_path, env=platforms.env, args=(
            "-i", str(inventory), "--forks", "4", "--vault-password-file", str(password_file)))
        assert run.rc == 0, run.stdout + run.stderr
        assert_converged(platforms, numbers_a)
        assert_converged(account_b, numbers_b)
        # Each account saw only its own platforms, and the secrets stayed out of the output.
        assert not any("zz100101" in r["path"] for r in platforms.requests())
        assert not any("zz100001" in r["path"] for r in account_b.requests())
        assert account_b.stats()["writes"] > 0
        for secret in (keys_b["OVH_APPLICATION_SECRET"], keys_b["OVH_CONSUMER_KEY"]):
            assert secret not in run.stdout + run.stderr


def test_inventory_with_the_awx_credential_types_injected_environment(platforms, tmp_path):
    """As an AWX inventory update runs it: only the credential type's variables, blank OAuth2 fields included."""
    from test_awx_runner import injected_environment

    env = injected_environment(platforms)
    assert env["OVH_CLIENT_ID"] == "" and env["OVH_CLIENT_SECRET"] == ""
    data, dummy = ansible_inventory(write_inventory(tmp_path / "inventory", {}), env)
    assert set(data["ovh_exchange_platforms"]["hosts"]) == {platform_name(n) for n in range(1, PLATFORMS + 1)}
