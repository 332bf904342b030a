"""Many Exchange platforms: a simulator seed, an inventory directory for them, and their state as read back."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

from testlib import ansible_env

# The offers that can have send connectors (Private, Trusted); the seed adds others that the plugin leaves out.
OFFERS = ("dedicated", "dedicatedCluster")
OTHER_OFFERS = ("hosted", "provider")
PLUGIN = "ovhcloud.exchange.exchange_services"


def platform_name(number):
    return f"private-zz{100000 + number}-1"


def platform_domain(number):
    return f"platform{number:03d}.example"


def mailboxes(number, count):
    return [f"user{index:04d}@{platform_domain(number)}" for index in range(1, count + 1)]


def credentials(prefix="demo"):
    """The seed's credentials; the first application and consumer key are what the simulator exports."""
    return {
        "applications": [{"key": f"{prefix}-application-key", "secret": f"{prefix}-application-secret"}],
        "consumer_keys": [{"key": f"{prefix}-consumer-key", "application_key": f"{prefix}-application-key",
                           "rules": [{"method": method, "path": "/*"} for method in ("GET", "POST", "PUT", "DELETE")]},
                          # What docs/credentials.md says the inventory plugin needs, and nothing more.
                          {"key": f"{prefix}-inventory-consumer-key", "application_key": f"{prefix}-application-key",
                           "rules": [{"method": "GET", "path": "/email/exchange"},
                                     {"method": "GET", "path": "/email/exchange/*"}]}],
    }


def other_name(offer, number):
    return f"{offer}-zz{900000 + number}-1"


def platforms_seed(count, mailbox_count=3, others=1, first=1, prefix="demo"):
    """`count` platforms of mixed offers (numbers first..), each with its domain and mailboxes, then `others`
    Hosted and `others` Provider ones."""
    services = []
    for number in range(first, first + count):
        services.append({
            "organization": platform_name(number), "name": platform_name(number),
            "offer": OFFERS[number % len(OFFERS)], "displayName": f"Platform {number}",
            "domains": [{"name": platform_domain(number), "main": True}],
            "accounts": [{"primaryEmailAddress": address} for address in mailboxes(number, mailbox_count)],
            "connectors": [],
        })
    for offer in OTHER_OFFERS:
        for number in range(first, first + others):
            name = other_name(offer, number)
            services.append({"organization": name, "name": name, "offer": offer,
                             "domains": [{"name": f"{offer}{number}.example", "main": True}],
                             "accounts": [{"primaryEmailAddress": f"info@{offer}{number}.example"}], "connectors": []})
    return {"credentials": credentials(prefix), "services": services}


def connector_vars(number, mailbox_count=3, extra_mailboxes=()):
    """The role's variables for one platform: one relay of its own, its mailboxes bound to it."""
    return {
        "send_connector_connectors": [{
            "name": "relay",
            "smart_host": f"smtp.platform{number:03d}.example",
            "port": 587,
            "mailboxes": mailboxes(number, mailbox_count) + list(extra_mailboxes),
        }],
    }


def write_inventory(folder, source=None, host_vars=None, group_vars=None, name="exchange_services.yml"):
    """An inventory directory: the plugin's source file and host_vars/group_vars files (JSON is YAML)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(yaml.safe_dump({"plugin": PLUGIN, **(source or {})}) if not isinstance(source, str)
                               else source)
    for kind, entries in (("host_vars", host_vars), ("group_vars", group_vars)):
        for entry, data in (entries or {}).items():
            (folder / kind).mkdir(exist_ok=True)
            (folder / kind / f"{entry}.yml").write_text(data if isinstance(data, str) else json.dumps(data))
    return folder


def ansible_inventory(inventory, env, *args):
    """`ansible-inventory -i inventory --list`: (the inventory as JSON, the completed process)."""
    command = [str(Path(sys.executable).parent / "ansible-inventory"), "-i", str(inventory), "--list", *args]
    proc = subprocess.run(command, env=ansible_env(env), capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return _plain(json.loads(proc.stdout)), proc


def _plain(data):
    # ansible-inventory marks values that must never be templated (the plugin's API data) as unsafe.
    if isinstance(data, dict):
        if set(data) == {"__ansible_unsafe"}:
            return data["__ansible_unsafe"]
        return {key: _plain(value) for key, value in data.items()}
    if isinstance(data, list):
        return [_plain(value) for value in data]
    return data


def service_state(sim, platform):
    """(connectors by display name, sendConnectorId by mailbox) of one platform, from the simulator's state."""
    for service in sim.state()["services"]:
        if service["name"] == platform:
            connectors = {c["displayName"]: c for c in service["connectors"].values()}
            bindings = {address: account.get("sendConnectorId") for address, account in service["accounts"].items()}
            return connectors, bindings
    raise AssertionError(f"no platform {platform} in the simulator")
