"""Every module's EXAMPLES, run for real, so that the documentation cannot rot.

How an EXAMPLES block becomes a play:
- It is read as YAML (a list of tasks) and run, in its order, as the tasks of one play on localhost by a real
  `ansible-playbook`, against a simulator reset to its default seed: the world the examples name
  (private-zz111111-1, mydomain.ovh, newsletter@mydomain.ovh...). Examples that need a connector create it first.
- OVH credentials come from the OVH_* environment, as a reader's would; the variables an example leaves to the
  reader (vault_relay_password, relay_mailboxes...) are play variables, EXAMPLE_VARS.
- exchange_smarthost_check meets real SMTP servers on loopback (aiosmtpd): each task's `smart_host` is replaced by
  `localhost` and `port` by the port of the loopback server standing for that name (SMART_HOSTS, with
  `allow_any_port`, as these ports are not SMTP ones), a `ca_path` by the
  throw-away CA's file, and that CA is the trust store through SSL_CERT_FILE (OpenSSL's variable for the system's).
- exchange_mail_route reads a message really relayed through a loopback server named like the examples' smart host,
  saved where the examples look for it: files/test-message.eml beside the playbook, the directory it runs in.
- An example documenting a failure is in EXPECTED_FAILURES with what its error must say; it runs with
  `ignore_errors` so that the examples after it run too.
Each module's run is then checked against the simulator's state or the SMTP servers, not only against its output.
"""
import ast
import email.utils
import smtplib
import ssl
from email.message import EmailMessage
from types import SimpleNamespace

import pytest
import yaml

from bindings_support import account_connectors, domain_defaults, platform_state
from testlib import REPO, run_ansible_playbook
from smtp_servers import PASSWORD, USER, Mailbox, Relay, ThrowawayCA, smtp_server

pytestmark = pytest.mark.integration

MODULES = REPO / "plugins" / "modules"
RELAY = "smtp-relay.example.com"
INTERNAL_RELAY = "smtp.internal.example.net"
# The smart host advertises 50 MB: the examples' max_send_size 25 fits, 100 does not.
RELAY_SIZE_LIMIT = 50 * 1024 * 1024
RELAY_MAILBOXES = ["newsletter@mydomain.ovh", "support@mydomain.ovh"]

# (module, task name) -> text the failure message must contain.
EXPECTED_FAILURES = {
    ("exchange_smarthost_check", "Fail on any problem, warnings included (an undersized SIZE, a certificate about to "
                                 "expire)"): "size_too_small",
}


