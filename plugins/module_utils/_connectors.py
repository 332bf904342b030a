# -*- coding: utf-8 -*-
# Copyright (c) 2026 ovhcloud.exchange contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""PRIVATE: send connectors of an Exchange platform. May change at any time without notice."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible_collections.ovhcloud.exchange.plugins.module_utils import _bulk

# sendConnectorId 0 (or null) on a mailbox or a domain means the platform's own outgoing server.
PLATFORM_SERVER = 0


class ConnectorNotFound(Exception):
    """A connector name or id that matches no connector, or a name shared by several; str() says which."""


def list_connectors(client, **bulk_options):
    """Every send connector of the platform as full objects, in one request when the gateway pages objects."""
    connectors, dummy = _bulk.list_objects(client, client.service_path('sendConnector'),
                                           lambda key: client.service_path('sendConnector', key), **bulk_options)
    return connectors


def find_connector(connectors, name_or_id):
    """The connector whose id (a number) or displayName is `name_or_id`; raises ConnectorNotFound."""
    text = str(name_or_id).strip()
    if text.isdigit():
        for connector in connectors:
            if connector.get('id') == int(text):
                return connector
    named = [connector for connector in connectors if connector.get('displayName') == text]
    if len(named) == 1:
        return named[0]
    if named:
        raise ConnectorNotFound('several send connectors are named {0!r} (ids {1}): give the id instead of the name'.format(
            text, ', '.join(str(connector.get('id')) for connector in named)))
    known = ', '.join('{0} ({1})'.format(c.get('displayName'), c.get('id')) for c in connectors) or 'none'
    raise ConnectorNotFound('no send connector has the name or id {0!r} on this platform (connectors: {1})'.format(text, known))
