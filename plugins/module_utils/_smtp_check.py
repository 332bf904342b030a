# -*- coding: utf-8 -*-
# Copyright (c) 2026 ovhcloud.exchange contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Smart-host pre-flight: what an Exchange send connector will meet at smart_host:port.

Private to this collection. `check_smart_host(**options)` connects the way a connector does (plain
banner, EHLO, STARTTLS, EHLO again, optional AUTH), reports what it saw and what is wrong, and never
sends a message (no MAIL FROM). It never turns on smtplib's debug output, so the AUTH exchange is not
printed anywhere; the password is dropped from the SMTP object as soon as the login is done.

The password goes only to a verified peer: AUTH runs over TLS whose chain, host name and dates were
checked, unless the user opted out by name (`validate_certs=false` for unverified TLS, `starttls=false`
for clear text), and each opt-out is reported as a problem of its own. When verification fails, the
certificate is read on a separate connection that never authenticates, so that it is reported anyway.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import datetime
import ipaddress
import smtplib
import socket
import ssl

try:
    from cryptography import x509
    HAS_CRYPTOGRAPHY = True
except ImportError:  # ansible-core depends on it; without it, an unverified certificate is reported without details
    HAS_CRYPTOGRAPHY = False

from ansible_collections.ovhcloud.exchange.plugins.module_utils._smart_host import (
    parse_smart_host,
    refuse_control_characters,
)

STATUSES = ('success', 'unable_to_connect', 'tls_error', 'auth_failed', 'transient_error', 'permanent_error')
MIN_TIMEOUT = 1
MAX_TIMEOUT = 120
EXPIRY_WARNING_DAYS = 14
MEBIBYTE = 1024 * 1024
CONNECTOR_MAX_SEND_SIZE_MB = 100
# The ports an SMTP relay listens on; others need allow_any_port, so that the check cannot be pointed at
# any service reachable from where the task runs.
SMTP_PORTS = (25, 465, 587, 2525)
# OpenSSL verification errors that come after the chain was built to a trusted authority: the dates and
# the name (X509_V_ERR_CERT_NOT_YET_VALID, _CERT_HAS_EXPIRED, _HOSTNAME_MISMATCH, _EMAIL_MISMATCH,
# _IP_ADDRESS_MISMATCH). Any other error means the authority is not trusted.
VERIFY_ERRORS_OF_A_TRUSTED_CHAIN = (9, 10, 62, 63, 64)
# RFC 5321's limit for a reply line; a longer banner is cut, never returned whole.
MAX_BANNER_LENGTH = 512
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


def _x509_name(name):
    """'O=Example, CN=mail.example.com' from a cryptography Name, in the certificate's order like _name()."""
    return ', '.join(attribute.rfc4514_string() for rdn in name.rdns for attribute in rdn) or None


def describe_der_certificate(der):
    """(subject, issuer, not_after as an aware datetime, getpeercert()-style subjectAltName) of a DER certificate."""
    cert = x509.load_der_x509_certificate(der)
    try:
        alternative_names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        alternative_names = ()
    names = []
    for name in alternative_names:
        if isinstance(name, x509.DNSName):
            names.append(('DNS', name.value))
        elif isinstance(name, x509.IPAddress):
            names.append(('IP Address', str(name.value)))
    not_after = getattr(cert, 'not_valid_after_utc', None) or cert.not_valid_after.replace(tzinfo=datetime.timezone.utc)
    return _x509_name(cert.subject), _x509_name(cert.issuer), not_after, tuple(names)


def describe_peer_certificate(sock):
    """(subject, issuer, not_after, subjectAltName) of the peer's certificate, verified or not; Nones if unreadable."""
    der = sock.getpeercert(binary_form=True)
    if der and HAS_CRYPTOGRAPHY:
        return describe_der_certificate(der)
    cert = sock.getpeercert()  # empty unless the chain was verified
    if not cert:
        return None, None, None, ()
    not_after = datetime.datetime.fromtimestamp(ssl.cert_time_to_seconds(cert['notAfter']), datetime.timezone.utc)
    return _name(cert.get('subject')), _name(cert.get('issuer')), not_after, cert.get('subjectAltName', ())


