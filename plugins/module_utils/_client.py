# -*- coding: utf-8 -*-
# Copyright (c) 2026 ovhcloud.exchange contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""PRIVATE transport layer: the only code of the collection that sends HTTP requests. May change at any time.

`OvhClient` sends signed requests through the official `ovh` SDK, retries what is safe to retry (its one
retry loop; an ambiguous create is reconciled by a read-back hook instead of being sent twice), counts
requests and turns every failure into an OvhApiError whose text says what failed, why and how to fix it.
It knows no route: `_exchange.py` does. Which endpoint and credentials it uses is `_credentials.py`.

Fair use: every request waits for its turn in the key's budget (`_pacer.py`, shared by the threads of
the module and by every module process of the controller using the same key). A throttling signal (429,
408, an HTML gateway page, a connection reset before any answer) pauses every worker and lowers the
rate; it is retried until the time budget (the module's wait_timeout) is spent, without spending the
error retries. Connection failures that prove the API unreachable (refused, DNS) stop every request of
the run within seconds. Once the run is cancelled (`_cancel.py`) no request is sent.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import email.utils
import os
import random
import threading
import time

from urllib.parse import quote, urlsplit

from ansible_collections.ovhcloud.exchange.plugins.module_utils._credentials import (
    is_loopback, sdk_client_and_endpoint_source, sdk_error_text)
from ansible_collections.ovhcloud.exchange.plugins.module_utils._errors import InputError, OvhApiError, OvhConfigError
from ansible_collections.ovhcloud.exchange.plugins.module_utils._pacer import Pacer, budget_identity

try:
    import ovh.exceptions
    import ovh.oauth2
    import requests
    import requests.utils
    from oauthlib.oauth2 import BackendApplicationClient
except ImportError:
    pass  # _credentials.HAS_OVH is False: the runner reports the missing SDK before any use
else:

    class _GuardedOAuth2(ovh.oauth2.OAuth2):
        """The SDK's OAuth2 helper whose sessions (the token's and the API's) go through `_guard_session`."""

        def __init__(self, oauth2, api_url):
            super(_GuardedOAuth2, self).__init__(oauth2.client_id, oauth2.client_secret, oauth2.token_url)
            self._urls = (oauth2.token_url, api_url)

        @property
        def token(self):
            # As the SDK's, but its one-off token session is guarded too.
            if self._token is None:
                session = ovh.oauth2.RefreshOAuth2Session(
                    token_url=self.token_url, client=BackendApplicationClient(client_id=self.client_id, scope=["all"]))
                _guard_session(session, self._urls)
                self._token = session.fetch_token(token_url=self.token_url, client_id=self.client_id,
                                                  client_secret=self.client_secret)
            return self._token

        @property
        def session(self):
            if self._session is None:
                _guard_session(ovh.oauth2.OAuth2.session.fget(self), self._urls)
            return self._session

_AUTH_ERROR_CODES = ("INVALID_KEY", "INVALID_CREDENTIAL", "NOT_CREDENTIAL", "INVALID_SIGNATURE", "QUERY_TIME_OUT")
_AUTH_MESSAGES = ("invalid signature", "application key is invalid", "credential does not exist",
                  "credential is not valid", "you must login first", "invalid application", "invalid consumer")
# How a gateway past its limit answers (issue 13's sources): 429, 408, or an HTML page of 502 to 504.
_THROTTLING_STATUSES = (429, 408)
_GATEWAY_PAGE_STATUSES = (502, 503, 504)
# Signs of a connection reset before any answer, in the words of requests/urllib3/http.client.
_RESET_WORDS = ("Connection aborted", "ConnectionResetError", "RemoteDisconnected", "reset by peer")
# Signs that no request left this machine: nobody listens, or the name does not resolve.
_UNREACHABLE_WORDS = ("NewConnectionError", "Connection refused", "NameResolutionError", "Failed to resolve",
                      "Name or service not known", "nodename nor servname", "Temporary failure in name resolution")
# Connection failures with no success between them for this long: the API is gone, stop the run.
UNREACHABLE_SECONDS = 5.0
_CREDENTIALS_HINT = ("check application_key, application_secret and consumer_key (or OVH_APPLICATION_KEY, "
                     "OVH_APPLICATION_SECRET, OVH_CONSUMER_KEY); a consumer key expires or can be revoked, "
                     "create a new one if needed")


def encode_segment(segment):
    """Percent-encode one path segment (`@`, `/`, spaces...): the SDK signs the path exactly as given.

    `.` and `..` are refused: urllib3 removes them from the path after signing (an "Invalid signature", or
    with OAuth2 another path really requested).
    """
    if str(segment) in (".", ".."):
        raise InputError("{0!r} cannot be an organization, service, mailbox, domain or any name in an API path: "
                         "'.' and '..' would change the path; give the real name".format(str(segment)))
    return quote(str(segment), safe="")


class RetryPolicy:
    """Bounded retries with jittered exponential backoff; Retry-After wins when the API sends it."""

    def __init__(self, attempts=5, base_delay=1.0, max_delay=30.0, max_retry_after=120.0, jitter=0.5,
                 rng=random.random):
        self.attempts = max(1, attempts)
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.max_retry_after = max_retry_after
        self.jitter = jitter
        self.rng = rng

    def delay(self, retry_number, retry_after=None):
        """Seconds to wait before retry number `retry_number` (1 for the first retry)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_retry_after)
        delay = min(self.max_delay, self.base_delay * (2 ** (retry_number - 1)))
        # "Equal jitter": never less than (1 - jitter) of the delay, so retries stay spread out.
        return delay * (1.0 - self.jitter * self.rng())


def _parse_retry_after(value, now=None):
    if not value:
        return None
    value = value.strip()
    try:
        return float(value)
    except ValueError:
        pass
    moment = _parse_http_date(value)
    if moment is None:
        return None
    now = time.time() if now is None else now
    return max(0.0, moment.timestamp() - now)


def _parse_http_date(value):
    """An HTTP date (a Date or Retry-After header) as a datetime, or None."""
    try:
        return email.utils.parsedate_to_datetime(value) if value else None
    except (TypeError, ValueError, IndexError):
        return None


def connect(credential_options, warn=None, ceiling=None, cancellation=None, time_budget=None):
    """An OvhClient for the credential options (see `_credentials.build_sdk_client`), paced by its key's budget.

    Its `endpoint_source` says where the endpoint came from (`option`, `environment`, `ovh.conf (<path>)`).
    ``ceiling``: requests per second never exceeded for this key (max_requests_per_second); ``cancellation``:
    a `_cancel.Cancellation`; ``time_budget``: seconds a throttled request may keep being retried.
    """
    sdk, source = sdk_client_and_endpoint_source(credential_options)
    if getattr(sdk, "_oauth2", None) is None:
        _guard_session(sdk._session, (sdk._endpoint,))
    else:
        sdk._oauth2 = _GuardedOAuth2(sdk._oauth2, sdk._endpoint)
    # The gateway counts per consumer key (per OAuth2 client): so does the budget.
    identity = budget_identity(getattr(sdk, "_endpoint", None), getattr(sdk, "_consumer_key", None),
                               getattr(sdk, "_client_id", None))
    pacer = Pacer(identity, ceiling=ceiling, cancelled=cancellation)
    client = OvhClient(sdk, warn=warn, trust_local_clock=True, pacer=pacer, cancellation=cancellation,
                       time_budget=time_budget)
    client.endpoint_source = source
    return client


def _guard_session(session, urls):
    """Settings of a session that talks to the API or the token URL: environment once, no redirect."""
    _read_environment_once(session, urls)
    session.hooks["response"].append(_refuse_redirect)


def _read_environment_once(session, urls):
    """Apply the proxy and CA settings of the environment (HTTPS_PROXY, NO_PROXY, REQUESTS_CA_BUNDLE) once.

    requests reads them, and ~/.netrc, again for every request: a fifth of a request's CPU, which caps the
    bulk writes. A module run is one short process, so reading them once gives the same settings; ~/.netrc
    is no longer read (signed requests need no Authorization header). A proxy is set per host of `urls`
    (the API, the token URL), never for a loopback host: signed requests to a local simulator would
    otherwise leave the machine in clear text.
    """
    for url in urls:
        settings = session.merge_environment_settings(url, {}, None, None, None)
        if isinstance(settings["verify"], str) and not os.path.exists(settings["verify"]):
            # requests would only fail at the TLS handshake, worded as the API not answering.
            raise OvhConfigError("the CA bundle {0!r} named by REQUESTS_CA_BUNDLE (or CURL_CA_BUNDLE) does not exist: "
                                 "fix the path or unset the variable".format(settings["verify"]))
        parts = urlsplit(url)
        proxy = requests.utils.select_proxy(url, settings["proxies"])
        if proxy and not is_loopback(parts.hostname or ""):
            session.proxies["{0}://{1}".format(parts.scheme, parts.hostname)] = proxy
        session.verify = settings["verify"]
    session.trust_env = False


def _refuse_redirect(response, **kwargs):
    """A response hook: a redirect is an error naming its target, never followed (requests would re-send the
    body, a relay password maybe, and the API's signature headers to it, https to http included)."""
    if response.is_redirect:
        response.close()
        request = response.request
        raise OvhApiError(
            "{0} {1} answered {2} with a redirect to {3!r}, refused: requests to the OVH API and its token URL "
            "follow no redirect. Set endpoint (or oauth2_token_url) to the URL that answers itself".format(
                request.method, request.url, response.status_code, response.headers.get("Location")),
            method=request.method, path=urlsplit(request.url).path, status=response.status_code, kind="config")
    return response


class _Answer:
    """One HTTP answer, decoded once."""

    def __init__(self, response):
        self.status = response.status_code
        self.headers = response.headers
        self.query_id = response.headers.get("X-Ovh-Queryid") or response.headers.get("X-OVH-QUERYID")
        self.json_ok = True
        self.data = None
        text = response.text if response.content else ""
        if self.status != 204 and text.strip():
            try:
                self.data = response.json()
            except ValueError:
                self.json_ok = False
                self.data = text
        self.api_message = None
        self.error_code = None
        if isinstance(self.data, dict):
            self.api_message = self.data.get("message")
            self.error_code = self.data.get("errorCode")
        elif not self.json_ok:
            self.api_message = "an HTML or non-JSON page (a gateway or proxy error?): {0}".format(_shorten(text))


def _shorten(text, size=120):
    text = " ".join(str(text).split())
    return text if len(text) <= size else text[:size] + "..."


class OvhClient:
    """Signed requests to the OVH API with one bounded retry loop and request counters.

    ``pacer``: the key's budget (an in-process one by default); ``cancellation``: once set, nothing is sent;
    ``time_budget``: seconds from now during which a throttled request is retried (None: no limit).
    """

    endpoint_source = None  # where the endpoint came from, set by connect()

    def __init__(self, sdk, retry=None, sleep=time.sleep, clock=time.monotonic, warn=None, trust_local_clock=False,
                 pacer=None, cancellation=None, time_budget=None):
        self.sdk = sdk
        self.retry = retry or RetryPolicy()
        self.sleep = sleep
        self.clock = clock
        self.warn = warn
        self.pacer = pacer or Pacer(clock=clock, sleep=sleep, cancelled=cancellation)
        self.cancellation = cancellation
        self.time_budget = time_budget
        self._deadline = None if time_budget is None else clock() + time_budget
        self.stats = {}
        self.retries = 0
        self.throttled = 0
        # The API's clock (its latest Date header, an aware datetime): tells the tasks of this run's writes from
        # older ones, since a task says what it did but not on which object.
        self.server_time = None
        # The API proved unreachable: every later request fails at once with this error.
        self.gone = None
        self._lock = threading.Lock()
        self._unreachable_since = None
        self._unreachable_count = 0
        self._clock_trusted = False
        if trust_local_clock and getattr(self.sdk, "_oauth2", None) is None:
            # Sign with the local clock first: it saves the SDK's GET /auth/time in every module run.
            # A request refused for its signature or timestamp reads the API's clock and is sent again.
            self.sdk._time_delta = 0
            self._clock_trusted = True

    def api_calls(self):
        """Request counts for a module result: total, by method, and how many were retries (throttled ones too)."""
        return {"total": sum(self.stats.values()), "by_method": dict(self.stats), "retries": self.retries}

    # Requests ----------------------------------------------------------------------------------------

    def get(self, path, headers=None):
        return self.call("GET", path, headers=headers)[0]

    def put(self, path, body):
        return self.call("PUT", path, body)[0]

    def post(self, path, body=None, idempotent=None, reconcile=None):
        return self.call("POST", path, body, idempotent=idempotent, reconcile=reconcile)[0]

    def delete(self, path):
        return self.call("DELETE", path)[0]

    def call(self, method, path, body=None, headers=None, idempotent=None, reconcile=None):
        """One API request with bounded retries; returns (data, response headers) or raises OvhApiError.

        ``reconcile``: for a write that is not idempotent (a create), called after a failure that may or may
        not have been applied; it reads back and returns what the write made (then returned as the data,
        with headers None), or None to send the write again. Without it such a failure is raised.
        Throttling signals are retried until the time budget is spent; other errors spend the retry budget.
        """
        method = method.upper()
        if idempotent is None:
            idempotent = method in ("GET", "PUT", "DELETE", "HEAD")
        attempt = 0
        while True:
            self._take_turn(method, path)
            try:
                answer = self._send(method, path, body, headers)
            except OvhApiError as error:
                if error.kind == "unreachable":
                    self._unreachable(error)
                    continue
                self._reachable()
                if error.kind != "network":
                    raise  # refused credentials, a refused redirect: nothing a retry can change
                if not idempotent and error.ambiguous and reconcile is None:
                    raise
                if _is_reset(error):
                    # What a gateway past its limit may do: a throttling signal, not an error retry.
                    self._throttled(error, None)
                else:
                    attempt += 1
                    if attempt >= self.retry.attempts:
                        raise
                    self._pause(attempt, None, error)
                if not idempotent and error.ambiguous:
                    found = reconcile()
                    if found is not None:
                        return found, None
                continue
            self._reachable()
            if 200 <= answer.status < 300 and answer.json_ok:
                self.pacer.succeeded()
                return answer.data, answer.headers
            error = self._error(method, path, answer, idempotent)
            if error.kind == "auth" and self._clock_trusted:
                # Whatever the API calls a stale timestamp, it is an authentication refusal: read its clock, try again.
                self._clock_trusted = False
                self.sdk._time_delta = None  # the SDK reads GET /auth/time before the next signed request
                continue
            if _is_throttling(answer):
                self._throttled(error, _parse_retry_after(answer.headers.get("Retry-After")))
                if error.ambiguous:  # a gateway page in answer to a create: did it get through?
                    if reconcile is None:
                        raise error
                    found = reconcile()
                    if found is not None:
                        return found, None
                continue
            self.pacer.succeeded()  # an answer from the API itself: the gateway let it through
            if error.ambiguous and reconcile is not None and attempt + 1 < self.retry.attempts:
                attempt += 1
                found = self._reconcile(attempt, error, reconcile)
                if found is not None:
                    return found, None
                continue
            attempt += 1
            if not (error.kind == "transient" and idempotent) or attempt >= self.retry.attempts:
                raise error
            self._pause(attempt, None, error)

    def _take_turn(self, method, path):
        """Before each send: not after a cancel, not once the API is gone, and at the key's pace."""
        if self.gone is not None:
            raise OvhApiError("{0} {1} was not sent: {2}".format(method, path, self.gone), method=method, path=path,
                              api_message=self.gone.message, kind="unreachable", sent=False)
        if self._cancelled() or not self.pacer.acquire():
            raise OvhApiError("{0} {1} was not sent: the run was cancelled ({2}); what was sent before stands, and "
                              "a rerun converges".format(method, path, getattr(self.cancellation, "reason", None)),
                              method=method, path=path, kind="cancelled", sent=False)

    def _cancelled(self):
        return self.cancellation is not None and self.cancellation.is_set()

    def _throttled(self, error, retry_after):
        """A throttling signal: every worker pauses and the key's rate drops; not an error retry, but bounded in time."""
        with self._lock:
            self.retries += 1
            self.throttled += 1
            first = self.throttled == 1
        if self._deadline is not None and self.clock() >= self._deadline:
            raise OvhApiError(
                "{0}; still throttled by OVH after {1}s (wait_timeout): OVH's fair use is about 60 requests a minute "
                "per consumer key; run again later, raise wait_timeout, or lower parallel".format(
                    error, self.time_budget), method=error.method, path=error.path, status=error.status,
                api_message=error.message, query_id=error.query_id, kind="throttled")
        pause = self.pacer.throttled(retry_after)
        if first and self.warn is not None:
            self.warn("OVH throttled {0} {1} ({2}): every request of this key now waits its turn (paused {3:.1f}s, "
                      "then paced below the rate that got through)".format(
                          error.method, error.path, error.message or error.kind, pause))

    def _unreachable(self, error):
        """A request that never left: a short pause, unless failures with no success between them last too long."""
        with self._lock:
            now = self.clock()
            if self._unreachable_since is None:
                self._unreachable_since = now
            self._unreachable_count += 1
            count, lasted = self._unreachable_count, now - self._unreachable_since
            if lasted >= UNREACHABLE_SECONDS and self.gone is None:
                self.gone = OvhApiError(
                    "{0}; the OVH API could not be reached for {1:.0f}s ({2} attempts): check the network, the endpoint "
                    "and the proxy, then run again".format(error, lasted, count), method=error.method, path=error.path,
                    api_message=error.message, kind="unreachable")
            if self.gone is not None:
                raise self.gone
        self.retries += 1
        self._wait(min(2.0, 0.25 * 2 ** (count - 1)))

    def _reachable(self):
        if self._unreachable_since is not None:
            with self._lock:
                self._unreachable_since = None
                self._unreachable_count = 0

    def _wait(self, delay):
        if self.cancellation is not None and self.sleep is time.sleep:
            self.cancellation.wait(delay)
        else:
            self.sleep(delay)

    def _reconcile(self, attempt, error, reconcile):
        """After an ambiguous write: wait as for a retry, then read back what it may have made."""
        self._pause(attempt, None, error)
        return reconcile()

    def _pause(self, attempt, retry_after, error):
        self.retries += 1
        delay = self.retry.delay(attempt, retry_after)
        if self.warn is not None:
            self.warn("{0} {1}: {2}; retry {3} of {4} in {5:.1f}s".format(
                error.method, error.path, error.message or error.kind, attempt, self.retry.attempts - 1, delay))
        self._wait(delay)

    def _send(self, method, path, body, headers):
        self.stats[method] = self.stats.get(method, 0) + 1
        try:
            response = self.sdk.raw_call(method, path, data=body, need_auth=True, headers=dict(headers or {}))
        except requests.exceptions.RequestException as error:
            raise self._network_error(method, path, error)
        except ovh.exceptions.HTTPError as error:
            # Raised by the SDK's own clock-sync request (GET /auth/time) when the network fails.
            raise self._network_error(method, path, error.args[1] if len(error.args) > 1 else error)
        except ovh.exceptions.OAuth2FailureError as error:
            raise OvhApiError(
                "{0} {1}: the OAuth2 token request failed ({2}): check client_id and client_secret (or "
                "OVH_CLIENT_ID, OVH_CLIENT_SECRET) and that the service account is active".format(method, path, error),
                method=method, path=path, api_message=str(error), kind="auth")
        except ovh.exceptions.InvalidKey as error:
            raise OvhApiError("{0} {1}: {2}: {3}".format(method, path, error, _CREDENTIALS_HINT),
                              method=method, path=path, api_message=str(error), kind="auth")
        except ovh.exceptions.APIError as error:
            # The clock-sync request got an error page; treat it like any transient answer.
            raise OvhApiError("{0} {1}: the OVH API clock request (GET /auth/time) failed: {2}".format(
                method, path, sdk_error_text(error)), method=method, path=path, api_message=str(error),
                query_id=getattr(error, "query_id", None), kind="network", ambiguous=False)
        answer = _Answer(response)
        moment = _parse_http_date(answer.headers.get("Date"))
        if moment is not None and moment.tzinfo is not None:
            self.server_time = moment
        return answer

    def _network_error(self, method, path, error):
        never_sent = isinstance(error, requests.exceptions.ConnectTimeout) or (
            isinstance(error, requests.exceptions.ConnectionError)
            and any(words in str(error) for words in _UNREACHABLE_WORDS))
        endpoint = getattr(self.sdk, "_endpoint", None) or "the OVH API"
        return OvhApiError(
            "{0} {1} failed: no answer from {2} ({3}: {4}){5}".format(
                method, path, endpoint, type(error).__name__, _shorten(error, 300),
                "" if never_sent else "; the request may or may not have been applied"),
            method=method, path=path, api_message=str(error), kind="unreachable" if never_sent else "network",
            ambiguous=not never_sent)

    def _error(self, method, path, answer, idempotent):
        status, api_message, code = answer.status, answer.api_message, answer.error_code
        lowered = (api_message or "").lower() if isinstance(api_message, str) else ""
        query = " (OVH query id {0})".format(answer.query_id) if answer.query_id else ""
        said = api_message if api_message else "no message"
        kind = "other"
        ambiguous = False
        if not answer.json_ok and (status >= 500 or 200 <= status < 300 or status == 429):
            kind = "transient"
            text = "{0} {1} answered {2} with {3}".format(method, path, status, said)
            ambiguous = not idempotent
        elif code in _AUTH_ERROR_CODES or status == 401 or (
                status in (400, 403) and any(fragment in lowered for fragment in _AUTH_MESSAGES)):
            kind = "auth"
            text = "OVH rejected the credentials on {0} {1} ({2} {3}): {4}".format(method, path, status, said, _CREDENTIALS_HINT)
        elif status == 403:
            kind = "forbidden"
            text = ("the OVH credentials are not allowed to call {0} {1} ({2}): grant the consumer key (or the "
                    "service account's IAM policy) the rule {0} {3} (or {0} /email/exchange/*)").format(
                        method, path, said, _rule_path(path))
        elif status == 404:
            kind = "not_found"
            text = "{0} {1}: not found ({2})".format(method, path, said)
        elif status == 409:
            kind = "conflict"
            text = "{0} {1}: conflict ({2}); another operation may be running on this object, retry later".format(method, path, said)
        elif status == 400:
            kind = "bad_request"
            text = "{0} {1}: the API refused the request ({2})".format(method, path, said)
        elif status == 429:
            kind = "transient"
            text = "{0} {1}: rate limited by OVH (429: {2}); OVH's fair use is about 60 requests a minute".format(
                method, path, said)
        elif status >= 500:
            kind = "transient"
            ambiguous = not idempotent
            text = "{0} {1}: OVH server error {2} ({3})".format(method, path, status, said)
        else:
            text = "{0} {1}: unexpected answer {2} ({3})".format(method, path, status, said)
        return OvhApiError(text + query, method=method, path=path, status=status, api_message=api_message,
                           query_id=answer.query_id, kind=kind, ambiguous=ambiguous)


def _is_throttling(answer):
    """429, 408, or an HTML page from the gateway (502 to 504): the gateway refused, the API never saw it."""
    return answer.status in _THROTTLING_STATUSES or (not answer.json_ok and answer.status in _GATEWAY_PAGE_STATUSES)


def _is_reset(error):
    """A connection reset before any answer (not a refused connection, not a timeout)."""
    return error.kind == "network" and any(words in (error.message or "") for words in _RESET_WORDS)


def _rule_path(path):
    """The access-rule path to grant, as OVH writes rules: object keys (ids, addresses, domain names) become `*`,
    so that one rule covers every mailbox, domain or connector of the platform."""
    return "/".join("*" if segment.isdigit() or "%40" in segment or "@" in segment or "." in segment else segment
                    for segment in path.split("/"))
