#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 ovhcloud.exchange contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
module: exchange_mail_route
short_description: Check from a received message's headers that it went through the send connector's smart host
version_added: 0.1.0
description:
  - Step 3 of OVHcloud's send connector guide is to send a test message from a mailbox attached to the connector and
    read its headers at the recipient. This module reads them for you.
  - It lists the C(Received) hops bottom-up (from, by, protocol, time, delay, TLS), tells whether and where the
    smart host appears, and reads the C(Return-Path) domain, SPF, DKIM (with C(d=)) and DMARC results from
    C(Received-SPF) and C(Authentication-Results).
  - It warns about what matters for a send connector, in RV(route_warnings) and as task warnings. The message did not go
    through the smart host; DKIM is signed by the relay's domain and not the sender's, so DMARC fails unless the
    provider signs as the sender's domain; a hop between public addresses has no TLS.
  - The smart host often signs its headers with another name than the one the connector uses (C(mx12.example.com)
    for C(smtp-relay.example.com)). A hop naming O(smart_host) exactly is preferred; otherwise a hop in the same
    registrable domain is taken, and RV(smart_host_match.match) says which.
  - Tolerates real-world headers. It reads folded lines, C(Received) headers without the C(;) before the date,
    dates without a time zone (UTC is assumed, with a warning), IPv6 addresses, and unknown hosts. Input with no
    mail headers fails with a message saying what to give instead.
  - The same analysis is available to templates as the P(ovhcloud.exchange.mail_route#filter) filter.
author:
  - ovhcloud.exchange contributors (@ovhcloud-exchange)
extends_documentation_fragment:
  - ovhcloud.exchange.mail.attributes
options:
  content:
    description:
      - The received message, or only its headers, as text (what a mail client shows as "show original" or
        "view source").
      - Exactly one of O(content) and O(path) is required.
    type: str
  path:
    description:
      - A file holding the received message (a saved C(.eml)) or its headers.
      - The file is read on the host where the task runs. On C(localhost) with
        C(ansible_python_interpreter) set to the controller's Python, as this collection's playbooks do, that is the
        controller.
    type: path
  smart_host:
    description:
      - The connector's smart host. Without it, RV(through_smart_host) is V(null) and no route warning is given.
    type: str
  sender_domain:
    description:
      - The domain the connector sends for (the mailbox's domain). Defaults to the domain of the C(From) address.
      - Used for the DKIM and SPF alignment warnings, and to warn when the message is not from that domain.
    type: str
attributes:
  check_mode:
    support: full
    details:
      - The module changes nothing; it runs the same analysis in check mode.
  diff_mode:
    support: none
  platform:
    support: full
    platforms: posix
notes:
  - Nothing is looked up in DNS; the results are those the receiving servers wrote in the headers.
  - The registrable domain is found with a small built-in list of second-level suffixes (C(co.uk) and the like), not
    the full Public Suffix List.
seealso:
  - module: ovhcloud.exchange.exchange_smarthost_check
  - plugin: ovhcloud.exchange.mail_route
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Check a saved test message on the controller
  ovhcloud.exchange.exchange_mail_route:
    path: files/test-message.eml
    smart_host: smtp-relay.example.com
    sender_domain: example.org
  register: route

- name: Stop if the message did not go through the smart host
  ansible.builtin.assert:
    that: route.through_smart_host
    fail_msg: "{{ route.route_warnings | join('; ') }}"

- name: Check pasted headers
  ovhcloud.exchange.exchange_mail_route:
    content: "{{ lookup('ansible.builtin.file', 'headers.txt') }}"
    smart_host: smtp-relay.example.com
"""

RETURN = r"""
hops:
  description: One entry per C(Received) header, bottom-up (the first is where the message started).
  returned: always
  type: list
  elements: dict
  contains:
    index:
      description: Position from the bottom, starting at 1.
      type: int
      sample: 1
    from:
      description: The sending host as the hop names it (its EHLO name; the C(HELO) name when the reverse name is C(unknown)).
      type: str
      sample: ex1.mail.ovh.net
    from_names:
      description: Every host name the C(from) part gives (EHLO name, reverse DNS name).
      type: list
      elements: str
      sample: [ex1.mail.ovh.net]
    by:
      description: The receiving host that wrote the header.
      type: str
      sample: smtp-relay.example.com
    via:
      description: The C(via) part, rarely present.
      type: str
      sample: null
    with:
      description: The protocol (C(ESMTPS), C(ESMTPSA), C(SMTP), ...), comments removed.
      type: str
      sample: ESMTPSA
    id:
      description: The receiving server's queue id.
      type: str
      sample: 4PQsPF43SEm78WdxQ
    for:
      description: The envelope recipient, when given.
      type: str
      sample: john.smith@example.net
    time:
      description: The hop's date, ISO 8601 with its offset; V(null) when it cannot be read.
      type: str
      sample: "2023-02-28T07:51:01+00:00"
    zone_assumed:
      description: Whether the date had no time zone and UTC was assumed.
      type: bool
      sample: false
    delay_seconds:
      description: Seconds since the hop below (V(null) for the first hop or an unreadable date); negative means a clock is wrong.
      type: int
      sample: 1
    tls:
      description: Whether the hop used TLS (C(ESMTPS) and kin, or a TLS note); V(null) when the header does not say.
      type: bool
      sample: true
    ip:
      description: The sending address (IPv4 or IPv6), when given.
      type: str
      sample: 2001:db8::25
    internal:
      description: Whether that address is private, loopback or link-local (such hops get no TLS warning).
      type: bool
      sample: false
through_smart_host:
  description: Whether a hop names the smart host; V(null) without O(smart_host).
  returned: always
  type: bool
  sample: true
smart_host_hop:
  description: RV(hops[].index) of the hop that names the smart host; V(null) when none does.
  returned: always
  type: int
  sample: 2
smart_host_match:
  description: How the smart host was found; V(null) when it was not.
  returned: always
  type: dict
  contains:
    index:
      description: The hop's index.
      type: int
      sample: 2
    field:
      description: V(by) when the smart host wrote the hop (it received the message there), V(from) when the next server names it.
      type: str
      sample: by
    name:
      description: The host name (or address) that matched.
      type: str
      sample: mx12.example.com
    match:
      description: V(exact) for O(smart_host) itself, V(domain) for another host in its registrable domain.
      type: str
      sample: domain
from_domain:
  description: Domain of the C(From) address.
  returned: always
  type: str
  sample: example.org
return_path_domain:
  description: Domain of the C(Return-Path) (the envelope sender; a relay usually puts its bounce domain there).
  returned: always
  type: str
  sample: bounces.example.com
spf:
  description: SPF result from C(Authentication-Results), else from C(Received-SPF); V(null) when neither says.
  returned: always
  type: dict
  contains:
    result:
      description: V(pass), V(fail), V(softfail), V(neutral), V(none), V(temperror) or V(permerror).
      type: str
      sample: pass
    domain:
      description: The domain checked (envelope sender's, or HELO's).
      type: str
      sample: bounces.example.com
    source:
      description: The header it came from.
      type: str
      sample: Received-SPF
dkim:
  description:
    - DKIM results from C(Authentication-Results); without them, the C(DKIM-Signature) domains with result V(unverified).
  returned: always
  type: list
  elements: dict
  contains:
    result:
      description: V(pass), V(fail), V(neutral), ..., or V(unverified).
      type: str
      sample: pass
    domain:
      description: The signing domain (C(header.d), or C(d=)).
      type: str
      sample: example.org
    source:
      description: The header it came from.
      type: str
      sample: Authentication-Results
dmarc:
  description: DMARC result from C(Authentication-Results); V(null) when absent.
  returned: always
  type: dict
  contains:
    result:
      description: V(pass), V(fail), V(none), ...
      type: str
      sample: pass
    domain:
      description: The C(header.from) domain.
      type: str
      sample: example.org
total_delay_seconds:
  description: Seconds from the C(Date) header to the last hop; V(null) when either is missing.
  returned: always
  type: int
  sample: 6
route_warnings:
  description:
    - What needs attention, as sentences; also shown as task warnings.
    - Named so because Ansible keeps the C(warnings) key of a result for itself.
  returned: always
  type: list
  elements: str
  sample:
    - "DKIM is signed by smtp.example.com (the relay's domain), not by the sender's domain example.org: ..."
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.ovhcloud.exchange.plugins.module_utils._mail_headers import MailHeaderError, analyse_message


def main():
    module = AnsibleModule(
        argument_spec=dict(
            content=dict(type='str'),
            path=dict(type='path'),
            smart_host=dict(type='str'),
            sender_domain=dict(type='str'),
        ),
        required_one_of=[('content', 'path')],
        mutually_exclusive=[('content', 'path')],
        supports_check_mode=True,
    )
    raw = module.params['content']
    if module.params['path']:
        try:
            with open(module.params['path'], 'rb') as handle:
                raw = handle.read()
        except (IOError, OSError) as err:
            module.fail_json(msg='cannot read the message file %s on this host: %s' % (module.params['path'], to_native(err)))
    try:
        result = analyse_message(raw, smart_host=module.params['smart_host'], sender_domain=module.params['sender_domain'])
    except MailHeaderError as err:
        module.fail_json(msg=to_native(err))
    for warning in result['route_warnings']:
        module.warn(warning)
    module.exit_json(changed=False, **result)


if __name__ == '__main__':
    main()