def validated_options(options):
    """The options with smart_host in its ASCII form; ValueError naming the option and the fix otherwise."""
    options = dict(options)
    options['smart_host'] = parse_smart_host(options.get('smart_host'))
    for option in ('helo_name', 'user', 'ca_path'):
        refuse_control_characters(option, options.get(option))
    if options.get('ca_path'):
        try:
            ssl.create_default_context(cafile=options['ca_path'])
        except (OSError, ssl.SSLError) as err:  # a missing file, or one without a PEM certificate in it
            raise ValueError('ca_path %s cannot be used as certificate authorities: %s; give a PEM file of CA '
                             'certificates' % (options['ca_path'], err))
    port = options.get('port', 587)
    if not 1 <= port <= 65535:
        raise ValueError('port must be between 1 and 65535, not %d' % port)
    if port not in SMTP_PORTS and not options.get('allow_any_port'):
        raise ValueError('port %d is not an SMTP port (%s): the check connects from where the task runs, so it only '
                         'goes to SMTP ports; set allow_any_port=true to check a relay on another port' % (
                             port, ', '.join(str(smtp_port) for smtp_port in SMTP_PORTS)))
    timeout = options.get('timeout', 10)
    if not MIN_TIMEOUT <= timeout <= MAX_TIMEOUT:
        raise ValueError('timeout must be between %d and %d seconds, not %d' % (MIN_TIMEOUT, MAX_TIMEOUT, timeout))
    if options.get('max_send_size') is not None and options['max_send_size'] < 1:
        raise ValueError('max_send_size is in MB and must be at least 1, not %d' % options['max_send_size'])
    return options


