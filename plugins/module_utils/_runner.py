# -*- coding: utf-8 -*-
# Copyright (c) 2026 ovhcloud.exchange contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""PRIVATE: the one way an API module of the collection runs. May change at any time without notice.

`run_api_module` owns the options every API module shares (credentials with their environment
fallbacks, the platform, the task wait, the bulk options), builds the client, the Exchange resource
layer and the task waiter, calls the module's planner with plain values, applies the plan unless in
check mode, and exits with the result (and the diff in diff mode). Every error becomes `fail_json`
with what was already done; none becomes a traceback.

It also watches for a cancel (`_cancel.py`: SIGINT, SIGTERM, SIGHUP, or ansible-playbook gone): from then
on no request is sent, requests in flight end, and the module exits with what was done. Every request
of the run is paced by the key's shared budget (`_pacer.py`, through the client), under
max_requests_per_second when given, and a throttled request is retried for at most wait_timeout seconds.

A planner returns a plan: ``changed``, ``warnings``, ``apply(waiter, wait)``, ``result(applied)``,
``diff()``, ``failure()`` (the message of a partial failure, or None) and ``partial()`` (what was done
when apply stopped half-way).
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib

from ansible_collections.ovhcloud.exchange.plugins.module_utils import _bulk
from ansible_collections.ovhcloud.exchange.plugins.module_utils._cancel import Cancellation
from ansible_collections.ovhcloud.exchange.plugins.module_utils._client import connect
from ansible_collections.ovhcloud.exchange.plugins.module_utils._credentials import (
    CREDENTIAL_OPTIONS, HAS_OVH, OVH_IMPORT_ERROR, working_directory_config)
from ansible_collections.ovhcloud.exchange.plugins.module_utils._errors import InputError, OvhApiError
from ansible_collections.ovhcloud.exchange.plugins.module_utils._exchange import BulkOptions, Exchange
from ansible_collections.ovhcloud.exchange.plugins.module_utils._tasks import TaskError, TaskWaiter

CREDENTIALS_ARGSPEC = dict(
    endpoint=dict(type="str", fallback=(env_fallback, ["OVH_ENDPOINT"])),
    application_key=dict(type="str", no_log=True, fallback=(env_fallback, ["OVH_APPLICATION_KEY"])),
    application_secret=dict(type="str", no_log=True, fallback=(env_fallback, ["OVH_APPLICATION_SECRET"])),
    consumer_key=dict(type="str", no_log=True, fallback=(env_fallback, ["OVH_CONSUMER_KEY"])),
    client_id=dict(type="str", no_log=False, fallback=(env_fallback, ["OVH_CLIENT_ID"])),
    client_secret=dict(type="str", no_log=True, fallback=(env_fallback, ["OVH_CLIENT_SECRET"])),
    oauth2_token_url=dict(type="str", no_log=False, fallback=(env_fallback, ["OVH_OAUTH2_TOKEN_URL"])),
)
PLATFORM_ARGSPEC = dict(
    organization=dict(type="str", required=True),
    service=dict(type="str"),
)
WAIT_ARGSPEC = dict(
    wait=dict(type="bool", default=True),
    wait_timeout=dict(type="int", default=600),
)
BULK_ARGSPEC = dict(
    parallel=dict(type="int", default=_bulk.DEFAULT_PARALLEL),
    max_requests_per_second=dict(type="float"),
)
# Options a module may leave out: a default waiter timeout when it has no wait option.
_NO_WAIT_TIMEOUT = 600


def api_argument_spec(options, wait=True, bulk=False):
    """A module's argument spec: its own options, the credentials, the platform, the wait and the bulk options."""
    argument_spec = dict(options)
    argument_spec.update(CREDENTIALS_ARGSPEC)
    argument_spec.update(PLATFORM_ARGSPEC)
    if wait:
        argument_spec.update(WAIT_ARGSPEC)
    if bulk:
        argument_spec.update(BULK_ARGSPEC)
    return argument_spec


