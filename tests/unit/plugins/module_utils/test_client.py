"""The transport and credential layers against a scripted HTTP boundary: retries, Retry-After, errors, counts."""
from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from configparser import RawConfigParser

import ovh
import ovh.client
import ovh.config
import pytest

from ansible_collections.ovhcloud.exchange.plugins.module_utils import _client
from ansible_collections.ovhcloud.exchange.plugins.module_utils._client import OvhClient, RetryPolicy
from ansible_collections.ovhcloud.exchange.plugins.module_utils._credentials import build_sdk_client
from ansible_collections.ovhcloud.exchange.plugins.module_utils._errors import OvhApiError, OvhConfigError
from ansible_collections.ovhcloud.exchange.plugins.module_utils._exchange import Exchange
from ansible_collections.ovhcloud.exchange.tests.unit.plugins.module_utils.scripted_http import (
    BASE, ORG, ScriptedSdk, Step, refused, reset)
HTML = "<html><body><h1>502 Bad Gateway</h1></body></html>"


def make(steps, attempts=4, jitter=0.0):
    sdk = ScriptedSdk(steps)
    sleeps = []
    client = OvhClient(sdk, retry=RetryPolicy(attempts=attempts, jitter=jitter), sleep=sleeps.append)
    return client, sdk, sleeps


def test_exchange_paths_encode_every_segment():
    client, dummy_sdk, dummy_sleeps = make([])
    exchange = Exchange(client, ORG, "svc/1")
    assert exchange._path() == f"/email/exchange/{ORG}/service/svc%2F1"
    assert exchange._path("account", "john.doe@example.com") == \
        f"/email/exchange/{ORG}/service/svc%2F1/account/john.doe%40example.com"
    assert exchange._path("sendConnector", 29, "changeAuthentication").endswith("/sendConnector/29/changeAuthentication")
    assert exchange._path("account", "a b/é").endswith("/account/a%20b%2F%C3%A9")


def test_service_defaults_to_organization():
    client, dummy_sdk, dummy_sleeps = make([])
    assert Exchange(client, ORG)._path("task") == BASE + "/task"


def test_call_passes_headers_through_and_returns_response_headers():
    pagination = {"X-Pagination-Mode": "CachedObjectList-Pages"}
    client, sdk, dummy_sleeps = make([Step("GET", BASE + "/account", data=[{"id": 1}], request_headers=pagination,
                                           headers={"X-Pagination-Elements": "1"})])
    data, headers = client.call("GET", BASE + "/account", headers=pagination)
    assert data == [{"id": 1}]
    assert headers["X-Pagination-Elements"] == "1"
    assert client.api_calls() == {"total": 1, "by_method": {"GET": 1}, "retries": 0}
    sdk.assert_done()


def test_429_honours_retry_after_then_succeeds():
    client, sdk, sleeps = make([
        Step("GET", BASE + "/sendConnector", status=429, data={"message": "Too many requests"}, headers={"Retry-After": "7"}),
        Step("GET", BASE + "/sendConnector", data=[29]),
    ])
    assert client.get(BASE + "/sendConnector") == [29]
    assert sleeps == [7.0]
    assert client.api_calls() == {"total": 2, "by_method": {"GET": 2}, "retries": 1}
    sdk.assert_done()


def test_retry_after_is_capped_and_http_dates_are_understood():
    policy = RetryPolicy(max_retry_after=60)
    assert policy.delay(1, retry_after=3600) == 60
    assert _client._parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert _client._parse_retry_after("soon") is None


def test_backoff_is_exponential_capped_and_jittered():
    exact = RetryPolicy(base_delay=1.0, max_delay=5.0, jitter=0.0)
    assert [exact.delay(n) for n in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 5.0]
    lowest = RetryPolicy(base_delay=1.0, max_delay=5.0, jitter=0.5, rng=lambda: 1.0)
    assert [lowest.delay(n) for n in (1, 2, 3)] == [0.5, 1.0, 2.0]


@pytest.mark.parametrize("first", [
    Step("GET", BASE, status=502, text=HTML, headers={"Content-Type": "text/html"}),
    Step("GET", BASE, status=503, data={"message": "Service unavailable"}),
    Step("GET", BASE, raises=reset()),
], ids=["gateway-html", "503", "reset"])
def test_reads_are_retried_on_transient_failures(first):
    client, sdk, sleeps = make([first, Step("GET", BASE, data={"offer": "dedicated"})])
    assert client.get(BASE) == {"offer": "dedicated"}
    assert sleeps == [1.0]
    sdk.assert_done()


