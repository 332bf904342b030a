# -*- coding: utf-8 -*-
# Copyright (c) 2026 ovhcloud.exchange contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
name: exchange_services
short_description: The Exchange platforms of an OVHcloud account, as inventory hosts
version_added: 0.1.0
description:
  - Lists the Exchange services that the OVH API credentials can see (C(GET /email/exchange), then each
    organization's services and each service's details) and makes one host per service, named after the service
    (for Private and Trusted Exchange, the platform name, for example C(private-zz111111-1)).
  - By default only the offers that can have send connectors are kept (Private and Trusted Exchange,
    V(dedicated) and V(dedicatedCluster)); the services it leaves out (V(hosted), V(provider)) are named in a warning.
  - Every host is in the group O(group) and gets the variables C(ovh_exchange_organization),
    C(ovh_exchange_service), C(ovh_exchange_offer), C(ovh_exchange_state), C(ovh_exchange_display_name),
    C(ovh_exchange_hostname) (the platform's server) and C(ovh_exchange_domains) (the names of its domains).
  - Reads in few requests, whatever the number of mailboxes, one for the organization list, then for each organization
    kept by O(organizations) one for its service list and one per service, then one for the domains of each service
    kept by O(offers). With O(cache) the next runs make no request at all until the cache expires.
  - The file must be named C(exchange_services.yml), C(exchange_services.yaml), or end with C(.exchange_services.yml)
    or C(.exchange_services.yaml).
author:
  - ovhcloud.exchange contributors (@ovhcloud-exchange)
requirements:
  - ovh >= 1.0.0 (the official OVH Python SDK, on the controller)
extends_documentation_fragment:
  - ansible.builtin.constructed
  - ansible.builtin.inventory_cache
options:
  plugin:
    description: The name of this plugin; makes the file an inventory source of this plugin.
    type: str
    required: true
    choices: [ovhcloud.exchange.exchange_services]
  endpoint:
    description:
      - The OVH API to talk to, a region (V(ovh-eu), V(ovh-ca), V(ovh-us)) or the URL of an API (C(https://host/1.0);
        plain C(http://) is accepted only to a loopback address, for a local simulator).
      - If not set, E(OVH_ENDPOINT) is used (the AWX credential type C(OVHcloud API) injects it), then the
        C(endpoint) key of the C([default]) section of C(ovh.conf).
    type: str
    env:
      - name: OVH_ENDPOINT
  application_key:
    description:
      - Application key of an OVH API application; goes with O(application_secret) and O(consumer_key).
      - Use either application keys or an OAuth2 service account (O(client_id), O(client_secret)), not both.
      - If not set, E(OVH_APPLICATION_KEY) is used, then C(ovh.conf).
    type: str
    env:
      - name: OVH_APPLICATION_KEY
  application_secret:
    description:
      - Application secret of the OVH API application. Keep it out of plain files (E(OVH_APPLICATION_SECRET), an AWX
        credential, or an inline C(!vault) value).
    type: str
    env:
      - name: OVH_APPLICATION_SECRET
  consumer_key:
    description:
      - Consumer key the requests are signed with; it needs only C(GET /email/exchange) and C(GET /email/exchange/*).
      - If not set, E(OVH_CONSUMER_KEY) is used, then C(ovh.conf).
    type: str
    env:
      - name: OVH_CONSUMER_KEY
  client_id:
    description:
      - Client id of an OVH OAuth2 service account, the alternative to application keys.
    type: str
    env:
      - name: OVH_CLIENT_ID
  client_secret:
    description:
      - Client secret of the OAuth2 service account.
    type: str
    env:
      - name: OVH_CLIENT_SECRET
  oauth2_token_url:
    description:
      - Token URL for the OAuth2 service account, needed only when O(endpoint) is a URL whose token URL is not
        C(<scheme>://<host:port>/auth/oauth2/token).
    type: str
    env:
      - name: OVH_OAUTH2_TOKEN_URL
  offers:
    description:
      - Keep only the services of these offers. The default keeps those that can have send connectors.
      - An empty list keeps every offer, V(hosted) included.
    type: list
    elements: str
    default: [dedicated, dedicatedCluster]
  organizations:
    description:
      - Keep only the organizations whose name matches one of these shell patterns (C(private-*)). Organizations left
        out cost no further request.
      - An empty list keeps every organization.
    type: list
    elements: str
    default: []
  domains:
    description:
      - Read the domains of every service kept (one request per service) into C(ovh_exchange_domains).
      - V(false) saves those requests; C(ovh_exchange_domains) is then not set.
    type: bool
    default: true
  group:
    description:
      - The group that every host of this source joins, besides those of O(groups) and O(keyed_groups).
    type: str
    default: ovh_exchange_platforms
'''

EXAMPLES = r'''
# exchange_services.yml: every Private and Trusted Exchange platform of the account (credentials from OVH_*)
plugin: ovhcloud.exchange.exchange_services

# exchange_services.yml: Private platforms only, grouped by offer and by state, with the cache on
plugin: ovhcloud.exchange.exchange_services
organizations:
  - private-*
keyed_groups:
  - key: ovh_exchange_offer
    prefix: offer
  - key: ovh_exchange_state
    prefix: state
groups:
  # Platforms that serve a given domain
  mydomain: "'mydomain.ovh' in ovh_exchange_domains"
compose:
  send_connector_organization: ovh_exchange_organization
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/ovhcloud-exchange-inventory
cache_timeout: 3600

# customer-b.exchange_services.yml: a second OVH account, its keys vaulted inline
# (ansible-vault encrypt_string), every host also in the group customer_b
plugin: ovhcloud.exchange.exchange_services
endpoint: ovh-eu
application_key: 7kbG7Bk7S9Nt7ZSV
application_secret: !vault |
  $ANSIBLE_VAULT;1.1;AES256
  ...
consumer_key: !vault |
  $ANSIBLE_VAULT;1.1;AES256
  ...
groups:
  customer_b: true
'''

import fnmatch
import hashlib
import json

from ansible.errors import AnsibleError
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable
from ansible.utils.display import Display

# The only import of the collection's private layer.
from ansible_collections.ovhcloud.exchange.plugins.module_utils import _exchange
from ansible_collections.ovhcloud.exchange.plugins.module_utils._client import connect
from ansible_collections.ovhcloud.exchange.plugins.module_utils._credentials import HAS_OVH
from ansible_collections.ovhcloud.exchange.plugins.module_utils._errors import OvhApiError

display = Display()

CREDENTIAL_OPTIONS = ("endpoint", "application_key", "application_secret", "consumer_key", "client_id",
                      "client_secret", "oauth2_token_url")
FILE_NAMES = ("exchange_services.yml", "exchange_services.yaml")
VARIABLE_PREFIX = "ovh_exchange_"


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):

    NAME = "ovhcloud.exchange.exchange_services"

    def verify_file(self, path):
        if not super(InventoryModule, self).verify_file(path):
            return False
        return path.endswith(FILE_NAMES)

    def parse(self, inventory, loader, path, cache=True):
        super(InventoryModule, self).parse(inventory, loader, path, cache)
        self._read_config_data(path)
        credentials = dict((name, self._text_option(name)) for name in CREDENTIAL_OPTIONS)

        cache_key = self._cache_key(path, credentials)
        use_cache = self.get_option("cache")
        platforms = None
        if use_cache and cache:
            platforms = self._cache.get(cache_key)
        if platforms is None:
            platforms = self._read_platforms(credentials)
            if use_cache:
                self._cache[cache_key] = platforms
        else:
            display.vvv("{0}: {1} platforms from the inventory cache, no API request".format(self.NAME, len(platforms)))
        self._populate(platforms)

    # Reading -----------------------------------------------------------------------------------------

    def _text_option(self, name):
        value = self.get_option(name)
        # An inline !vault value is decrypted when made text; an empty one (AWX's blank field) means unset.
        return None if value in (None, "") else str(value)

    def _cache_key(self, path, credentials):
        # The same file read with other credentials or filters is another inventory: it must not share a cache entry.
        identity = dict(credentials, offers=self.get_option("offers"), organizations=self.get_option("organizations"),
                        domains=self.get_option("domains"))
        digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode("utf-8")).hexdigest()[:16]
        return "{0}_{1}".format(self.get_cache_key(path), digest)

    def _read_platforms(self, credentials):
        if not HAS_OVH:
            raise AnsibleError("{0} needs the ovh Python SDK on the controller: pip install ovh".format(self.NAME))
        try:
            client = connect(credentials, warn=display.warning)
            platforms = self._list_services(client)
        except OvhApiError as error:
            raise AnsibleError("{0} could not list the Exchange services: {1}".format(self.NAME, error))
        calls = client.api_calls()
        display.v("{0}: {1} platforms kept, {2} API requests ({3} retries)".format(
            self.NAME, len(platforms), calls["total"], calls["retries"]))
        return platforms

    def _list_services(self, client):
        patterns = self.get_option("organizations")
        organizations = [org for org in _exchange.organizations(client)
                         if not patterns or any(fnmatch.fnmatchcase(org, pattern) for pattern in patterns)]
        offers = self.get_option("offers")
        platforms, left_out = [], []
        for organization in organizations:
            # Private and Trusted Exchange have one service per organization: a GET each is the cheapest read.
            for name in _exchange.services(client, organization):
                exchange = _exchange.Exchange(client, organization, name)
                platform = _platform(organization, name, exchange.details())
                if offers and platform["offer"] not in offers:
                    left_out.append(platform)
                    continue
                if self.get_option("domains"):
                    platform["domains"] = exchange.domain_names()
                platforms.append(platform)
        if left_out:
            self._report_left_out(left_out, offers)
        return platforms

    def _report_left_out(self, left_out, offers):
        display.warning(
            "{0} left out {1} Exchange service(s) whose offer is not in the offers option ({2}): {3}. Send connectors "
            "exist on Private and Trusted Exchange only; set offers (an empty list keeps every offer) to change this.".format(
                self.NAME, len(left_out), ", ".join(offers),
                ", ".join("{0} ({1})".format(p["service"], p["offer"]) for p in left_out)))

    # Hosts -------------------------------------------------------------------------------------------

    def _populate(self, platforms):
        group = self.inventory.add_group(self.get_option("group"))
        strict = self.get_option("strict")
        for platform in platforms:
            host = self.inventory.add_host(platform["service"], group=group)
            for name, value in platform.items():
                self.inventory.set_variable(host, VARIABLE_PREFIX + name, value)
            variables = self.inventory.get_host(host).get_vars()
            self._set_composite_vars(self.get_option("compose"), variables, host, strict=strict)
            self._add_host_to_composed_groups(self.get_option("groups"), variables, host, strict=strict)
            self._add_host_to_keyed_groups(self.get_option("keyed_groups"), variables, host, strict=strict)


def _platform(organization, name, service):
    """The host variables of one service (email.exchange.ExchangeServiceWithIAM), without the prefix."""
    return {
        "organization": organization,
        "service": name,
        "offer": service.get("offer"),
        "state": service.get("state"),
        "display_name": service.get("displayName"),
        "hostname": service.get("hostname"),
    }
