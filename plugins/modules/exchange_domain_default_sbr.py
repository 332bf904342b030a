#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 ovhcloud.exchange contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
module: exchange_domain_default_sbr
short_description: Set the default send connector of OVHcloud Exchange domains
version_added: 0.1.0
description:
  - Sets the send connector (SMTP smart host) that new mailboxes of a domain of a Private or Trusted Exchange platform
    get, or resets it to the platform's own outgoing server (connector id V(0)). This is the API's
    C(changeDefaultSBR) call, SBR standing for sender-based routing.
  - The default applies to mailboxes created on the domain B(after) the change. Existing mailboxes keep their
    connector; bind them with M(ovhcloud.exchange.exchange_account_connector). The module says so in RV(note) when
    it sets a default.
  - Every domain and the connector are checked before anything is written.
author:
  - ovhcloud.exchange contributors (@ovhcloud-exchange)
extends_documentation_fragment:
  - ovhcloud.exchange.ovh
  - ovhcloud.exchange.ovh.platform
  - ovhcloud.exchange.ovh.wait
  - ovhcloud.exchange.ovh.attributes
attributes:
  idempotent:
    description: When run twice in a row outside check mode, with the same arguments, the second invocation
      indicates no change.
    support: full
    details:
      - The second run makes no write call.
options:
  domains:
    description:
      - The domains of the platform. Exactly one of O(domains) and O(domain) is required.
    type: list
    elements: str
  domain:
    description:
      - One domain. Same as O(domains) with one item.
    type: str
  connector:
    description:
      - The send connector, by display name or by id. Required with O(state=present).
    type: str
  state:
    description:
      - V(present) makes O(connector) the default of the domains.
      - V(absent) resets the default to the platform's own server (V(0)); O(connector) is then ignored.
    type: str
    choices: [present, absent]
    default: present
seealso:
  - module: ovhcloud.exchange.exchange_account_connector
  - module: ovhcloud.exchange.exchange_send_connector_info
'''

EXAMPLES = r'''
- name: The relay (see ovhcloud.exchange.exchange_send_connector)
  ovhcloud.exchange.exchange_send_connector:
    organization: private-zz111111-1
    name: smtp-relay
    smart_host: smtp-relay.example.com

- name: New mailboxes of mydomain.ovh send through the relay
  ovhcloud.exchange.exchange_domain_default_sbr:
    organization: private-zz111111-1
    domain: mydomain.ovh
    connector: smtp-relay

- name: New mailboxes of both domains use the platform's own server again
  ovhcloud.exchange.exchange_domain_default_sbr:
    organization: private-zz111111-1
    domains:
      - mydomain.ovh
      - guides.ovh
    state: absent
'''

RETURN = r'''
connector:
  description: The send connector of the task (V(null) with O(state=absent)).
  returned: success
  type: dict
  sample: {"id": 29, "name": "smtp-relay"}
  contains:
    id:
      description: Its id.
      type: int
      sample: 29
    name:
      description: Its display name.
      type: str
      sample: smtp-relay
domains:
  description: One entry per domain.
  returned: always, also on a partial failure
  type: list
  elements: dict
  sample:
    - domain: mydomain.ovh
      before: {"id": 0, "name": null}
      after: {"id": 29, "name": "smtp-relay"}
      status: set
  contains:
    domain:
      description: The domain's name.
      type: str
      sample: mydomain.ovh
    before:
      description: Its default connector before the task; id V(0) (name V(null)) is the platform's own server.
      type: dict
      sample: {"id": 0, "name": null}
    after:
      description: Its default connector after the task (for a failed domain, the one it still has).
      type: dict
      sample: {"id": 29, "name": "smtp-relay"}
    status:
      description: What happened to it (in check mode, what would).
      type: str
      choices: [set, reset, unchanged, failed, not_attempted]
      sample: set
    task_id:
      description: The OVH task that carries the change.
      type: int
      returned: when a task was queued
      sample: 113924195
    error:
      description: Why it could not be changed.
      type: str
      returned: when RV(domains[].status=failed)
      sample: "task 113924195 (setDomain) ended with status 'error': mydomain.ovh still uses the platform's own server (0); run again to retry"
    note:
      description: A change that went through although its task reported an error (OVH retried the task).
      type: str
      returned: when the task failed but the domain, read back, shows the change
      sample: "task 113924195 (setDomain) ended with status 'error', yet mydomain.ovh shows the change (OVH retried it)"
counts:
  description: How many domains had each status.
  returned: always, also on a partial failure
  type: dict
  sample: {"set": 1, "reset": 0, "unchanged": 1, "failed": 0, "not_attempted": 0}
  contains:
    set:
      description: Domains whose default became the connector.
      type: int
    reset:
      description: Domains whose default went back to the platform's own server.
      type: int
    unchanged:
      description: Domains already right.
      type: int
    failed:
      description: Domains whose write failed.
      type: int
    not_attempted:
      description: Domains not written because the task stopped first (a refusal, the API gone, a cancel).
      type: int
note:
  description: A reminder that a new default applies only to mailboxes created later on the domain.
  returned: when a default was set (or would be, in check mode)
  type: str
  sample: "the default connector of a domain applies to mailboxes created on it from now on; existing mailboxes keep
    their connector (bind them with ovhcloud.exchange.exchange_account_connector)"
task_ids:
  description:
    - The OVH tasks of the changes that were still running when the module read the objects back (the API answers
      a change with no task id; a task already over by then is not listed).
  returned: always
  type: list
  elements: int
  sample: [113924195]
read_strategy:
  description: How the domains were read (V(object_list), V(batch) or V(single)).
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
  sample: {"total": 5, "by_method": {"GET": 4, "PUT": 1}, "retries": 0}
problems:
  description: Every input problem found, when the input was refused before any write.
  returned: when the input is refused
  type: list
  elements: str
  sample: ["example.org is not a domain of platform private-zz111111-1 (its domains: guides.ovh, mydomain.ovh)"]
'''

from ansible_collections.ovhcloud.exchange.plugins.module_utils._mailbox_connectors import plan_domain_defaults
from ansible_collections.ovhcloud.exchange.plugins.module_utils._runner import run_api_module

OPTIONS = dict(
    domains=dict(type='list', elements='str'),
    domain=dict(type='str'),
    connector=dict(type='str'),
    state=dict(type='str', choices=['present', 'absent'], default='present'),
)


def plan(exchange, params):
    domains = params['domains'] if params['domain'] is None else [params['domain']]
    return plan_domain_defaults(exchange, domains, params['connector'], state=params['state'])


def main():
    run_api_module(OPTIONS, plan, mutually_exclusive=[('domains', 'domain')], required_one_of=[('domains', 'domain')],
                   required_if=[('state', 'present', ('connector',))])


if __name__ == '__main__':
    main()