def test_retries_are_bounded_and_the_error_says_what_failed():
    client, sdk, sleeps = make([Step("GET", BASE, status=500, data={"message": "Internal Server Error"})] * 3, attempts=3)
    with pytest.raises(OvhApiError) as caught:
        client.get(BASE)
    assert sleeps == [1.0, 2.0]
    assert caught.value.kind == "transient" and caught.value.status == 500
    assert f"GET {BASE}" in str(caught.value) and "Internal Server Error" in str(caught.value)
    assert "EU.test.42" in str(caught.value)
    assert client.api_calls()["total"] == 3
    sdk.assert_done()


@pytest.mark.parametrize("step", [
    Step("POST", BASE + "/sendConnector", status=500, data={"message": "Internal Server Error"}),
    Step("POST", BASE + "/sendConnector", status=502, text=HTML),
    Step("POST", BASE + "/sendConnector", raises=reset()),
], ids=["500", "gateway-html", "reset"])
def test_a_post_with_an_unknown_outcome_is_not_retried(step):
    client, sdk, sleeps = make([step])
    with pytest.raises(OvhApiError) as caught:
        client.post(BASE + "/sendConnector", {"displayName": "relay"})
    assert caught.value.ambiguous
    assert sleeps == []
    assert sdk.writes() == [("POST", BASE + "/sendConnector", {"displayName": "relay"})]


@pytest.mark.parametrize("step", [
    Step("POST", BASE + "/sendConnector", status=429, data={"message": "slow down"}),
    Step("POST", BASE + "/sendConnector", raises=refused()),
], ids=["429", "refused"])
def test_a_post_that_surely_did_not_run_is_retried(step):
    client, sdk, dummy_sleeps = make([step, Step("POST", BASE + "/sendConnector", data={"id": 5, "status": "todo"})])
    assert client.post(BASE + "/sendConnector", {"displayName": "relay"}) == {"id": 5, "status": "todo"}
    sdk.assert_done()


def test_a_post_declared_idempotent_is_retried_on_5xx():
    client, sdk, dummy_sleeps = make([
        Step("POST", BASE + "/sendConnector/29/changeAuthentication", status=503, data={"message": "busy"}),
        Step("POST", BASE + "/sendConnector/29/changeAuthentication", data={"id": 6}),
    ])
    assert client.post(BASE + "/sendConnector/29/changeAuthentication", {"smartHostAuthMechanism": "none"},
                       idempotent=True) == {"id": 6}
    sdk.assert_done()


@pytest.mark.parametrize("status,body,kind,words", [
    (403, {"errorCode": "INVALID_CREDENTIAL", "message": "This credential is not valid"}, "auth",
     ["rejected the credentials", "consumer_key", "This credential is not valid"]),
    (403, {"class": "Client::Forbidden", "message": "This application key is invalid"}, "auth", ["application_key"]),
    (400, {"errorCode": "INVALID_SIGNATURE", "httpCode": "400 Bad Request", "message": "Invalid signature"}, "auth",
     ["application_secret", "Invalid signature"]),
    (403, {"errorCode": "NOT_GRANTED_CALL", "message": "This call has not been granted"}, "forbidden",
     [f"not allowed to call PUT {BASE}/sendConnector/29", f"rule PUT {BASE}/sendConnector/*"]),
    (404, {"message": "The requested object (id = 29) does not exist"}, "not_found", ["does not exist"]),
    (409, {"message": "already being processed"}, "conflict", ["conflict"]),
    (400, {"class": "Client::BadRequest", "message": "Invalid port"}, "bad_request", ["refused the request (Invalid port)"]),
])
def test_errors_are_worded_and_classified(status, body, kind, words):
    client, dummy_sdk, sleeps = make([Step("PUT", BASE + "/sendConnector/29", status=status, data=body)])
    with pytest.raises(OvhApiError) as caught:
        client.put(BASE + "/sendConnector/29", {"port": 0})
    error = caught.value
    assert (error.kind, error.status, error.method, error.path, error.query_id) == \
        (kind, status, "PUT", BASE + "/sendConnector/29", "EU.test.42")
    assert error.message == body["message"]
    for word in words:
        assert word in str(error)
    assert "OVH query id EU.test.42" in str(error)
    assert sleeps == []


