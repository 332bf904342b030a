#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 ovhcloud.exchange contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
module: exchange_send_connector_info
short_description: List the send connectors of an OVHcloud Exchange platform, with who uses them
version_added: 0.1.0
description:
  - Lists the send connectors (SMTP smart hosts) of a Private or Trusted Exchange platform with all their fields, and
    for each one the mailboxes bound to it and the domains that use it as their default for new mailboxes.
  - Reads everything in a handful of requests (paged object lists where the API offers them), whatever the number of
    mailboxes.
  - Never changes anything.
author:
  - ovhcloud.exchange contributors (@ovhcloud-exchange)
extends_documentation_fragment:
  - ovhcloud.exchange.ovh
  - ovhcloud.exchange.ovh.platform
  - ovhcloud.exchange.ovh.bulk
  - ovhcloud.exchange.ovh.attributes
attributes:
  check_mode:
    support: full
    details:
      - The module only reads.
  diff_mode:
    support: none
    details:
      - The module changes nothing.
options:
  connector:
    description:
      - Only this send connector, by display name or by id. An unknown one is an error.
      - Unset lists every connector of the platform.
    type: str
  accounts:
    description:
      - Mailboxes to look up, by primary address. Each must exist on the platform, or the module fails naming every
        unknown one (and whether its domain belongs to the platform). Their connectors are in RV(accounts).
      - Only these mailboxes are read then, so RV(connectors[].accounts) lists the ones among them.
    type: list
    elements: str
  domains:
    description:
      - Domains to look up. Each must be a domain of the platform, or the module fails naming every unknown one. Their
        default connectors are in RV(domains).
      - Only these domains are read then, so RV(connectors[].default_for_domains) lists the ones among them.
    type: list
    elements: str
seealso:
  - module: ovhcloud.exchange.exchange_send_connector
  - module: ovhcloud.exchange.exchange_account_connector
  - module: ovhcloud.exchange.exchange_domain_default_sbr
'''

EXAMPLES = r'''
- name: A relay (see ovhcloud.exchange.exchange_send_connector)
  ovhcloud.exchange.exchange_send_connector:
    organization: private-zz111111-1
    smart_host: smtp-relay.example.com
    name: smtp-relay

- name: Send the newsletter mailbox through it (see ovhcloud.exchange.exchange_account_connector)
  ovhcloud.exchange.exchange_account_connector:
    organization: private-zz111111-1
    connector: smtp-relay
    account: newsletter@mydomain.ovh

- name: Every connector of the platform, with its mailboxes and domains
  ovhcloud.exchange.exchange_send_connector_info:
    organization: private-zz111111-1
  register: connectors

- name: Who sends through the relay
  ovhcloud.exchange.exchange_send_connector_info:
    organization: private-zz111111-1
    connector: smtp-relay
  register: relay

- name: Show its mailboxes
  ansible.builtin.debug:
    msg: "{{ relay.connectors[0].accounts }}"

- name: Fail unless these mailboxes and domains exist, and show their connectors
  ovhcloud.exchange.exchange_send_connector_info:
    organization: private-zz111111-1
    accounts: [newsletter@mydomain.ovh]
    domains: [mydomain.ovh]
'''

RETURN = r'''
connectors:
  description: The send connectors, by id, as the API returns them plus RV(connectors[].accounts) and
    RV(connectors[].default_for_domains).
  returned: success
  type: list
  elements: dict
  sample:
    - id: 29
      displayName: smtp-relay
      smartHost: smtp-relay.example.com
      port: 587
      requireTLS: true
      smartHostAuthMechanism: basicAuthRequireTLS
      maxSendSize: 100
      dnsRouting: false
      default: false
      state: ok
      taskPendingId: 0
      creationDate: "2023-09-25T14:06:02+02:00"
      lastUpdateDate: null
      accounts: [newsletter@mydomain.ovh]
      default_for_domains: [mydomain.ovh]
  contains:
    id:
      description: The connector's id.
      type: int
      sample: 29
    displayName:
      description: Its name.
      type: str
      sample: smtp-relay
    smartHost:
      description: The relay it sends through.
      type: str
      sample: smtp-relay.example.com
    port:
      description: The relay's port.
      type: int
      sample: 587
    requireTLS:
      description: Whether mail is sent with TLS only.
      type: bool
      sample: true
    smartHostAuthMechanism:
      description: How it authenticates to the relay.
      type: str
      sample: basicAuthRequireTLS
    maxSendSize:
      description: Largest message, in MB.
      type: int
      sample: 100
    dnsRouting:
      description: Whether it routes through the recipients' MX records.
      type: bool
      sample: false
    default:
      description: Whether it is the platform's default connector.
      type: bool
      sample: false
    state:
      description: Its state (V(ok), V(creating), V(deleting)...).
      type: str
      sample: ok
    taskPendingId:
      description: The task running on it, V(0) if none.
      type: int
      sample: 0
    creationDate:
      description: When it was created.
      type: str
      sample: "2023-09-25T14:06:02+02:00"
    lastUpdateDate:
      description: When it was last changed.
      type: str
      sample: null
    accounts:
      description: The mailboxes bound to it, by primary address.
      type: list
      elements: str
      sample: [newsletter@mydomain.ovh]
    default_for_domains:
      description: The domains whose new mailboxes get it by default.
      type: list
      elements: str
      sample: [mydomain.ovh]
accounts:
  description: The mailboxes of O(accounts), each with the connector it sends through (id V(0) is the platform's own server).
  returned: when O(accounts) or O(domains) is given
  type: list
  elements: dict
  sample: [{"account": "newsletter@mydomain.ovh", "connector": {"id": 29, "name": "smtp-relay"}}]
domains:
  description: The domains of O(domains), each with its default connector for new mailboxes.
  returned: when O(accounts) or O(domains) is given
  type: list
  elements: dict
  sample: [{"domain": "mydomain.ovh", "connector": {"id": 0, "name": null}}]
read_strategy:
  description: How the mailboxes were read (V(object_list), V(batch) or V(single)); V(null) when there was nothing
    to read.
  returned: success
  type: str
  sample: object_list
endpoint_source:
  description:
    - Where the API endpoint came from, C(option), C(environment) (E(OVH_ENDPOINT)) or C(ovh.conf (<path>)).
    - An C(ovh.conf) in the working directory also gives a warning.
  returned: success
  type: str
  sample: option
api_calls:
  description: The requests this task made to the OVH API.
  returned: always
  type: dict
  sample: {"total": 4, "by_method": {"GET": 4}, "retries": 0}
'''

from ansible_collections.ovhcloud.exchange.plugins.module_utils._connector_info import report_connectors
from ansible_collections.ovhcloud.exchange.plugins.module_utils._runner import run_api_module

OPTIONS = dict(
    connector=dict(type='str'),
    accounts=dict(type='list', elements='str'),
    domains=dict(type='list', elements='str'),
)


def plan(exchange, params):
    return report_connectors(exchange, params['connector'], accounts=params['accounts'], domains=params['domains'])


def main():
    run_api_module(OPTIONS, plan, wait=False, bulk=True)


if __name__ == '__main__':
    main()
