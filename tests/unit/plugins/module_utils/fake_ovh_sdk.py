"""A fake of the `ovh` SDK's raw_call: the HTTP boundary, as an ordered list of expected requests.

Each expected request names its method, path, request headers and body exactly; any extra, missing or
different request fails the test, so "no write in check mode" or "one request per page" is asserted
by construction.
"""
from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json
import threading

from requests.structures import CaseInsensitiveDict

from ansible_collections.ovhcloud.exchange.plugins.module_utils._client import ExchangeClient, RetryPolicy

ORG = "private-zz111111-1"
BASE = f"/email/exchange/{ORG}/service/{ORG}"


class Expect:
    """One expected request and the answer to give: JSON data, a status and response headers."""

    def __init__(self, method, path, answer=None, status=200, headers=None, body=None, response_headers=None):
        self.method = method
        self.path = path if path.startswith("/email") else BASE + path
        self.answer = answer
        self.status = status
        self.headers = headers or {}
        self.body = body
        self.response_headers = response_headers or {}

    def __repr__(self):
        return f"{self.method} {self.path} headers={self.headers} body={self.body}"


class FakeResponse:
    def __init__(self, status, data, headers):
        self.status_code = status
        self.headers = CaseInsensitiveDict({"X-Ovh-Queryid": "EU.fake.1", **headers})
        self.text = json.dumps(data)
        self.content = self.text.encode()

    def json(self):
        return json.loads(self.text)


class FakeSdk:
    def __init__(self, expected):
        self.expected = list(expected)
        self.lock = threading.Lock()

    def raw_call(self, method, path, data=None, need_auth=True, headers=None):
        with self.lock:
            assert self.expected, f"unexpected request {method} {path} headers={headers} body={data}"
            expect = self.expected.pop(0)
        got = (method, path, headers or {}, data)
        assert got == (expect.method, expect.path, expect.headers, expect.body), f"expected {expect!r}, got {got}"
        return FakeResponse(expect.status, expect.answer, expect.response_headers)

    def assert_done(self):
        assert not self.expected, f"requests expected but not made: {self.expected}"


def fake_client(expected, **params):
    """A real ExchangeClient over the fake SDK; retries sleep for nothing."""
    sdk = FakeSdk(expected)
    client = ExchangeClient({"organization": ORG, **params}, retry=RetryPolicy(attempts=3), sleep=lambda seconds: None,
                            sdk_client=sdk)
    return client, sdk


def paged(page=1, size=5000, filters=None):
    """The request headers of one page of an object list."""
    headers = {"X-Pagination-Mode": "CachedObjectList-Pages", "X-Pagination-Size": str(size),
               "X-Pagination-Number": str(page), "Pragma": "no-cache"}
    if filters:
        headers["X-Pagination-Filter"] = filters
    return headers


BATCH = {"X-Ovh-Batch": ","}
