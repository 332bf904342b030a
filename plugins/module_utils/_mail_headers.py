# -*- coding: utf-8 -*-
# Copyright (c) 2026 ovhcloud.exchange contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Received-header analysis: the route a message took, and its SPF, DKIM and DMARC results.

Private to this collection. `analyse_message(raw, smart_host, sender_domain)` is the one entry point;
the `exchange_mail_route` module and the `mail_route` filter both call it. It raises `MailHeaderError`
(a complete sentence) on input that holds no mail headers.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import datetime
import email.parser
import email.policy
import email.utils
import ipaddress
import re
import textwrap

RECEIVED_KEYWORDS = ('from', 'by', 'via', 'with', 'id', 'for')

# RFC 3848 protocol names; the "S" means the hop used TLS.
TLS_PROTOCOLS = frozenset(('esmtps', 'esmtpsa', 'utf8smtps', 'utf8smtpsa', 'lmtps', 'lmtpsa'))
PLAIN_PROTOCOLS = frozenset(('smtp', 'esmtp', 'esmtpa', 'utf8smtp', 'utf8smtpa', 'lmtp', 'lmtpa', 'local', 'http'))
TLS_HINT = re.compile(r'\b(encrypted|TLSv?1[._]?[0-3]?|version=TLS|using TLS|cipher=)', re.IGNORECASE)

# Dates some relays write without the "; date" separator, or in JavaScript's Date.toString() shape.
_DAY = r'(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)'
_MONTH = r'(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)'
DATE_PATTERN = re.compile(
    r'(?:%s,?\s+)?\d{1,2}\s+%s\s+\d{4}\s+\d{1,2}:\d{2}(?::\d{2})?(?:\s*(?:[+-]\d{4}|[A-Z]{1,5}))?(?:\s*\([^)]*\))?'
    r'|%s\s+%s\s+\d{1,2}\s+\d{4}\s+\d{1,2}:\d{2}(?::\d{2})?(?:\s+\S+)?' % (_DAY, _MONTH, _DAY, _MONTH),
    re.IGNORECASE)
# Go's time.String() shape, which SendGrid writes without the "; " separator.
ISO_DATE = re.compile(r'(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.\d+)?\s*(Z|[+-]\d{2}:?\d{2})?')
JS_DATE = re.compile(r'^%s\s+(%s)\s+(\d{1,2})\s+(\d{4})\s+(\d{1,2}:\d{2}(?::\d{2})?)' % (_DAY, _MONTH), re.IGNORECASE)
JS_ZONE = re.compile(r'(?:GMT|UTC)([+-]\d{4})')

IP_IN_BRACKETS = re.compile(r'\[(?:IPv6:)?([0-9A-Fa-f:.]+)\]')
IP_IN_PARENS = re.compile(r'\(([0-9A-Fa-f:.]+)\)')
HOST_NAME = re.compile(r'^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+\.?$')
HELO_IN_COMMENT = re.compile(r'\b(?:HELO|EHLO)(?:\s+|=)([^\s)\]]+)', re.IGNORECASE)  # qmail's "HELO x", Exim's "helo=x"
UTC_WITHOUT_LOCAL_ZONE = re.compile(r'\s-0000\b')  # RFC 5322 3.3: the time is UTC, the local zone unknown

# Methods of the IANA Email Authentication Methods registry, plus Microsoft's compauth; any other key
# without a dot (reason, action, ...) belongs to the result before it.
AUTH_METHODS = frozenset(('arc', 'auth', 'bimi', 'compauth', 'dkim', 'dkim-adsp', 'dkim-atps', 'dmarc', 'dnswl',
                          'domainkeys', 'iprev', 'rrvs', 'sender-id', 'smime', 'spf', 'vbr'))
AUTH_PROPERTY = re.compile(r'([A-Za-z][\w.-]*)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s;]+)')
# Second-level labels under which registrations happen (co.uk, com.au, ...): a small stand-in for
# the Public Suffix List, which is not in the standard library.
SECOND_LEVEL_SUFFIXES = frozenset(('co', 'com', 'net', 'org', 'gov', 'ac', 'edu', 'ne', 'or', 'go', 'gob', 'nic'))

UNTIMED_DELAY_WARNING_SECONDS = 600
CLOCK_SKEW_TOLERANCE_SECONDS = 60


class MailHeaderError(ValueError):
    """Input that cannot be analysed; str() is a complete sentence for fail_json(msg=...)."""


def collapse(text):
    """Unfold a header value: folded lines and runs of blanks become one space."""
    return ' '.join(str(text).split())


