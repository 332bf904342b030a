"""Received-header analysis on real-world header shapes, and exchange_mail_route through its main()."""
from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import html
import re

import pytest

from ansible_collections.ovhcloud.exchange.plugins.filter.mail_route import mail_route
from ansible_collections.ovhcloud.exchange.plugins.module_utils._mail_headers import (
    MailHeaderError,
    analyse_message,
    parse_authentication_results,
    parse_received,
    registrable_domain,
)
from ansible_collections.ovhcloud.exchange.plugins.modules import exchange_mail_route
from ansible_collections.ovhcloud.exchange.tests.unit.module_runner import run_module
from ansible.errors import AnsibleFilterError

from ansible_collections.ovhcloud.exchange.tests.testlib import shared_file


def guide_sample():
    """The sample header of step 3 of OVH's guide (HTML-escaped inside a <pre> block there)."""
    text = shared_file("seed-guide-send-connector.es.md").read_text(encoding="utf-8")
    block = re.search(r'<pre class="bgwhite"><code>(.*?)</code></pre>', text, re.S)
    assert block, "the guide's sample header block moved; update guide_sample()"
    return html.unescape(block.group(1))


# A message relayed by a provider whose hosts are under relay.example.com, received by Gmail-like and
# Microsoft-like servers: the shapes those servers really write (IPv6 literals, TLS in comments,
# Microsoft's date folded across lines, a trailing dot after a host name).
MODERN = """\
Received: from DU2PR04CA0123.eurprd04.prod.outlook.com (2603:10a6:10:234::8)
 by AM6PR04MB5000.eurprd04.prod.outlook.com (2603:10a6:20b:f0::12) with
 Microsoft SMTP Server (version=TLS1_2,
 cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.20.6134.30; Tue, 28 Feb
 2023 15:51:09 +0000
Authentication-Results: mx.example.net;
\tspf=pass (sender IP is 2a00:1450:4864:20::52a) smtp.mailfrom=bounce.example.org;
\tdkim=pass (signature was verified) header.d=example.org;
\tdmarc=pass action=none header.from=example.org
Received: from mx12.relay.example.com (mx12.relay.example.com. [IPv6:2a00:1450:4864:20::52a])
        by mx.example.net with ESMTPS id a12si1234567edb.123
        for <john@example.net>
        (version=TLS1_3 cipher=TLS_AES_256_GCM_SHA384 bits=256/256);
        Tue, 28 Feb 2023 07:51:02 -0800 (PST)
Received: from ex1.mail.ovh.net (ex1.mail.ovh.net [51.68.1.20])
\tby mx12.relay.example.com (Postfix) with ESMTPSA id 4PQ7
\tfor <john@example.net>; Tue, 28 Feb 2023 15:51:00 +0000 (UTC)
Return-Path: <bounce-42@bounce.example.org>
From: Newsletter <news@example.org>
To: john@example.net
Date: Tue, 28 Feb 2023 15:50:58 +0000
Subject: test

body
"""


def test_guide_sample_hops_bottom_up_with_delays():
    result = analyse_message(guide_sample(), smart_host="sender-id.example.com")
    hops = result["hops"]
    assert [hop["by"] for hop in hops] == ["smtp-relay.smtp.example.com", "in31.mail.ovh.net", "vr45.mail.ovh.net",
                                           "out28.mail.ovh.net", "192.168.1.2", "localhost"]
    assert [hop["index"] for hop in hops] == [1, 2, 3, 4, 5, 6]
    assert [hop["delay_seconds"] for hop in hops] == [None, 1, 0, 1, 0, 0]
    # The relay's date is in JavaScript's Date.toString() shape; its GMT+0000 is read, not guessed.
    assert hops[0]["time"] == "2023-02-28T07:51:00+00:00"
    assert hops[4]["time"] == "2023-02-28T09:51:02+02:00"
    assert hops[1]["from"] == "sender-id.example.com" and hops[1]["with"] == "ESMTPS" and hops[1]["tls"] is True
    assert hops[2]["ip"] == "10.101.4.31" and hops[2]["internal"] is True
    # qmail's "from unknown (HELO output28.mail.ovh.net) (192.168.11.93) ... AES256-GCM-SHA384 encrypted SMTP"
    assert hops[4]["from"] == "output28.mail.ovh.net" and hops[4]["ip"] == "192.168.11.93" and hops[4]["tls"] is True
    assert hops[5]["with"] == "SMTP" and hops[5]["ip"] == "127.0.0.1"


