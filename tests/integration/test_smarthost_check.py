"""exchange_smarthost_check against real SMTP servers on loopback (aiosmtpd), in-process and via ansible-playbook.

Every server is aiosmtpd's SMTP implementation with certificates from a throw-away CA (trustme);
see smtp_servers.py. The check must never send a message: every server records MAIL FROM, and the
tests assert it stayed empty. The password must reach only a verified peer: every server keeps what it
received, and the tests assert there is no AUTH command and no password in it unless the session was
verified or the user opted out by name.
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
    auth_commands,
    banner_server,
    credentials_unavailable,
    received_no_password,
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


def check(**options):
    """The check as the module runs it, on the loopback servers' ports (which are not SMTP ports)."""
    return check_smart_host(allow_any_port=True, **options)


def test_starttls_with_test_ca_and_right_password(relay, ca):
    result = check(smart_host="localhost", port=relay.port, ca_path=str(ca.ca_file), user=USER,
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
    result = check(smart_host="localhost", port=relay.port, ca_path=str(ca.ca_file), user=USER,
                              password="wrong-" + PASSWORD)
    assert result["status"] == "auth_failed" and codes(result) == ["auth_rejected"]
    assert result["auth"]["succeeded"] is False and result["auth"]["mechanism"] == "LOGIN"
    assert "535" in result["problems"][0]["message"]
    assert PASSWORD not in json.dumps(result)


def test_auth_plain_when_login_is_not_offered(ca):
    with smtp_server(tls_context=ca.server_context("localhost"), auth=True, auth_exclude_mechanism=["LOGIN"]) as server:
        right = check(smart_host="localhost", port=server.port, ca_path=str(ca.ca_file), user=USER, password=PASSWORD)
        wrong = check(smart_host="localhost", port=server.port, ca_path=str(ca.ca_file), user=USER, password="nope")
    assert right["status"] == "success" and right["auth"]["mechanism"] == "PLAIN" and right["auth"]["succeeded"] is True
    assert wrong["status"] == "auth_failed" and wrong["auth"]["mechanism"] == "PLAIN" and codes(wrong) == ["auth_rejected"]


def test_temporary_auth_failure_is_transient(ca):
    with smtp_server(tls_context=ca.server_context("localhost"), auth=credentials_unavailable) as server:
        result = check(smart_host="localhost", port=server.port, ca_path=str(ca.ca_file), user=USER, password=PASSWORD)
    assert result["status"] == "transient_error" and codes(result) == ["auth_temporary_failure"]
    assert "454" in result["problems"][0]["message"]


def assert_certificate_reported(certificate, names, issuer_prefix="O=trustme"):
    """The presented certificate's details, read even when it did not verify (issue 15 item 7)."""
    assert certificate["names"] == names
    assert certificate["subject"] and certificate["issuer"].startswith(issuer_prefix)
    assert certificate["not_after"] and certificate["days_left"] is not None


def test_untrusted_certificate_gets_no_password_and_is_reported(ca):
    with smtp_server(tls_context=ca.server_context("localhost"), auth=True) as server:
        result = check(smart_host="localhost", port=server.port, user=USER, password=PASSWORD)
    assert received_no_password(server), bytes(server.received)
    assert result["status"] == "tls_error" and codes(result) == ["certificate_untrusted", "auth_not_tested"]
    assert result["auth"]["tested"] is False and result["auth"]["succeeded"] is None and result["auth"]["mechanism"] is None
    assert "login not tested: TLS not verified" in result["problems"][1]["message"]
    certificate = result["certificate"]
    assert certificate["trusted"] is False and certificate["verified"] is False and certificate["verify_error"]
    assert certificate["matches_host"] is True and certificate["days_left"] > 300
    assert_certificate_reported(certificate, ["localhost"])
    # The certificate was read on a TLS session, and EHLO after it still tells what a connector would meet.
    assert result["starttls"]["succeeded"] is True and result["auth"]["mechanisms"] == ["LOGIN", "PLAIN"]
    assert result["connector_suggestion"]["auth_mechanism"] == "basicAuthRequireTLS"


def test_validate_certs_false_is_the_opt_out_and_is_reported(ca):
    with smtp_server(tls_context=ca.server_context("localhost"), auth=True) as server:
        result = check(smart_host="localhost", port=server.port, user=USER, password=PASSWORD, validate_certs=False)
    assert [line.split()[:2] for line in auth_commands(server.received)] == [[b"AUTH", b"LOGIN"]]
    assert result["status"] == "success" and codes(result) == ["certificate_untrusted", "auth_over_unverified_tls"]
    assert result["auth"]["tested"] is True and result["auth"]["succeeded"] is True
    assert result["certificate"]["verified"] is False
    assert_certificate_reported(result["certificate"], ["localhost"])


def test_certificate_for_another_name_gets_no_password(ca):
    with smtp_server(tls_context=ca.server_context("mail.other.test"), auth=True) as server:
        result = check(smart_host="localhost", port=server.port, ca_path=str(ca.ca_file), user=USER, password=PASSWORD)
    assert received_no_password(server), bytes(server.received)
    assert result["status"] == "tls_error" and codes(result) == ["certificate_name_mismatch", "auth_not_tested"]
    assert result["certificate"]["matches_host"] is False and result["certificate"]["trusted"] is True
    assert result["certificate"]["verified"] is False
    assert_certificate_reported(result["certificate"], ["mail.other.test"])
    assert "mail.other.test, not for localhost" in result["problems"][0]["message"]
    assert result["auth"]["tested"] is False


def test_expired_certificate_gets_no_password_and_is_reported(ca):
    with smtp_server(tls_context=ca.expired_context("localhost"), auth=True) as server:
        result = check(smart_host="localhost", port=server.port, ca_path=str(ca.ca_file), user=USER, password=PASSWORD)
    assert received_no_password(server), bytes(server.received)
    assert result["status"] == "tls_error" and codes(result) == ["certificate_expired", "auth_not_tested"]
    assert result["certificate"]["days_left"] < 0 and result["certificate"]["trusted"] is True
    assert result["certificate"]["matches_host"] is True and result["certificate"]["verified"] is False
    assert_certificate_reported(result["certificate"], ["localhost"])


def test_the_right_ca_verifies_and_the_login_is_tested(ca):
    with smtp_server(tls_context=ca.server_context("localhost"), auth=True) as server:
        result = check(smart_host="localhost", port=server.port, ca_path=str(ca.ca_file), user=USER, password=PASSWORD,
                       validate_certs=True)
    assert result["status"] == "success" and codes(result) == []
    assert result["certificate"]["verified"] is True and result["certificate"]["verify_error"] is None
    assert result["auth"]["succeeded"] is True
    assert len(auth_commands(server.received)) == 1


def test_server_without_starttls_gets_no_password_unless_starttls_is_off():
    with smtp_server(auth=True) as server:
        required = check(smart_host="localhost", port=server.port, user=USER, password=PASSWORD)
        assert received_no_password(server), bytes(server.received)
        lenient_certs = check(smart_host="localhost", port=server.port, user=USER, password=PASSWORD, validate_certs=False)
        assert received_no_password(server), bytes(server.received)
        plain = check(smart_host="localhost", port=server.port, user=USER, password=PASSWORD, starttls=False)
        assert len(auth_commands(server.received)) == 1
    for result in (required, lenient_certs):
        assert result["status"] == "tls_error" and codes(result) == ["starttls_not_offered", "auth_not_tested"]
        assert result["starttls"] == {"offered": False, "succeeded": False, "version": None, "cipher": None}
        assert result["certificate"] is None and result["auth"]["tested"] is False
    assert "login not tested: the server does not offer STARTTLS" in required["problems"][1]["message"]
    assert plain["status"] == "success" and codes(plain) == ["auth_without_tls"]
    assert plain["auth"]["mechanisms_before_tls"] == ["LOGIN", "PLAIN"] and plain["auth"]["succeeded"] is True
    assert plain["connector_suggestion"]["auth_mechanism"] == "basicAuth"
    assert plain["connector_suggestion"]["require_tls"] is False
    assert server.handler.mail_from == []


def test_a_non_smtp_service_is_named_and_its_banner_not_returned():
    ssh_banner = b"SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13.5"
    with banner_server(ssh_banner + b"\r\n") as port:
        result = check(smart_host="127.0.0.1", port=port, timeout=2, user=USER, password=PASSWORD)
    assert result["status"] == "unable_to_connect" and codes(result) == ["not_smtp"]
    assert "not an SMTP server" in result["problems"][0]["message"]
    assert result["banner"] is None and b"OpenSSH" not in json.dumps(result).encode()


def test_other_ports_need_allow_any_port():
    with pytest.raises(ValueError, match=r"port 2222 is not an SMTP port \(25, 465, 587, 2525\).*allow_any_port=true"):
        check_smart_host(smart_host="127.0.0.1", port=2222)


def test_relay_without_auth_suggests_none(ca):
    with smtp_server(IpAuthorisedMailbox(), tls_context=ca.server_context("localhost"), auth=True) as server:
        result = check(smart_host="localhost", port=server.port, ca_path=str(ca.ca_file))
    assert result["status"] == "success" and result["auth"]["mechanisms"] == []
    assert result["connector_suggestion"]["auth_mechanism"] == "none"


def test_implicit_tls_port_is_detected(ca):
    with smtp_server(implicit_tls_context=ca.server_context("localhost"), auth=True) as server:
        result = check(smart_host="localhost", port=server.port, ca_path=str(ca.ca_file), timeout=2)
    assert result["implicit_tls"] is True and result["status"] == "unable_to_connect" and codes(result) == ["implicit_tls"]
    assert result["banner"].startswith("220 ") and result["starttls"]["version"] in ("TLSv1.2", "TLSv1.3")
    assert result["certificate"]["trusted"] is True
    assert result["connector_suggestion"] == {"port": 587, "require_tls": True, "auth_mechanism": None, "max_send_size": 100}


def test_implicit_tls_port_with_an_untrusted_certificate_is_read_and_gets_no_password(ca):
    with smtp_server(implicit_tls_context=ca.server_context("localhost"), auth=True) as server:
        result = check(smart_host="localhost", port=server.port, timeout=2, user=USER, password=PASSWORD)
    assert received_no_password(server), bytes(server.received)
    assert result["implicit_tls"] is True and codes(result) == ["certificate_untrusted", "implicit_tls"]
    assert result["certificate"]["trusted"] is False and result["certificate"]["verified"] is False
    assert_certificate_reported(result["certificate"], ["localhost"])
    assert result["auth"]["tested"] is False


def test_closed_port():
    result = check(smart_host="127.0.0.1", port=closed_port(), timeout=2)
    assert result["status"] == "unable_to_connect" and codes(result) == ["connection_refused"]
    assert result["banner"] is None and result["connector_suggestion"] is None


def test_server_answering_421_at_the_banner():
    with smtp_server(controller_class=BusyController) as server:
        result = check(smart_host="127.0.0.1", port=server.port)
    assert result["status"] == "transient_error" and codes(result) == ["banner_refused"]
    assert result["banner"].startswith("421 4.3.2")


def test_server_answering_421_to_ehlo():
    with smtp_server(BusyAtEhlo()) as server:
        result = check(smart_host="127.0.0.1", port=server.port)
    assert result["status"] == "transient_error" and codes(result) == ["ehlo_refused"]
    assert "421" in result["problems"][0]["message"]


def test_size_smaller_than_the_connector_limit(relay, ca):
    result = check(smart_host="localhost", port=relay.port, ca_path=str(ca.ca_file), max_send_size=25)
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
        allow_any_port: true
        ca_path: "{ca.ca_file}"
        user: "{USER}"
        password: "{{{{ relay_password }}}}"
        max_send_size: 10
      check_mode: true
    - name: wrong password
      ovhcloud.exchange.exchange_smarthost_check:
        smart_host: localhost
        port: {relay.port}
        allow_any_port: true
        ca_path: "{ca.ca_file}"
        user: "{USER}"
        password: "not-{{{{ relay_password }}}}"
      ignore_errors: true
    - name: implicit tls, report only
      ovhcloud.exchange.exchange_smarthost_check:
        smart_host: localhost
        port: {implicit_server.port}
        allow_any_port: true
        ca_path: "{ca.ca_file}"
        timeout: 2
        fail_on: []
    - name: size fails only when asked
      ovhcloud.exchange.exchange_smarthost_check:
        smart_host: localhost
        port: {relay.port}
        allow_any_port: true
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
