#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 ovhcloud.exchange contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
module: exchange_smarthost_check
short_description: Pre-flight check of an SMTP smart host before a send connector uses it
version_added: 0.1.0
description:
  - Connects to O(smart_host) on O(port) the way an OVHcloud Exchange send connector would, and reports what it
    meets there, so that a wrong port, a missing STARTTLS, a bad certificate or a bad password shows up before the
    connector goes live.
  - It reads the banner and the EHLO features, tries STARTTLS and records the TLS version, the cipher and the
    certificate (subject, issuer, expiry, whether it names the host and whether a trusted authority signed it),
    lists the AUTH mechanisms, optionally logs in with O(user) and O(password), and compares the advertised
    C(SIZE) with O(max_send_size).
  - It notices a port that speaks TLS at once (implicit TLS, usually port 465), which an Exchange send connector
    cannot use.
  - It never sends a message (no C(MAIL FROM)) and never prints the SMTP dialogue, so neither the password nor the
    AUTH exchange is logged.
  - The password is sent only over TLS whose certificate chain, host name and dates were verified. A server without
    STARTTLS, or with a certificate that does not verify, gets no C(AUTH) at all, and the problem V(auth_not_tested)
    says why. To test a login anyway, opt out by name, O(validate_certs=false) (TLS that is not verified, reported as
    V(auth_over_unverified_tls)) or O(starttls=false) (clear text, reported as V(auth_without_tls)).
  - The certificate the server presents is reported (subject, issuer, expiry, names) whether it verifies or not; one
    that does not verify is read on a separate connection that never logs in.
  - The check runs where the task runs, and connects from there. Run it from where the connector's traffic would
    come from as closely as you can; OVH's Exchange platform connects from its own addresses, which a provider's
    firewall may treat differently from yours.
  - Because whoever can set its options can make that machine open connections, it only goes to the SMTP ports
    (25, 465, 587, 2525) unless O(allow_any_port=true), and it never returns what a non-SMTP service answers (an SSH
    banner gives the problem V(not_smtp) and no banner). See C(docs/security.md).
  - It takes no OVH credentials and is not in the C(ovhcloud.exchange.ovh) action group.
author:
  - ovhcloud.exchange contributors (@ovhcloud-exchange)
extends_documentation_fragment:
  - ovhcloud.exchange.mail.attributes