def test_guide_sample_route_and_authentication():
    result = analyse_message(guide_sample(), smart_host="sender-id.example.com")
    assert result["through_smart_host"] is True
    assert result["smart_host_match"] == {"index": 2, "field": "from", "name": "sender-id.example.com", "match": "exact"}
    assert result["return_path_domain"] == "sender-id.example.com"
    assert result["from_domain"] == "mydomain.ovh"
    assert result["spf"] == {"result": "pass", "domain": "sender-id.example.com", "source": "Received-SPF"}
    assert result["dkim"] == [{"result": "pass", "domain": "smtp.example.com", "source": "Authentication-Results"}]
    assert result["dmarc"] is None
    assert result["total_delay_seconds"] == 6
    warnings = " | ".join(result["route_warnings"])
    assert "DKIM is signed by smtp.example.com" in warnings and "mydomain.ovh" in warnings
    assert "hop 1 (from an unnamed client by smtp-relay.smtp.example.com, with ESMTP) records no TLS" in warnings
    assert "did not go through" not in warnings


def test_smart_host_under_another_name_matches_by_domain():
    result = analyse_message(guide_sample(), smart_host="smtp-relay.example.com")
    assert result["smart_host_hop"] == 1
    assert result["smart_host_match"] == {"index": 1, "field": "by", "name": "smtp-relay.smtp.example.com", "match": "domain"}
    assert any("not named as such" in warning for warning in result["route_warnings"])


def test_message_that_missed_the_smart_host_is_flagged():
    result = analyse_message(guide_sample(), smart_host="smtp.relay-provider.test")
    assert result["through_smart_host"] is False and result["smart_host_hop"] is None
    assert any(warning.startswith("the message did not go through the smart host smtp.relay-provider.test")
               for warning in result["route_warnings"])


def test_modern_shapes_ipv6_tls_comments_and_folded_dates():
    result = analyse_message(MODERN, smart_host="smtp-relay.example.com")
    first, second, third = result["hops"]
    assert first["by"] == "mx12.relay.example.com" and first["with"] == "ESMTPSA" and first["tls"] is True
    assert first["ip"] == "51.68.1.20" and first["for"] == "john@example.net"
    assert second["ip"] == "2a00:1450:4864:20::52a" and second["tls"] is True
    assert second["from_names"] == ["mx12.relay.example.com"]
    assert second["time"] == "2023-02-28T07:51:02-08:00" and second["delay_seconds"] == 2
    assert third["ip"] == "2603:10a6:10:234::8" and third["internal"] is False
    assert third["with"] == "Microsoft SMTP Server" and third["tls"] is True and third["id"] == "15.20.6134.30"
    assert third["delay_seconds"] == 7
    assert result["smart_host_match"] == {"index": 1, "field": "by", "name": "mx12.relay.example.com", "match": "domain"}
    # Authentication-Results wins over the DKIM-Signature guess, and everything aligns with example.org.
    assert result["spf"] == {"result": "pass", "domain": "bounce.example.org", "source": "Authentication-Results"}
    assert result["dkim"] == [{"result": "pass", "domain": "example.org", "source": "Authentication-Results"}]
    assert result["dmarc"] == {"result": "pass", "domain": "example.org"}
    assert result["total_delay_seconds"] == 11
    assert not [w for w in result["route_warnings"] if "DKIM" in w or "TLS" in w or "DMARC" in w]


