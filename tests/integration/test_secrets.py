"""No secret leaks: the role at -vvvv with --diff, with application keys and with an OAuth2 service account.

The simulator is reseeded with credentials made for this test (random, so that a match can only be a
leak) and the secrets are given as role variables, the most exposed way. None of them may appear in
stdout/stderr, the recorded task results (diffs, returned values, set_stats), Ansible's log file, any
file written under the run's temporary directories, or the simulator's request log and server log.
"""
from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest
import yaml

from bindings_support import ORG, platform_state
from testlib import REPO, run_ansible_playbook
from role_play import ROLE_PLAY, extra_vars_file

pytestmark = pytest.mark.integration

SEED = REPO / "tests" / "simulator" / "ovh_api_sim" / "default_seed.yaml"


@pytest.fixture
def credentials(sim):
    """The simulator reseeded with fresh credentials; returns them."""
    made = {"application_key": "ak-" + secrets.token_hex(6), "application_secret": "as-" + secrets.token_hex(12),
            "consumer_key": "ck-" + secrets.token_hex(12), "client_id": "id-" + secrets.token_hex(6),
            "client_secret": "cs-" + secrets.token_hex(12), "relay_password": "pw-" + secrets.token_hex(12)}
    seed = yaml.safe_load(SEED.read_text())
    seed["credentials"] = {
        "applications": [{"key": made["application_key"], "secret": made["application_secret"]}],
        "consumer_keys": [{"key": made["consumer_key"], "application_key": made["application_key"],
                           "rules": [{"method": method, "path": "/*"} for method in ("GET", "POST", "PUT", "DELETE")]}],
        "oauth2_clients": [{"client_id": made["client_id"], "client_secret": made["client_secret"]}],
    }
    sim.reset(seed=seed)
    return made


def role_vars(password, **credentials):
    return {
        "send_connector_organization": ORG,
        "send_connector_endpoint": "",
        "send_connector_connectors": [{
            "name": "secret-relay", "smart_host": "smtp-relay.example.com", "port": 587, "require_tls": True,
            "auth_mechanism": "basicAuthRequireTLS", "user": "relay-user", "password": password,
            # always: the password is sent (and could leak) on every run, not only on creation.
            "update_password": "always", "mailboxes": ["newsletter@mydomain.ovh"], "default_for_domains": ["guides.ovh"]}],
        "send_connector_platform_mailboxes": ["contact@mydomain.ovh"],
        **{f"send_connector_{name}": value for name, value in credentials.items()},
    }


def run_verbose(sim, tmp_path, name, variables):
    """The role at -vvvv --diff with its own temporary directories and log file; returns the run and its dir."""
    work = tmp_path / name
    for folder in ("local-tmp", "remote-tmp", "tmp"):
        (work / folder).mkdir(parents=True)
    # The variables file holds the secrets on purpose (it is the input): it is written outside `work`, not searched.
    vars_argument = extra_vars_file(tmp_path, f"{name}-vars", variables)
    env = {
        "OVH_ENDPOINT": sim.endpoint,
        "ANSIBLE_LOCAL_TEMP": str(work / "local-tmp"), "ANSIBLE_REMOTE_TEMP": str(work / "remote-tmp"),
        "TMPDIR": str(work / "tmp"), "ANSIBLE_LOG_PATH": str(work / "ansible.log"),
    }
    run = run_ansible_playbook(ROLE_PLAY, work, env=env, args=("-vvvv", "--diff", "-e", vars_argument))
    return run, work


def leaks(secret_values, places):
    """[(secret name, place)] for every secret found in a place."""
    return [(name, place) for place, text in places.items() for name, value in secret_values.items() if value in text]


def written_files(folder):
    """Every file under `folder` (the run's temporary dirs, log, recorded results, playbook), as text."""
    return {str(path.relative_to(folder)): path.read_text(errors="replace") for path in sorted(folder.rglob("*"))
            if path.is_file()}


def assert_no_leak(sim, secret_values, runs):
    places = {}
    for name, (run, work) in runs.items():
        places[f"{name}: stdout"] = run.stdout
        places[f"{name}: stderr"] = run.stderr
        places[f"{name}: recorded results"] = json.dumps(run.results)
        places.update({f"{name}: file {path}": text for path, text in written_files(work).items()})
    places["simulator request log"] = json.dumps(sim.requests())
    places["simulator server log"] = Path(sim.log_file.name).read_text(errors="replace")
    assert leaks(secret_values, places) == []
    assert any("ansible.log" in place for place in places), "Ansible's log file was not written: nothing was searched"


def test_no_secret_in_any_output_with_application_keys_and_oauth2(sim, tmp_path, credentials, monkeypatch):
    for name in ("OVH_APPLICATION_KEY", "OVH_APPLICATION_SECRET", "OVH_CONSUMER_KEY", "OVH_CLIENT_ID", "OVH_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)  # only the role variables carry credentials
    password = credentials["relay_password"]
    app_keys = {key: credentials[key] for key in ("application_key", "application_secret", "consumer_key")}
    oauth2 = {key: credentials[key] for key in ("client_id", "client_secret")}

    with_keys = run_verbose(sim, tmp_path, "app-keys", role_vars(password, **app_keys))
    assert with_keys[0].rc == 0, with_keys[0].stdout[-3000:]
    log_start = len(sim.requests())
    with_oauth2 = run_verbose(sim, tmp_path, "oauth2", role_vars(password, **oauth2))
    assert with_oauth2[0].rc == 0, with_oauth2[0].stdout[-3000:]

    # The secrets did reach the API: the connector authenticates with the password, and the OAuth2 run (which had
    # no application key anywhere) wrote the password again (update_password: always).
    platform = platform_state(sim)
    [connector] = platform["connectors"].values()
    assert connector["smartHostAuthMechanism"] == "basicAuthRequireTLS"
    assert password in json.dumps(platform["connector_secrets"])
    assert platform["accounts"]["newsletter@mydomain.ovh"]["sendConnectorId"] == connector["id"]
    oauth2_writes = [r for r in sim.requests()[log_start:] if r["method"] in ("POST", "PUT") and r["status"] == 200]
    assert oauth2_writes, "the OAuth2 run wrote nothing: the password was not sent again"

    secret_values = {"relay password": password, "application secret": credentials["application_secret"],
                     "consumer key": credentials["consumer_key"], "OAuth2 client secret": credentials["client_secret"]}
    assert_no_leak(sim, secret_values, {"app-keys": with_keys, "oauth2": with_oauth2})
