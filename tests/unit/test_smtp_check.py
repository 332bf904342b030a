"""Smart-host pre-flight: certificate name rules, fail_on, and exchange_smarthost_check through its main().

The SMTP conversations themselves run against real servers in tests/integration/test_smarthost_check.py;
here the module runs for real against a closed loopback port, which needs no server.
"""
from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import socket

import pytest

from ansible_collections.ovhcloud.exchange.plugins.module_utils._smtp_check import (
    SmartHostCheck,
    failing_problems,
    host_matches,
    validated_options,
)
from ansible_collections.ovhcloud.exchange.plugins.modules import exchange_smarthost_check
from ansible_collections.ovhcloud.exchange.tests.unit.module_runner import run_module

SECRET = "n0t-in-any-output"


def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("names, host, expected", [
    ([("DNS", "smtp.example.com")], "smtp.example.com", True),
    ([("DNS", "smtp.example.com")], "SMTP.Example.com.", True),
    ([("DNS", "*.example.com")], "smtp.example.com", True),
    ([("DNS", "*.example.com")], "a.smtp.example.com", False),
    ([("DNS", "*.example.com")], "example.com", False),
    ([("DNS", "mail.other.test")], "smtp.example.com", False),
    ([("IP Address", "127.0.0.1")], "127.0.0.1", True),
    ([("DNS", "127.0.0.1")], "127.0.0.1", False),
    ([("IP Address", "2001:DB8:0:0:0:0:0:1\n")], "2001:db8::1", True),
    ([], "smtp.example.com", False),
])
def test_certificate_names_follow_rfc_6125(names, host, expected):
    assert host_matches({"subjectAltName": tuple(names)}, host) is expected


def certificate(days_left, trusted=True, matches=True):
    return {"subject": "CN=smtp.example.com", "issuer": "CN=CA", "not_after": "2026-01-01T00:00:00+00:00",
            "days_left": days_left, "names": ["smtp.example.com"], "matches_host": matches, "trusted": trusted}


@pytest.mark.parametrize("cert, validate, codes, status", [
    (certificate(300), True, [], "success"),
    (certificate(5), True, ["certificate_expiring"], "success"),
    (certificate(-1), True, ["certificate_expired"], "tls_error"),
    (certificate(-1), False, ["certificate_expired"], "success"),
    (certificate(300, matches=False), True, ["certificate_name_mismatch"], "tls_error"),
    (certificate(-3, matches=False), True, ["certificate_expired", "certificate_name_mismatch"], "tls_error"),
    (certificate(None, trusted=False, matches=None), True, ["certificate_untrusted"], "tls_error"),
    (certificate(-2, trusted=False, matches=False), False,
     ["certificate_untrusted", "certificate_expired", "certificate_name_mismatch"], "success"),
    (dict(certificate(300), verified=False, verify_error="certificate is not yet valid"), True, ["certificate_invalid"], "tls_error"),
    (dict(certificate(-1), verified=False, verify_error="certificate has expired"), True, ["certificate_expired"], "tls_error"),
])
def test_certificate_problems_and_validate_certs(cert, validate, codes, status):
    check = SmartHostCheck("smtp.example.com", validate_certs=validate)
    check._certificate_problems(cert)
    assert [problem["code"] for problem in check.result["problems"]] == codes
    assert check.result["status"] == status
    assert all(problem["fix"] for problem in check.result["problems"])


def test_allowed_ports_are_the_smtp_ones_only(capsys):
    for port in (25, 465, 587, 2525):
        assert validated_options({"smart_host": "h", "port": port})["port"] == port
    assert validated_options({"smart_host": "h", "port": 2222, "allow_any_port": True})["port"] == 2222
    with pytest.raises(ValueError, match="set allow_any_port=true"):
        validated_options({"smart_host": "h", "port": 2222})


def test_international_names_are_checked_in_ascii():
    assert validated_options({"smart_host": "bücher.example"})["smart_host"] == "xn--bcher-kva.example"


def test_timeout_is_bounded():
    assert SmartHostCheck("h", timeout=0).timeout == 1
    assert SmartHostCheck("h", timeout=10 ** 6).timeout == 120