def _is_smtp_reply(code):
    """Whether smtplib read an SMTP reply code (it gives -1 for a line such as an SSH banner)."""
    return 200 <= code < 600


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
                 ca_path=None, user=None, password=None, max_send_size=None, allow_any_port=False, now=None):
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

    def _verifying_context(self):
        """The only context a password may follow: chain, host name and dates checked (OpenSSL's defaults)."""
        return ssl.create_default_context(cafile=self.ca_path) if self.ca_path else ssl.create_default_context()

    @staticmethod
    def _reading_context():
        """A context that checks nothing, to read a refused certificate (or, with validate_certs=false, to go on)."""
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context

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
        if not _is_smtp_reply(code):
            self._not_smtp(client)
            return None
        self.result['banner'] = ('%d %s' % (code, banner))[:MAX_BANNER_LENGTH]
        if code != 220:
            self.problem('banner_refused', '%s greeted with %d %s instead of 220' % (self.where, code, banner),
                         'the server refuses connections for now (busy, rate limit, or this address is blocked); '
                         'retry later or ask the provider' if code < 500 else
                         'the server refuses this client; ask the provider whether your sending IPs must be declared',
                         _reply_status(code) if code >= 400 else 'permanent_error')
            client.close()
            return None
        return client

    def _not_smtp(self, client):
        """A service that does not greet like SMTP: say so, and keep what it said out of the result."""
        client.close()
        self.problem('not_smtp', '%s answered with something that is not an SMTP greeting: it is not an SMTP server '
                     '(its answer is not reported)' % self.where,
                     'check the host and the port the provider documents for SMTP (587, 2525 or 25)', 'unable_to_connect')

    def _probe_implicit_tls(self):
        """Whether the port speaks TLS straight away (SMTPS); records it with its certificate. Never logs in."""
        verify_error = None
        for context in (self._verifying_context(), self._reading_context()):
            try:
                client, code, banner = self._open(implicit_tls=True, context=context)
            except ssl.SSLCertVerificationError as err:
                verify_error = err
                continue
            except (OSError, smtplib.SMTPException):
                return False
            if not _is_smtp_reply(code):
                self._not_smtp(client)
                return True
            self.result['implicit_tls'] = True
            self.result['banner'] = ('%d %s' % (code, banner))[:MAX_BANNER_LENGTH]
            self._record_tls(client.sock, verify_error)
            self._quit(client)
            self.problem('implicit_tls', '%s speaks TLS immediately (implicit TLS, "SMTPS"); an Exchange send connector '
                         'only speaks STARTTLS, so it cannot deliver to this port' % self.where,
                         'use the provider\'s STARTTLS port (usually 587, or 2525 or 25) with require_tls', 'unable_to_connect')
            return True
        return False

    # -- TLS ---------------------------------------------------------------------------------------------

    def _record_tls(self, sock, verify_error=None):
        """Record the TLS session and its certificate; verify_error is the verifying handshake's refusal, if any."""
        starttls = self.result['starttls']
        starttls['version'] = sock.version()
        starttls['cipher'] = (sock.cipher() or (None,))[0]
        subject, issuer, expiry, alternative_names = describe_peer_certificate(sock)
        verified = verify_error is None
        certificate = {
            'subject': subject, 'issuer': issuer, 'not_after': None, 'days_left': None,
            'names': [value for dummy, value in alternative_names],
            'matches_host': host_matches({'subjectAltName': alternative_names}, self.host) if subject or alternative_names else None,
            'trusted': verified or getattr(verify_error, 'verify_code', None) in VERIFY_ERRORS_OF_A_TRUSTED_CHAIN,
            'verified': verified,
            'verify_error': None if verified else (getattr(verify_error, 'verify_message', None) or str(verify_error)),
        }
        if expiry is not None:
            certificate.update(not_after=expiry.isoformat(), days_left=int((expiry - self.now).total_seconds() // 86400))
        self.result['certificate'] = certificate
        self._certificate_problems(certificate)
        if starttls['version'] in ('SSLv3', 'TLSv1', 'TLSv1.1'):
            self.problem('tls_version_old', '%s negotiated %s, which current Exchange builds disable' % (self.where, starttls['version']),
                         'ask the provider for TLS 1.2 or later')

    def _certificate_problems(self, certificate):
        status = 'tls_error' if self.validate_certs else None
        skip = ' (or set validate_certs=false to accept it knowingly)'
        found = len(self.result['problems'])
        if not certificate['trusted']:
            self.problem('certificate_untrusted', 'the certificate of %s (%s, issued by %s) is not signed by a trusted '
                         'authority (self-signed or a private CA)' % (self.where, certificate['subject'], certificate['issuer']),
                         'give the private CA with ca_path' + skip, status)
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
        named = [problem for problem in self.result['problems'][found:] if problem['code'] != 'certificate_expiring']
        if certificate.get('verified') is False and not named:  # a refusal none of the checks above explains
            self.problem('certificate_invalid', 'the certificate of %s did not verify: %s' % (self.where, certificate['verify_error']),
                         'ask the provider to fix its certificate' + skip, status)

    def _starttls(self, client):
        """STARTTLS with a verifying context; if the peer's certificate is refused, _unverified_starttls."""
        try:
            code, reply = client.starttls(context=self._verifying_context())
        except ssl.SSLCertVerificationError as err:
            client.close()
            return self._unverified_starttls(err)
        except (ssl.SSLError, OSError) as err:
            return self._tls_failed(client, err)
        if not self._starttls_accepted(code, reply):
            return client
        self._record_tls(client.sock)
        return client

    def _unverified_starttls(self, verify_error):
        """A separate connection whose TLS checks nothing, to read the certificate the verifying handshake refused.

        _session logs in on it only when validate_certs is false; otherwise it only reads EHLO and quits.
        """
        client = self._connect()
        if client is None or not self._ehlo(client, before_tls=True):
            return client
        try:
            code, reply = client.starttls(context=self._reading_context())
        except (ssl.SSLError, OSError) as err:
            return self._tls_failed(client, err)
        if self._starttls_accepted(code, reply):
            self._record_tls(client.sock, verify_error)
        return client

    def _starttls_accepted(self, code, reply):
        if code != 220:
            self.problem('starttls_refused', '%s answered STARTTLS with %d %s' % (self.where, code, _text(reply)[:MAX_BANNER_LENGTH]),
                         'ask the provider why STARTTLS is refused; a connector with require_tls cannot send',
                         _reply_status(code) if code >= 400 else 'tls_error')
            return False
        self.result['starttls']['succeeded'] = True
        return True

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
            self.problem('ehlo_refused', '%s answered EHLO with %d %s' % (self.where, code, _text(reply)[:MAX_BANNER_LENGTH]),
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

    def _login_not_tested(self, reason, fix):
        """The password stays here: no AUTH over a session that is not what the user asked for."""
        if not self.user:
            return
        self.result['auth']['tested'] = False
        self.problem('auth_not_tested', 'login not tested: %s, so the password was not sent to %s' % (reason, self.where),
                     fix, 'tls_error')

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
                self._login_not_tested('the server does not offer STARTTLS',
                                       'use the provider\'s STARTTLS port; to test the login in clear text knowingly, '
                                       'set starttls=false')
                self._check_size()
                return client
            client = self._starttls(client)
            if client is None or not starttls['succeeded']:
                self._login_not_tested('STARTTLS did not succeed', 'fix the TLS problem above first')
                return client
            if not self._ehlo(client, before_tls=False):
                return client
            if not self.result['certificate']['verified'] and self.validate_certs:
                self._login_not_tested('TLS not verified (%s)' % self.result['certificate']['verify_error'],
                                       'fix the certificate problem above (a private CA goes in ca_path); to test the '
                                       'login over TLS that is not verified, set validate_certs=false knowingly')
                self._check_size()
                return client
        self._authenticate(client)
        if self.result['auth']['mechanism']:  # AUTH was sent
            if not starttls['succeeded']:
                self.problem('auth_without_tls', 'login tested without TLS (starttls=false): the password crossed the '
                             'network to %s in clear' % self.where,
                             'use STARTTLS and smartHostAuthMechanism basicAuthRequireTLS')
            elif not self.result['certificate']['verified']:
                self.problem('auth_over_unverified_tls', 'login tested over TLS that was not verified '
                             '(validate_certs=false): the password went to %s, whose certificate did not verify' % self.where,
                             'fix the certificate problem, then set validate_certs=true')
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
    """Run the pre-flight; options are exchange_smarthost_check's (minus fail_on). ValueError on a bad option."""
    return SmartHostCheck(**validated_options(options)).run()


def failing_problems(result, fail_on):
    """The problems (and status) that `fail_on` names: codes, statuses, or `any`."""
    wanted = set(fail_on or ())
    if 'any' in wanted:
        return list(result['problems'])
    hits = [problem for problem in result['problems'] if problem['code'] in wanted]
    if not hits and result['status'] in wanted:
        hits = list(result['problems'])
    return hits
