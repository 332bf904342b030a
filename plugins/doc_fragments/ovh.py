# -*- coding: utf-8 -*-
# Copyright (c) 2026 ovhcloud.exchange contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type


class ModuleDocFragment(object):

    # The OVH API credentials and endpoint (plugins/module_utils/_client.py OVH_COMMON_ARGSPEC).
    DOCUMENTATION = r'''
options:
  endpoint:
    description:
      - The OVH API to talk to, a region (V(ovh-eu), V(ovh-ca), V(ovh-us)) or the URL of an API
        (C(https://host/1.0); plain C(http://) is accepted only to a loopback address, for a local simulator).
      - If not set, the E(OVH_ENDPOINT) environment variable is used, then the C(endpoint) key of the
        C([default]) section of C(ovh.conf) (C(./ovh.conf), C(~/.ovh.conf), C(/etc/ovh.conf)).
    type: str
  application_key:
    description:
      - Application key of an OVH API application. Goes with O(application_secret) and O(consumer_key).
      - If not set, E(OVH_APPLICATION_KEY) is used, then C(ovh.conf) (section named after O(endpoint)).
      - Use either application keys or an OAuth2 service account (O(client_id), O(client_secret)), not both.
    type: str
  application_secret:
    description:
      - Application secret of the OVH API application.
      - If not set, E(OVH_APPLICATION_SECRET) is used, then C(ovh.conf).
    type: str
  consumer_key:
    description:
      - Consumer key that the application signs requests with; it carries the access rules (the routes it may call).
      - If not set, E(OVH_CONSUMER_KEY) is used, then C(ovh.conf).
    type: str
  client_id:
    description:
      - Client id of an OVH OAuth2 service account, the alternative to application keys.
      - If not set, E(OVH_CLIENT_ID) is used, then C(ovh.conf).
    type: str
  client_secret:
    description:
      - Client secret of the OAuth2 service account.
      - If not set, E(OVH_CLIENT_SECRET) is used, then C(ovh.conf).
    type: str
  oauth2_token_url:
    description:
      - Token URL for the OAuth2 service account.
      - Needed only when O(endpoint) is a URL and its token URL is not C(<scheme>://<host:port>/auth/oauth2/token);
        regions use the SDK's own token URLs.
      - If not set, E(OVH_OAUTH2_TOKEN_URL) is used.
    type: str
requirements:
  - ovh >= 1.0.0 (the official OVH Python SDK, on the host that runs the module, usually the controller)
notes:
  - Options win over E(OVH_*) environment variables, which win over C(ovh.conf).
  - "Fair use: every request waits its turn in one budget per consumer key, shared by the module's parallel requests
    and by every module running at the same time on the controller with that key (forks, parallel tasks). A
    throttling answer (429 honouring C(Retry-After), an HTML C(408) page or gateway page, a connection reset before any
    answer) pauses every request of the key and sets its pace just under what got through; the pace then rises until the
    next throttling answer, which measures again. Throttled requests are
    retried until C(wait_timeout) seconds after the module started, not a fixed number of times."
  - Server errors and network errors are retried a few times with a growing, jittered delay, when repeating them is
    safe. A refused connection or a name that does not resolve stops the whole task within seconds.
  - "Interruption: on SIGINT, SIGTERM or SIGHUP, or when C(ansible-playbook) goes away, the module sends no new request,
    lets the ones in flight end, and fails with what was done; a rerun converges."
  - Every module of the collection that calls the OVH API is in the action group C(ovhcloud.exchange.ovh), so
    C(module_defaults) with C(group/ovhcloud.exchange.ovh) sets these options once for all of them.
  - Run these modules on the controller (a play on C(localhost), or C(delegate_to) C(localhost)) with
    C(ansible_python_interpreter) set to C({{ ansible_playbook_python }}), the Python that has the C(ovh) package.
'''

    PLATFORM = r'''
options:
  organization:
    description:
      - The Exchange organization, the platform name of a Private or Trusted Exchange (for example
        C(private-zz111111-1) or C(dedicated-zz111111-1)).
    type: str
    required: true
  service:
    description:
      - The Exchange service of the organization. Private and Trusted Exchange have one, named like the organization.
      - Defaults to O(organization).
    type: str
'''

    WAIT = r'''
options:
  wait:
    description:
      - Wait for the OVH tasks that the changes queue to finish, and fail if one ends in error or is cancelled.
      - With V(false) the module returns once the API accepted the changes; the task ids are returned.
      - Check mode never waits.
    type: bool
    default: true
  wait_timeout:
    description:
      - How many seconds to wait for the tasks in total. On timeout the module fails and returns the tasks as last
        seen; the changes may still complete later.
      - Also how long, from the start of the module, requests throttled by OVH keep being retried.
    type: int
    default: 600
'''

    BULK = r'''
options:
  parallel:
    description:
      - How many requests on many mailboxes or domains run at the same time (writes, and one-by-one reads when the API
        offers no faster read).
    type: int
    default: 8
  max_requests_per_second:
    description:
      - A ceiling on the requests per second of the consumer key, shared with every module using the key on the
        controller at the same time. OVH's fair use is about 60 requests a minute per consumer key, that is V(1).
      - Unset means no ceiling. The module then finds the key's rate by itself from the throttling answers, and
        paces every request of the key below it.
    type: float
'''

    ATTRIBUTES = r'''
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details:
      - Check mode reads the current state through the API and makes no write call.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details:
      - Secrets (passwords) are never part of the diff.
  action_group:
    description: Use C(group/ovhcloud.exchange.ovh) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - ovhcloud.exchange.ovh
'''
