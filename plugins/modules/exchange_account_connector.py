#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 ovhcloud.exchange contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
module: exchange_account_connector
short_description: Bind many OVHcloud Exchange mailboxes to a send connector in one task
version_added: 0.1.0
description:
  - Binds mailboxes of a Private or Trusted Exchange platform to a send connector (SMTP smart host), or moves them
    back to the platform's own outgoing server (connector id V(0)).
  - Made for hundreds or thousands of mailboxes in one task; do not loop over it. The whole mailbox list is read in
    as few requests as the API allows (paged object lists, else batch reads, else one read per mailbox), only the
    mailboxes that must change are written, in parallel, and all their tasks are awaited at once.
  - Every mailbox is checked before anything is written. Unknown mailboxes, duplicates, addresses on a domain of
    another platform and an unknown connector are refused, each named.
  - If some writes fail, the module fails and reports exactly which mailboxes changed, which failed and why, and which
    were not attempted. Running it again changes only what is still different.
  - A refusal of the credentials (the consumer key lacks the PUT rule), an API that cannot be reached, throttling
    past O(wait_timeout) or a cancelled run stops the writes at once, with one message naming the cause (for a
    refusal, the access rule to grant, with a wildcard for the mailboxes).
author:
  - ovhcloud.exchange contributors (@ovhcloud-exchange)
extends_documentation_fragment:
  - ovhcloud.exchange.ovh
  - ovhcloud.exchange.ovh.platform
  - ovhcloud.exchange.ovh.wait
  - ovhcloud.exchange.ovh.bulk
  - ovhcloud.exchange.ovh.attributes
attributes:
  idempotent:
    description: When run twice in a row outside check mode, with the same arguments, the second invocation
      indicates no change.
    support: full
    details:
      - The second run makes no write call.
