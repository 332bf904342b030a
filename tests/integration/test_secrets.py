"""No secret leaks: the role at -vvvv with --diff, in runs that succeed and in runs that fail.

The simulator is reseeded with credentials made for this test (random, so that a match can only be a
leak) and the secrets are given as role variables, the most exposed way. None of them may appear in
stdout/stderr, the recorded task results (diffs, returned values, set_stats), Ansible's log file or any
file left under the run's temporary directories. The simulator's own logs are not searched: it
redacts them itself, so a search there could not fail.

What is left on disk is checked with ANSIBLE_KEEP_REMOTE_FILES=1 (Ansible then keeps each module's
AnsiballZ file, which holds the module's arguments). Known limitation, asserted below and documented
in docs/credentials.md: a secret given as a module argument (the relay password always; API secrets
when given as options or role variables) is written in clear in that file while the module runs; with
the API credentials in the environment (OVH_*), they never reach it.
"""
from __future__ import annotations

import json
import secrets
import socket
import time

import pytest
import yaml

from bindings_support import BASE, ORG, platform_state
from testlib import REPO, run_ansible_playbook
from role_play import ROLE_PLAY, extra_vars_file

pytestmark = pytest.mark.integration

SEED = REPO / "tests" / "simulator" / "ovh_api_sim" / "default_seed.yaml"


