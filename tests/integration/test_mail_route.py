"""exchange_mail_route on messages actually relayed through SMTP servers on loopback.

The route: a client standing in for Exchange (smtplib: EHLO ex1.private.test, STARTTLS, AUTH LOGIN)
submits to the smart host (aiosmtpd, named mx12.relayprovider.test), which forwards over STARTTLS to
the recipient's server (aiosmtpd, named mx1.recipient.test), which stores the message.

Why the Received headers are written by our handlers: aiosmtpd's handlers write no Received header
(its Proxy handler adds only X-Peer), and no MTA such as Postfix is installed with the project. So each
server's handler writes the header a Postfix MTA would, built only from what aiosmtpd negotiated on
the wire for that message: the client's EHLO name and address, whether the session runs TLS and with
which version and cipher, whether it authenticated (RFC 3848 ESMTPSA), and the envelope recipient.
The hops, their order, their TLS facts and their timing thus come from real SMTP sessions, not from
text written by the test.
"""
import email.utils
import smtplib
import ssl
from email.message import EmailMessage
from types import SimpleNamespace

import pytest

from ansible_collections.ovhcloud.exchange.plugins.module_utils._mail_headers import analyse_message
from testlib import run_ansible_playbook
from smtp_servers import PASSWORD, USER, Mailbox, Relay, ThrowawayCA, smtp_server

pytestmark = pytest.mark.integration

SMART_HOST = "mx12.relayprovider.test"
RECIPIENT_MX = "mx1.recipient.test"


@pytest.fixture(scope="module")
def route(tmp_path_factory):
    """The two servers, started once: .send(port=...) submits a message, .mailbox holds what arrived."""
    ca = ThrowawayCA(tmp_path_factory.mktemp("ca"))
    mailbox = Mailbox(stamp=True)
    with smtp_server(mailbox, hostname=RECIPIENT_MX, tls_context=ca.server_context("localhost")) as recipient:
        relay = Relay("localhost", recipient.port, helo_name=SMART_HOST, ca_file=str(ca.ca_file))
        with smtp_server(relay, hostname=SMART_HOST, tls_context=ca.server_context("localhost"), auth=True) as smart_host:
            yield SimpleNamespace(ca=ca, mailbox=mailbox, relay=relay, smart_host_port=smart_host.port,
                                  recipient_port=recipient.port)


def submit(route, port, subject, tls=True, login=True):
    """Send one message as Exchange would, and return it as the recipient's server stored it."""
    message = EmailMessage()
    message["From"] = "Newsletter <news@mydomain.test>"
    message["To"] = "john@recipient.test"
    message["Subject"] = subject
    message["Date"] = email.utils.formatdate(localtime=False)
    message["Message-ID"] = email.utils.make_msgid(domain="mydomain.test")
    message.set_content("route test\n")
    before = len(route.mailbox.messages)
    with smtplib.SMTP("localhost", port, local_hostname="ex1.private.test", timeout=10) as client:
        client.ehlo()
        if tls:
            client.starttls(context=ssl.create_default_context(cafile=str(route.ca.ca_file)))
            client.ehlo()
        if login:
            client.login(USER, PASSWORD)
        client.send_message(message, from_addr="bounces@mydomain.test")
    assert len(route.mailbox.messages) == before + 1
    return route.mailbox.messages[-1]


def test_relayed_message_went_through_the_smart_host(route):
    raw = submit(route, route.smart_host_port, "through the connector")
    result = analyse_message(raw, smart_host=SMART_HOST)
    first, second = result["hops"]
    assert (first["from"], first["by"], first["with"], first["tls"]) == ("ex1.private.test", SMART_HOST, "ESMTPSA", True)
    assert first["for"] == "john@recipient.test" and first["ip"] == "127.0.0.1" and first["internal"] is True
    assert (second["from"], second["by"], second["with"], second["tls"]) == (SMART_HOST, RECIPIENT_MX, "ESMTPS", True)
    assert second["delay_seconds"] is not None and second["delay_seconds"] >= 0
    assert result["through_smart_host"] is True
    assert result["smart_host_match"] == {"index": 1, "field": "by", "name": SMART_HOST, "match": "exact"}
    assert result["return_path_domain"] is None  # the final delivery step adds Return-Path; the test sink does not
    assert result["from_domain"] == "mydomain.test"
    assert result["total_delay_seconds"] is not None and result["total_delay_seconds"] >= 0
    # No authentication results in these headers: the warning says DMARC cannot pass without DKIM.
    assert any("carries no DKIM signature" in warning for warning in result["route_warnings"])


