"""The HTTP boundary for client-layer tests: the SDK's raw_call replaced by an ordered script.

Each step names the request expected (method, path, body when given) and what the network does:
an answer (status, JSON or raw text, headers) or an exception (a reset, a timeout). Any request
that is not the next step fails the test; `assert_done()` fails on steps never reached.
"""
from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json

import requests
from requests.structures import CaseInsensitiveDict

ANY = object()


class Step:
    def __init__(self, method, path, status=200, data=None, text=None, headers=None, body=ANY, raises=None,
                 request_headers=ANY):
        self.method, self.path, self.status = method, path, status
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


class ScriptedSdk:
    """Stands in for `ovh.Client`; records every request it receives in `requests`."""

    _endpoint = "https://eu.api.ovh.com/1.0"

    def __init__(self, steps):
        self.steps = list(steps)
        self.requests = []

    def raw_call(self, method, path, data=None, need_auth=True, headers=None):
        self.requests.append((method, path, data))
        assert self.steps, f"unexpected request {method} {path} body={data}"
        step = self.steps.pop(0)
        assert (method, path) == (step.method, step.path), f"expected {step!r}, got {method} {path} body={data}"
        if step.body is not ANY:
            assert data == step.body, f"{method} {path}: expected body {step.body}, got {data}"
        if step.request_headers is not ANY:
            assert headers == step.request_headers, f"{method} {path}: expected headers {step.request_headers}, got {headers}"
        if step.raises is not None:
            raise step.raises
        return step.response()

    def assert_done(self):
        assert not self.steps, f"expected requests never made: {self.steps}"

    def writes(self):
        return [r for r in self.requests if r[0] != "GET"]


def reset():
    """A connection reset after the request was sent: the outcome is unknown."""
    return requests.exceptions.ConnectionError("('Connection aborted.', ConnectionResetError(104, 'Connection reset by peer'))")


def refused():
    """A connection refused: the request never left."""
    return requests.exceptions.ConnectionError("HTTPConnectionPool: Max retries exceeded (Caused by NewConnectionError: Connection refused)")
