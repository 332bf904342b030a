"""The bad-input catalogue: every case fails with a message naming the input and the fix, writes nothing.

Cases run in batches (one ansible-playbook per batch): module cases are tasks with `ignore_errors`,
role cases are blocks whose rescue records the failure. The table is also the catalogue of
docs/troubleshooting.md; `python tests/integration/test_bad_input.py` rewrites that section.
"""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

if __name__ == "__main__":  # run as a script (to rewrite the doc table): testlib lives one folder up
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bindings_support import BASE, ORG, create_connector, platform_state
from testlib import REPO, run_ansible_playbook
from role_play import ROLE_PLAY, extra_vars_file

pytestmark = pytest.mark.integration

DOC = REPO / "docs" / "troubleshooting.md"
DOC_START = "<!-- bad-input catalogue: generated from tests/integration/test_bad_input.py -->"
DOC_END = "<!-- end of the bad-input catalogue -->"
ROLE = "role"
EXISTING = "existing-relay"  # a connector made with the SDK before each batch
WRITES = ("POST", "PUT", "DELETE")


@dataclass
class Case:
    id: str
    target: str  # a module name of the collection, or ROLE
    args: dict  # module options, or role variables
    expect: list  # fragments the message must hold: the input it names and the fix it gives
    fix: str  # what the user should do, for docs/troubleshooting.md
    batch: str = "default"
    what: str = field(default="")
    # The one write the API itself must refuse (a right the client cannot see before asking), e.g.
    # "POST /sendConnector -> 403"; every other case must not send any write at all.
    refused_write: str = ""

    @property
    def description(self):
        return self.what or self.id.replace("-", " ")


def relay(**overrides):
    """One connector entry of the role, valid unless overridden."""
    return {"name": "bad-input-relay", "smart_host": "smtp-relay.example.com", "port": 587,
            "mailboxes": ["newsletter@mydomain.ovh"], **overrides}


def role_vars(connectors=None, **overrides):
    # send_connector_platform_mailboxes is optional; it is set so that each case fails on its own bad input
    # (test_minimal_valid_role_input_is_accepted covers leaving it out).
    return {"send_connector_organization": ORG, "send_connector_connectors": connectors or [relay()],
            "send_connector_platform_mailboxes": [], **overrides}


SC, AC, DS, INFO, CHECK = ("exchange_send_connector", "exchange_account_connector", "exchange_domain_default_sbr",
                           "exchange_send_connector_info", "exchange_smarthost_check")
NEW = {"name": "new-relay", "smart_host": "smtp-relay.example.com"}
READONLY = "demo-readonly-consumer-key"
TEN_THOUSAND = [f"user{number:05d}@mydomain.ovh" for number in range(1, 10001)]
TEN_THOUSAND[4321] = "user04322@mydomain.ovh "  # a trailing space is stripped: still a valid mailbox
TEN_THOUSAND[7000] = "user07001@mydomian.ovh"  # the one bad entry: a typo in the domain