def test_unknown_platform_has_its_own_wording():
    client, dummy_sdk, dummy_sleeps = make([Step("GET", BASE, status=404, data={"message": "This service does not exist"})])
    with pytest.raises(OvhApiError) as caught:
        Exchange(client, ORG).offer()
    assert caught.value.kind == "not_found"
    assert str(caught.value).startswith(f"Exchange platform not found: organization {ORG!r}, service {ORG!r}")


# Building the SDK client -------------------------------------------------------------------------

KEYS = {"application_key": "ak", "application_secret": "as", "consumer_key": "ck"}


@pytest.fixture
def no_ambient_config(monkeypatch):
    for name in ("ENDPOINT", "APPLICATION_KEY", "APPLICATION_SECRET", "CONSUMER_KEY", "CLIENT_ID", "CLIENT_SECRET"):
        monkeypatch.delenv("OVH_" + name, raising=False)
    monkeypatch.setattr(ovh.config.config, "config", RawConfigParser())
    monkeypatch.setattr(ovh.client, "ENDPOINTS", dict(ovh.client.ENDPOINTS))
    monkeypatch.setattr(ovh.client, "OAUTH2_TOKEN_URLS", dict(ovh.client.OAUTH2_TOKEN_URLS))
    return ovh.config.config.config


def test_region_endpoint(no_ambient_config):
    sdk = build_sdk_client({"endpoint": "ovh-ca", **KEYS})
    assert sdk._endpoint == "https://ca.api.ovh.com/1.0"


@pytest.mark.parametrize("endpoint,base", [
    ("http://127.0.0.1:8080/1.0", "http://127.0.0.1:8080/1.0"),
    ("http://localhost:8080", "http://localhost:8080/1.0"),
    ("http://[::1]:8080/1.0/", "http://[::1]:8080/1.0"),
    ("https://api.example.net/1.0", "https://api.example.net/1.0"),
])
def test_url_endpoints_are_registered_with_the_sdk(no_ambient_config, endpoint, base):
    assert build_sdk_client({"endpoint": endpoint, **KEYS})._endpoint == base


@pytest.mark.parametrize("endpoint,words", [
    ("http://api.example.net/1.0", "allowed only to a loopback address"),
    ("http://10.0.0.1/1.0", "allowed only to a loopback address"),
    ("ovh-moon", "neither an OVH region"),
    ("ftp://127.0.0.1/1.0", "not a usable URL"),
])
def test_bad_endpoints_are_refused_clearly(no_ambient_config, endpoint, words):
    with pytest.raises(OvhConfigError) as caught:
        build_sdk_client({"endpoint": endpoint, **KEYS})
    assert words in str(caught.value) and endpoint in str(caught.value)


def test_ovh_conf_chain_completes_missing_values(no_ambient_config):
    no_ambient_config.read_string("[default]\nendpoint=http://127.0.0.1:9/1.0\n"
                                  "[http://127.0.0.1:9/1.0]\napplication_key=a\napplication_secret=b\nconsumer_key=c\n")
    sdk = build_sdk_client({})
    assert (sdk._endpoint, sdk._application_key, sdk._consumer_key) == ("http://127.0.0.1:9/1.0", "a", "c")


def test_environment_variables_come_before_ovh_conf(no_ambient_config, monkeypatch):
    no_ambient_config.read_string("[ovh-eu]\napplication_key=a\napplication_secret=b\nconsumer_key=c\n")
    monkeypatch.setenv("OVH_CONSUMER_KEY", "from-env")
    assert build_sdk_client({"endpoint": "ovh-eu"})._consumer_key == "from-env"


