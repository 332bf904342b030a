# -*- coding: utf-8 -*-
# Copyright (c) 2026 ovhcloud.exchange contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""PRIVATE client layer: the only code of the collection that speaks HTTP to the OVH API.

This file is private to ovhcloud.exchange; it may change at any time without notice.

It builds an official `ovh` SDK client from the module options (with environment fallbacks, then the
SDK's ovh.conf chain), percent-encodes path segments, retries what is safe to retry, counts requests
and turns every failure into an OvhApiError whose text says what failed, why and how to fix it.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import email.utils
import ipaddress
import os
import random
import time
import traceback

from urllib.parse import quote, urlsplit

from ansible.module_utils.basic import env_fallback, missing_required_lib

try:
    import ovh
    import ovh.client
    import ovh.config
    import ovh.exceptions
    import requests
except ImportError:
    HAS_OVH = False
    OVH_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_OVH = True
    OVH_IMPORT_ERROR = None

REGIONS = ("ovh-eu", "ovh-ca", "ovh-us")

OVH_COMMON_ARGSPEC = dict(
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


def api_argument_spec(wait=True, **module_options):
    """A module's argument spec: its own options, the credentials, the platform and (with `wait`) the task wait."""
    argument_spec = dict(module_options)
    argument_spec.update(OVH_COMMON_ARGSPEC)
    argument_spec.update(PLATFORM_ARGSPEC)
    if wait:
        argument_spec.update(WAIT_ARGSPEC)
    return argument_spec


ERROR_KINDS = ("auth", "forbidden", "not_found", "conflict", "bad_request", "transient", "network", "config", "other")

_AUTH_ERROR_CODES = ("INVALID_KEY", "INVALID_CREDENTIAL", "NOT_CREDENTIAL", "INVALID_SIGNATURE", "QUERY_TIME_OUT")
_AUTH_MESSAGES = ("invalid signature", "application key is invalid", "credential does not exist",
                  "credential is not valid", "you must login first", "invalid application", "invalid consumer")
_CREDENTIALS_HINT = ("check application_key, application_secret and consumer_key (or OVH_APPLICATION_KEY, "
                     "OVH_APPLICATION_SECRET, OVH_CONSUMER_KEY); a consumer key expires or can be revoked, "
                     "create a new one if needed")


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


def require_sdk(module):
    """Fail the module with missing_required_lib when the `ovh` SDK cannot be imported."""
    if not HAS_OVH:
        module.fail_json(msg=missing_required_lib("ovh"), exception=OVH_IMPORT_ERROR)


def encode_segment(segment):
    """Percent-encode one path segment (`@`, `/`, spaces...): the SDK signs the path exactly as given."""
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
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment is None:
        return None
    now = time.time() if now is None else now
    return max(0.0, moment.timestamp() - now)


def _is_loopback(host):
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def resolve_endpoint(endpoint):
    """(sdk endpoint name, base URL or None) for a region name or a URL; refuses anything else clearly."""
    if endpoint in REGIONS or (endpoint in ovh.client.ENDPOINTS and "://" not in endpoint):
        return endpoint, None
    if "://" not in endpoint:
        raise OvhConfigError(
            "endpoint {0!r} is neither an OVH region ({1}) nor a URL; set endpoint (or OVH_ENDPOINT) to one of "
            "those".format(endpoint, ", ".join(REGIONS)))
    parts = urlsplit(endpoint)
    host = parts.hostname or ""
    if parts.scheme == "https" and host:
        pass
    elif parts.scheme == "http" and host and _is_loopback(host):
        pass
    elif parts.scheme == "http" and host:
        raise OvhConfigError(
            "endpoint {0!r} refused: plain http would send the signed requests in clear text; it is allowed only "
            "to a loopback address (a local simulator). Use https or a region ({1})".format(endpoint, ", ".join(REGIONS)))
    else:
        raise OvhConfigError(
            "endpoint {0!r} is not a usable URL: give https://host[:port]/1.0 (or http:// to a loopback address), "
            "or a region ({1})".format(endpoint, ", ".join(REGIONS)))
    path = parts.path.rstrip("/") or "/1.0"
    return endpoint, "{0}://{1}{2}".format(parts.scheme, parts.netloc, path)


def _default_token_url(base_url):
    parts = urlsplit(base_url)
    return "{0}://{1}/auth/oauth2/token".format(parts.scheme, parts.netloc)


def _value(params, name):
    value = params.get(name)
    return value if value not in ("", None) else None


def build_sdk_client(params, timeout=(10, 60)):
    """An `ovh.Client` from the module options; the SDK completes unset values from OVH_* and ovh.conf."""
    for name in ("endpoint", "application_key", "application_secret", "consumer_key", "client_id", "client_secret"):
        # An empty OVH_* variable means unset (AWX injects empty strings for credential fields left blank);
        # the SDK would count it as given. Each module run is its own process, so this touches nothing else.
        if os.environ.get("OVH_" + name.upper()) == "":
            del os.environ["OVH_" + name.upper()]
    endpoint = _value(params, "endpoint")
    if endpoint is None:
        endpoint = ovh.config.config.get("default", "endpoint")
    if endpoint is None:
        raise OvhConfigError(
            "no OVH endpoint: set the endpoint option or OVH_ENDPOINT to a region ({0}) or a URL, or write "
            "endpoint= in the [default] section of ovh.conf".format(", ".join(REGIONS)))
    name, base_url = resolve_endpoint(endpoint)
    if base_url is not None:
        # The SDK accepts only names of ovh.client.ENDPOINTS: register the URL under its own text, which
        # is also the ovh.conf section the SDK reads keys from. Each module run is its own process.
        ovh.client.ENDPOINTS[name] = base_url

    keys = dict((key, _value(params, key)) for key in
                ("application_key", "application_secret", "consumer_key", "client_id", "client_secret"))
    # Resolve the config-file chain ourselves first, so that a mix of both modes is reported in our words.
    for key in keys:
        if keys[key] is None:
            keys[key] = ovh.config.config.get(name, key)
    has_app = bool(keys["application_key"] or keys["application_secret"])
    has_oauth2 = bool(keys["client_id"] or keys["client_secret"])
    if has_app and has_oauth2:
        raise OvhConfigError(
            "both application keys (application_key/application_secret) and an OAuth2 service account "
            "(client_id/client_secret) are set, from options, OVH_* variables or ovh.conf: use one of them")
    if not has_app and not has_oauth2:
        raise OvhConfigError(
            "no OVH credentials: set application_key, application_secret and consumer_key (or OVH_APPLICATION_KEY, "
            "OVH_APPLICATION_SECRET, OVH_CONSUMER_KEY), or client_id and client_secret for an OAuth2 service "
            "account, or write them in ovh.conf")
    if has_app and not (keys["application_key"] and keys["application_secret"]):
        raise OvhConfigError("application_key and application_secret go together: one of them is missing")
    if has_app and not keys["consumer_key"]:
        raise OvhConfigError(
            "consumer_key (or OVH_CONSUMER_KEY) is missing: the application keys alone cannot sign a request")
    if has_oauth2 and not (keys["client_id"] and keys["client_secret"]):
        raise OvhConfigError("client_id and client_secret go together: one of them is missing")
    if has_oauth2:
        token_url = _value(params, "oauth2_token_url")
        if token_url is None and base_url is not None:
            token_url = _default_token_url(base_url)
        if token_url is not None:
            token_parts = urlsplit(token_url)
            if token_parts.scheme == "http" and _is_loopback(token_parts.hostname or ""):
                # oauthlib refuses http token URLs; a loopback simulator is the one case we allow.
                os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"
            elif token_parts.scheme != "https":
                raise OvhConfigError("oauth2_token_url {0!r} must be https (or http to a loopback address)".format(token_url))
            ovh.client.OAUTH2_TOKEN_URLS[name] = token_url
    try:
        client = ovh.Client(endpoint=name, timeout=timeout, **keys)
    except (ovh.exceptions.InvalidRegion, ovh.exceptions.InvalidConfiguration) as error:
        raise OvhConfigError("the OVH client cannot be configured: {0}".format(_sdk_error_text(error)))
    if not has_oauth2:
        _read_environment_once(client._session, client._endpoint)
    return client


def _read_environment_once(session, url):
    """Apply the proxy and CA settings of the environment (HTTPS_PROXY, NO_PROXY, REQUESTS_CA_BUNDLE) once.

    requests reads them, and ~/.netrc, again for every request: a fifth of a request's CPU, which caps the
    bulk writes. A module run is one short process, so reading them once gives the same settings; ~/.netrc
    is no longer read (signed requests need no Authorization header). The OAuth2 session is left alone:
    its token URL is another host, which NO_PROXY may treat differently.
    """
    settings = session.merge_environment_settings(url, {}, None, None, None)
    if isinstance(settings["verify"], str) and not os.path.exists(settings["verify"]):
        # requests would only fail at the TLS handshake, worded as the API not answering.
        raise OvhConfigError("the CA bundle {0!r} named by REQUESTS_CA_BUNDLE (or CURL_CA_BUNDLE) does not exist: "
                             "fix the path or unset the variable".format(settings["verify"]))
    session.proxies.update(settings["proxies"])
    session.verify = settings["verify"]
    session.trust_env = False


def _sdk_error_text(error):
    args = getattr(error, "args", ())
    if args and isinstance(args[0], str) and "%s" in args[0]:
        try:
            return args[0] % tuple(args[1:])
        except TypeError:
            pass
    return str(error)


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


class ExchangeClient:
    """OVH API client for one Exchange platform (organization + service)."""

    def __init__(self, params, retry=None, sleep=time.sleep, clock=time.monotonic, sdk_client=None, warn=None,
                 trust_local_clock=None):
        self.params = params
        self.retry = retry or RetryPolicy()
        self.sleep = sleep
        self.clock = clock
        self.warn = warn
        self.organization = params.get("organization")
        self.service = params.get("service") or self.organization
        self.stats = {}
        self.retries = 0
        self.sdk = sdk_client if sdk_client is not None else build_sdk_client(params)
        self._clock_trusted = False
        if trust_local_clock is None:
            trust_local_clock = sdk_client is None
        if trust_local_clock and getattr(self.sdk, "_oauth2", None) is None:
            # Sign with the local clock first: it saves the SDK's GET /auth/time in every module run.
            # A request refused for its signature or timestamp reads the API's clock and is sent again.
            self.sdk._time_delta = 0
            self._clock_trusted = True

    # Paths -------------------------------------------------------------------------------------------

    def service_path(self, *segments):
        """`/email/exchange/{org}/service/{svc}[/segment...]`, every segment percent-encoded."""
        if not self.organization:
            raise OvhConfigError("organization is required to address an Exchange platform")
        parts = ["", "email", "exchange", encode_segment(self.organization), "service", encode_segment(self.service)]
        parts.extend(encode_segment(segment) for segment in segments)
        return "/".join(parts)

    def api_calls(self):
        """Request counts for a module result: total, by method, and how many were retries."""
        return {"total": sum(self.stats.values()), "by_method": dict(self.stats), "retries": self.retries}

    # Requests ----------------------------------------------------------------------------------------

    def get(self, path, headers=None):
        return self.call("GET", path, headers=headers)[0]

    def put(self, path, body):
        return self.call("PUT", path, body)[0]

    def post(self, path, body=None, idempotent=None):
        return self.call("POST", path, body, idempotent=idempotent)[0]

    def delete(self, path):
        return self.call("DELETE", path)[0]

    def call(self, method, path, body=None, headers=None, idempotent=None):
        """One API request with bounded retries; returns (data, response headers) or raises OvhApiError."""
        method = method.upper()
        if idempotent is None:
            idempotent = method in ("GET", "PUT", "DELETE", "HEAD")
        attempt = 0
        while True:
            attempt += 1
            try:
                answer = self._send(method, path, body, headers)
            except OvhApiError as error:
                if error.kind != "network" or attempt >= self.retry.attempts:
                    raise
                if not idempotent and error.ambiguous:
                    raise
                self._pause(attempt, None, error)
                continue
            if 200 <= answer.status < 300 and answer.json_ok:
                return answer.data, answer.headers
            error = self._error(method, path, answer, idempotent)
            if error.kind == "auth" and self._clock_trusted:
                # Whatever the API calls a stale timestamp, it is an authentication refusal: read its clock, try again.
                self._clock_trusted = False
                self.sdk._time_delta = None  # the SDK reads GET /auth/time before the next signed request
                continue
            retryable = answer.status == 429 or (error.kind == "transient" and idempotent)
            if not retryable or attempt >= self.retry.attempts:
                raise error
            self._pause(attempt, _parse_retry_after(answer.headers.get("Retry-After")), error)

    def _pause(self, attempt, retry_after, error):
        self.retries += 1
        delay = self.retry.delay(attempt, retry_after)
        if self.warn is not None:
            self.warn("{0} {1}: {2}; retry {3} of {4} in {5:.1f}s".format(
                error.method, error.path, error.message or error.kind, attempt, self.retry.attempts - 1, delay))
        self.sleep(delay)

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
                method, path, _sdk_error_text(error)), method=method, path=path, api_message=str(error),
                query_id=getattr(error, "query_id", None), kind="network", ambiguous=False)
        return _Answer(response)

    def _network_error(self, method, path, error):
        never_sent = isinstance(error, requests.exceptions.ConnectTimeout) or (
            isinstance(error, requests.exceptions.ConnectionError)
            and ("NewConnectionError" in str(error) or "Connection refused" in str(error)))
        endpoint = getattr(self.sdk, "_endpoint", None) or _value(self.params, "endpoint") or "the OVH API"
        return OvhApiError(
            "{0} {1} failed: no answer from {2} ({3}: {4}){5}".format(
                method, path, endpoint, type(error).__name__, _shorten(error, 300),
                "" if never_sent else "; the request may or may not have been applied"),
            method=method, path=path, api_message=str(error), kind="network", ambiguous=not never_sent)

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
        elif status == 404 and self.organization and path == self.service_path():
            kind = "not_found"
            text = ("Exchange platform not found: organization {0!r}, service {1!r} ({2} {3}: {4}); check organization "
                    "and service (GET /email/exchange lists the organizations these credentials can see)").format(
                        self.organization, self.service, method, path, said)
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
            text = "{0} {1}: rate limited by OVH (429: {2}) after {3} attempt(s); OVH's fair use is about 60 requests a minute".format(
                method, path, said, self.retry.attempts)
        elif status >= 500:
            kind = "transient"
            ambiguous = not idempotent
            text = "{0} {1}: OVH server error {2} ({3})".format(method, path, status, said)
        else:
            text = "{0} {1}: unexpected answer {2} ({3})".format(method, path, status, said)
        return OvhApiError(text + query, method=method, path=path, status=status, api_message=api_message,
                           query_id=answer.query_id, kind=kind, ambiguous=ambiguous)


def _rule_path(path):
    """The access-rule path to grant: numeric ids become `*` so one rule covers every object."""
    return "/".join("*" if segment.isdigit() else segment for segment in path.split("/"))