def bulk_options(parallel, max_requests_per_second):
    """parallel and max_requests_per_second, checked before any request."""
    problems = []
    if parallel is not None and parallel < 1:
        problems.append("parallel must be 1 or more (got {0})".format(parallel))
    if max_requests_per_second is not None and max_requests_per_second <= 0:
        problems.append("max_requests_per_second must be more than 0 (got {0}); leave it unset for no limit".format(
            max_requests_per_second))
    if problems:
        raise InputError.listing(problems)
    return BulkOptions(parallel or _bulk.DEFAULT_PARALLEL, max_requests_per_second)


def name_problems(argument_spec, params):
    """Problems of every name option (organization, service, connector name, mailboxes, domains...).

    Refused: a control character (CR/LF would end a header or a line early) and `.` or `..`, which urllib3
    removes from a path after it was signed. Secrets (no_log) are not names and may hold anything.
    """
    problems = []

    def check(option, value):
        if isinstance(value, (list, tuple)):
            for item in value:
                check(option, item)
        elif isinstance(value, dict):
            for item in value.values():
                check(option, item)
        elif isinstance(value, str):
            bad = [index for index, char in enumerate(value) if ord(char) < 0x20 or 0x7f <= ord(char) <= 0x9f]
            if bad:
                problems.append("{0}: {1!r} holds a control character (CR, LF, tab, NUL...) at position {2}: remove it".format(
                    option, value, bad[0]))
            elif value in (".", ".."):
                problems.append("{0}: {1!r} is not a name: '.' and '..' would change the API path; give the real name".format(
                    option, value))

    for option, spec in sorted(argument_spec.items()):
        if not spec.get("no_log") and params.get(option) is not None:
            check(option, params[option])
    return problems


def run_api_module(options, planner, wait=True, bulk=False, **module_kwargs):
    """Run an API module: `planner(exchange, params)` returns its plan; see the file's docstring."""
    module = AnsibleModule(argument_spec=api_argument_spec(options, wait=wait, bulk=bulk), supports_check_mode=True,
                           **module_kwargs)
    if not HAS_OVH:
        module.fail_json(msg=missing_required_lib("ovh"), exception=OVH_IMPORT_ERROR)
    params = module.params
    client = plan = None
    cancellation = Cancellation().watch()
    timeout = params.get("wait_timeout") or _NO_WAIT_TIMEOUT
    try:
        problems = name_problems(module.argument_spec, params)
        if problems:
            raise InputError.listing(problems)
        bulk_settings = bulk_options(params.get("parallel"), params.get("max_requests_per_second"))
        client = connect(dict((name, params.get(name)) for name in CREDENTIAL_OPTIONS), warn=module.warn,
                         ceiling=bulk_settings.max_requests_per_second, cancellation=cancellation, time_budget=timeout)
        if client.endpoint_source == "ovh.conf ({0})".format(working_directory_config()):
            module.warn("the OVH endpoint came from {0}, an ovh.conf in the working directory, which the SDK reads "
                        "first: it receives the keys and signed requests; set endpoint (or OVH_ENDPOINT) to be "
                        "sure of the API you talk to".format(client.endpoint_source))
        exchange = Exchange(client, params["organization"], params.get("service"), bulk_settings)
        plan = planner(exchange, params)
        for warning in plan.warnings:
            module.warn(warning)
        # A plan may also have something to wait for with nothing to change (a connector still being created).
        applied = (plan.changed or plan.waits) and not module.check_mode
        if applied:
            waiter = TaskWaiter(exchange, timeout, sleep=cancellation.wait)
            plan.apply(waiter, params.get("wait", True))
        result = plan.result(applied)
    except (InputError, OvhApiError, TaskError) as error:
        details = {"changed": False}
        if isinstance(error, InputError):
            details.update(error.details)
            if error.problems is not None:
                details["problems"] = error.problems
        if isinstance(error, TaskError):
            details["tasks"] = dict((task_id, task.api) for task_id, task in error.tasks.items())
        if plan is not None and not module.check_mode:
            # A failure half-way through is reported with what was already done.
            details.update(plan.partial())
        module.fail_json(msg=str(error), api_calls=client.api_calls() if client else None, **details)
    diff = plan.diff()
    if module._diff and diff is not None:
        result["diff"] = diff
    result["api_calls"] = client.api_calls()
    result["endpoint_source"] = client.endpoint_source
    failure = plan.failure()
    if failure:
        module.fail_json(msg=failure, **result)
    module.exit_json(**result)
