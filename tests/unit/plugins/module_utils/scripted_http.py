"""The one HTTP fake of the unit tests: the SDK's raw_call replaced by an ordered script.

Each step names the request expected (method, path, and when given its body and request headers) and
what the network does: an answer (status, JSON or raw text, response headers) or an exception (a reset,
a timeout). Any request that is not the next step fails the test; `assert_done()` fails on steps never
reached. So "no write in check mode" or "one request per page" is asserted by construction.
"""
from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json
import threading

import requests
from requests.structures import CaseInsensitiveDict

from ansible_collections.ovhcloud.exchange.plugins.module_utils._client import OvhClient, RetryPolicy
from ansible_collections.ovhcloud.exchange.plugins.module_utils._exchange import BulkOptions, Exchange
from ansible_collections.ovhcloud.exchange.tests.shared_constants import BASE, PLATFORM

ANY = object()
ORG = PLATFORM
BATCH = {"X-Ovh-Batch": ","}
# A password the module tests send: it must never appear in a module's output.
SECRET = "s3cr3t-relay-password"


class Step:
    """One expected request; a path not starting with /email is relative to the platform (BASE)."""

    def __init__(self, method, path, status=200, data=None, text=None, headers=None, body=ANY, raises=None,
                 request_headers=ANY):
        self.method, self.status = method, status
        self.path = path if path.startswith("/email") or path.startswith("/auth") else BASE + path
        self.data, self.text, self.headers = data, text, headers or {}
        self.body, self.raises, self.request_headers = body, raises, request_headers

    def __repr__(self):
        return f"{self.method} {self.path}"

    def response(self):
        response = requests.Response()
        response.status_code = self.status
        response.headers = CaseInsensitiveDict({"X-Ovh-Queryid": "EU.test.42", **self.headers})
        if self.text is not None:
            response._content = self.text.encode()
        elif self.status == 204:
            response._content = b""
        else:
            response._content = json.dumps(self.data).encode()
        return response


def expect(method, path, answer=None, status=200, headers=None, body=None, response_headers=None):
    """A step matched exactly: request headers (none when not given) and body (none when not given)."""
    return Step(method, path, status=status, data=answer, headers=response_headers, body=body,
                request_headers=headers or {})


def paged(page=1, size=5000, filters=None):
    """The request headers of one page of an object list."""
    headers = {"X-Pagination-Mode": "CachedObjectList-Pages", "X-Pagination-Size": str(size),
               "X-Pagination-Number": str(page), "Pragma": "no-cache"}
    if filters:
        headers["X-Pagination-Filter"] = filters
    return headers


def cursor(size=5000, filters=None, at=None):
    """The request headers of one cursor page of an object list (`at`: the cursor the previous page gave)."""
    headers = {"X-Pagination-Mode": "CachedObjectList-Cursor", "X-Pagination-Size": str(size), "Pragma": "no-cache"}
    if filters:
        headers["X-Pagination-Filter"] = filters
    if at:
        headers["X-Pagination-Cursor"] = at
    return headers


def named(*addresses):
    """The filter that asks the account list for these mailboxes only (a few of a large platform)."""
    if len(addresses) == 1:
        return "primaryEmailAddress:eq=" + addresses[0]
    return "primaryEmailAddress:in=" + ",".join(sorted(addresses))


def plain_ids(route, ids, filters=None):
    """A gateway that ignores both object modes: the paged request, then the cursor one, answer plain ids."""
    return [Step("GET", route, data=ids, request_headers=paged(filters=filters)),
            Step("GET", route, data=ids, request_headers=cursor(filters=filters))]


def listing(route, objects, filters=None):
    """A paged object list answered in one page."""
    return Step("GET", route, data=objects, request_headers=paged(filters=filters),
                headers={"X-Pagination-Elements": str(len(objects))})


class ScriptedSdk:
    """Stands in for `ovh.Client`; records every request it receives in `requests` (thread-safe)."""

    _endpoint = "https://eu.api.ovh.com/1.0"

    def __init__(self, steps):
        self.steps = list(steps)
        self.requests = []
        self.lock = threading.Lock()

    def raw_call(self, method, path, data=None, need_auth=True, headers=None):
        with self.lock:
            self.requests.append((method, path, data))
            assert self.steps, f"unexpected request {method} {path} headers={headers} body={data}"
            step = self.steps.pop(0)
        assert (method, path) == (step.method, step.path), f"expected {step!r}, got {method} {path} body={data}"
        if step.body is not ANY:
            assert data == step.body, f"{method} {path}: expected body {step.body}, got {data}"
        if step.request_headers is not ANY:
            assert (headers or {}) == step.request_headers, \
                f"{method} {path}: expected headers {step.request_headers}, got {headers}"
        if step.raises is not None:
            raise step.raises
        return step.response()

    def assert_done(self):
        assert not self.steps, f"expected requests never made: {self.steps}"

    def writes(self):
        return [r for r in self.requests if r[0] != "GET"]


def fake_client(steps, attempts=3, **client_options):
    """(a real OvhClient over the script, the script); retries sleep for nothing."""
    sdk = ScriptedSdk(steps)
    client_options.setdefault("sleep", lambda seconds: None)
    return OvhClient(sdk, retry=RetryPolicy(attempts=attempts), **client_options), sdk


def fake_exchange(steps, parallel=1, **client_options):
    """(the Exchange resource layer of the seeded platform over the script, the script)."""
    client, sdk = fake_client(steps, **client_options)
    return Exchange(client, ORG, bulk=BulkOptions(parallel, None)), sdk


def reset():
    """A connection reset after the request was sent: the outcome is unknown."""
    return requests.exceptions.ConnectionError("('Connection aborted.', ConnectionResetError(104, 'Connection reset by peer'))")


def refused():
    """A connection refused: the request never left."""
    return requests.exceptions.ConnectionError("HTTPConnectionPool: Max retries exceeded (Caused by NewConnectionError: Connection refused)")