def test_smart_host_configured_under_another_name_matches_by_domain(route):
    raw = submit(route, route.smart_host_port, "other name")
    result = analyse_message(raw, smart_host="smtp-relay.relayprovider.test")
    assert result["smart_host_match"] == {"index": 1, "field": "by", "name": SMART_HOST, "match": "domain"}


def test_message_sent_around_the_smart_host_is_flagged(route):
    raw = submit(route, route.recipient_port, "direct", login=False)
    result = analyse_message(raw, smart_host=SMART_HOST)
    assert [hop["by"] for hop in result["hops"]] == [RECIPIENT_MX]
    assert result["through_smart_host"] is False
    assert any(w.startswith("the message did not go through the smart host " + SMART_HOST) for w in result["route_warnings"])


def test_hop_without_tls_is_recorded_as_such(route):
    raw = submit(route, route.recipient_port, "plain", tls=False, login=False)
    hop = analyse_message(raw)["hops"][0]
    assert hop["with"] == "ESMTP" and hop["tls"] is False


def test_module_and_filter_through_ansible_playbook(route, tmp_path):
    """The module reads a saved .eml on the controller; the filter reads the same text in a template."""
    through = tmp_path / "through.eml"
    through.write_bytes(submit(route, route.smart_host_port, "playbook"))
    direct = tmp_path / "direct.eml"
    direct.write_bytes(submit(route, route.recipient_port, "playbook direct", login=False))
    playbook = f"""
- hosts: localhost
  gather_facts: false
  tasks:
    - name: route of the relayed message
      ovhcloud.exchange.exchange_mail_route:
        path: "{through}"
        smart_host: smtp.relayprovider.test
        sender_domain: mydomain.test
    - name: route of the direct message
      ovhcloud.exchange.exchange_mail_route:
        path: "{direct}"
        smart_host: {SMART_HOST}
      check_mode: true
    - name: filter
      ansible.builtin.set_fact:
        route_by_filter: "{{{{ lookup('ansible.builtin.file', '{through}') | ovhcloud.exchange.mail_route(smart_host='{SMART_HOST}') }}}}"
    - name: garbage
      ovhcloud.exchange.exchange_mail_route:
        content: "this is not a message"
      ignore_errors: true
"""
    run = run_ansible_playbook(playbook, tmp_path)
    assert run.rc == 0, run.stdout + run.stderr
    relayed = run.task("route of the relayed message")
    assert relayed["changed"] is False and relayed["through_smart_host"] is True
    assert relayed["smart_host_match"]["match"] == "domain" and relayed["smart_host_hop"] == 1
    assert [hop["by"] for hop in relayed["hops"]] == [SMART_HOST, RECIPIENT_MX]
    direct_result = run.task("route of the direct message")
    assert direct_result["through_smart_host"] is False
    # Route warnings are also shown as task warnings.
    assert "[WARNING]: the message did not go through the smart host " + SMART_HOST in " ".join((run.stdout + run.stderr).split())
    by_filter = run.task("filter")["ansible_facts"]["route_by_filter"]
    assert by_filter["smart_host_match"]["match"] == "exact" and [hop["by"] for hop in by_filter["hops"]] == [SMART_HOST, RECIPIENT_MX]
    garbage = run.task("garbage")
    assert garbage["msg"].startswith("no mail headers found in the input")
    assert run.failed_tasks == ["garbage"]