@pytest.fixture
def credentials(sim):
    """The simulator reseeded with fresh credentials; returns them."""
    made = {"application_key": "ak-" + secrets.token_hex(6), "application_secret": "as-" + secrets.token_hex(12),
            "consumer_key": "ck-" + secrets.token_hex(12), "client_id": "id-" + secrets.token_hex(6),
            "client_secret": "cs-" + secrets.token_hex(12), "relay_password": "pw-" + secrets.token_hex(12),
            "limited_consumer_key": "ck-" + secrets.token_hex(12)}
    seed = yaml.safe_load(SEED.read_text())
    seed["credentials"] = {
        "applications": [{"key": made["application_key"], "secret": made["application_secret"]}],
        "consumer_keys": [{"key": made["consumer_key"], "application_key": made["application_key"],
                           "rules": [{"method": method, "path": "/*"} for method in ("GET", "POST", "PUT", "DELETE")]},
                          # May create connectors but not change their authentication.
                          {"key": made["limited_consumer_key"], "application_key": made["application_key"],
                           "rules": [{"method": "GET", "path": "/*"}, {"method": "PUT", "path": "/*"},
                                     {"method": "POST", "path": "/email/exchange/*/service/*/sendConnector"}]}],
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


def run_verbose(sim, tmp_path, name, variables, env=None):
    """The role at -vvvv --diff with its own temporary directories and log file; returns the run and its dir."""
    work = tmp_path / name
    for folder in ("local-tmp", "remote-tmp", "tmp"):
        (work / folder).mkdir(parents=True)
    # The variables file holds the secrets on purpose (it is the input): it is written outside `work`, not searched.
    vars_argument = extra_vars_file(tmp_path, f"{name}-vars", variables)
    env = {
        "OVH_ENDPOINT": sim.endpoint,
        "ANSIBLE_LOCAL_TEMP": str(work / "local-tmp"), "ANSIBLE_REMOTE_TEMP": str(work / "remote-tmp"),
        "TMPDIR": str(work / "tmp"), "ANSIBLE_LOG_PATH": str(work / "ansible.log"), **(env or {}),
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


def secret_names(credentials):
    return {"relay password": credentials["relay_password"], "application secret": credentials["application_secret"],
            "consumer key": credentials["consumer_key"], "OAuth2 client secret": credentials["client_secret"],
            "limited consumer key": credentials["limited_consumer_key"]}


def make_connector(sim, credentials):
    """The connector of role_vars, made with the SDK and basic authentication, waited for."""
    client = sim.client(application_key=credentials["application_key"], application_secret=credentials["application_secret"],
                        consumer_key=credentials["consumer_key"])
    client.post(BASE + "/sendConnector", displayName="secret-relay", smartHost="smtp-relay.example.com", port=587,
                requireTLS=True, smartHostAuthMechanism="basicAuthRequireTLS", user="relay-user",
                password=credentials["relay_password"])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        connectors = list(platform_state(sim)["connectors"].values())
        if connectors and connectors[0]["state"] == "ok":
            return connectors[0]["id"]
        time.sleep(0.1)
    raise AssertionError("the connector was not created")


def closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def failed_message(run):
    """The messages of the failed tasks, loop items included."""
    results = [r["result"] for r in run.results if r["status"] == "failed"]
    return " ".join(str(result.get("msg", "")) for outer in results for result in [outer, *outer.get("results", [])])


def test_no_secret_in_failing_runs(sim, tmp_path, credentials, monkeypatch):
    """Refused authentication change, failed pre-flight, API errors after retries: all at -vvvv --diff."""
    for name in ("OVH_APPLICATION_KEY", "OVH_APPLICATION_SECRET", "OVH_CONSUMER_KEY", "OVH_CLIENT_ID", "OVH_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    make_connector(sim, credentials)
    app_keys = {key: credentials[key] for key in ("application_key", "application_secret", "consumer_key")}
    new_password = credentials["relay_password"] + "-new"
    runs = {}

    # 1. The consumer key may not call changeAuthentication: the API refuses the new password.
    limited = dict(app_keys, consumer_key=credentials["limited_consumer_key"])
    log_start = len(sim.requests())
    runs["refused-auth-change"] = run_verbose(sim, tmp_path, "refused-auth-change", role_vars(new_password, **limited))
    run = runs["refused-auth-change"][0]
    assert run.rc != 0, run.stdout[-3000:]
    assert "changeAuthentication" in failed_message(run), failed_message(run)
    refused = [r for r in sim.requests()[log_start:] if r["route"].endswith("changeAuthentication")]
    assert [r["status"] for r in refused] == [403], refused

    # 2. The pre-flight cannot reach the smart host (a closed port): nothing is written.
    writes = sim.stats()["writes"]
    variables = role_vars(new_password, **app_keys, preflight=True)
    variables["send_connector_connectors"][0].update(smart_host="127.0.0.1", port=closed_port())
    variables["send_connector_preflight_allow_any_port"] = True  # a loopback test port is not an SMTP port
    runs["failed-preflight"] = run_verbose(sim, tmp_path, "failed-preflight", variables)
    run = runs["failed-preflight"][0]
    assert run.rc != 0 and "unable_to_connect" in failed_message(run), run.stdout[-3000:]
    assert sim.stats()["writes"] == writes

    # 3. Every write answers 500: the module retries (warnings), then fails naming the call.
    sim.set_faults(**{"500": 1.0, "methods": ["POST", "PUT"]})
    faults_before = sim.stats()["faults"].get("500", 0)
    runs["api-errors"] = run_verbose(sim, tmp_path, "api-errors", role_vars(new_password, **app_keys))
    sim.set_faults(**{"500": 0.0})
    run = runs["api-errors"][0]
    assert run.rc != 0, run.stdout[-3000:]
    assert sim.stats()["faults"]["500"] - faults_before >= 2, "no retry: the retry warnings were not exercised"
    assert "[WARNING]" in run.stdout + run.stderr, "no retry warning was printed"

    assert platform_state(sim)["connector_secrets"], "the connector lost its secrets"
    assert_no_leak(sim, {**secret_names(credentials), "new relay password": new_password}, runs)


def kept_module_files(work):
    """{path: text} of the AnsiballZ files ANSIBLE_KEEP_REMOTE_FILES left in the run's remote tmp dir."""
    kept = {str(path): path.read_text(errors="replace") for path in sorted((work / "remote-tmp").rglob("AnsiballZ_*"))}
    assert kept, f"no AnsiballZ file was kept under {work / 'remote-tmp'}: nothing was searched"
    return kept


def test_files_left_on_disk(sim, tmp_path, credentials, monkeypatch):
    """ANSIBLE_KEEP_REMOTE_FILES=1: API secrets from the environment never reach the module files."""
    keep = {"ANSIBLE_KEEP_REMOTE_FILES": "1"}
    password = credentials["relay_password"]
    # As documented (docs/credentials.md, AWX): the API credentials in the environment.
    for name, key in (("OVH_APPLICATION_KEY", "application_key"), ("OVH_APPLICATION_SECRET", "application_secret"),
                      ("OVH_CONSUMER_KEY", "consumer_key")):
        monkeypatch.setenv(name, credentials[key])
    from_env = run_verbose(sim, tmp_path, "keys-from-env", role_vars(password), env=keep)
    assert from_env[0].rc == 0, from_env[0].stdout[-3000:]
    kept = kept_module_files(from_env[1])
    api_secrets = {"application secret": credentials["application_secret"], "consumer key": credentials["consumer_key"]}
    assert leaks(api_secrets, kept) == []
    # The limitation: the relay password is a module argument, so the kept file holds it.
    assert leaks({"relay password": password}, kept), "expected the relay password in the kept module arguments"
    assert_no_leak(sim, {**api_secrets}, {"keys-from-env": from_env})

    # The same limitation for API secrets given as role variables (module options): documented, asserted.
    for name in ("OVH_APPLICATION_KEY", "OVH_APPLICATION_SECRET", "OVH_CONSUMER_KEY"):
        monkeypatch.delenv(name)
    as_options = run_verbose(sim, tmp_path, "keys-as-options", role_vars(password, **{
        key: credentials[key] for key in ("application_key", "application_secret", "consumer_key")}), env=keep)
    assert as_options[0].rc == 0, as_options[0].stdout[-3000:]
    assert {name for name, dummy in leaks(api_secrets, kept_module_files(as_options[1]))} == set(api_secrets)