CASES = [
    # exchange_send_connector -------------------------------------------------------------------------------
    Case("sc-unknown-key", SC, {**NEW, "smart_hots": "x"}, ["smart_hots", "Supported parameters include"],
         "Fix the option's spelling; the message lists the supported options."),
    Case("sc-port-not-int", SC, {**NEW, "port": "submission"}, ["argument 'port'", "convert to int"], "Give the port as a number (587)."),
    Case("sc-port-too-big", SC, {**NEW, "port": 70000}, ["70000", "65535"], "Use a port from 1 to 65535 (587 or 25)."),
    Case("sc-port-zero", SC, {**NEW, "port": 0}, ["port must be between 1 and 65535", "got 0"], "Use a port from 1 to 65535 (587 or 25)."),
    Case("sc-max-send-size-too-big", SC, {**NEW, "max_send_size": 101}, ["max_send_size", "between 1 and 100, got 101"],
         "Give max_send_size in MB, from 1 to 100."),
    Case("sc-max-send-size-zero", SC, {**NEW, "max_send_size": 0}, ["max_send_size", "between 1 and 100, got 0"],
         "Give max_send_size in MB, from 1 to 100."),
    Case("sc-auth-mechanism-choice", SC, {**NEW, "auth_mechanism": "login"}, ["auth_mechanism", "basicAuthRequireTLS"],
         "Use none, basicAuth or basicAuthRequireTLS."),
    Case("sc-basic-auth-without-user", SC, {**NEW, "auth_mechanism": "basicAuth"}, ["auth_mechanism=basicAuth", "needs user"],
         "Give user and password with basic authentication."),
    Case("sc-smart-host-space", SC, {**NEW, "smart_host": "smtp relay.example.com"}, ["smtp relay.example.com", "contains a space"],
         "Give the relay's host name without spaces (smtp-relay.example.com)."),
    Case("sc-smart-host-empty", SC, {**NEW, "smart_host": ""}, ["smart_host must not be empty"], "Give the relay's host name."),
    Case("sc-create-without-smart-host", SC, {"name": "relay-without-host"}, ["relay-without-host", "smart_host"],
         "Give smart_host to create a connector."),
    Case("sc-neither-name-nor-id", SC, {"smart_host": "smtp-relay.example.com"}, ["one of the following is required: name, id"],
         "Identify the connector by name (or id)."),
    Case("sc-negative-id", SC, {"id": -3, "smart_host": "smtp-relay.example.com"}, ["id must be a positive connector id", "-3"],
         "Give the id of an existing connector (exchange_send_connector_info lists them)."),
    Case("sc-unknown-id", SC, {"id": 999, "smart_host": "smtp-relay.example.com"}, ["999", "give name without id"],
         "Give the id of an existing connector (exchange_send_connector_info lists them), or a name to create one."),
    Case("sc-state-choice", SC, {**NEW, "state": "deleted"}, ["value of state", "got: deleted"], "Use state present or absent."),
    Case("sc-update-password-choice", SC, {**NEW, "update_password": "sometimes"}, ["update_password", "on_create"],
         "Use update_password always or on_create."),
    Case("sc-wait-timeout-not-int", SC, {**NEW, "wait_timeout": "soon"}, ["argument 'wait_timeout'", "convert to int"],
         "Give wait_timeout in seconds."),
    Case("sc-unknown-platform", SC, {**NEW, "organization": "private-zz999999-9"}, ["private-zz999999-9", "GET /email/exchange"],
         "Check organization and service; GET /email/exchange lists the platforms the credentials see."),
    Case("sc-hosted-platform", SC, {**NEW, "organization": "hosted-zz222222-1"}, ["hosted", "allow_unsupported_offer"],
         "Send connectors exist on Private and Trusted Exchange only; use such a platform."),
    Case("sc-wrong-application-key", SC, {**NEW, "application_key": "not-my-key"}, ["This application key is invalid", "check application_key"],
         "Check application_key (OVH_APPLICATION_KEY)."),
    Case("sc-wrong-application-secret", SC, {**NEW, "application_secret": "not-my-secret"}, ["Invalid signature", "application_secret"],
         "Check application_secret (OVH_APPLICATION_SECRET)."),
    Case("sc-wrong-consumer-key", SC, {**NEW, "consumer_key": "not-my-consumer-key"}, ["This credential does not exist", "consumer_key", "create a new one"],
         "Check consumer_key (OVH_CONSUMER_KEY), or create a new one."),
    Case("sc-consumer-key-without-write-rights", SC, {**NEW, "consumer_key": READONLY},
         ["not allowed to call POST", "/sendConnector", "grant the consumer key"],
         "Grant the consumer key the rule the message names (POST /email/exchange/*).", refused_write="POST /sendConnector -> 403"),
    Case("sc-endpoint-typo", SC, {**NEW, "endpoint": "ovh-ue"}, ["ovh-ue", "ovh-eu"], "Use ovh-eu, ovh-ca, ovh-us or an https URL."),
    Case("sc-endpoint-http-remote", SC, {**NEW, "endpoint": "http://eu.api.ovh.com/1.0"}, ["http://eu.api.ovh.com/1.0", "https"],
         "Use https (plain http is allowed to a loopback simulator only)."),
    Case("sc-endpoint-not-url", SC, {**NEW, "endpoint": "ftp://eu.api.ovh.com/1.0"}, ["ftp://eu.api.ovh.com/1.0", "https://"],
         "Use a region name or an https://host/1.0 URL."),
    Case("sc-app-keys-and-oauth2", SC, {**NEW, "client_id": "an-id", "client_secret": "a-secret"}, ["client_id", "use one of them"],
         "Use either application keys or an OAuth2 service account."),
    # exchange_account_connector ----------------------------------------------------------------------------
    Case("ac-unknown-mailbox", AC, {"connector": EXISTING, "accounts": ["nobody@mydomain.ovh"]},
         ["nobody@mydomain.ovh", "no such mailbox"], "Check the address (exchange_send_connector_info and the OVHcloud Control Panel list mailboxes)."),
    Case("ac-other-platform-domain", AC, {"connector": EXISTING, "accounts": ["info@hosted-example.ovh"]},
         ["hosted-example.ovh", "its domains"], "List only mailboxes of this platform's domains; the message lists them."),
    Case("ac-duplicate-mailbox", AC, {"connector": EXISTING, "accounts": ["newsletter@mydomain.ovh", "Newsletter@mydomain.ovh"]},
         ["Newsletter@mydomain.ovh", "listed twice"], "Give each mailbox once (case does not matter)."),
    Case("ac-not-an-address", AC, {"connector": EXISTING, "accounts": ["newsletter"]}, ["newsletter", "login@domain"],
         "Give primary addresses (login@domain)."),
    Case("ac-empty-address", AC, {"connector": EXISTING, "accounts": ["newsletter@mydomain.ovh", " "]}, ["accounts[1]", "empty"],
         "Remove the empty item."),
    Case("ac-unicode-address", AC, {"connector": EXISTING, "accounts": ["jöhn.smith@guides.ovh"]},
         ["jöhn.smith@guides.ovh", "no such mailbox"], "Use the mailbox's primary address exactly (john.smith@guides.ovh)."),
    Case("ac-unicode-domain", AC, {"connector": EXISTING, "accounts": ["contact@mydömain.ovh"]},
         ["mydömain.ovh", "its domains"], "Use one of the platform's domains; the message lists them."),
    Case("ac-unknown-connector", AC, {"connector": "no-such-relay", "accounts": ["newsletter@mydomain.ovh"]},
         ["no-such-relay", EXISTING], "Use an existing connector's name or id; the message lists them."),
    Case("ac-unknown-connector-id", AC, {"connector": "999", "accounts": ["newsletter@mydomain.ovh"]}, ["999", EXISTING],
         "Use an existing connector's name or id; the message lists them."),
    Case("ac-account-and-accounts", AC, {"connector": EXISTING, "account": "newsletter@mydomain.ovh", "accounts": ["sales@mydomain.ovh"]},
         ["mutually exclusive: accounts|account"], "Give account or accounts, not both."),
    Case("ac-accounts-not-a-list", AC, {"connector": EXISTING, "accounts": {"newsletter@mydomain.ovh": True}}, ["argument 'accounts' is of type dict", "list"],
         "Give accounts as a list of addresses."),
    Case("ac-parallel-zero", AC, {"connector": EXISTING, "accounts": ["newsletter@mydomain.ovh"], "parallel": 0},
         ["parallel", "1 or more"], "Set parallel to 1 or more."),
    Case("ac-negative-rate", AC, {"connector": EXISTING, "accounts": ["newsletter@mydomain.ovh"], "max_requests_per_second": -1},
         ["max_requests_per_second", "leave it unset"], "Give a rate above 0, or leave it unset."),
    Case("ac-exclusive-with-absent", AC, {"connector": EXISTING, "accounts": ["newsletter@mydomain.ovh"], "exclusive": True,
                                          "state": "absent"}, ["exclusive=true goes with state=present only"], "Use exclusive with state=present only."),
    Case("ac-consumer-key-without-write-rights", AC, {"connector": EXISTING, "accounts": ["newsletter@mydomain.ovh"],
                                                      "consumer_key": READONLY},
         ["not allowed to call PUT", "/account/newsletter%40mydomain.ovh", "grant the consumer key"],
         "Grant the consumer key PUT on /email/exchange/*.", refused_write="PUT /account/newsletter@mydomain.ovh -> 403"),
    Case("ac-ten-thousand-with-one-bad", AC, {"connector": EXISTING, "accounts": TEN_THOUSAND},
         ["user07001@mydomian.ovh", "its domains"], "Fix the one entry the message names; nothing else was changed.",
         batch="ten-thousand", what="10,000 mailboxes with one bad entry"),
    # exchange_domain_default_sbr ---------------------------------------------------------------------------
    Case("ds-unknown-domain", DS, {"connector": EXISTING, "domains": ["nodomain.example"]}, ["nodomain.example", "its domains"],
         "Use one of the platform's domains; the message lists them."),
    Case("ds-present-without-connector", DS, {"domains": ["guides.ovh"]}, ["state is present", "missing: connector"],
         "Give connector with state=present."),
    Case("ds-unknown-connector", DS, {"connector": "ghost-relay", "domains": ["guides.ovh"]}, ["ghost-relay", EXISTING],
         "Use an existing connector's name or id."),
    Case("ds-duplicate-domain", DS, {"connector": EXISTING, "domains": ["guides.ovh", "GUIDES.ovh"]}, ["GUIDES.ovh", "listed twice"],
         "Give each domain once."),
    # exchange_send_connector_info --------------------------------------------------------------------------
    Case("info-unknown-connector", INFO, {"connector": "ghost-relay"}, ["ghost-relay", EXISTING], "Use an existing connector's name or id."),
    Case("info-unknown-platform", INFO, {"organization": "private-zz999999-9"}, ["private-zz999999-9", "GET /email/exchange"],
         "Check organization and service."),
    # exchange_smarthost_check ------------------------------------------------------------------------------
    Case("check-smart-host-space", CHECK, {"smart_host": "smtp relay.example.com"}, ["smtp relay.example.com", "has a space in it"],
         "Give the relay's host name without spaces."),
    Case("check-port-out-of-range", CHECK, {"smart_host": "smtp-relay.example.com", "port": 0}, ["port must be between 1 and 65535", "not 0"],
         "Use a port from 1 to 65535."),
    # the send_connector role -------------------------------------------------------------------------------
    Case("role-misspelled-key", ROLE, role_vars([relay(smart_hots="x")]),
         ["send_connector_connectors[0] (bad-input-relay): unknown key smart_hots", "did you mean smart_host?"],
         "Fix the key's spelling (see meta/argument_specs.yml)."),
    Case("role-port-not-int", ROLE, role_vars([relay(port="submission")]),
         ["argument 'port'", "send_connector_connectors", "convert to int"], "Give the port as a number."),
    Case("role-state-choice", ROLE, role_vars([relay(state="deleted")]),
         ["send_connector_connectors[0] (bad-input-relay): state must be one of present, absent", "got deleted"], "Use state present or absent."),
    Case("role-connectors-not-a-list", ROLE, role_vars(send_connector_connectors="relay"), ["send_connector_connectors", "dict"],
         "Give send_connector_connectors as a list of connectors (mappings)."),
    Case("role-missing-organization", ROLE, {"send_connector_connectors": [relay()], "send_connector_platform_mailboxes": []},
         ["missing required arguments: send_connector_organization"],
         "Set send_connector_organization to the platform name."),
    Case("role-unknown-platform", ROLE, role_vars(send_connector_organization="private-zz999999-9"),
         ["private-zz999999-9", "GET /email/exchange"], "Check send_connector_organization."),
    Case("role-duplicate-connector-name", ROLE, role_vars([relay(), relay(mailboxes=[])]), ["bad-input-relay", "more than once"],
         "Merge the entries: the name is a connector's identity."),
    Case("role-mailbox-in-two-places", ROLE, role_vars([relay()], send_connector_platform_mailboxes=["newsletter@mydomain.ovh"]),
         ["newsletter@mydomain.ovh", "more than once"], "Keep each mailbox in one place."),
    Case("role-no-smart-host", ROLE, role_vars([{"name": "bad-input-relay", "mailboxes": []}]), ["bad-input-relay", "no smart_host"],
         "Give smart_host to every connector with state present."),
    Case("role-unknown-mailbox", ROLE, role_vars([relay(mailboxes=["newsletter@mydomain.ovh", "nobody@mydomain.ovh"])]),
         ["nobody@mydomain.ovh", "no such mailbox"], "Check the address."),
    Case("role-unicode-mailbox", ROLE, role_vars([relay(mailboxes=["néwsletter@mydomain.ovh"])]), ["néwsletter@mydomain.ovh", "no such mailbox"],
         "Use the mailbox's primary address exactly."),
    Case("role-unknown-default-domain", ROLE, role_vars([relay(default_for_domains=["nodomain.example"])]),
         ["nodomain.example", "its domains"], "Use one of the platform's domains."),
    Case("role-smart-host-space", ROLE, role_vars([relay(smart_host="smtp relay.example.com")]),
         ["send_connector_connectors[0] (bad-input-relay): smart_host 'smtp relay.example.com' has a space in it"],
         "Give the relay's host name without spaces."),
    Case("role-max-send-size-zero", ROLE, role_vars([relay(max_send_size=0)]),
         ["max_send_size", "between 1 and 100, got 0"], "Give max_send_size from 1 to 100."),
    Case("role-later-connector-bad-size", ROLE, role_vars([relay(name="first-relay"), relay(name="second-relay", mailboxes=[], max_send_size=0)]),
         ["send_connector_connectors[1] (second-relay): max_send_size", "between 1 and 100, got 0"],
         "Fix the entry the message names; the role checks every entry before its first write.",
         what="two connectors, only the second one bad (max_send_size 0): nothing is written, not even the first"),
    Case("role-later-connector-basic-auth-without-user", ROLE,
         role_vars([relay(name="first-relay"), relay(name="second-relay", mailboxes=[], auth_mechanism="basicAuth", password="x")]),
         ["send_connector_connectors[1] (second-relay): auth_mechanism=basicAuth needs user"], "Give user and password with basic authentication.",
         what="two connectors, only the second one bad (basicAuth without user): nothing is written"),
    Case("role-later-connector-password-at-creation", ROLE,
         role_vars([relay(name="first-relay"), relay(name="second-relay", mailboxes=[], auth_mechanism="basicAuth", user="relay-user")]),
         ["send_connector_connectors[1] (second-relay)", "password is required to create"], "Give the password when the connector is created.",
         what="two connectors, the second one to create with basicAuth and no password: nothing is written"),
    Case("role-later-connector-smart-host-port", ROLE,
         role_vars([relay(name="first-relay"), relay(name="second-relay", mailboxes=[], smart_host="smtp-relay.example.com:587")]),
         ["send_connector_connectors[1] (second-relay)", "has a port: put 587 in `port`"], "Put the port in `port`, not in smart_host.",
         what="two connectors, only the second one bad (smart_host with :587): nothing is written"),
    Case("role-several-problems-together", ROLE,
         role_vars([relay(name="first-relay", port=0), relay(name="second-relay", mailboxes=[], max_send_size=101)]),
         ["send_connector_connectors[0] (first-relay): port must be between 1 and 65535, got 0",
          "send_connector_connectors[1] (second-relay): max_send_size is in MB and must be between 1 and 100, got 101"],
         "Fix every entry the message names: all problems are reported together.",
         what="two connectors, both bad: one failure names both entries"),
    Case("role-exclusive-empty-mailboxes", ROLE,
         role_vars([relay(name="first-relay"), relay(name="second-relay", mailboxes=[], exclusive=True)]),
         ["send_connector_connectors[1] (second-relay)", "exclusive is true with no mailboxes", "exclusive_empty_ok: true"],
         "List the mailboxes to keep; set exclusive_empty_ok: true only to really unbind them all.",
         what="exclusive with an empty mailboxes list (a templating mistake would unbind every mailbox): nothing is written"),
    Case("role-consumer-key-without-write-rights", ROLE, role_vars(send_connector_consumer_key=READONLY),
         ["not allowed to call POST", "/sendConnector", "grant the consumer key"],
         "Grant the consumer key write rules on /email/exchange/*.", refused_write="POST /sendConnector -> 403"),
    Case("role-endpoint-typo", ROLE, role_vars(send_connector_endpoint="ovh-ue"), ["ovh-ue", "ovh-eu"],
         "Use ovh-eu, ovh-ca, ovh-us or an https URL."),
]