def example_tasks(module):
    """The EXAMPLES of plugins/modules/<module>.py as a list of tasks (read without importing the module)."""
    tree = ast.parse((MODULES / f"{module}.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["EXAMPLES"]:
            return yaml.safe_load(node.value.value)
    raise AssertionError(f"{module} has no EXAMPLES")


def task_names(tasks):
    """Names of the tasks that run, blocks flattened."""
    names = []
    for task in tasks:
        names.extend(task_names(task["block"]) if "block" in task else [task["name"]])
    return names


def prepare(module, tasks, smtp):
    """The examples as they run here: loopback smart hosts, and ignore_errors on the documented failures."""
    for task in tasks:
        if "block" in task:
            prepare(module, task["block"], smtp)
            continue
        if (module, task["name"]) in EXPECTED_FAILURES:
            task["ignore_errors"] = True
        args = task.get("ovhcloud.exchange.exchange_smarthost_check")
        if args is not None:
            # The loopback servers' ports are not SMTP ports: allow them, as a reader's relay on 587 needs no option.
            args.update(smart_host="localhost", port=smtp.ports[args["smart_host"]], allow_any_port=True)
            if "ca_path" in args:
                args["ca_path"] = str(smtp.ca.ca_file)
    return tasks


@pytest.fixture(scope="module")
def smtp(tmp_path_factory):
    """Loopback SMTP servers for the examples' smart hosts, and the recipient's server of the mail-route examples."""
    ca = ThrowawayCA(tmp_path_factory.mktemp("ca"))
    relay_mailbox, internal_mailbox, recipient_mailbox = Mailbox(), Mailbox(), Mailbox(stamp=True)
    with smtp_server(relay_mailbox, hostname=RELAY, tls_context=ca.server_context("localhost"), auth=True,
                     data_size_limit=RELAY_SIZE_LIMIT) as relay, \
            smtp_server(internal_mailbox, hostname=INTERNAL_RELAY, tls_context=ca.server_context("localhost")) as internal, \
            smtp_server(recipient_mailbox, hostname="mx1.example.net", tls_context=ca.server_context("localhost")) as recipient:
        forwarder = Relay("localhost", recipient.port, helo_name=RELAY, ca_file=str(ca.ca_file))
        with smtp_server(forwarder, hostname=RELAY, tls_context=ca.server_context("localhost"), auth=True) as forwarding:
            yield SimpleNamespace(ca=ca, ports={RELAY: relay.port, INTERNAL_RELAY: internal.port},
                                  smart_host_mailboxes=[relay_mailbox, internal_mailbox],
                                  forwarding_port=forwarding.port, recipient_mailbox=recipient_mailbox)


def relayed_message(smtp):
    """A message sent the way Exchange sends through the connector, as the recipient's server stored it."""
    message = EmailMessage()
    message["From"] = "Newsletter <newsletter@example.org>"
    message["To"] = "john.smith@example.net"
    message["Subject"] = "send connector test"
    message["Date"] = email.utils.formatdate(localtime=False)
    message["Message-ID"] = email.utils.make_msgid(domain="example.org")
    message.set_content("Sent through the send connector.\n")
    with smtplib.SMTP("localhost", smtp.forwarding_port, local_hostname="ex1.private.test", timeout=10) as client:
        client.starttls(context=ssl.create_default_context(cafile=str(smtp.ca.ca_file)))
        client.login(USER, PASSWORD)
        client.send_message(message)
    return smtp.recipient_mailbox.messages[-1]


def connectors(sim):
    return list(platform_state(sim)["connectors"].values())


def connector_id(sim, name):
    [found] = [c["id"] for c in connectors(sim) if c["displayName"] == name]
    return found


def check_send_connector(sim, run, smtp):
    [relay] = connectors(sim)
    assert (relay["displayName"], relay["smartHost"], relay["port"], relay["requireTLS"],
            relay["smartHostAuthMechanism"]) == ("relay-eu", RELAY, 587, True, "basicAuthRequireTLS")
    assert relay["maxSendSize"] == 50  # set by the block that takes its credentials from module_defaults
    assert run.task("Delete a connector, moving its mailboxes back to the platform's own server")["changed"] is False


def check_account_connector(sim, run, smtp):
    relay = connector_id(sim, "smtp-relay")
    bound = {address for address, connector in account_connectors(sim).items() if connector == relay}
    # newsletter and sales were bound, sales left with `exclusive`, newsletter moved back by the last example.
    assert bound == {"support@mydomain.ovh"}
    assert run.task("Send the newsletter and sales mailboxes through the relay")["changed"] is True


def check_domain_default_sbr(sim, run, smtp):
    assert run.task("New mailboxes of mydomain.ovh send through the relay")["changed"] is True
    assert domain_defaults(sim) == {"mydomain.ovh": 0, "guides.ovh": 0}
    changes = sum(count for route, count in sim.stats()["by_route"].items() if route.endswith("/changeDefaultSBR"))
    assert changes == 2  # mydomain.ovh set, then reset; guides.ovh was already on the platform's server


def check_send_connector_info(sim, run, smtp):
    relay = connector_id(sim, "smtp-relay")
    [listed] = run.task("Who sends through the relay")["connectors"]
    assert (listed["id"], listed["accounts"]) == (relay, ["newsletter@mydomain.ovh"])
    assert [c["id"] for c in run.task("Every connector of the platform, with its mailboxes and domains")["connectors"]] == [relay]
    assert run.task("Show its mailboxes")["msg"] == ["newsletter@mydomain.ovh"]
    assert account_connectors(sim)["newsletter@mydomain.ovh"] == relay


def check_smarthost_check(sim, run, smtp):
    preflight = run.task("Check the smart host with the connector's credentials")
    assert preflight["status"] == "success" and preflight["auth"]["succeeded"] is True
    assert run.task("Use the suggested authentication mechanism")["msg"] == preflight["connector_suggestion"]["auth_mechanism"]
    assert run.task("Report only, never fail (for a dashboard)")["status"] == "success"
    # The checks never send mail.
    assert all(mailbox.mail_from == [] for mailbox in smtp.smart_host_mailboxes)


def check_mail_route(sim, run, smtp):
    saved = run.task("Check a saved test message on the controller")
    assert saved["through_smart_host"] is True and saved["smart_host_match"]["match"] == "exact"
    assert saved["from_domain"] == "example.org"
    pasted = run.task("Check pasted headers")
    assert pasted["hops"] == saved["hops"]


CHECKS = {
    "exchange_send_connector": check_send_connector,
    "exchange_account_connector": check_account_connector,
    "exchange_domain_default_sbr": check_domain_default_sbr,
    "exchange_send_connector_info": check_send_connector_info,
    "exchange_smarthost_check": check_smarthost_check,
    "exchange_mail_route": check_mail_route,
}


@pytest.mark.parametrize("module", sorted(path.stem for path in MODULES.glob("*.py")))
def test_examples_run(module, sim, smtp, tmp_path):
    assert module in CHECKS, f"add a check of what {module}'s EXAMPLES did to CHECKS"
    tasks = example_tasks(module)
    (tmp_path / "files").mkdir()
    message = relayed_message(smtp) if module == "exchange_mail_route" else b""
    (tmp_path / "files" / "test-message.eml").write_bytes(message)
    (tmp_path / "files" / "headers.txt").write_bytes(message)
    example_vars = {
        "ovh_endpoint": sim.env["OVH_ENDPOINT"],
        "vault_ovh_application_key": sim.env["OVH_APPLICATION_KEY"],
        "vault_ovh_application_secret": sim.env["OVH_APPLICATION_SECRET"],
        "vault_ovh_consumer_key": sim.env["OVH_CONSUMER_KEY"],
        "vault_relay_password": PASSWORD,
        "relay_user": USER,
        "relay_password": PASSWORD,
        "relay_mailboxes": RELAY_MAILBOXES,
    }
    play = [{"hosts": "localhost", "gather_facts": False, "vars": example_vars,
             "tasks": prepare(module, tasks, smtp)}]
    env = {**sim.env, "SSL_CERT_FILE": str(smtp.ca.ca_file)}
    run = run_ansible_playbook(yaml.safe_dump(play, sort_keys=False), tmp_path, env=env, cwd=tmp_path)
    assert run.rc == 0, run.stdout + run.stderr

    assert [r["task"] for r in run.results] == task_names(tasks), run.stdout
    for record in run.results:
        expected_failure = EXPECTED_FAILURES.get((module, record["task"]))
        if expected_failure:
            assert record["status"] == "failed" and expected_failure in record["result"]["msg"], record
        else:
            assert record["status"] == "ok", record
    CHECKS[module](sim, run, smtp)
