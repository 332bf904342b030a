# -*- coding: utf-8 -*-
# Copyright (c) 2026 ovhcloud.exchange contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Smart-host pre-flight: what an Exchange send connector will meet at smart_host:port.

Private to this collection. `check_smart_host(**options)` connects the way a connector does (plain
banner, EHLO, STARTTLS, EHLO again, optional AUTH), reports what it saw and what is wrong, and never
sends a message (no MAIL FROM). It never turns on smtplib's debug output, so the AUTH exchange is not
printed anywhere; the password is dropped from the SMTP object as soon as the login is done.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import datetime
import ipaddress
import smtplib
import socket
import ssl

STATUSES = ('success', 'unable_to_connect', 'tls_error', 'auth_failed', 'transient_error', 'permanent_error')
MIN_TIMEOUT = 1
MAX_TIMEOUT = 120
EXPIRY_WARNING_DAYS = 14
MEBIBYTE = 1024 * 1024
CONNECTOR_MAX_SEND_SIZE_MB = 100
# OpenSSL's X509_V_FLAG_NO_CHECK_TIME: verify the chain but leave the dates to us, so that an expired
# certificate still shows its subject, issuer and expiry instead of only "certificate has expired".
X509_V_FLAG_NO_CHECK_TIME = 0x200000
# Mechanisms a send connector's basic authentication can use, in the order we try them.
BASIC_AUTH_MECHANISMS = ('LOGIN', 'PLAIN')


def _problem(code, message, fix):
    return {'code': code, 'message': message, 'fix': fix}


def _reply_status(code):
    return 'transient_error' if 400 <= code < 500 else 'permanent_error'


def _text(reply):
    if isinstance(reply, bytes):
        return reply.decode('utf-8', errors='replace')
    return str(reply)


def _name(rdns):
    """'CN=mail.example.com, O=Example' from getpeercert()'s tuple-of-tuples form."""
    parts = []
    for rdn in rdns or ():
        for key, value in rdn:
            short = {'commonName': 'CN', 'organizationName': 'O', 'organizationalUnitName': 'OU',
                     'countryName': 'C', 'localityName': 'L', 'stateOrProvinceName': 'ST'}.get(key, key)
            parts.append('%s=%s' % (short, value))
    return ', '.join(parts) or None


def host_matches(cert, host):
    """Whether a getpeercert() dict covers host (RFC 6125: SAN only, one-label left-most wildcard)."""
    host = host.lower().rstrip('.')
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    for kind, value in cert.get('subjectAltName', ()):
        if kind == 'IP Address' and address is not None:
            try:
                if ipaddress.ip_address(value.strip()) == address:
                    return True
            except ValueError:
                continue
        elif kind == 'DNS' and address is None:
            pattern = value.lower().rstrip('.')
            if pattern == host:
                return True
            if pattern.startswith('*.') and '.' in host and host.split('.', 1)[1] == pattern[2:]:
                return True
    return False


class _HostAware(object):
    """smtplib keeps the host for TLS (SNI and name checks) only when given to the constructor."""

    def connect(self, host='localhost', port=0, source_address=None):
        self._host = host
        return super(_HostAware, self).connect(host, port, source_address)


class _SMTP(_HostAware, smtplib.SMTP):
    pass


class _SMTPSSL(_HostAware, smtplib.SMTP_SSL):
    pass