# Batches ---------------------------------------------------------------------------------------------

def module_task(case):
    args = dict(case.args)
    return {"name": f"case {case.id}", f"ovhcloud.exchange.{case.target}": args, "ignore_errors": True}


def role_block(case):
    # The rescue records the failure; if the role succeeds, no "case" task is recorded and the test fails.
    summary = ("{{ {'msg': ansible_failed_result.msg | default(''), "
               "'items': ansible_failed_result.results | default([]) | selectattr('failed', 'defined') "
               "| selectattr('failed') | map(attribute='msg') | list, "
               "'exception': 'Traceback (most' in (ansible_failed_result.exception | default('')), 'failed_task': ansible_failed_task.name} }}")
    return {"name": f"run {case.id}", "block": [
        {"name": f"role for {case.id}", "ansible.builtin.include_role": {"name": "ovhcloud.exchange.send_connector"},
         "vars": case.args}],
        "rescue": [{"name": f"case {case.id}", "ansible.builtin.debug": {"msg": summary}}]}


def batch_playbook(cases):
    tasks = [role_block(case) if case.target == ROLE else module_task(case) for case in cases]
    play = {"name": "bad input", "hosts": "localhost", "gather_facts": False,
            "module_defaults": {"group/ovhcloud.exchange.ovh": {"organization": ORG}}, "tasks": tasks}
    return json.dumps([play], ensure_ascii=False, indent=1)  # YAML reads JSON


