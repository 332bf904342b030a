"""Helpers of the bindings tests: connectors made through the official SDK, playbooks, simulator counts."""
import json
import time

from shared_constants import BASE, PLATFORM as ORG

ROUTE = "/email/exchange/{organizationName}/service/{exchangeService}"


def create_connector(sim, name, smart_host="smtp-relay.example.com"):
    """A send connector made with the SDK (not with our code), waited for; returns its id."""
    client = sim.client()
    client.post(BASE + "/sendConnector", displayName=name, smartHost=smart_host, port=587)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for connector_id in client.get(BASE + "/sendConnector"):
            connector = client.get(f"{BASE}/sendConnector/{connector_id}")
            if connector["displayName"] == name and connector["state"] == "ok":
                return connector_id
        time.sleep(0.1)
    raise AssertionError(f"connector {name} was not created")


def bind_directly(sim, connector_id, addresses):
    """Bind mailboxes with the SDK, as another tool would, and wait until the simulator applied it."""
    client = sim.client()
    for address in addresses:
        client.put(f"{BASE}/account/{address}", sendConnectorId=connector_id)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if all(account_connectors(sim).get(a) == connector_id for a in addresses):
            return
        time.sleep(0.1)
    raise AssertionError("direct bindings were not applied")


def platform_state(sim):
    return next(s for s in sim.state()["services"] if s["organization"] == ORG and s["name"] == ORG)


def account_connectors(sim):
    """{address: connector id (0 for the platform's server)} as the simulator holds it."""
    return {address: account.get("sendConnectorId") or 0 for address, account in platform_state(sim)["accounts"].items()}


def domain_defaults(sim):
    return {name: domain.get("sendConnectorIdDefault") or 0 for name, domain in platform_state(sim)["domains"].items()}


def writes(stats):
    return stats["writes"]


def task(module, args, name="under test", extra=""):
    """A one-task play calling `module` with `args` (a dict, written as JSON, which YAML reads)."""
    return f"""
- hosts: localhost
  gather_facts: false
  tasks:
    - name: {name}
      ovhcloud.exchange.{module}: {json.dumps({"organization": ORG, **args})}
{extra}"""


def users(first, last):
    return [f"user{number:05d}@mydomain.ovh" for number in range(first, last + 1)]