options:
  accounts:
    description:
      - The mailboxes, by primary e-mail address. Case does not matter.
      - With O(exclusive=true), an empty list unbinds every mailbox bound to O(connector).
      - Exactly one of O(accounts) and O(account) is required.
    type: list
    elements: str
  account:
    description:
      - One mailbox, for a single binding. Same as O(accounts) with one item.
    type: str
  connector:
    description:
      - The send connector, by display name or by id.
      - "V(0) is the platform's own outgoing server: with O(state=present) the mailboxes send without a
        connector, whatever they used before (the case of V(contact@) in OVHcloud's guide)."
      - A name shared by several connectors is refused; give the id then.
    type: str
    required: true
  state:
    description:
      - V(present) binds the mailboxes to O(connector).
      - V(absent) moves the mailboxes bound to O(connector) back to the platform's own server (V(0)). A listed
        mailbox bound to another connector is left alone and reported as V(skipped).
    type: str
    choices: [present, absent]
    default: present
  exclusive:
    description:
      - With V(true), the listed mailboxes become exactly the set bound to O(connector) - mailboxes bound to it and not
        listed go back to the platform's own server.
      - With V(false), mailboxes that are not listed are never touched.
      - Only with O(state=present).
    type: bool
    default: false
notes:
  - A mailbox with a task still running is waited for (up to O(wait_timeout)) before it is written, since the API
    refuses a change to a busy mailbox.
seealso:
  - module: ovhcloud.exchange.exchange_send_connector
  - module: ovhcloud.exchange.exchange_domain_default_sbr
  - module: ovhcloud.exchange.exchange_send_connector_info
'''

EXAMPLES = r'''
- name: The relay the mailboxes will send through (see ovhcloud.exchange.exchange_send_connector)
  ovhcloud.exchange.exchange_send_connector:
    organization: private-zz111111-1
    name: smtp-relay
    smart_host: smtp-relay.example.com
    port: 587
    require_tls: true

- name: Send the newsletter and sales mailboxes through the relay
  ovhcloud.exchange.exchange_account_connector:
    organization: private-zz111111-1
    connector: smtp-relay
    accounts:
      - newsletter@mydomain.ovh
      - sales@mydomain.ovh

- name: Exactly these mailboxes use the relay; every other one bound to it goes back to the platform's server
  ovhcloud.exchange.exchange_account_connector:
    organization: private-zz111111-1
    connector: smtp-relay
    accounts: "{{ relay_mailboxes }}"
    exclusive: true
    parallel: 4
    max_requests_per_second: 1

- name: Move one mailbox back to the platform's own server
  ovhcloud.exchange.exchange_account_connector:
    organization: private-zz111111-1
    connector: smtp-relay
    account: newsletter@mydomain.ovh
    state: absent
'''

RETURN = r'''
connector:
  description: The send connector of the task.
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
accounts:
  description:
    - One entry per listed mailbox, plus (with O(exclusive=true)) each mailbox unbound because it is not listed.
    - In check mode, V(bound) and V(unbound) say what would be done.
  returned: always, also on a partial failure
  type: list
  elements: dict
  sample:
    - account: newsletter@mydomain.ovh
      before: {"id": 0, "name": null}
      after: {"id": 29, "name": "smtp-relay"}
      status: bound
      task_id: 113924190
  contains:
    account:
      description: The mailbox's primary address, as the API spells it.
      type: str
      sample: newsletter@mydomain.ovh
    before:
      description: Its connector before the task; id V(0) (name V(null)) is the platform's own server.
      type: dict
      sample: {"id": 0, "name": null}
    after:
      description: Its connector after the task (for a failed mailbox, the one it still has).
      type: dict
      sample: {"id": 29, "name": "smtp-relay"}
    status:
      description: What happened to it.
      type: str
      choices: [bound, unbound, unchanged, skipped, failed, not_attempted]
      sample: bound
    task_id:
      description: The OVH task that carries its change.
      type: int
      returned: when a task was queued
      sample: 113924190
    error:
      description: Why it could not be changed.
      type: str
      returned: when RV(accounts[].status=failed)
      sample: "PUT /email/exchange/.../account/newsletter%40mydomain.ovh: conflict (...)"
    reason:
      description: Why it was left alone.
      type: str
      returned: when RV(accounts[].status=skipped)
      sample: "bound to other-relay (31): left alone"
    note:
      description:
        - A change that went through although its task reported an error (OVH retried the task).
        - Or a change the API accepted when the run stopped before its OVH task could be read.
      type: str
      returned: when the task failed but the mailbox, read back, shows the change, or the run stopped after the write
      sample: "task 113924190 (setAccount) ended with status 'error', yet newsletter@mydomain.ovh shows the change (OVH retried it)"
counts:
  description: How many mailboxes had each status.
  returned: always, also on a partial failure
  type: dict
  sample: {"bound": 300, "unbound": 0, "unchanged": 0, "skipped": 0, "failed": 0, "not_attempted": 0}
  contains:
    bound:
      description: Mailboxes moved to the connector.
      type: int
    unbound:
      description: Mailboxes moved back to the platform's own server.
      type: int
    unchanged:
      description: Mailboxes already right.
      type: int
    skipped:
      description: Mailboxes left alone (O(state=absent), bound to another connector).
      type: int
    failed:
      description: Mailboxes whose write failed.
      type: int
    not_attempted:
      description: Mailboxes not written because the task stopped first (a refusal, the API gone, a cancel).
      type: int
task_ids:
  description:
    - The OVH tasks of the changes that were still running when the module read the objects back (the API answers
      a change with no task id; a task already over by then is not listed).
  returned: always
  type: list
  elements: int
  sample: [113924190, 113924191]
read_strategy:
  description:
    - How the mailboxes were read. V(object_list) is one request per page of full objects, V(batch) the list of
      addresses then batch reads, V(single) the list then one read per mailbox.
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
  sample: {"total": 305, "by_method": {"GET": 5, "PUT": 300}, "retries": 0}
problems:
  description: Every input problem found, when the input was refused before any write.
  returned: when the input is refused
  type: list
  elements: str
  sample: ["ghost@mydomain.ovh: no such mailbox on platform private-zz111111-1"]
'''

from ansible_collections.ovhcloud.exchange.plugins.module_utils._mailbox_connectors import plan_mailbox_connectors
from ansible_collections.ovhcloud.exchange.plugins.module_utils._runner import run_api_module

OPTIONS = dict(
    accounts=dict(type='list', elements='str'),
    account=dict(type='str'),
    connector=dict(type='str', required=True),
    state=dict(type='str', choices=['present', 'absent'], default='present'),
    exclusive=dict(type='bool', default=False),
)


def plan(exchange, params):
    accounts = params['accounts'] if params['account'] is None else [params['account']]
    return plan_mailbox_connectors(exchange, accounts, params['connector'], state=params['state'],
                                   exclusive=params['exclusive'])


def main():
    run_api_module(OPTIONS, plan, bulk=True, mutually_exclusive=[('accounts', 'account')],
                   required_one_of=[('accounts', 'account')])


if __name__ == '__main__':
    main()