def failure_text(case, run):
    """The message the user sees for `case` (the module's msg, or the role's failed task and items).

    ansible-core 2.19 adds `exception: "(traceback unavailable)"` to every failure without one; a real
    traceback would hold "Traceback (most recent call last)".
    """
    records = [r for r in run.results if r["task"] == f"case {case.id}"]
    if not records:
        return f"<no failure recorded: the case did not fail> {run.stdout[-300:]}"
    record = records[-1]
    if case.target == ROLE:
        summary = record["result"]["msg"]
        return " ".join([summary["msg"], *summary["items"], "TRACEBACK" if summary["exception"] else ""])
    if record["status"] != "failed":
        return f"<the module did not fail: {record['status']}>"
    traceback = "TRACEBACK" if "Traceback (most" in str(record["result"].get("exception", "")) else ""
    return record["result"].get("msg", "") + traceback


def writes_by_case(cases, run, log):
    """{case id: [write requests the simulator received while that case ran]}, accepted or refused.

    Each case ends with one recorded result ("case <id>", stamped with the time it arrived); a write
    belongs to the first case whose result arrived after it.
    """
    ends = []
    for case in cases:
        records = [r for r in run.results if r["task"] == f"case {case.id}"]
        ends.append((records[-1]["time"] if records else float("inf"), case.id))
    ends.sort()
    found = {case.id: [] for case in cases}
    for request in log:
        if request["method"] not in WRITES:
            continue
        owner = next((case_id for end, case_id in ends if request["time"] <= end), "after the last case")
        path = request["path"].split(BASE, 1)[-1]
        found.setdefault(owner, []).append(f"{request['method']} {path} -> {request['status']}")
    return found


