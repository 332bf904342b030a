"""parse_smart_host: one host name or one IP address, with the fix in every refusal (issue 15 item 1)."""
from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import pytest

from ansible_collections.ovhcloud.exchange.plugins.module_utils._smart_host import (
    parse_smart_host,
    refuse_control_characters,
)


@pytest.mark.parametrize("value, expected", [
    ("relay.example.com", "relay.example.com"),
    ("Relay.Example.com", "Relay.Example.com"),
    ("localhost", "localhost"),
    ("smtp-1.mail.example.net", "smtp-1.mail.example.net"),
    ("127.0.0.1", "127.0.0.1"),
    ("2001:DB8:0::1", "2001:db8::1"),
    ("bücher.example", "xn--bcher-kva.example"),
    ("smtp.société.fr", "smtp.xn--socit-esab.fr"),
    ("xn--bcher-kva.example", "xn--bcher-kva.example"),
])
def test_host_names_and_addresses_are_accepted(value, expected):
    assert parse_smart_host(value) == expected


@pytest.mark.parametrize("value, fix", [
    ("smtp://relay.example.invalid", "drop `smtp://` and write only the host name ('relay.example.invalid')"),
    ("smtps://relay.example.invalid:465/", "drop `smtps://` and write only the host name ('relay.example.invalid'); put 465 in `port`"),
    ("relay.example.invalid:587", "put 587 in `port` and write 'relay.example.invalid' in smart_host"),
    ("[2001:db8::1]:25", "put 25 in `port` and write '2001:db8::1' in smart_host"),
    ("[2001:db8::1]", "write the address without them ('2001:db8::1')"),
    ("relay.example.invalid/path", "drop `/path` and write 'relay.example.invalid'"),
    ("relay.example.invalid ", "has spaces around it: write 'relay.example.invalid'"),
    ("\trelay.example.invalid", "has a control character (U+0009) at position 0"),
    ("relay example.invalid", "has a space in it"),
    ("user@relay.example.invalid", "drop `user@`; the user goes in `user`"),
    ("relay.example.invalid.", "ends with a dot: write 'relay.example.invalid'"),
    ("relay_1.example.invalid", "neither an IP address nor a host name"),
    ("-relay.example.invalid", "neither an IP address nor a host name"),
    ("relay..example.invalid", "neither an IP address nor a host name"),
    ("a" * 64 + ".example", "neither an IP address nor a host name"),
    ("010.1.1.1", "looks like an IP address but is not a valid one"),
    ("256.1.1.1", "looks like an IP address but is not a valid one"),
    ("relay.example.invalid\r\nRCPT TO:<x@y>", "has a control character (U+000D) at position 21"),
    ("", "must be a host name or an IP address"),
])
def test_anything_else_is_refused_with_the_fix(value, fix):
    with pytest.raises(ValueError) as error:
        parse_smart_host(value)
    assert fix in str(error.value)
    assert str(error.value).startswith("smart_host ")


def test_the_option_is_named_as_the_caller_names_it():
    with pytest.raises(ValueError, match=r"^connector smart_host 'smtp://h' is a URL"):
        parse_smart_host("smtp://h", option="connector smart_host")


@pytest.mark.parametrize("value", ["ex1\nQUIT", "ex1\r", "ex1\x00", "ex1\x7f", "ex1\x85"])
def test_control_characters_are_refused(value):
    with pytest.raises(ValueError, match="helo_name has a control character"):
        refuse_control_characters("helo_name", value)


def test_printable_text_passes():
    refuse_control_characters("user", "relay-user@example.test")
    refuse_control_characters("user", None)
