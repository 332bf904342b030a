# -*- coding: utf-8 -*-
# Copyright (c) 2026 ovhcloud.exchange contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""PRIVATE: the errors every layer of the collection raises. May change at any time without notice.

The runner (`_runner.py`) turns each of them into `fail_json`; none of them reaches the user as a traceback.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type


class OvhApiError(Exception):
    """A failed OVH API call (or a configuration that cannot make one); str() is a full sentence."""

    def __init__(self, message, method=None, path=None, status=None, api_message=None, query_id=None,
                 kind="other", ambiguous=False):
        super(OvhApiError, self).__init__(message)
        self.method = method
        self.path = path
        self.status = status
        self.message = api_message
        self.query_id = query_id
        self.kind = kind
        # True when a write may or may not have been applied (a POST cut off by a reset, a timeout or a 5xx).
        self.ambiguous = ambiguous


class OvhConfigError(OvhApiError):
    """Options that cannot build a client: raised before any request."""

    def __init__(self, message):
        super(OvhConfigError, self).__init__(message, kind="config")


class InputError(Exception):
    """Input or a state of the platform that stops a plan before any write.

    str() says what, why and how to fix it; ``problems`` lists every problem found (one sentence each);
    ``details`` are extra result keys for the failed module (such as the ids of connectors sharing a name).
    """

    def __init__(self, message, problems=None, **details):
        super(InputError, self).__init__(message)
        self.problems = list(problems) if problems is not None else None
        self.details = details

    @classmethod
    def listing(cls, problems):
        """Every problem found in the input, refused as a whole: nothing was written."""
        return cls('nothing was changed: ' + '; '.join(problems), problems=problems)