@pytest.mark.parametrize("batch", sorted({case.batch for case in CASES}))
def test_bad_input_fails_clearly_and_writes_nothing(sim, tmp_path, batch):
    cases = [case for case in CASES if case.batch == batch]
    if batch == "ten-thousand":
        sim.reset(accounts=10000)
    create_connector(sim, EXISTING)
    state_before = sim.state()
    writes_before, log_start = sim.stats()["writes"], len(sim.requests())

    run = run_ansible_playbook(batch_playbook(cases), tmp_path, env=sim.env)

    assert "Traceback" not in run.stdout + run.stderr, run.stdout[-4000:] + run.stderr[-4000:]
    problems = []
    for case in cases:
        text = " ".join(failure_text(case, run).split())
        missing = [fragment for fragment in case.expect if fragment not in text]
        if "TRACEBACK" in text:
            missing.append("(and it holds a traceback)")
        if missing:
            problems.append(f"{case.id}: message lacks {missing}: {text[:600]}")
    # Every write the simulator received counts, refused ones too: a case whose bad value only the API
    # refuses (the module's own check removed) writes once and fails here.
    log = sim.requests()[log_start:]
    allowed = {case.id: [case.refused_write] if case.refused_write else [] for case in cases}
    problems += [f"{case_id}: the simulator received writes {writes}, expected {allowed.get(case_id, [])}"
                 for case_id, writes in writes_by_case(cases, run, log).items() if writes != allowed.get(case_id, [])]
    received = sim.stats()["writes"] - writes_before
    if received != sum(len(writes) for writes in allowed.values()) and not problems:
        problems.append(f"the simulator counted {received} writes; the request log shows {log}")
    assert not problems, "\n".join(problems)
    assert received == sum(len(writes) for writes in allowed.values())
    assert sim.state() == state_before