def test_received_without_semicolon_and_go_style_date():
    hop = parse_received("by filterdrecv-656998cfdd-8ztxk with SMTP id filterdrecv-1-63FE1234-5 "
                         "2023-02-28 15:51:00.123456789 +0000 UTC m=+1234.5678")
    assert hop["by"] == "filterdrecv-656998cfdd-8ztxk" and hop["id"] == "filterdrecv-1-63FE1234-5"
    assert hop["time"] == "2023-02-28T15:51:00+00:00"
    hop = parse_received("from a.example.net (a.example.net [11.22.33.44]) by mx.example.com with ESMTP id ABC "
                         "Tue, 28 Feb 2023 07:51:01 +0000")
    assert (hop["by"], hop["id"], hop["ip"], hop["tls"]) == ("mx.example.com", "ABC", "11.22.33.44", False)
    assert hop["time"] == "2023-02-28T07:51:01+00:00"


def test_exim_and_qmail_shapes():
    exim = parse_received("from [11.22.33.44] (helo=ex1.mail.ovh.net)\n\tby smtp.relay.example with esmtpsa (TLS1.2) tls "
                          "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384\n\t(Exim 4.94.2)\n\t(envelope-from <bounce@example.org>)\n\t"
                          "id 1pWxyz-000123-AB\n\tfor john@example.net; Tue, 28 Feb 2023 08:51:01 +0100")
    assert (exim["from"], exim["ip"], exim["by"], exim["tls"]) == ("ex1.mail.ovh.net", "11.22.33.44", "smtp.relay.example", True)
    assert (exim["id"], exim["for"], exim["time"]) == ("1pWxyz-000123-AB", "john@example.net", "2023-02-28T08:51:01+01:00")
    qmail = parse_received("(qmail 12345 invoked by uid 89); 28 Feb 2023 07:51:02 -0000")
    assert (qmail["from"], qmail["by"], qmail["tls"]) == (None, None, None)
    # -0000 is RFC 5322's "UTC, local zone unknown": read as UTC, not reported as a missing zone.
    assert qmail["time"] == "2023-02-28T07:51:02+00:00" and qmail["zone_assumed"] is False


def test_date_without_time_zone_is_taken_as_utc_with_a_warning():
    message = ("Received: from a.example.net ([11.22.33.44]) by mx.example.com with ESMTPS id 1; "
               "Tue, 28 Feb 2023 07:51:01\nReceived: by a.example.net with ESMTP id 0; Tue, 28 Feb 2023 07:50:01 +0000\n\n")
    result = analyse_message(message)
    top = result["hops"][1]
    assert top["zone_assumed"] is True and top["time"] == "2023-02-28T07:51:01+00:00" and top["delay_seconds"] == 60
    assert any("has no time zone" in warning and "UTC was assumed" in warning for warning in result["route_warnings"])
    assert result["through_smart_host"] is None


def test_unreadable_date_and_clock_skew():
    message = ("Received: by c.example.com with ESMTPS id 3; someday\n"
               "Received: by b.example.com with ESMTPS id 2; Tue, 28 Feb 2023 07:00:00 +0000\n"
               "Received: by a.example.com with ESMTPS id 1; Tue, 28 Feb 2023 08:00:00 +0000\n\n")
    result = analyse_message(message)
    assert [hop["delay_seconds"] for hop in result["hops"]] == [None, -3600, None]
    warnings = " | ".join(result["route_warnings"])
    assert "hop 2 (by b.example.com) is dated 3600 s before" in warnings
    assert "hop 3 has no date that could be read" in warnings


def test_authentication_results_without_semicolons_and_with_comments():
    authserv, results = parse_authentication_results(
        'mx.example.com spf=fail (sender (nested) IP; is 11.22.33.44) smtp.mailfrom=x@bad.example '
        'dkim=pass header.d=relay.example.com header.b="ab;c" dkim=fail reason="bad sig" header.d=example.org '
        'dmarc=fail header.from=example.org')
    assert authserv == "mx.example.com"
    assert [(entry["method"], entry["result"]) for entry in results] == [
        ("spf", "fail"), ("dkim", "pass"), ("dkim", "fail"), ("dmarc", "fail")]
    assert results[1]["properties"] == {"header.d": "relay.example.com", "header.b": "ab;c"}
    assert results[2]["properties"] == {"reason": "bad sig", "header.d": "example.org"}