def strip_comments(text):
    """Text without its (nested) parenthesised comments, leaving quoted strings alone."""
    out, depth, quoted = [], 0, False
    previous = ''
    for char in text:
        if quoted:
            quoted = not (char == '"' and previous != '\\')
            out.append(char)
        elif char == '"' and depth == 0:
            quoted = True
            out.append(char)
        elif char == '(':
            depth += 1
        elif char == ')' and depth:
            depth -= 1
            if not depth:
                out.append(' ')
        elif not depth:
            out.append(char)
        previous = char
    return collapse(''.join(out))


def registrable_domain(name):
    """example.com for mx12.example.com, example.co.uk for smtp.example.co.uk (a heuristic)."""
    labels = [label for label in str(name or '').lower().rstrip('.').split('.') if label]
    if len(labels) < 2 or as_ip(name):
        return None
    if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in SECOND_LEVEL_SUFFIXES:
        return '.'.join(labels[-3:])
    return '.'.join(labels[-2:])


def as_ip(text):
    try:
        return ipaddress.ip_address(str(text).strip('[]'))
    except ValueError:
        return None


def address_domain(address):
    """The domain of an address, or of an address header's first mailbox; None without one."""
    if not address:
        return None
    dummy, addr = email.utils.parseaddr(address)
    addr = addr or address.strip(' <>')
    if '@' in addr:
        return addr.rsplit('@', 1)[1].strip('>').lower() or None
    return addr.lower() if '.' in addr else None


def _split_received_clauses(text):
    """{keyword: text} for the top-level from/by/via/with/id/for clauses of a Received value."""
    clauses, current, depth, token = {}, None, 0, []
    words = re.split(r'(\s+)', text)
    for word in words:
        if depth == 0 and word.lower() in RECEIVED_KEYWORDS and word.lower() not in clauses:
            if current:
                clauses[current] = ''.join(token).strip()
            current, token = word.lower(), []
            continue
        depth = max(0, depth + word.count('(') - word.count(')'))
        token.append(word)
    if current:
        clauses[current] = ''.join(token).strip()
    return clauses


def _split_date(value):
    """(clauses text, date text or None): the date after the last ';', or found where it was left."""
    if ';' in value:
        head, tail = value.rsplit(';', 1)
        if DATE_PATTERN.search(tail):
            return head, tail.strip()
    for pattern in (DATE_PATTERN, ISO_DATE):
        matches = list(pattern.finditer(value))
        if matches:
            match = matches[-1]
            return value[:match.start()].rstrip(' ;'), value[match.start():].strip()
    return value.rstrip(' ;'), None


def parse_date(text):
    """(aware datetime or None, zone_assumed): naive dates are taken as UTC, as MHA does."""
    if not text:
        return None, False
    moment = None
    try:
        moment = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        moment = None
    iso_shape = ISO_DATE.match(text)
    if iso_shape:
        zone = (iso_shape.group(3) or '').replace('Z', '+00:00')
        try:
            moment = datetime.datetime.strptime('%s %s%s' % (iso_shape.group(1), iso_shape.group(2), zone.replace(':', '')),
                                                '%Y-%m-%d %H:%M:%S' + ('%z' if zone else ''))
        except ValueError:
            moment = None
    js_shape = JS_DATE.match(text)
    if js_shape:
        # Date.toString() shape ("Tue Feb 28 2023 07:51:00 GMT+0000"): rebuild it as RFC 5322.
        zone = JS_ZONE.search(text)
        rebuilt = '%s %s %s %s %s' % (js_shape.group(2), js_shape.group(1), js_shape.group(3), js_shape.group(4),
                                      zone.group(1) if zone else '')
        try:
            moment = email.utils.parsedate_to_datetime(rebuilt.strip())
        except (TypeError, ValueError, IndexError):
            pass
    if moment is None:
        return None, False
    if moment.tzinfo is None:
        return moment.replace(tzinfo=datetime.timezone.utc), not UTC_WITHOUT_LOCAL_ZONE.search(text)
    return moment, False


def _first_token(text):
    words = strip_comments(text or '').split()
    return words[0].strip('<>') if words else None


def _hop_tls(with_text, raw):
    protocol = (with_text or '').split()[0].lower() if with_text else ''
    if protocol in TLS_PROTOCOLS or TLS_HINT.search(raw):
        return True
    if protocol in PLAIN_PROTOCOLS:
        return False
    return None


