#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 ovhcloud.exchange contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
module: exchange_send_connector
short_description: Manage a send connector (SMTP smart host) of an OVHcloud Private or Trusted Exchange
version_added: 0.1.0
description:
  - Create, update or delete a send connector of an OVHcloud Private or Trusted Exchange platform, the SMTP smart
    host through which the platform relays the mail of the mailboxes bound to it.
  - A connector is identified by its display name O(name), or by its O(id) when several share a name.
  - Only the options you set are managed; the others are left as they are.
  - Binding mailboxes to a connector is done with M(ovhcloud.exchange.exchange_account_connector), making it the
    default of a domain with M(ovhcloud.exchange.exchange_domain_default_sbr).
author:
  - ovhcloud.exchange contributors (@ovhcloud-exchange)
extends_documentation_fragment:
  - ovhcloud.exchange.ovh
  - ovhcloud.exchange.ovh.platform
  - ovhcloud.exchange.ovh.wait
  - ovhcloud.exchange.ovh.attributes
attributes:
  idempotent:
    description: When run twice in a row outside check mode with the same arguments, the second invocation indicates no change.
    support: partial
    details:
      - With O(update_password=always) the password is sent on every run, which reports a change every time.
options:
  name:
    description:
      - Display name of the connector, its identity. Required unless O(id) is given.
      - Names match exactly, case included. A name that differs from an existing connector's only by case (V(Relay-E)
        beside V(relay-e)) is refused before any write, naming that connector, rather than creating a look-alike second
        one; write the name as it is, or give O(id) to rename it.
      - With O(id), a different O(name) renames the connector (refused the same way if another connector has that name
        but for case).
    type: str
  id:
    description:
      - Id of the connector, to manage one whose name is shared or to rename one.
      - OVH chooses the id on creation, so O(id) never creates a connector.
    type: int
  state:
    description:
      - V(present) creates or updates the connector, V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  smart_host:
    description:
      - Host name or IP address of the relay (smart host) all mail of the connector goes to. Required to create.
      - Only the host. A scheme (V(smtp://)), a port (V(:587), which goes in O(port)), a path, a user, spaces or a
        trailing dot are refused before any request, with the value to write instead. An international (IDN) name is
        sent in its ASCII form (V(xn--...)), an IP address in its canonical form.
      - Compared with the stored value exactly but for case (DNS names are case-insensitive), so a stored value with a
        space, a scheme, a port or a trailing dot is rewritten by the next run.
    type: str
  port:
    description:
      - TCP port of the smart host, 1 to 65535. OVH uses 25 when it is not set on creation.
      - Exchange connectors speak STARTTLS; port 465 (implicit TLS) gets a warning.
    type: int
  require_tls:
    description:
      - Send every message through this connector with TLS.
    type: bool
  auth_mechanism:
    description:
      - How the connector authenticates to the smart host.
      - V(basicAuth) and V(basicAuthRequireTLS) need O(user), and O(password) on creation or when switching from V(none).
      - Changed through the API's C(changeAuthentication) call.
    type: str
    choices: [none, basicAuth, basicAuthRequireTLS]
  user:
    description:
      - User name for the smart host. The API never returns it, so a changed user is sent only along with
        an authentication change or with O(update_password=always).
    type: str
  password:
    description:
      - Password for the smart host. The API never returns it; see O(update_password).
    type: str
  update_password:
    description:
      - V(on_create) sends O(password) only when the connector is created or its O(auth_mechanism) changes; a
        O(password) given for an existing connector is then not sent, and the module warns, naming
        V(update_password=always).
      - V(always) sends O(user) and O(password) on every run (a change is then reported every time); the diff's
        C(after) shows C(authentication) V(re-sent), never the values.
    type: str
    choices: [always, on_create]
    default: on_create
  max_send_size:
    description:
      - Largest message the connector accepts, in MB, 1 to 100. OVH uses 100 when it is not set on creation.
    type: int
  dns_routing:
    description:
      - Route mail with the DNS MX records of the recipients' domains instead of the smart host.
      - The API sets it only on an existing connector, so on creation with V(true) the module waits for the creation
        task, then updates the connector.
    type: bool
  force:
    description:
      - With O(state=absent), a connector still used by mailboxes or as a domain default is deleted only with
        V(true), which first sends those mailboxes and domains back through the platform's own server (connector
        id 0). Without it the module fails and lists them.
      - The diff names them (in check mode too) - C(before) lists them under C(accounts) and
        C(default_for_domains), C(after) under C(moved_to_platform_server) - and so does RV(moves).
    type: bool
    default: false
  allow_unsupported_offer:
    description:
      - OVH supports send connectors only on Private (V(dedicated)) and Trusted (V(dedicatedCluster)) Exchange; on
        another offer (V(hosted), V(provider)) the module fails before any write unless this is V(true).
      - With V(true) the connector is created with a warning, since OVH's guide says one on another offer can be
        disabled by OVH at any time.
    type: bool
    default: false
notes:
  - The connector's user and password are never returned by the API, never shown in the diff and never logged.
  - OVH may list a new connector only once its creation task has ended. The module follows that task, then finds
    the connector; if the connector is not found by name while connector creations are running on the platform,
    it waits for them (even with O(wait=false), within O(wait_timeout)) before creating, so that a rerun never
    creates a second connector. With O(wait=false) a created connector that is not listed yet is returned with
    RV(id) null and its creation task in RV(task_ids).
seealso:
  - module: ovhcloud.exchange.exchange_account_connector
  - module: ovhcloud.exchange.exchange_domain_default_sbr
'''

EXAMPLES = r'''
- name: Relay the platform's outgoing mail through an SMTP relay with authentication
  ovhcloud.exchange.exchange_send_connector:
    organization: private-zz111111-1
    name: relay-eu
    smart_host: smtp-relay.example.com
    port: 587
    require_tls: true
    auth_mechanism: basicAuthRequireTLS
    user: relay-user
    password: "{{ vault_relay_password }}"
  register: relay

- name: Credentials once for every module of the collection
  module_defaults:
    group/ovhcloud.exchange.ovh:
      endpoint: "{{ ovh_endpoint }}"  # ovh-eu, ovh-ca or ovh-us
      application_key: "{{ vault_ovh_application_key }}"
      application_secret: "{{ vault_ovh_application_secret }}"
      consumer_key: "{{ vault_ovh_consumer_key }}"
      organization: private-zz111111-1
  block:
    - name: Lower the message size limit
      ovhcloud.exchange.exchange_send_connector:
        name: relay-eu
        max_send_size: 50

    - name: Delete a connector, moving its mailboxes back to the platform's own server
      ovhcloud.exchange.exchange_send_connector:
        name: old-relay
        state: absent
        force: true
'''

RETURN = r'''
connector:
  description:
    - The connector as the API returns it (C(email.exchange.sendConnector)), read after the change when O(wait=true).
    - In check mode, the connector as it would be; its id is null when it would be created.
    - Null when the connector is absent, or created with O(wait=false) and not listed yet.
    - On a failed OVH task, the connector as read back after the failure (null when a failed creation left none).
  returned: always
  type: dict
  sample:
    id: 29
    displayName: relay-eu
    smartHost: smtp-relay.example.com
    port: 587
    requireTLS: true
    smartHostAuthMechanism: basicAuthRequireTLS
    maxSendSize: 100
    dnsRouting: false
    default: false
    state: ok
    taskPendingId: 0
    creationDate: "2026-01-05T10:00:00+01:00"
    lastUpdateDate: null
operation:
  description:
    - What the module did to the connector (in check mode, what it would do), for playbooks and roles to act on.
  returned: always
  type: str
  choices: [created, updated, deleted, unchanged]
  sample: created
moves:
  description:
    - The mailboxes and domains that a deletion with O(force=true) sends back through the platform's own server (in
      check mode, that it would send back). Empty lists otherwise.
  returned: always
  type: dict
  sample: {"accounts": ["newsletter@mydomain.ovh"], "domains": ["mydomain.ovh"]}
  contains:
    accounts:
      description: Mailboxes, by primary address, that used the connector.
      type: list
      elements: str
    domains:
      description: Domains whose default for new mailboxes was the connector.
      type: list
      elements: str