class SmartHostCheck(object):
    """One pre-flight run; `run()` returns the result dict documented in exchange_smarthost_check."""

    def __init__(self, smart_host, port=587, timeout=10, helo_name=None, starttls=True, validate_certs=True,
                 ca_path=None, user=None, password=None, max_send_size=None, now=None):
        self.host = smart_host
        self.port = port
        self.timeout = max(MIN_TIMEOUT, min(MAX_TIMEOUT, timeout))
        self.helo_name = helo_name
        self.use_starttls = starttls
        self.validate_certs = validate_certs
        self.ca_path = ca_path
        self.user = user
        self._password = password
        self.max_send_size = max_send_size
        self._greeted = False
        self.now = now or datetime.datetime.now(datetime.timezone.utc)
        self.result = {
            'status': 'success', 'smart_host': smart_host, 'port': port, 'banner': None, 'implicit_tls': False,
            'ehlo': {}, 'ehlo_before_tls': {},
            'starttls': {'offered': False, 'succeeded': False, 'version': None, 'cipher': None},
            'certificate': None,
            'auth': {'mechanisms': [], 'mechanisms_before_tls': [], 'tested': False, 'mechanism': None, 'succeeded': None},
            'size': {'advertised_bytes': None, 'max_send_size_bytes': max_send_size * MEBIBYTE if max_send_size else None, 'ok': None},
            'problems': [],
            'connector_suggestion': None,
        }

    # -- bookkeeping -------------------------------------------------------------------------------------

    def problem(self, code, message, fix, status=None):
        """Record a problem; the first one that carries a status sets the overall status."""
        self.result['problems'].append(_problem(code, message, fix))
        if status and self.result['status'] == 'success':
            self.result['status'] = status

    @property
    def where(self):
        return '%s port %d' % (self.host, self.port)

    # -- connection --------------------------------------------------------------------------------------

    def _contexts(self):
        """(verifying context: chain checked, name and dates left to us; context that checks nothing)."""
        verifying = ssl.create_default_context(cafile=self.ca_path) if self.ca_path else ssl.create_default_context()
        verifying.check_hostname = False
        verifying.verify_flags |= X509_V_FLAG_NO_CHECK_TIME
        blind = ssl.create_default_context()
        blind.check_hostname = False
        blind.verify_mode = ssl.CERT_NONE
        return verifying, blind

    def _open(self, implicit_tls=False, context=None):
        """A connected smtplib client and the banner (code, text); raises OSError/SMTPException."""
        if implicit_tls:
            client = _SMTPSSL(local_hostname=self.helo_name, timeout=self.timeout, context=context)
        else:
            client = _SMTP(local_hostname=self.helo_name, timeout=self.timeout)
        try:
            code, banner = client.connect(self.host, self.port)
        except BaseException:
            client.close()
            raise
        return client, code, _text(banner)

    def _connect(self):
        """A client past a 220 banner, or None with the reason recorded."""
        try:
            client, code, banner = self._open()
        except socket.gaierror as err:
            self.problem('unknown_host', 'cannot resolve %s: %s' % (self.host, err),
                         'check the smart host name given by the provider (a typo, or a DNS name that does not exist)',
                         'unable_to_connect')
            return None
        except ConnectionRefusedError:
            self.problem('connection_refused', 'nothing listens on %s (connection refused)' % self.where,
                         'check the port the provider documents (587, 2525 or 25 with STARTTLS)', 'unable_to_connect')
            return None
        except smtplib.SMTPServerDisconnected as err:
            # The port accepted the connection but wrote no banner: perhaps it waits for a TLS handshake.
            if self._probe_implicit_tls():
                return None
            self.problem('no_banner', '%s accepted the connection but sent no SMTP banner within %d s (%s)' % (
                self.where, self.timeout, err), 'check that this port runs SMTP, or raise timeout for a slow server',
                'unable_to_connect')
            return None
        except (socket.timeout, OSError) as err:
            self.problem('connection_failed', 'cannot connect to %s: %s' % (self.where, err or type(err).__name__),
                         'check the host and port, and that a firewall lets this machine (and OVH\'s Exchange '
                         'platform) reach it', 'unable_to_connect')
            return None
        self.result['banner'] = '%d %s' % (code, banner)
        if code != 220:
            self.problem('banner_refused', '%s greeted with %d %s instead of 220' % (self.where, code, banner),
                         'the server refuses connections for now (busy, rate limit, or this address is blocked); '
                         'retry later or ask the provider' if code < 500 else
                         'the server refuses this client; ask the provider whether your sending IPs must be declared',
                         _reply_status(code) if code >= 400 else 'permanent_error')
            client.close()
            return None
        return client

    def _probe_implicit_tls(self):
        """Whether the port speaks TLS straight away (SMTPS); records it with its certificate."""
        verifying, blind = self._contexts()
        for context in (verifying, blind):
            try:
                client, code, banner = self._open(implicit_tls=True, context=context)
            except ssl.SSLCertVerificationError:
                continue
            except (OSError, smtplib.SMTPException):
                return False
            self.result['implicit_tls'] = True
            self.result['banner'] = '%d %s' % (code, banner)
            self._record_tls(client.sock, trusted=context is verifying)
            self._quit(client)
            self.problem('implicit_tls', '%s speaks TLS immediately (implicit TLS, "SMTPS"); an Exchange send connector '
                         'only speaks STARTTLS, so it cannot deliver to this port' % self.where,
                         'use the provider\'s STARTTLS port (usually 587, or 2525 or 25) with require_tls', 'unable_to_connect')
            return True
        return False

    # -- TLS ---------------------------------------------------------------------------------------------

    def _record_tls(self, sock, trusted):
        starttls = self.result['starttls']
        starttls['version'] = sock.version()
        starttls['cipher'] = (sock.cipher() or (None,))[0]
        cert = sock.getpeercert() if trusted else None
        certificate = {'subject': None, 'issuer': None, 'not_after': None, 'days_left': None,
                       'names': [], 'matches_host': None, 'trusted': trusted}
        self.result['certificate'] = certificate
        if cert:
            expiry = datetime.datetime.fromtimestamp(ssl.cert_time_to_seconds(cert['notAfter']), datetime.timezone.utc)
            certificate.update({
                'subject': _name(cert.get('subject')), 'issuer': _name(cert.get('issuer')),
                'not_after': expiry.isoformat(), 'days_left': int((expiry - self.now).total_seconds() // 86400),
                'names': [value for dummy, value in cert.get('subjectAltName', ())],
                'matches_host': host_matches(cert, self.host),
            })
        self._certificate_problems(certificate)
        if starttls['version'] in ('SSLv3', 'TLSv1', 'TLSv1.1'):
            self.problem('tls_version_old', '%s negotiated %s, which current Exchange builds disable' % (self.where, starttls['version']),
                         'ask the provider for TLS 1.2 or later')

    def _certificate_problems(self, certificate):
        status = 'tls_error' if self.validate_certs else None
        skip = ' (or set validate_certs=false to accept it knowingly)'
        if not certificate['trusted']:
            self.problem('certificate_untrusted', 'the certificate of %s is not signed by a trusted authority (self-signed or '
                         'a private CA)' % self.where, 'give the private CA with ca_path' + skip, status)
            return
        if certificate['days_left'] is not None and certificate['days_left'] < 0:
            self.problem('certificate_expired', 'the certificate of %s (%s) expired on %s' % (
                self.where, certificate['subject'], certificate['not_after']), 'ask the provider to renew it' + skip, status)
        elif certificate['days_left'] is not None and certificate['days_left'] < EXPIRY_WARNING_DAYS:
            self.problem('certificate_expiring', 'the certificate of %s expires in %d days (%s)' % (
                self.where, certificate['days_left'], certificate['not_after']), 'make sure the provider renews it in time')
        if certificate['matches_host'] is False:
            self.problem('certificate_name_mismatch', 'the certificate of %s is for %s, not for %s' % (
                self.where, ', '.join(certificate['names']) or certificate['subject'], self.host),
                'use the host name the certificate names as smart_host (the provider\'s documented name)' + skip, status)

    def _starttls(self, client):
        """STARTTLS with chain verification, retried without it on a fresh connection if the chain fails."""
        verifying, blind = self._contexts()
        try:
            code, reply = client.starttls(context=verifying)
            trusted = True
        except ssl.SSLCertVerificationError:
            client.close()
            client = self._connect()
            if client is None or not self._ehlo(client, before_tls=True):
                return None
            try:
                code, reply = client.starttls(context=blind)
            except (ssl.SSLError, OSError) as err:
                return self._tls_failed(client, err)
            trusted = False
        except (ssl.SSLError, OSError) as err:
            return self._tls_failed(client, err)
        if code != 220:
            self.problem('starttls_refused', '%s answered STARTTLS with %d %s' % (self.where, code, _text(reply)),
                         'ask the provider why STARTTLS is refused; a connector with require_tls cannot send',
                         _reply_status(code) if code >= 400 else 'tls_error')
            return client
        self.result['starttls']['succeeded'] = True
        self._record_tls(client.sock, trusted)
        return client

    def _tls_failed(self, client, err):
        self.problem('starttls_failed', 'the TLS handshake with %s failed: %s' % (self.where, err),
                     'check the port (implicit-TLS ports such as 465 do not take STARTTLS) and ask the provider which '
                     'TLS versions it accepts', 'tls_error')
        client.close()
        return None

    # -- SMTP dialogue -----------------------------------------------------------------------------------

    def _ehlo(self, client, before_tls):
        try:
            code, reply = client.ehlo()
        except smtplib.SMTPServerDisconnected as err:
            return self._lost(err)
        if code != 250:
            self.problem('ehlo_refused', '%s answered EHLO with %d %s' % (self.where, code, _text(reply)),
                         'retry later, or ask the provider whether this client\'s address or name is refused',
                         _reply_status(code) if code >= 400 else 'permanent_error')
            return False
        features = dict((key.upper(), value) for key, value in client.esmtp_features.items())
        self._greeted = True
        self.result['ehlo_before_tls' if before_tls else 'ehlo'] = features
        mechanisms = features.get('AUTH', '').upper().split()
        self.result['auth']['mechanisms_before_tls' if before_tls else 'mechanisms'] = mechanisms
        return True

    def _lost(self, err):
        self.problem('connection_lost', '%s closed the connection: %s' % (self.where, err),
                     'retry later; if it persists, ask the provider whether this client is refused', 'transient_error')
        return False

    def _authenticate(self, client):
        auth = self.result['auth']
        if not self.user:
            return
        auth['tested'] = True
        offered = [mechanism for mechanism in BASIC_AUTH_MECHANISMS if mechanism in auth['mechanisms']]
        if not offered:
            hint = ('it offers AUTH only after STARTTLS: keep starttls=true' if auth['mechanisms'] == [] and
                    self.result['starttls']['offered'] and not self.result['starttls']['succeeded'] else
                    'use smartHostAuthMechanism none if the provider authorises your sending IPs instead')
            self.problem('auth_not_offered', '%s offers no LOGIN or PLAIN authentication (it offers: %s)' % (
                self.where, ' '.join(auth['mechanisms']) or 'none'), hint, 'auth_failed')
            auth['succeeded'] = False
            return
        mechanism = offered[0]
        auth['mechanism'] = mechanism
        client.user, client.password = self.user, self._password
        try:
            client.auth(mechanism, getattr(client, 'auth_' + mechanism.lower()))
            auth['succeeded'] = True
        except smtplib.SMTPAuthenticationError as err:
            auth['succeeded'] = False
            if 400 <= err.smtp_code < 500:
                self.problem('auth_temporary_failure', '%s could not check the credentials now: %d %s' % (
                    self.where, err.smtp_code, _text(err.smtp_error)), 'retry later', 'transient_error')
            else:
                self.problem('auth_rejected', '%s rejected the user %s and its password (AUTH %s): %d %s' % (
                    self.where, self.user, mechanism, err.smtp_code, _text(err.smtp_error)),
                    'check the SMTP credentials the provider gives (often an SMTP key, not the account or API '
                    'password)', 'auth_failed')
        except smtplib.SMTPServerDisconnected as err:
            auth['succeeded'] = False
            self._lost(err)
        except smtplib.SMTPException as err:
            auth['succeeded'] = False
            self.problem('auth_rejected', 'authentication with %s failed: %s' % (self.where, err),
                         'check the credentials and the mechanisms the provider supports', 'auth_failed')
        finally:
            client.password = None

    def _check_size(self):
        size = self.result['size']
        advertised = self.result['ehlo'].get('SIZE', self.result['ehlo_before_tls'].get('SIZE'))
        if advertised is None or not advertised.strip().isdigit():
            return
        advertised_bytes = int(advertised)
        size['advertised_bytes'] = advertised_bytes
        if not self.max_send_size:
            return
        size['ok'] = advertised_bytes == 0 or advertised_bytes >= size['max_send_size_bytes']
        if not size['ok']:
            self.problem('size_too_small', '%s accepts messages up to %d bytes (%d MB), less than the connector\'s '
                         'max_send_size of %d MB: larger messages will bounce at the smart host' % (
                             self.where, advertised_bytes, advertised_bytes // MEBIBYTE, self.max_send_size),
                         'set the connector\'s max_send_size to %d or less' % (advertised_bytes // MEBIBYTE))

    def _quit(self, client):
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()

    def _suggest(self):
        """The connector settings that fit what the server offered."""
        if not self._greeted and not self.result['implicit_tls']:
            return None
        starttls = self.result['starttls']
        auth = self.result['auth']
        offered = set(auth['mechanisms'] if starttls['succeeded'] else auth['mechanisms_before_tls'])
        if self.result['implicit_tls']:
            mechanism = None  # its AUTH offer was not read: it comes after EHLO, on the STARTTLS port
        elif not offered & set(BASIC_AUTH_MECHANISMS):
            mechanism = 'none'
        elif starttls['succeeded'] or self.result['implicit_tls']:
            mechanism = 'basicAuthRequireTLS'
        else:
            mechanism = 'basicAuth'
        advertised = self.result['size']['advertised_bytes']
        size_mb = CONNECTOR_MAX_SEND_SIZE_MB if not advertised else min(CONNECTOR_MAX_SEND_SIZE_MB, advertised // MEBIBYTE)
        return {
            'port': 587 if self.result['implicit_tls'] else self.port,
            'require_tls': bool(starttls['succeeded'] or self.result['implicit_tls']),
            'auth_mechanism': mechanism,
            'max_send_size': size_mb,
        }

    def _session(self, client):
        if not self._ehlo(client, before_tls=True):
            return client
        self.result['ehlo'] = dict(self.result['ehlo_before_tls'])
        self.result['auth']['mechanisms'] = list(self.result['auth']['mechanisms_before_tls'])
        starttls = self.result['starttls']
        starttls['offered'] = client.has_extn('starttls')
        if self.use_starttls:
            if not starttls['offered']:
                self.problem('starttls_not_offered', '%s does not offer STARTTLS: mail and credentials would cross the '
                             'network in clear, and a connector with require_tls cannot send' % self.where,
                             'use the provider\'s TLS-capable port (usually 587), or set starttls=false to check a '
                             'plain-text relay knowingly', 'tls_error')
            else:
                client = self._starttls(client)
                if client is None or not starttls['succeeded'] or not self._ehlo(client, before_tls=False):
                    return client
        if self.result['auth']['mechanisms_before_tls'] and not starttls['succeeded'] and self.user:
            self.problem('auth_without_tls', '%s takes the password without TLS' % self.where,
                         'use STARTTLS and smartHostAuthMechanism basicAuthRequireTLS')
        self._authenticate(client)
        self._check_size()
        return client

    def run(self):
        client = self._connect()
        if client is not None:
            client = self._session(client)
            if client is not None:
                self._quit(client)
        self.result['connector_suggestion'] = self._suggest()
        return self.result


def check_smart_host(**options):
    """Run the pre-flight; options are exchange_smarthost_check's (minus fail_on)."""
    return SmartHostCheck(**options).run()


def failing_problems(result, fail_on):
    """The problems (and status) that `fail_on` names: codes, statuses, or `any`."""
    wanted = set(fail_on or ())
    if 'any' in wanted:
        return list(result['problems'])
    hits = [problem for problem in result['problems'] if problem['code'] in wanted]
    if not hits and result['status'] in wanted:
        hits = list(result['problems'])
    return hits