def _hop_ip(from_text):
    for pattern in (IP_IN_BRACKETS, IP_IN_PARENS):
        for candidate in pattern.findall(from_text or ''):
            address = as_ip(candidate)
            if address:
                return address
    words = (from_text or '').split()
    return as_ip(words[0]) if words else None


def _from_names(from_text):
    """Every host name a from clause gives: the HELO name, the reverse-DNS name."""
    names = []
    candidates = [word.strip('<>,;') for word in re.split(r'[\s()\[\]]+', from_text or '')]
    candidates = [word for word in candidates if HOST_NAME.match(word) and not re.match(r'^[\d.]+$', word)]
    for name in candidates + HELO_IN_COMMENT.findall(from_text or ''):
        name = name.lower().rstrip('.')
        if name not in names:
            names.append(name)
    return names


def parse_received(value):
    """One Received header value as a dict; the keys are None where the header does not say."""
    text = collapse(value)
    clause_text, date_text = _split_date(text)
    clauses = _split_received_clauses(clause_text)
    moment, zone_assumed = parse_date(date_text)
    from_text = clauses.get('from')
    ip = _hop_ip(from_text)
    with_text = strip_comments(clauses['with']) if clauses.get('with') else None
    sender = _first_token(from_text)
    helo = HELO_IN_COMMENT.search(from_text or '')
    if sender and (sender.lower() == 'unknown' or as_ip(sender)) and helo:
        sender = helo.group(1)
    return {
        'from': sender,
        'from_names': _from_names(from_text),
        'by': _first_token(clauses.get('by')),
        'via': _first_token(clauses.get('via')),
        'with': with_text or None,
        'id': _first_token(clauses.get('id')),
        'for': _first_token(clauses.get('for')),
        'time': moment.isoformat() if moment else None,
        'date_text': date_text,
        'zone_assumed': zone_assumed,
        'tls': _hop_tls(with_text, text),
        'ip': str(ip) if ip else None,
        'internal': bool(ip and (ip.is_private or ip.is_loopback or ip.is_link_local)),
        '_moment': moment,
    }


def parse_authentication_results(value):
    """(authserv_id, [{method, result, properties}]) from one Authentication-Results value (RFC 8601).

    Comments may hold ';' and are dropped first; a result starts at each `method=result` of a known
    method, so a header that forgot its semicolons still splits right.
    """
    text = strip_comments(collapse(value))
    head = text.split(';', 1)[0].strip()
    authserv_id = None
    if head and '=' not in head.split()[0]:
        authserv_id = head.split()[0]
        text = text[len(authserv_id):]
    results = []
    for key, raw in AUTH_PROPERTY.findall(text):
        raw = raw.strip('"')
        if key.lower() in AUTH_METHODS or key.lower().startswith('x-'):
            results.append({'method': key.lower(), 'result': raw.lower(), 'properties': {}})
        elif results:
            results[-1]['properties'][key.lower()] = raw
    return authserv_id, results


def parse_received_spf(value):
    """{result, domain} from a Received-SPF value (RFC 7208 section 9.1)."""
    text = collapse(value)
    words = text.split()
    if not words:
        return None
    pairs = dict((key.lower(), raw.strip('"')) for key, raw in AUTH_PROPERTY.findall(strip_comments(text)))
    if pairs.get('identity', '').lower() == 'helo':
        domain = pairs.get('helo')
    else:
        domain = address_domain(pairs.get('envelope-from')) or pairs.get('helo')
    return {'result': words[0].lower(), 'domain': domain.lower() if domain else None, 'source': 'Received-SPF'}


def _spf_domain(properties):
    mailfrom = properties.get('smtp.mailfrom')
    if mailfrom:
        return address_domain(mailfrom) if '@' in mailfrom else mailfrom.lower()
    helo = properties.get('smtp.helo')
    return helo.lower() if helo else None