id:
  description: Id of the connector; null when absent or not created yet (check mode).
  returned: always
  type: int
  sample: 29
task_ids:
  description: Ids of the OVH tasks the changes queued, to follow them later when O(wait=false).
  returned: always
  type: list
  elements: int
  sample: [113924189]
actions:
  description: The writes made (or, in check mode, that would be made), without secrets.
  returned: always
  type: list
  elements: str
  sample: ["POST sendConnector"]
endpoint_source:
  description:
    - Where the API endpoint came from, C(option), C(environment) (E(OVH_ENDPOINT)) or C(ovh.conf (<path>)).
    - An C(ovh.conf) in the working directory also gives a warning.
  returned: success
  type: str
  sample: option
api_calls:
  description: Requests this run made to the OVH API (OVH's fair use is about 60 requests a minute per key).
  returned: always
  type: dict
  contains:
    total:
      description: All requests, retries included (not the SDK's one unsigned clock request).
      type: int
    by_method:
      description: Requests by HTTP method.
      type: dict
    retries:
      description: Requests that were retries after a rate limit, a server error or a network error.
      type: int
  sample: {"total": 2, "by_method": {"GET": 2}, "retries": 0}
'''

from ansible_collections.ovhcloud.exchange.plugins.module_utils._connectors import SETTINGS, Wanted, plan_send_connector
from ansible_collections.ovhcloud.exchange.plugins.module_utils._runner import run_api_module

OPTIONS = dict(
    name=dict(type="str"),
    id=dict(type="int"),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    smart_host=dict(type="str"),
    port=dict(type="int"),
    require_tls=dict(type="bool"),
    auth_mechanism=dict(type="str", choices=["none", "basicAuth", "basicAuthRequireTLS"]),
    user=dict(type="str"),
    password=dict(type="str", no_log=True),
    update_password=dict(type="str", choices=["always", "on_create"], default="on_create", no_log=False),
    max_send_size=dict(type="int"),
    dns_routing=dict(type="bool"),
    force=dict(type="bool", default=False),
    allow_unsupported_offer=dict(type="bool", default=False),
)


def plan(exchange, params):
    return plan_send_connector(exchange, Wanted(
        name=params["name"], connector_id=params["id"], state=params["state"],
        settings=dict((option, params[option]) for option in SETTINGS), update_password=params["update_password"],
        force=params["force"], allow_unsupported_offer=params["allow_unsupported_offer"], wait=params["wait"]))


def main():
    run_api_module(OPTIONS, plan, required_one_of=[["name", "id"]])


if __name__ == "__main__":
    main()
