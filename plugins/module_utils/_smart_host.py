# -*- coding: utf-8 -*-
# Copyright (c) 2026 ovhcloud.exchange contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What a smart host value may be: one host name or one IP address, nothing around it.

Private to this collection, shared by every module that takes a `smart_host` (the pre-flight check and
the send connector) so that both accept and refuse the same values. `parse_smart_host(value)` returns
the value to use (IDN names in their ASCII form, IP addresses in their canonical form) or raises
ValueError with a message that says what is wrong and how to write it instead.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import ipaddress
import re

# A scheme as in a URL: `smtp://`, `smtps://`, `mailto:` is not one (it has no slashes).
_SCHEME = re.compile(r'^([A-Za-z][A-Za-z0-9+.-]*)://')
_LABEL = re.compile(r'^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$')
_PORT = re.compile(r'^(.*):([0-9]+)$')
MAX_NAME_LENGTH = 253


def control_character(value):
    """(position, 'U+000A') of the first control character (C0, DEL or C1) in value, or None."""
    for position, character in enumerate(value):
        if ord(character) < 0x20 or 0x7f <= ord(character) < 0xa0:
            return position, 'U+%04X' % ord(character)
    return None


def refuse_control_characters(option, value):
    """Raise ValueError when value has a control character: CR/LF would end an SMTP command early."""
    if value is None:
        return
    found = control_character(value)
    if found:
        raise ValueError('%s has a control character (%s) at position %d: remove it; names sent over SMTP or HTTP '
                         'must be printable text on one line' % (option, found[1], found[0]))


def _ip_address(value):
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def _refuse_port(value, option):
    """A `host:port` or `[v6]:port` value: say to move the port to `port`."""
    match = _PORT.match(value)
    if not match:
        return
    host, port = match.group(1), match.group(2)
    if host.startswith('[') and host.endswith(']'):
        host = host[1:-1]
    elif ':' in host:
        return  # an IPv6 address without brackets: its last group is no port
    raise ValueError('%s %r has a port: put %s in `port` and write %r in %s' % (option, value, port, host, option))


def _to_ascii(value, option):
    """The ASCII (punycode) form of a host name; labels already in ASCII are kept as written."""
    if value.isascii():
        return value
    try:
        return value.encode('idna').decode('ascii')
    except UnicodeError as err:
        raise ValueError('%s %r is not a valid international host name (%s): write its ASCII form, or check '
                         'the name' % (option, value, err))


def parse_smart_host(value, option='smart_host'):
    """The smart host to use, from what the user wrote; ValueError naming the fix when it is not one host."""
    if not isinstance(value, str) or not value:
        raise ValueError('%s must be a host name or an IP address, for example smtp.example.com' % option)
    refuse_control_characters(option, value)
    if value != value.strip():
        raise ValueError('%s %r has spaces around it: write %r' % (option, value, value.strip()))
    if any(character.isspace() for character in value):
        raise ValueError('%s %r has a space in it: a host name has none; check the value' % (option, value))
    scheme = _SCHEME.match(value)
    if scheme:
        authority = value[scheme.end():].split('/', 1)[0].rsplit('@', 1)[-1]
        port = _PORT.match(authority)
        host, port = (port.group(1), port.group(2)) if port and (':' not in port.group(1) or ']' in port.group(1)) else (authority, None)
        raise ValueError('%s %r is a URL: drop `%s` and write only the host name (%r)%s' % (
            option, value, scheme.group(0), host.strip('[]'), '; put %s in `port`' % port if port else ''))
    if '@' in value:
        raise ValueError('%s %r has a user or an address in it: drop `%s@`; the user goes in `user`' % (
            option, value, value.rsplit('@', 1)[0]))
    if '/' in value:
        host, path = value.split('/', 1)
        raise ValueError('%s %r has a path: drop `/%s` and write %r' % (option, value, path, host))
    _refuse_port(value, option)
    if value.startswith('[') and value.endswith(']'):
        raise ValueError('%s %r has brackets: write the address without them (%r)' % (option, value, value[1:-1]))
    address = _ip_address(value)
    if address is not None:
        return str(address)
    if value.endswith('.'):
        raise ValueError('%s %r ends with a dot: write %r' % (option, value, value.rstrip('.')))
    ascii_name = _to_ascii(value, option)
    labels = ascii_name.split('.')
    if len(ascii_name) > MAX_NAME_LENGTH or not all(_LABEL.match(label) for label in labels):
        raise ValueError('%s %r is neither an IP address nor a host name (letters, digits and hyphens, in labels of '
                         'at most 63 characters separated by dots): check the value' % (option, value))
    if labels[-1].isdigit():
        raise ValueError('%s %r looks like an IP address but is not a valid one: check the value' % (option, value))
    return ascii_name
