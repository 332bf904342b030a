# -*- coding: utf-8 -*-
# Copyright (c) 2026 ovhcloud.exchange contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""PRIVATE: the planner of exchange_send_connector_info, which only reads. May change at any time.

The connectors of a platform, each with the mailboxes and domains that send through it; optionally,
chosen mailboxes and domains looked up (each must exist), which is how the role checks its input
before its first write.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible_collections.ovhcloud.exchange.plugins.module_utils._errors import InputError
from ansible_collections.ovhcloud.exchange.plugins.module_utils._exchange import PLATFORM_SERVER, connector_document
from ansible_collections.ovhcloud.exchange.plugins.module_utils._mailbox_connectors import (
    ConnectorNotFound, check_addresses, check_names, explain_unknown_domains, explain_unknown_mailboxes, find_connector)


class ConnectorReport:
    """A plan with nothing to apply: what the platform holds."""

    changed = False
    waits = False

    def __init__(self, result):
        self.warnings = []
        self._result = result

    def apply(self, waiter, wait):
        raise AssertionError("an info module applies nothing")

    def result(self, applied):
        return dict(self._result, changed=False)

    def diff(self):
        return None

    def failure(self):
        return None

    def partial(self):
        return {"changed": False}


def report_connectors(exchange, connector=None, accounts=None, domains=None, platform_server=False):
    """The platform's connectors (or the one named), with their users; ``accounts``/``domains`` looked up too.

    With ``accounts`` or ``domains``, only those mailboxes (domains) are read: each connector then lists
    the ones among them. ``platform_server`` adds the mailboxes and domains on the platform's own server.
    Raises InputError naming every unknown connector, mailbox or domain.
    """
    problems = []
    addresses = check_names(accounts, "accounts", problems) if accounts is not None else None
    if addresses:
        check_addresses(addresses, problems)
    names = check_names(domains, "domains", problems) if domains is not None else None
    if problems:
        raise InputError.listing(problems)
    connectors = exchange.connectors()
    selected = connectors
    if connector is not None and str(connector).strip() != "":
        try:
            selected = [find_connector(connectors, connector)]
        except ConnectorNotFound as error:
            raise InputError.listing([str(error)])
    looking_up = accounts is not None or domains is not None
    strategy = None
    mailboxes, found_domains = [], []
    if selected or looking_up:
        ids = [c.id for c in selected] if connector is not None and not looking_up else None
        mailboxes, found_domains, strategy = exchange.connector_users(
            ids, mailboxes=addresses if looking_up else None, domains=names if looking_up else None)
    if looking_up:
        _check_found(exchange, addresses or [], names or [], mailboxes, found_domains)
    result = {"connectors": [], "read_strategy": strategy}
    for found in sorted(selected, key=lambda c: c.id):
        entry = connector_document(found)
        entry["accounts"] = sorted((m.address for m in mailboxes if m.connector_id == found.id), key=str.lower)
        entry["default_for_domains"] = sorted(d.name for d in found_domains if d.default_connector_id == found.id)
        result["connectors"].append(entry)
    if platform_server:
        result["platform_server"] = _platform_server_entry(
            exchange, mailboxes, found_domains, read_all=bool(selected) and connector is None and not looking_up)
    if looking_up:
        labels = dict((c.id, c.name) for c in connectors)
        result["accounts"] = [{"account": m.address, "connector": _ref(labels, m.connector_id)}
                              for m in sorted(mailboxes, key=lambda m: m.address.lower())]
        result["domains"] = [{"domain": d.name, "connector": _ref(labels, d.default_connector_id)}
                             for d in sorted(found_domains, key=lambda d: d.name)]
    return ConnectorReport(result)


def _platform_server_entry(exchange, mailboxes, domains, read_all):
    """Who sends through the platform's own server: taken from the full read when there was one, else read filtered."""
    if not read_all:
        mailboxes, domains = exchange.platform_server_users()
    return {"id": PLATFORM_SERVER,
            "accounts": sorted((m.address for m in mailboxes if m.connector_id == PLATFORM_SERVER), key=str.lower),
            "default_for_domains": sorted(d.name for d in domains if d.default_connector_id == PLATFORM_SERVER)}


def _ref(labels, connector_id):
    return {"id": connector_id, "name": labels.get(connector_id) if connector_id else None}


def _check_found(exchange, addresses, names, mailboxes, domains):
    known_addresses = set(m.address.lower() for m in mailboxes)
    known_domains = set(d.name.lower() for d in domains)
    problems = []
    missing = [address for address in addresses if address.lower() not in known_addresses]
    if missing:
        problems.extend(explain_unknown_mailboxes(exchange, missing))
    missing = [name for name in names if name.lower() not in known_domains]
    if missing:
        problems.extend(explain_unknown_domains(exchange, missing))
    if problems:
        raise InputError.listing(problems)