def test_relay_signature_and_unaligned_spf_warn_that_dmarc_fails():
    message = ("Authentication-Results: mx.example.net; spf=pass smtp.mailfrom=bounces.relay.example.com;\n"
               " dkim=pass header.d=relay.example.com; dmarc=fail header.from=example.org\n"
               "Received: from out.relay.example.com ([11.22.33.44]) by mx.example.net with ESMTPS id 1;"
               " Tue, 28 Feb 2023 07:51:01 +0000\nFrom: a@example.org\n\n")
    warnings = " | ".join(analyse_message(message, smart_host="out.relay.example.com")["route_warnings"])
    assert ("DKIM is signed by relay.example.com (the relay's domain), not by the sender's domain example.org: "
            "SPF does not align either (envelope domain bounces.relay.example.com), so DMARC fails") in warnings
    assert "reports dmarc=fail for example.org" in warnings


def test_dkim_signature_without_results_is_unverified_and_sender_domain_is_checked():
    message = ("DKIM-Signature: v=1; a=rsa-sha256; d=example.org;\n s=mail; bh=abc=; b=def\n"
               "Received: by mx.example.net with ESMTPS id 1; Tue, 28 Feb 2023 07:51:01 +0000\n"
               "From: a@other.example\n\n")
    result = analyse_message(message, sender_domain="example.org")
    assert result["dkim"] == [{"result": "unverified", "domain": "example.org", "source": "DKIM-Signature"}]
    assert result["spf"] is None
    assert any("the From address is in other.example, not in example.org" in w for w in result["route_warnings"])


def test_indented_pasted_headers_and_bytes_are_read():
    pasted = "\n".join("    " + line for line in MODERN.splitlines()[:16])
    assert len(analyse_message(pasted)["hops"]) == 3
    assert len(analyse_message(MODERN.replace("\n", "\r\n").encode())["hops"]) == 3


@pytest.mark.parametrize("garbage, expected", [
    ("", "no mail headers found"),
    ("hello world, this is not a message", "no mail headers found"),
    (b"\x00\xff\xfe\x10 binary", "no mail headers found"),
    ("Subject: draft\nFrom: a@example.org\n\nno route here", "has no Received header"),
    (None, "must be text"),
    (42, "must be text"),
])
def test_garbage_gets_a_clear_error(garbage, expected):
    with pytest.raises(MailHeaderError, match=expected):
        analyse_message(garbage)


def test_registrable_domain_heuristic():
    assert registrable_domain("mx12.example.com") == "example.com"
    assert registrable_domain("smtp.example.co.uk") == "example.co.uk"
    assert registrable_domain("localhost") is None
    assert registrable_domain("192.168.1.2") is None


def test_filter_returns_the_same_analysis_and_a_filter_error_on_garbage():
    assert mail_route(MODERN, smart_host="mx12.relay.example.com") == analyse_message(MODERN, "mx12.relay.example.com")
    with pytest.raises(AnsibleFilterError, match="mail_route: no mail headers found"):
        mail_route("not a message")


def test_module_reads_a_file_in_check_mode(tmp_path, capsys):
    path = tmp_path / "received.eml"
    path.write_text(guide_sample(), encoding="utf-8")
    result, failed = run_module(exchange_mail_route, {"path": str(path), "smart_host": "sender-id.example.com"}, capsys,
                                check_mode=True)
    assert not failed and result["changed"] is False
    assert result["smart_host_hop"] == 2 and len(result["hops"]) == 6
    assert len(result["route_warnings"]) == 2
    # That they are also shown as task warnings is checked through ansible-playbook (tests/integration).


def test_module_fails_clearly_on_garbage_and_missing_file(tmp_path, capsys):
    result, failed = run_module(exchange_mail_route, {"content": "just some words"}, capsys)
    assert failed and result["msg"].startswith("no mail headers found in the input")
    result, failed = run_module(exchange_mail_route, {"path": str(tmp_path / "missing.eml")}, capsys)
    assert failed and "cannot read the message file" in result["msg"] and "No such file" in result["msg"]
    result, failed = run_module(exchange_mail_route, {}, capsys)
    assert failed and "one of the following is required: content, path" in result["msg"]
