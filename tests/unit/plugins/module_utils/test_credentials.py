"""The URL rule of the API endpoint and the OAuth2 token URL, and where the endpoint came from."""
from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from configparser import RawConfigParser

import ovh
import ovh.client
import ovh.config
import pytest

from ansible_collections.ovhcloud.exchange.plugins.module_utils._credentials import (
    build_sdk_client, check_url, sdk_client_and_endpoint_source)
from ansible_collections.ovhcloud.exchange.plugins.module_utils._errors import OvhConfigError
from ansible_collections.ovhcloud.exchange.tests.unit.plugins.module_utils import test_client

KEYS = test_client.KEYS
no_ambient_config = test_client.no_ambient_config  # the fixture, shared for pytest to find here

OAUTH2 = {"client_id": "id", "client_secret": "secret"}


# Each of these passed the loopback check of urlsplit while urllib3 (the transport) read another host or
# port, or carried something that has no place in an API URL.
REFUSED = [
    ("http://127.0.0.1:47001\\@127.0.0.1:8080/1.0", "backslash"),
    ("http://127.0.0.1:47001\\/1.0", "backslash"),
    ("https://user:pw@api.example.net/1.0", "user part"),
    ("http://attacker.example@127.0.0.1:8080/1.0", "user part"),
    ("http://127.0.0.1:8080/1.0\r\nX-Injected: 1", "control character"),
    ("http://127.0.0.1:8080/1.0\x00", "control character"),
    ("http://127.0.0.1 :8080/1.0", "whitespace"),
    ("http://127.0.0.1:8080\t/1.0", "whitespace"),
    ("http://127.0.0.1:99999/1.0", "not a valid URL"),
]


@pytest.mark.parametrize("url,words", REFUSED)
def test_the_endpoint_rule_refuses_what_parsers_read_differently(no_ambient_config, url, words):
    with pytest.raises(OvhConfigError) as caught:
        build_sdk_client({"endpoint": url, **KEYS})
    assert words in str(caught.value) and "endpoint" in str(caught.value)


@pytest.mark.parametrize("url,words", REFUSED)
def test_the_token_url_has_the_same_rule(no_ambient_config, url, words):
    with pytest.raises(OvhConfigError) as caught:
        build_sdk_client({"endpoint": "https://api.example.net/1.0", "oauth2_token_url": url, **OAUTH2})
    assert words in str(caught.value) and "oauth2_token_url" in str(caught.value)
    assert url not in ovh.client.OAUTH2_TOKEN_URLS.values()


def test_the_url_is_read_as_the_transport_reads_it():
    assert check_url("HTTP://LocalHost:8080/1.0", "endpoint") == ("http", "localhost", 8080, "/1.0")
    assert check_url("http://[::1]:8080/1.0", "endpoint") == ("http", "::1", 8080, "/1.0")
    assert check_url("https://api.example.net/1.0", "endpoint") == ("https", "api.example.net", None, "/1.0")


@pytest.mark.parametrize("url", ["http://api.example.net/token", "ftp://127.0.0.1/token", "http:///token"])
def test_the_token_url_is_https_or_loopback_http(no_ambient_config, url):
    with pytest.raises(OvhConfigError) as caught:
        build_sdk_client({"endpoint": "https://api.example.net/1.0", "oauth2_token_url": url, **OAUTH2})
    assert "must be https" in str(caught.value)


def test_the_registered_url_is_the_one_checked(no_ambient_config):
    sdk = build_sdk_client({"endpoint": "HTTP://LOCALHOST:8080/1.0/", **OAUTH2})
    assert sdk._endpoint == "http://localhost:8080/1.0"
    assert sdk._oauth2.token_url == "http://localhost:8080/auth/oauth2/token"


def test_endpoint_source_names_the_option_the_environment_or_the_file(no_ambient_config, monkeypatch, tmp_path):
    assert sdk_client_and_endpoint_source({"endpoint": "ovh-eu", **KEYS})[1] == "option"
    monkeypatch.setenv("OVH_ENDPOINT", "ovh-ca")
    # Ansible fills the option from OVH_ENDPOINT: the same value is reported as the environment's.
    assert sdk_client_and_endpoint_source({"endpoint": "ovh-ca", **KEYS})[1] == "environment"
    monkeypatch.delenv("OVH_ENDPOINT")
    conf = tmp_path / "ovh.conf"
    conf.write_text("[default]\nendpoint = ovh-us\n")
    monkeypatch.setattr(ovh.config, "CONFIG_PATH", ["/etc/no-such-ovh.conf", str(conf)])
    monkeypatch.setattr(ovh.config.config, "config", RawConfigParser())
    ovh.config.config.config.read(ovh.config.CONFIG_PATH)
    sdk, source = sdk_client_and_endpoint_source(KEYS)
    assert source == "ovh.conf ({0})".format(conf) and sdk._endpoint == "https://api.us.ovhcloud.com/1.0"