options:
  smart_host:
    description:
      - Host name or IP address of the smart host, as the send connector will have it.
      - Only the host; a scheme (V(smtp://)), a V(:port), a path, a user or spaces are refused with the fix in the
        message. An international name is converted to its ASCII form, which RV(smart_host) returns.
    type: str
    required: true
  port:
    description:
      - TCP port of the smart host.
      - A send connector speaks STARTTLS only, so this should be the provider's submission port (587, 2525 or 25).
      - Only 25, 465, 587 and 2525 are accepted unless O(allow_any_port=true).
    type: int
    default: 587
  allow_any_port:
    description:
      - Allow a port other than the SMTP ones (25, 465, 587, 2525), for a relay on an unusual port.
      - The check connects from where the task runs; keep this V(false) where the options come from people who should
        not probe other services from that machine (an AWX survey, for example).
    type: bool
    default: false
  timeout:
    description:
      - Seconds to wait for each network step (connection, each reply, the TLS handshake).
      - Bounded to the range 1 to 120; a server that accepts the connection but stays silent is waited for this long
        before the module checks whether it speaks implicit TLS.
    type: int
    default: 10
  helo_name:
    description:
      - Name to send with EHLO. Defaults to this machine's fully qualified name.
      - Like O(smart_host), O(user) and O(ca_path), refused when it holds a control character (CR, LF...).
    type: str
  starttls:
    description:
      - Whether to upgrade the connection with STARTTLS, as a connector with C(require_tls) does.
      - When V(true) and the server does not offer STARTTLS, the status is V(tls_error) and no login is tried.
      - V(false) is the opt-out for a plain-text relay; a login is then tested in clear, reported as V(auth_without_tls).
    type: bool
    default: true
  validate_certs:
    description:
      - Whether certificate problems (untrusted, expired, issued for another name) make the status V(tls_error) and
        keep the password from being sent (V(auth_not_tested)).
      - When V(false) they are still reported in RV(problems), without changing the status, and the login is tested
        over TLS that is not verified, reported as V(auth_over_unverified_tls).
    type: bool
    default: true
  ca_path:
    description: PEM file of the certificate authorities to trust instead of the system's, for a private CA.
    type: path
  user:
    description:
      - User name for a real AUTH login (the connector's C(user)). Without it, no login is tried.
      - The first of C(LOGIN) and C(PLAIN) that the server offers is used, over verified TLS only (see O(validate_certs)
        and O(starttls)).
    type: str
  password:
    description: Password for O(user).
    type: str
  max_send_size:
    description:
      - The connector's maximum message size in MB, compared with the size the server advertises (C(SIZE)).
    type: int
  fail_on:
    description:
      - What makes the task fail. Each item is a status (V(unable_to_connect), V(tls_error), V(auth_failed),
        V(transient_error), V(permanent_error)), a problem code from RV(problems) (for example V(size_too_small)),
        or V(any) for every problem.
      - The default fails on every status but V(success). Use V([]) to only report.
      - The full result is returned in both cases.
    type: list
    elements: str
    default: [unable_to_connect, tls_error, auth_failed, transient_error, permanent_error]
attributes:
  check_mode:
    support: full
    details:
      - The module changes nothing; it runs the same checks in check mode.
  diff_mode:
    support: none
  platform:
    support: full
    platforms: posix
    details:
      - Runs wherever the task runs; the connection starts from that host.
notes:
  - The module never reports C(changed).
  - A certificate that does not verify (unknown authority, expired, issued for another name) is still read and
    reported, from a separate connection that never logs in.
seealso:
  - module: ovhcloud.exchange.exchange_mail_route
"""

EXAMPLES = r"""
- name: Check the smart host with the connector's credentials
  ovhcloud.exchange.exchange_smarthost_check:
    smart_host: smtp-relay.example.com
    port: 587
    user: "{{ relay_user }}"
    password: "{{ relay_password }}"
    max_send_size: 25
  register: preflight

- name: Use the suggested authentication mechanism
  ansible.builtin.debug:
    msg: "{{ preflight.connector_suggestion.auth_mechanism }}"

- name: Report only, never fail (for a dashboard)
  ovhcloud.exchange.exchange_smarthost_check:
    smart_host: smtp.internal.example.net
    port: 25
    ca_path: /etc/pki/private-ca.pem
    fail_on: []
  register: preflight

- name: Fail on any problem, warnings included (an undersized SIZE, a certificate about to expire)
  ovhcloud.exchange.exchange_smarthost_check:
    smart_host: smtp-relay.example.com
    max_send_size: 100
    fail_on: [any]
"""

RETURN = r"""
status:
  description:
    - Overall outcome, from a fixed vocabulary modelled on Exchange's C(Test-SmtpConnectivity).
    - V(success), V(unable_to_connect) (nothing listens, no banner, unknown host, implicit TLS),
      V(tls_error) (no STARTTLS, failed handshake, or a certificate problem with O(validate_certs)),
      V(auth_failed), V(transient_error) (a 4xx reply), V(permanent_error) (a 5xx reply).
  returned: always
  type: str
  sample: success
smart_host:
  description: The host checked, in ASCII form (an international name converted).
  returned: always
  type: str
  sample: smtp-relay.example.com
port:
  description: The port checked.
  returned: always
  type: int
  sample: 587
banner:
  description:
    - The server's greeting, code included, cut at 512 characters; V(null) if none was read, or if what the port
      answered was no SMTP greeting (problem V(not_smtp)).
  returned: always
  type: str
  sample: 220 smtp-relay.example.com ESMTP
implicit_tls:
  description: Whether the port speaks TLS at once (SMTPS), which a send connector cannot use.
  returned: always
  type: bool
  sample: false
ehlo:
  description: EHLO features (upper-case keywords and their parameters) as advertised last, after STARTTLS if it succeeded.
  returned: always
  type: dict
  sample: {"SIZE": "26214400", "8BITMIME": "", "AUTH": "LOGIN PLAIN", "PIPELINING": ""}
ehlo_before_tls:
  description: EHLO features advertised on the plain connection, before STARTTLS.
  returned: always
  type: dict
  sample: {"SIZE": "26214400", "STARTTLS": ""}
starttls:
  description: STARTTLS outcome.
  returned: always
  type: dict
  contains:
    offered:
      description: Whether the plain connection advertised STARTTLS.
      type: bool
      sample: true
    succeeded:
      description: Whether the TLS handshake after STARTTLS succeeded.
      type: bool
      sample: true
    version:
      description: TLS version negotiated (after STARTTLS, or at once on an implicit-TLS port).
      type: str
      sample: TLSv1.3
    cipher:
      description: Cipher negotiated.
      type: str
      sample: TLS_AES_256_GCM_SHA384
certificate:
  description: The server's certificate, whether it verified or not; V(null) when no TLS session was made.
  returned: always
  type: dict
  contains:
    subject:
      description: Subject distinguished name.
      type: str
      sample: CN=smtp-relay.example.com
    issuer:
      description: Issuer distinguished name.
      type: str
      sample: C=US, O=Let's Encrypt, CN=R11
    not_after:
      description: Expiry, ISO 8601 in UTC.
      type: str
      sample: "2026-09-30T12:00:00+00:00"
    days_left:
      description: Whole days until expiry; negative once expired.
      type: int
      sample: 72
    names:
      description: Names and addresses the certificate covers (subject alternative names).
      type: list
      elements: str
      sample: [smtp-relay.example.com]
    matches_host:
      description: Whether the certificate covers O(smart_host); V(null) when it could not be read.
      type: bool
      sample: true
    trusted:
      description: Whether a trusted authority (the system's, or O(ca_path)) signed it, dates and name aside.
      type: bool
      sample: true
    verified:
      description: Whether the TLS session was verified (chain, host name and dates); a password goes only to a verified one.
      type: bool
      sample: true
    verify_error:
      description: Why verification failed, in OpenSSL's words; V(null) when verified.
      type: str
      sample: "certificate has expired"
auth:
  description: Authentication offer and the optional login test.
  returned: always
  type: dict
  contains:
    mechanisms:
      description: AUTH mechanisms advertised last (after STARTTLS if it succeeded).
      type: list
      elements: str
      sample: [LOGIN, PLAIN]
    mechanisms_before_tls:
      description: AUTH mechanisms advertised on the plain connection.
      type: list
      elements: str
      sample: []
    tested:
      description:
        - Whether a login was tried. V(false) when O(user) is given but the session was not verified (V(auth_not_tested)).
      type: bool
      sample: true
    mechanism:
      description: The mechanism used for the login.
      type: str
      sample: LOGIN
    succeeded:
      description: Whether the login succeeded; V(null) when none was tried.
      type: bool
      sample: true
size:
  description: Message size limit.
  returned: always
  type: dict
  contains:
    advertised_bytes:
      description: The C(SIZE) the server advertises, in bytes (V(0) means no limit); V(null) when not advertised.
      type: int
      sample: 26214400
    max_send_size_bytes:
      description: O(max_send_size) in bytes.
      type: int
      sample: 26214400
    ok:
      description: Whether the server takes messages as large as O(max_send_size); V(null) when either is unknown.
      type: bool
      sample: true
problems:
  description: What is wrong or worth knowing, each with what to do about it.
  returned: always
  type: list
  elements: dict
  contains:
    code:
      description:
        - A stable identifier, for O(fail_on).
        - V(unknown_host), V(connection_refused), V(connection_failed), V(no_banner), V(not_smtp), V(implicit_tls),
          V(banner_refused), V(ehlo_refused), V(connection_lost), V(starttls_not_offered), V(starttls_refused),
          V(starttls_failed), V(certificate_untrusted), V(certificate_expired), V(certificate_expiring),
          V(certificate_name_mismatch), V(certificate_invalid), V(tls_version_old), V(auth_not_tested),
          V(auth_not_offered), V(auth_rejected), V(auth_temporary_failure), V(auth_without_tls),
          V(auth_over_unverified_tls), V(size_too_small).
      type: str
      sample: size_too_small
    message:
      description: What was found.
      type: str
      sample: smtp-relay.example.com port 587 accepts messages up to 10485760 bytes (10 MB), less than the connector's max_send_size of 25 MB
    fix:
      description: What to do about it.
      type: str
      sample: set the connector's max_send_size to 10 or less
  sample: []
connector_suggestion:
  description:
    - Send connector settings that fit what the server offered; V(null) when the server could not be talked to.
  returned: always
  type: dict
  contains:
    port:
      description: Port to use (587 instead of an implicit-TLS port).
      type: int
      sample: 587
    require_tls:
      description: Whether the connector can require TLS.
      type: bool
      sample: true
    auth_mechanism:
      description:
        - V(basicAuthRequireTLS) when the server offers LOGIN or PLAIN and STARTTLS works, V(basicAuth) when it offers
          them without TLS, V(none) when it offers no authentication (a relay that authorises sending addresses).
        - V(null) on an implicit-TLS port, whose AUTH offer was not read.
      type: str
      sample: basicAuthRequireTLS
    max_send_size:
      description: Largest connector C(maxSendSize) in MB that the server takes (at most 100, OVH's maximum).
      type: int
      sample: 25
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.ovhcloud.exchange.plugins.module_utils._smtp_check import (
    STATUSES,
    check_smart_host,
    failing_problems,
    validated_options,
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            smart_host=dict(type='str', required=True),
            port=dict(type='int', default=587),
            allow_any_port=dict(type='bool', default=False),
            timeout=dict(type='int', default=10),
            helo_name=dict(type='str'),
            starttls=dict(type='bool', default=True),
            validate_certs=dict(type='bool', default=True),
            ca_path=dict(type='path'),
            user=dict(type='str'),
            password=dict(type='str', no_log=True),
            max_send_size=dict(type='int'),
            fail_on=dict(type='list', elements='str', default=list(STATUSES[1:])),
        ),
        required_together=[('user', 'password')],
        supports_check_mode=True,
    )
    params = module.params
    try:
        options = validated_options(dict((key, value) for key, value in params.items() if key != 'fail_on'))
    except ValueError as err:
        module.fail_json(msg=str(err))
    result = check_smart_host(**options)
    hits = failing_problems(result, params['fail_on'])
    if hits:
        module.fail_json(
            msg='smart host check of %s port %d: %s. %s' % (
                options['smart_host'], params['port'], result['status'],
                ' '.join('%s: %s (fix: %s).' % (hit['code'], hit['message'], hit['fix']) for hit in hits)),
            changed=False, **result)
    module.exit_json(changed=False, **result)


if __name__ == '__main__':
    main()
