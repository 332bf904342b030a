"""Turn a seed (YAML file or dict) into the simulator's state."""
from __future__ import annotations

from importlib import resources

import yaml

from .objects import iso, new_account, new_domain

DEFAULT_SEED_NAME = "default_seed.yaml"
TASK_ID_START = 113924189  # the guide's example task id, so ids look like real ones
CONNECTOR_ID_START = 29  # the guide's example connector id
# `--platforms N`: offers in turn, so any N >= 6 holds every offer (two thirds can have connectors).
GENERATED_OFFERS = ("dedicated", "dedicatedCluster", "dedicated", "hosted", "dedicated", "provider")
OFFER_PREFIXES = {"dedicated": "private", "dedicatedCluster": "trusted", "hosted": "hosted", "provider": "provider"}
CONNECTOR_DEFAULTS = {
    "default": False, "dnsRouting": False, "lastUpdateDate": None, "maxSendSize": 100, "port": 25,
    "requireTLS": False, "smartHostAuthMechanism": "none", "state": "ok", "taskPendingId": 0,
}


def load_seed(path=None):
    """The seed as a dict: the file at `path`, or the packaged default."""
    if path is None:
        text = resources.files(__package__).joinpath(DEFAULT_SEED_NAME).read_text()
    else:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    return yaml.safe_load(text)


def generated_platforms(count, accounts_each=5):
    """`count` seed services with deterministic names, offers in turn, two domains and mailboxes each.

    Platform n (from 1) of offer O is `<prefix>-zz9nnnnn-1` (prefix private, trusted, hosted or provider),
    its domains `platformNNN.ovh` (main) and `platformNNN-alt.ovh`, its mailboxes `userMMM@platformNNN.ovh`.
    """
    services = []
    for number in range(1, count + 1):
        offer = GENERATED_OFFERS[(number - 1) % len(GENERATED_OFFERS)]
        name = f"{OFFER_PREFIXES[offer]}-zz9{number:05d}-1"
        domain = f"platform{number:03d}.ovh"
        services.append({
            "organization": name, "name": name, "offer": offer, "displayName": f"Platform {number:03d} ({offer})",
            "domains": [{"name": domain, "main": True}, {"name": f"platform{number:03d}-alt.ovh"}],
            "accounts": [{"primaryEmailAddress": f"user{index:03d}@{domain}", "firstName": f"User {index:03d}",
                          "company": f"Platform {number:03d}"} for index in range(1, accounts_each + 1)],
        })
    return services


def build_state(seed, now, extra_accounts=0, platforms=0, platform_accounts=5):
    """The state dict (JSON-ready) that the backend works on; `platforms` adds generated services."""
    if isinstance(seed, str):
        seed = yaml.safe_load(seed)
    now_iso = iso(now)
    creds = seed.get("credentials") or {}
    state = {
        "credentials": {
            "applications": {a["key"]: a["secret"] for a in creds.get("applications", [])},
            "consumer_keys": {
                c["key"]: {"application_key": c.get("application_key"), "rules": c.get("rules", [])}
                for c in creds.get("consumer_keys", [])
            },
            "oauth2_clients": {c["client_id"]: c["client_secret"] for c in creds.get("oauth2_clients", [])},
        },
        "counters": {"task": TASK_ID_START - 1, "connector": CONNECTOR_ID_START - 1, "account": 1000},
        "services": [],
    }
    counters = state["counters"]
    services = list(seed.get("services") or []) + generated_platforms(platforms, platform_accounts)
    # `--accounts N` mailboxes go to the first service that names a generated_accounts_domain.
    generated_target = next((i for i, s in enumerate(services) if s.get("generated_accounts_domain")), 0)
    for index, item in enumerate(services):
        platform = item["name"]
        service = {
            "organization": item.get("organization", platform), "name": platform,
            "info": service_info(item, now_iso), "domains": {}, "accounts": {}, "connectors": {},
            "connector_secrets": {}, "tasks": {},
        }
        for domain in item.get("domains") or []:
            fields = dict(domain)
            name = fields.pop("name")
            service["domains"][name] = new_domain(name, platform, **fields)
        for account in item.get("accounts") or []:
            fields = dict(account)
            address = fields.pop("primaryEmailAddress").lower()
            counters["account"] += 1
            service["accounts"][address] = new_account(address, counters["account"], now_iso, **fields)
        for connector in item.get("connectors") or []:
            fields = dict(connector)
            secrets = {"user": fields.pop("user", None), "password": fields.pop("password", None)}
            counters["connector"] = max(counters["connector"], fields.get("id") or counters["connector"] + 1)
            fields.setdefault("id", counters["connector"])
            record = {**CONNECTOR_DEFAULTS, "creationDate": now_iso, **fields}
            service["connectors"][str(record["id"])] = record
            service["connector_secrets"][str(record["id"])] = secrets
        if index == generated_target and extra_accounts:
            domain = item.get("generated_accounts_domain") or next(iter(service["domains"]))
            for number in range(1, extra_accounts + 1):
                counters["account"] += 1
                address = f"user{number:05d}@{domain}"
                service["accounts"][address] = new_account(
                    address, counters["account"], now_iso, firstName=f"User {number:05d}",
                    company=f"Company {number % 10}")
        state["services"].append(service)
    return state


def service_info(item, now_iso):
    """GET .../service/{exchangeService}: email.exchange.ExchangeServiceWithIAM."""
    platform = item["name"]
    return {
        "adfsChangePassword": False, "cnameDcvRecord": None, "complexityEnabled": True,
        "defaultAuthenticationPolicyId": None, "defaultSmartHost": item.get("defaultSmartHost"),
        "displayName": item.get("displayName", platform), "domain": platform,
        "hostname": f"ex-{platform}.mail.ovh.net", "iam": {
            "displayName": item.get("displayName", platform), "id": f"iam-{platform}", "state": "OK",
            "tags": {}, "urn": f"urn:v1:eu:resource:emailExchange:{item.get('organization', platform)}/{platform}",
        },
        "lastUpdateDate": now_iso, "lockoutDuration": 30, "lockoutObservationWindow": 30,
        "lockoutThreshold": None, "maxPasswordAge": None, "maxReceiveSize": 100, "maxSendSize": 100,
        "minPasswordAge": None, "minPasswordLength": 8, "offer": item.get("offer", "dedicated"),
        "passwordHistoryCount": None,
        "spamAndVirusConfiguration": {"checkDKIM": True, "checkSPF": True, "deleteSpam": False,
                                      "deleteVirus": True, "putInJunk": True, "tagSpam": True, "tagVirus": True},
        "sslExpirationDate": None, "state": "ok", "taskPendingId": 0, "webUrl": f"https://ex-{platform}.mail.ovh.net/owa",
    }