def test_minimal_valid_role_input_is_accepted(sim, tmp_path):
    """The control of the role cases: the smallest valid input (optional variables left out) converges."""
    variables = {"send_connector_organization": ORG, "send_connector_connectors": [relay()]}
    run = run_ansible_playbook(ROLE_PLAY, tmp_path, env=sim.env, args=("-e", extra_vars_file(tmp_path, "minimal", variables)))
    assert run.rc == 0, run.stdout[-3000:]
    [connector] = platform_state(sim)["connectors"].values()
    assert platform_state(sim)["accounts"]["newsletter@mydomain.ovh"]["sendConnectorId"] == connector["id"]


def test_catalogue_is_large_and_unique():
    assert len(CASES) == 73  # a case lost or added by mistake changes this count
    assert len({case.id for case in CASES}) == len(CASES)
    assert {case.target for case in CASES} == {SC, AC, DS, INFO, CHECK, ROLE}


# docs/troubleshooting.md -----------------------------------------------------------------------------

def _cell(value):
    return str(value).replace("|", "\\|").replace("\n", " ")


def _input_text(case):
    if case.batch == "ten-thousand":
        return "`accounts`: 10,000 mailboxes, one of them `user07001@mydomian.ovh`"
    text = json.dumps(case.args, ensure_ascii=False)
    return f"`{_cell(text if len(text) < 140 else text[:137] + '...')}`"


def catalogue_markdown():
    lines = [DOC_START, "", "| case | where | input | the message names | what to do |", "|---|---|---|---|---|"]
    for case in CASES:
        where = "role `send_connector`" if case.target == ROLE else f"`{case.target}`"
        named = ", ".join(f"`{_cell(fragment)}`" for fragment in case.expect)
        lines.append(f"| {case.id} | {where} | {_input_text(case)} | {named} | {_cell(case.fix)} |")
    return "\n".join(lines + ["", DOC_END])


def test_troubleshooting_doc_lists_the_catalogue():
    text = DOC.read_text(encoding="utf-8")
    assert DOC_START in text and DOC_END in text, "docs/troubleshooting.md lost its catalogue markers"
    section = text[text.index(DOC_START): text.index(DOC_END) + len(DOC_END)]
    assert section == catalogue_markdown(), "run: .venv/bin/python tests/integration/test_bad_input.py (rewrites the table)"


def write_catalogue(path=DOC):
    text = path.read_text(encoding="utf-8")
    start, end = text.index(DOC_START), text.index(DOC_END) + len(DOC_END)
    path.write_text(text[:start] + catalogue_markdown() + text[end:], encoding="utf-8")


if __name__ == "__main__":
    write_catalogue()