def _authentication(message):
    """SPF, DKIM and DMARC from the topmost Authentication-Results that reports each method."""
    found = {}
    for value in message.get_all('Authentication-Results') or []:
        authserv_id, results = parse_authentication_results(value)
        by_method = {}
        for entry in results:
            entry['authserv_id'] = authserv_id
            by_method.setdefault(entry['method'], []).append(entry)
        for method, entries in by_method.items():
            found.setdefault(method, entries)
    spf = None
    if found.get('spf'):
        entry = found['spf'][0]
        spf = {'result': entry['result'], 'domain': _spf_domain(entry['properties']), 'source': 'Authentication-Results'}
    else:
        for value in message.get_all('Received-SPF') or []:
            spf = parse_received_spf(value)
            if spf:
                break
    dkim = []
    for entry in found.get('dkim', []):
        properties = entry['properties']
        domain = properties.get('header.d') or address_domain(properties.get('header.i'))
        dkim.append({'result': entry['result'], 'domain': domain.lower() if domain else None, 'source': 'Authentication-Results'})
    if not dkim:
        for value in message.get_all('DKIM-Signature') or []:
            tags = dict(part.strip().split('=', 1) for part in collapse(value).split(';') if '=' in part)
            domain = tags.get('d', '').strip().lower() or None
            dkim.append({'result': 'unverified', 'domain': domain, 'source': 'DKIM-Signature'})
    dmarc = None
    if found.get('dmarc'):
        entry = found['dmarc'][0]
        dmarc = {'result': entry['result'], 'domain': (entry['properties'].get('header.from') or '').lower() or None}
    return spf, dkim, dmarc


def _names_of(hop):
    names = [(hop['by'], 'by')] if hop['by'] else []
    names.extend((name, 'from') for name in hop['from_names'])
    if hop['ip']:
        names.append((hop['ip'], 'from'))
    return [(name.lower().rstrip('.'), field) for name, field in names]


def find_smart_host(hops, smart_host):
    """{index, field, name, match} of the hop naming the smart host: exact name first, then domain.

    `by` beats `from` at the same level: the hop the smart host wrote is where it received the message.
    """
    wanted = smart_host.lower().rstrip('.')
    wanted_domain = registrable_domain(wanted)
    for match, same in (('exact', lambda name: name == wanted),
                        ('domain', lambda name: wanted_domain is not None and registrable_domain(name) == wanted_domain)):
        for field in ('by', 'from'):
            for hop in hops:
                for name, name_field in _names_of(hop):
                    if name_field == field and same(name):
                        return {'index': hop['index'], 'field': field, 'name': name, 'match': match}
    return None


def load_message(raw):
    """An email.message.Message from text or bytes, tolerant of pasted, indented headers."""
    if isinstance(raw, bytes):
        raw = raw.decode('utf-8', errors='replace')
    if not isinstance(raw, str):
        raise MailHeaderError('the message must be text (a saved .eml or pasted headers), not %s' % type(raw).__name__)
    text = raw.replace('\r\n', '\n').lstrip('\n')
    if text[:1] in (' ', '\t'):
        text = textwrap.dedent(text)
    message = email.parser.Parser(policy=email.policy.compat32).parsestr(text, headersonly=True)
    if not message.keys():
        preview = collapse(text)[:60]
        raise MailHeaderError(
            'no mail headers found in the input (it starts with %r): give the whole received message '
            '(a saved .eml file) or its headers as shown by the mail client ("show original")' % preview)
    if not message.get_all('Received'):
        raise MailHeaderError(
            'the message has no Received header, so its route cannot be checked: give the headers of the '
            'message as it arrived in the recipient\'s mailbox ("show original"), not of the sent copy')
    return message


def _delay_warnings(hops):
    warnings = []
    for hop in hops:
        delay = hop['delay_seconds']
        if delay is None:
            continue
        if delay < -CLOCK_SKEW_TOLERANCE_SECONDS:
            warnings.append('hop %d (by %s) is dated %d s before the hop below it: one of the two servers has a wrong '
                            'clock, so delays around it are not reliable' % (hop['index'], hop['by'] or 'an unnamed server', -delay))
        elif delay > UNTIMED_DELAY_WARNING_SECONDS:
            warnings.append('hop %d (by %s) took %d s: the message waited in a queue there (greylisting, a busy '
                            'relay or a retry)' % (hop['index'], hop['by'] or 'an unnamed server', delay))
    return warnings


def _tls_warnings(hops):
    warnings = []
    for hop in hops:
        if hop['tls'] is False and not hop['internal'] and (hop['by'] or '').lower() != 'localhost':
            warnings.append('hop %d (from %s by %s, with %s) records no TLS: the message crossed that link unencrypted, '
                            'or that server does not note TLS in its Received header' % (
                                hop['index'], hop['from'] or 'an unnamed client', hop['by'] or 'an unnamed server', hop['with']))
    return warnings


def aligned(domain, sender_domain):
    """DMARC relaxed alignment: same registrable domain."""
    if not domain or not sender_domain:
        return False
    return (registrable_domain(domain) or domain) == (registrable_domain(sender_domain) or sender_domain)


