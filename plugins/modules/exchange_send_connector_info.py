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
  parallel:
    description:
      - How many read requests may run at the same time, when the API offers no faster read than one per mailbox.
    type: int
    default: 8
  max_requests_per_second:
    description:
      - Client-side limit of requests started per second for one-by-one reads. Unset means no limit.
    type: float
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
read_strategy:
  description: How the mailboxes were read (V(object_list), V(batch) or V(single)); V(null) when there was nothing
    to read.
  returned: success
  type: str
  sample: object_list
api_calls:
  description: The requests this task made to the OVH API.
  returned: always
  type: dict
  sample: {"total": 4, "by_method": {"GET": 4}, "retries": 0}
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.ovhcloud.exchange.plugins.module_utils._bindings import (
    bulk_options, connector_usage, run_module)
from ansible_collections.ovhcloud.exchange.plugins.module_utils._client import api_argument_spec


def main():
    argument_spec = api_argument_spec(
        wait=False,
        connector=dict(type='str'),
        parallel=dict(type='int', default=8),
        max_requests_per_second=dict(type='float'),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    run_module(module, lambda client: (connector_usage(client, module.params['connector'],
                                                       bulk=bulk_options(module.params)), None))


if __name__ == '__main__':
    main()
