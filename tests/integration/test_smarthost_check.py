"""exchange_smarthost_check against real SMTP servers on loopback (aiosmtpd), in-process and via ansible-playbook.

Every server is aiosmtpd's SMTP implementation with certificates from a throw-away CA (trustme);
see smtp_servers.py. The check must never send a message: every server records MAIL FROM, and the
tests assert it stayed empty.
"""
import json

import pytest

from ansible_collections.ovhcloud.exchange.plugins.module_utils._smtp_check import check_smart_host
from testlib import run_ansible_playbook
from smtp_servers import (
    PASSWORD,
    USER,
    BusyAtEhlo,
    BusyController,
    Mailbox,
    ThrowawayCA,
    closed_port,
    IpAuthorisedMailbox,
    credentials_unavailable,
    smtp_server,
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def ca(tmp_path_factory):
    return ThrowawayCA(tmp_path_factory.mktemp("ca"))


@pytest.fixture(scope="module")
def relay(ca):
    """The normal case: STARTTLS with a certificate for localhost, AUTH LOGIN/PLAIN only after TLS."""
    mailbox = Mailbox()
    with smtp_server(mailbox, tls_context=ca.server_context("localhost"), auth=True) as server:
        server.mailbox = mailbox
        yield server


def codes(result):
    return [problem["code"] for problem in result["problems"]]


def test_starttls_with_test_ca_and_right_password(relay, ca):
    result = check_smart_host(smart_host="localhost", port=relay.port, ca_path=str(ca.ca_file), user=USER,
                              password=PASSWORD, max_send_size=10, helo_name="ex1.private.test")
    assert result["status"] == "success" and codes(result) == []
    assert result["banner"].startswith("220 smtp.example.test ")
    assert result["implicit_tls"] is False
    assert result["starttls"]["offered"] is True and result["starttls"]["succeeded"] is True
    assert result["starttls"]["version"] in ("TLSv1.2", "TLSv1.3") and result["starttls"]["cipher"]
    certificate = result["certificate"]
    assert certificate["trusted"] is True and certificate["matches_host"] is True and certificate["names"] == ["localhost"]
    assert certificate["issuer"].startswith("O=trustme") and certificate["days_left"] > 300
    assert "STARTTLS" in result["ehlo_before_tls"] and "STARTTLS" not in result["ehlo"]
    assert result["auth"] == {"mechanisms": ["LOGIN", "PLAIN"], "mechanisms_before_tls": [], "tested": True,
                              "mechanism": "LOGIN", "succeeded": True}
    assert result["size"] == {"advertised_bytes": 10 * 1024 * 1024, "max_send_size_bytes": 10 * 1024 * 1024, "ok": True}
    assert result["connector_suggestion"] == {"port": relay.port, "require_tls": True,
                                              "auth_mechanism": "basicAuthRequireTLS", "max_send_size": 10}
    assert relay.mailbox.mail_from == [] and relay.mailbox.messages == []


def test_wrong_password_is_auth_failed_and_not_echoed(relay, ca):
    result = check_smart_host(smart_host="localhost", port=relay.port, ca_path=str(ca.ca_file), user=USER,
                              password="wrong-" + PASSWORD)
    assert result["status"] == "auth_failed" and codes(result) == ["auth_rejected"]
    assert result["auth"]["succeeded"] is False and result["auth"]["mechanism"] == "LOGIN"
    assert "535" in result["problems"][0]["message"]
    assert PASSWORD not in json.dumps(result)


def test_auth_plain_when_login_is_not_offered(ca):
    with smtp_server(tls_context=ca.server_context("localhost"), auth=True, auth_exclude_mechanism=["LOGIN"]) as server:
        right = check_smart_host(smart_host="localhost", port=server.port, ca_path=str(ca.ca_file), user=USER, password=PASSWORD)
        wrong = check_smart_host(smart_host="localhost", port=server.port, ca_path=str(ca.ca_file), user=USER, password="nope")
    assert right["status"] == "success" and right["auth"]["mechanism"] == "PLAIN" and right["auth"]["succeeded"] is True
    assert wrong["status"] == "auth_failed" and wrong["auth"]["mechanism"] == "PLAIN" and codes(wrong) == ["auth_rejected"]


def test_temporary_auth_failure_is_transient(ca):
    with smtp_server(tls_context=ca.server_context("localhost"), auth=credentials_unavailable) as server:
        result = check_smart_host(smart_host="localhost", port=server.port, ca_path=str(ca.ca_file), user=USER, password=PASSWORD)
    assert result["status"] == "transient_error" and codes(result) == ["auth_temporary_failure"]
    assert "454" in result["problems"][0]["message"]


def test_unknown_ca_is_a_tls_error_unless_validate_certs_is_off(relay):
    strict = check_smart_host(smart_host="localhost", port=relay.port, user=USER, password=PASSWORD)
    assert strict["status"] == "tls_error" and codes(strict) == ["certificate_untrusted"]
    assert strict["certificate"]["trusted"] is False and strict["certificate"]["subject"] is None
    # The session went on without verification, so the login was still tested.
    assert strict["starttls"]["succeeded"] is True and strict["auth"]["succeeded"] is True
    lenient = check_smart_host(smart_host="localhost", port=relay.port, user=USER, password=PASSWORD, validate_certs=False)
    assert lenient["status"] == "success" and codes(lenient) == ["certificate_untrusted"]


def test_certificate_for_another_name(ca):
    with smtp_server(tls_context=ca.server_context("mail.other.test"), auth=True) as server:
        result = check_smart_host(smart_host="localhost", port=server.port, ca_path=str(ca.ca_file))
    assert result["status"] == "tls_error" and codes(result) == ["certificate_name_mismatch"]
    assert result["certificate"]["names"] == ["mail.other.test"] and result["certificate"]["matches_host"] is False
    assert result["certificate"]["trusted"] is True
    assert "mail.other.test, not for localhost" in result["problems"][0]["message"]


def test_expired_certificate_is_read_and_reported(ca):
    with smtp_server(tls_context=ca.expired_context("localhost"), auth=True) as server:
        result = check_smart_host(smart_host="localhost", port=server.port, ca_path=str(ca.ca_file))
    assert result["status"] == "tls_error" and codes(result) == ["certificate_expired"]
    assert result["certificate"]["days_left"] < 0 and result["certificate"]["trusted"] is True
    assert result["certificate"]["subject"] is not None and result["certificate"]["matches_host"] is True


def test_server_without_starttls(ca):
    mailbox = Mailbox()
    with smtp_server(mailbox, auth=True) as server:
        required = check_smart_host(smart_host="localhost", port=server.port, user=USER, password=PASSWORD)
        plain = check_smart_host(smart_host="localhost", port=server.port, user=USER, password=PASSWORD, starttls=False)
    assert required["status"] == "tls_error" and codes(required)[0] == "starttls_not_offered"
    assert required["starttls"] == {"offered": False, "succeeded": False, "version": None, "cipher": None}
    assert required["certificate"] is None
    assert plain["status"] == "success" and codes(plain) == ["auth_without_tls"]
    assert plain["auth"]["mechanisms_before_tls"] == ["LOGIN", "PLAIN"] and plain["auth"]["succeeded"] is True
    assert plain["connector_suggestion"]["auth_mechanism"] == "basicAuth"
    assert plain["connector_suggestion"]["require_tls"] is False
    assert mailbox.mail_from == []


def test_relay_without_auth_suggests_none(ca):
    with smtp_server(IpAuthorisedMailbox(), tls_context=ca.server_context("localhost"), auth=True) as server:
        result = check_smart_host(smart_host="localhost", port=server.port, ca_path=str(ca.ca_file))
    assert result["status"] == "success" and result["auth"]["mechanisms"] == []
    assert result["connector_suggestion"]["auth_mechanism"] == "none"


def test_implicit_tls_port_is_detected(ca):
    with smtp_server(implicit_tls_context=ca.server_context("localhost"), auth=True) as server:
        result = check_smart_host(smart_host="localhost", port=server.port, ca_path=str(ca.ca_file), timeout=2)
    assert result["implicit_tls"] is True and result["status"] == "unable_to_connect" and codes(result) == ["implicit_tls"]
    assert result["banner"].startswith("220 ") and result["starttls"]["version"] in ("TLSv1.2", "TLSv1.3")
    assert result["certificate"]["trusted"] is True
    assert result["connector_suggestion"] == {"port": 587, "require_tls": True, "auth_mechanism": None, "max_send_size": 100}


def test_closed_port():
    result = check_smart_host(smart_host="127.0.0.1", port=closed_port(), timeout=2)
    assert result["status"] == "unable_to_connect" and codes(result) == ["connection_refused"]
    assert result["banner"] is None and result["connector_suggestion"] is None


def test_server_answering_421_at_the_banner():
    with smtp_server(controller_class=BusyController) as server:
        result = check_smart_host(smart_host="127.0.0.1", port=server.port)
    assert result["status"] == "transient_error" and codes(result) == ["banner_refused"]
    assert result["banner"].startswith("421 4.3.2")


def test_server_answering_421_to_ehlo():
    with smtp_server(BusyAtEhlo()) as server:
        result = check_smart_host(smart_host="127.0.0.1", port=server.port)
    assert result["status"] == "transient_error" and codes(result) == ["ehlo_refused"]
    assert "421" in result["problems"][0]["message"]


def test_size_smaller_than_the_connector_limit(relay, ca):
    result = check_smart_host(smart_host="localhost", port=relay.port, ca_path=str(ca.ca_file), max_send_size=25)
    assert result["status"] == "success" and codes(result) == ["size_too_small"]
    assert result["size"]["ok"] is False and result["connector_suggestion"]["max_send_size"] == 10
    assert "set the connector's max_send_size to 10 or less" == result["problems"][0]["fix"]


def test_through_ansible_playbook(relay, ca, tmp_path):
    """The module as Ansible runs it: results, fail_on, check mode, and the password kept out of every output."""
    implicit = smtp_server(implicit_tls_context=ca.server_context("localhost"))
    with implicit as implicit_server:
        playbook = f"""
- hosts: localhost
  gather_facts: false
  vars:
    relay_password: "{PASSWORD}"
  tasks:
    - name: right password
      ovhcloud.exchange.exchange_smarthost_check:
        smart_host: localhost
        port: {relay.port}
        ca_path: "{ca.ca_file}"
        user: "{USER}"
        password: "{{{{ relay_password }}}}"
        max_send_size: 10
      check_mode: true
    - name: wrong password
      ovhcloud.exchange.exchange_smarthost_check:
        smart_host: localhost
        port: {relay.port}
        ca_path: "{ca.ca_file}"
        user: "{USER}"
        password: "not-{{{{ relay_password }}}}"
      ignore_errors: true
    - name: implicit tls, report only
      ovhcloud.exchange.exchange_smarthost_check:
        smart_host: localhost
        port: {implicit_server.port}
        ca_path: "{ca.ca_file}"
        timeout: 2
        fail_on: []
    - name: size fails only when asked
      ovhcloud.exchange.exchange_smarthost_check:
        smart_host: localhost
        port: {relay.port}
        ca_path: "{ca.ca_file}"
        max_send_size: 25
        fail_on: [size_too_small]
      ignore_errors: true
"""
        run = run_ansible_playbook(playbook, tmp_path, args=["-v"])
    assert run.rc == 0, run.stdout + run.stderr
    right = run.task("right password")
    assert right["status"] == "success" and right["changed"] is False and right["auth"]["succeeded"] is True
    assert right["invocation"]["module_args"]["password"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    wrong = run.task("wrong password")
    assert wrong["status"] == "auth_failed" and "Traceback" not in str(wrong.get("exception", ""))
    assert wrong["msg"].startswith(f"smart host check of localhost port {relay.port}: auth_failed. auth_rejected:")
    implicit_result = run.task("implicit tls, report only")
    assert implicit_result["implicit_tls"] is True and implicit_result["status"] == "unable_to_connect"
    size = run.task("size fails only when asked")
    assert size["status"] == "success" and "size_too_small" in size["msg"]
    assert run.failed_tasks == ["wrong password", "size fails only when asked"]
    everything = run.stdout + run.stderr + json.dumps(run.results)
    assert PASSWORD not in everything
    assert relay.mailbox.mail_from == []
