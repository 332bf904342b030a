# -*- coding: utf-8 -*-
# Copyright (c) 2026 ovhcloud.exchange contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The mail_route filter: exchange_mail_route's analysis for templates (documented in mail_route.yml)."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.ovhcloud.exchange.plugins.module_utils._mail_headers import MailHeaderError, analyse_message


def mail_route(message, smart_host=None, sender_domain=None):
    """The route and SPF/DKIM/DMARC results of a received message given as text."""
    try:
        return analyse_message(message, smart_host=smart_host, sender_domain=sender_domain)
    except MailHeaderError as err:
        raise AnsibleFilterError('mail_route: %s' % to_native(err))


class FilterModule(object):
    def filters(self):
        return {'mail_route': mail_route}