@pytest.mark.parametrize("no_proxy,proxied", [("", True), ("eu.api.ovh.com", False)])
def test_proxy_and_ca_settings_are_read_from_the_environment_once(no_ambient_config, monkeypatch, tmp_path, no_proxy,
                                                                  proxied):
    for name in ("HTTP_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy", "no_proxy", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    bundle = tmp_path / "corporate-ca.pem"
    bundle.write_text("")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example.net:3128")
    monkeypatch.setenv("NO_PROXY", no_proxy)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    session = _client.connect({"endpoint": "ovh-eu", **KEYS}).sdk._session
    assert session.proxies.get("https://eu.api.ovh.com") == ("http://proxy.example.net:3128" if proxied else None)
    assert session.verify == str(bundle)
    # requests would otherwise read the environment (and ~/.netrc) again for every request.
    assert session.trust_env is False


def test_a_missing_ca_bundle_is_reported_before_any_request(no_ambient_config, monkeypatch):
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/no-such-ca.pem")
    with pytest.raises(OvhConfigError) as caught:
        _client.connect({"endpoint": "ovh-eu", **KEYS})
    assert "/etc/no-such-ca.pem" in str(caught.value) and "REQUESTS_CA_BUNDLE" in str(caught.value)


@pytest.mark.parametrize("params,words", [
    ({"endpoint": "ovh-eu", **KEYS, "client_id": "id", "client_secret": "s"}, "use one of them"),
    ({"endpoint": "ovh-eu"}, "no OVH credentials"),
    ({"endpoint": "ovh-eu", "application_key": "ak", "consumer_key": "ck"}, "go together"),
    ({"endpoint": "ovh-eu", "application_key": "ak", "application_secret": "as"}, "consumer_key"),
    ({"endpoint": "ovh-eu", "client_id": "id"}, "go together"),
    ({**KEYS}, "no OVH endpoint"),
])
def test_credential_mistakes_are_reported_before_any_request(no_ambient_config, params, words):
    with pytest.raises(OvhConfigError) as caught:
        build_sdk_client(params)
    assert words in str(caught.value)


def test_oauth2_on_a_url_endpoint_uses_its_token_url(no_ambient_config):
    sdk = build_sdk_client({"endpoint": "http://127.0.0.1:8080/1.0", "client_id": "id", "client_secret": "secret"})
    assert sdk._oauth2.token_url == "http://127.0.0.1:8080/auth/oauth2/token"
    other = build_sdk_client({"endpoint": "https://api.example.net/1.0", "client_id": "id", "client_secret": "secret",
                              "oauth2_token_url": "https://auth.example.net/token"})
    assert other._oauth2.token_url == "https://auth.example.net/token"


REFUSED_SIGNATURE = {"errorCode": "INVALID_SIGNATURE", "httpCode": "400 Bad Request", "message": "Invalid signature"}


def clock_client(steps):
    sdk = ScriptedSdk(steps)
    sdk._time_delta, sdk._oauth2 = None, None
    return OvhClient(sdk, sleep=lambda seconds: None, trust_local_clock=True), sdk


def test_local_clock_signs_first_and_the_api_clock_is_read_after_a_refused_signature():
    client, sdk = clock_client([Step("GET", BASE + "/task", status=400, data=REFUSED_SIGNATURE),
                                Step("GET", BASE + "/task", data=[1])])
    assert sdk._time_delta == 0  # no GET /auth/time before the first request
    assert client.get(BASE + "/task") == [1]
    assert sdk._time_delta is None  # the SDK reads GET /auth/time before the request sent again


def test_bad_credentials_are_sent_again_once_only():
    client, sdk = clock_client([Step("GET", BASE + "/task", status=400, data=REFUSED_SIGNATURE),
                                Step("GET", BASE + "/task", status=400, data=REFUSED_SIGNATURE)])
    with pytest.raises(OvhApiError) as caught:
        client.get(BASE + "/task")
    assert caught.value.kind == "auth" and len(sdk.requests) == 2


def test_an_ambiguous_create_is_read_back_before_it_is_sent_again():
    found = []
    client, sdk, sleeps = make([Step("POST", BASE + "/sendConnector", raises=reset()),
                                Step("POST", BASE + "/sendConnector", status=502, text=HTML),
                                Step("POST", BASE + "/sendConnector", data={"id": 7, "status": "todo"})])

    def read_back():
        found.append("read")
        return None  # nothing was made: send it again

    assert client.post(BASE + "/sendConnector", {"displayName": "relay"}, reconcile=read_back) == {"id": 7, "status": "todo"}
    assert found == ["read", "read"] and len(sleeps) == 2 and client.retries == 2
    sdk.assert_done()


def test_an_ambiguous_create_found_by_the_read_back_is_not_sent_again():
    client, sdk, dummy_sleeps = make([Step("POST", BASE + "/sendConnector", raises=reset())])
    assert client.post(BASE + "/sendConnector", {}, reconcile=lambda: "the connector") == "the connector"
    assert len(sdk.writes()) == 1