def _authentication_warnings(sender_domain, return_path_domain, spf, dkim, dmarc):
    warnings = []
    if spf and spf['result'] not in ('pass', 'none', 'neutral'):
        warnings.append('SPF is %s for %s: the relay\'s sending addresses are not in that domain\'s SPF record' % (
            spf['result'], spf['domain'] or 'the envelope sender'))
    if not sender_domain:
        return warnings
    spf_domain = (spf or {}).get('domain') or return_path_domain
    spf_aligned = bool(spf and spf['result'] == 'pass' and aligned(spf_domain, sender_domain))
    signers = sorted(set(entry['domain'] for entry in dkim if entry['domain']))
    dkim_aligned = any(entry['result'] in ('pass', 'unverified') and aligned(entry['domain'], sender_domain) for entry in dkim)
    if signers and not dkim_aligned:
        outcome = ('DMARC still passes through SPF alignment' if spf_aligned else
                   'SPF does not align either (envelope domain %s), so DMARC fails' % (spf_domain or 'unknown'))
        warnings.append(
            'DKIM is signed by %s (the relay\'s domain), not by the sender\'s domain %s: %s unless the provider signs '
            'as %s (set up domain authentication / a custom DKIM key at the provider)' % (
                ', '.join(signers), sender_domain, outcome, sender_domain))
    elif not signers and not spf_aligned:
        spf_state = 'SPF does not align with %s' % sender_domain if spf else 'the headers hold no SPF result'
        warnings.append('the message carries no DKIM signature and %s: DMARC for %s cannot pass; set up DKIM for %s at '
                        'the provider' % (spf_state, sender_domain, sender_domain))
    if dmarc and dmarc['result'] not in ('pass', 'none', 'bestguesspass'):
        warnings.append('the receiving server reports dmarc=%s for %s' % (dmarc['result'], dmarc['domain'] or sender_domain))
    return warnings


def analyse_message(raw, smart_host=None, sender_domain=None):
    """The route and authentication results of a received message (text or bytes)."""
    message = load_message(raw)
    received = message.get_all('Received')
    hops = []
    previous = None
    for index, value in enumerate(reversed(received), start=1):
        hop = parse_received(value)
        hop['index'] = index
        moment = hop.pop('_moment')
        hop['delay_seconds'] = int((moment - previous).total_seconds()) if moment and previous else None
        previous = moment or previous
        hops.append(hop)

    warnings = []
    for hop in hops:
        if hop['zone_assumed']:
            warnings.append('hop %d\'s date %r has no time zone that the email package understands; UTC was assumed' % (
                hop['index'], hop['date_text']))
        elif hop['time'] is None:
            warnings.append('hop %d has no date that could be read, so its delay is unknown' % hop['index'])

    from_domain = address_domain(message.get('From'))
    sender = (sender_domain or from_domain or '').lower() or None
    if sender_domain and from_domain and not aligned(from_domain, sender_domain):
        warnings.append('the From address is in %s, not in %s as expected: this may not be the message you meant to check'
                        % (from_domain, sender_domain))

    match = find_smart_host(hops, smart_host) if smart_host else None
    if smart_host and not match:
        warnings.append(
            'the message did not go through the smart host %s: no Received hop names it nor a host in %s. Check that '
            'the sending mailbox is attached to the send connector (or that the domain default uses it), and that the '
            'connector\'s smart host is right' % (smart_host, registrable_domain(smart_host) or smart_host))
    elif match and match['match'] == 'domain':
        warnings.append('the smart host %s is not named as such; hop %d names %s (%s), in the same domain' % (
            smart_host, match['index'], match['name'], match['field']))

    return_path_domain = address_domain(message.get('Return-Path'))
    spf, dkim, dmarc = _authentication(message)
    warnings.extend(_tls_warnings(hops))
    warnings.extend(_delay_warnings(hops))
    warnings.extend(_authentication_warnings(sender, return_path_domain, spf, dkim, dmarc))

    total_delay = None
    created, dummy = parse_date(message.get('Date'))
    last = next((parse_date(hop['date_text'])[0] for hop in reversed(hops) if hop['time']), None)
    if created and last:
        total_delay = int((last - created).total_seconds())
    for hop in hops:
        hop.pop('date_text')
    return {
        'hops': hops,
        'through_smart_host': bool(match) if smart_host else None,
        'smart_host_hop': match['index'] if match else None,
        'smart_host_match': match,
        'from_domain': from_domain,
        'return_path_domain': return_path_domain,
        'spf': spf,
        'dkim': dkim,
        'dmarc': dmarc,
        'total_delay_seconds': total_delay,
        # Not "warnings": Ansible consumes that key of a module result as its own warnings.
        'route_warnings': warnings,
    }