@pytest.mark.parametrize("fail_on, expected", [
    ([], []),
    (["auth_failed"], ["auth_rejected", "size_too_small"]),
    (["size_too_small"], ["size_too_small"]),
    (["any"], ["auth_rejected", "size_too_small"]),
    (["tls_error", "certificate_expired"], []),
])
def test_fail_on_takes_statuses_codes_or_any(fail_on, expected):
    result = {"status": "auth_failed", "problems": [{"code": "auth_rejected"}, {"code": "size_too_small"}]}
    assert [hit["code"] for hit in failing_problems(result, fail_on)] == expected


def test_suggestion_follows_what_the_server_offered():
    check = SmartHostCheck("h")
    check._greeted = True
    check.result["auth"]["mechanisms_before_tls"] = ["LOGIN"]
    assert check._suggest()["auth_mechanism"] == "basicAuth"
    check.result["starttls"]["succeeded"] = True
    check.result["auth"]["mechanisms"] = ["PLAIN", "LOGIN"]
    check.result["size"]["advertised_bytes"] = 30 * 1024 * 1024
    assert check._suggest() == {"port": 587, "require_tls": True, "auth_mechanism": "basicAuthRequireTLS", "max_send_size": 30}
    check.result["auth"]["mechanisms"] = ["XOAUTH2"]
    check.result["size"]["advertised_bytes"] = 0
    assert check._suggest() == {"port": 587, "require_tls": True, "auth_mechanism": "none", "max_send_size": 100}


def test_module_fails_on_a_closed_port_with_the_whole_result(capsys):
    port = closed_port()
    result, failed = run_module(exchange_smarthost_check, {
        "smart_host": "127.0.0.1", "port": port, "allow_any_port": True, "timeout": 2, "user": "relay", "password": SECRET},
        capsys)
    assert failed and result["changed"] is False
    assert result["status"] == "unable_to_connect"
    assert [problem["code"] for problem in result["problems"]] == ["connection_refused"]
    assert result["msg"].startswith("smart host check of 127.0.0.1 port %d: unable_to_connect. connection_refused:" % port)
    assert result["connector_suggestion"] is None and result["banner"] is None
    assert SECRET not in str(result)


def test_module_reports_without_failing_when_fail_on_is_empty(capsys):
    result, failed = run_module(exchange_smarthost_check, {
        "smart_host": "127.0.0.1", "port": closed_port(), "allow_any_port": True, "timeout": 2, "fail_on": []},
        capsys, check_mode=True)
    assert not failed and result["changed"] is False and result["status"] == "unable_to_connect"


@pytest.mark.parametrize("args, message", [
    ({"timeout": 0}, "timeout must be between 1 and 120 seconds, not 0"),
    ({"timeout": 121}, "timeout must be between 1 and 120 seconds, not 121"),
    ({"port": 70000}, "port must be between 1 and 65535, not 70000"),
    ({"max_send_size": 0}, "max_send_size is in MB and must be at least 1, not 0"),
    ({"port": 70000, "allow_any_port": True}, "port must be between 1 and 65535, not 70000"),
    ({"user": "relay"}, "parameters are required together: user, password"),
    ({"port": 22}, "port 22 is not an SMTP port (25, 465, 587, 2525): the check connects from where the task runs"),
    ({"helo_name": "ex1.example.test\r\nMAIL FROM:<a@b>"}, "helo_name has a control character (U+000D) at position 16"),
    ({"user": "relay\nQUIT", "password": SECRET}, "user has a control character (U+000A) at position 5"),
    ({"ca_path": "/tmp/ca\n.pem"}, "ca_path has a control character (U+000A) at position 7"),
    ({"ca_path": "/nonexistent/ca.pem"}, "ca_path /nonexistent/ca.pem cannot be used as certificate authorities"),
    ({"ca_path": __file__}, "cannot be used as certificate authorities"),
    ({"smart_host": "smtp://127.0.0.1"}, "drop `smtp://`"),
    ({"smart_host": "127.0.0.1:587"}, "put 587 in `port`"),
    ({"smart_host": "relay.example.test\r\n"}, "smart_host has a control character (U+000D)"),
])
def test_module_rejects_bad_input_before_connecting(capsys, args, message):
    result, failed = run_module(exchange_smarthost_check, dict({"smart_host": "127.0.0.1"}, **args), capsys)
    assert failed and message in result["msg"], result["msg"]
    assert "status" not in result and "exception" not in result
