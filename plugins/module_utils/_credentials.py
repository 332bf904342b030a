# -*- coding: utf-8 -*-
# Copyright (c) 2026 ovhcloud.exchange contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""PRIVATE: which OVH API endpoint and which credentials a module run uses. May change at any time.

`build_sdk_client` turns the credential options (module options, then OVH_* variables, then the SDK's
ovh.conf chain) into an official `ovh.Client`, refusing unusable combinations in words that say how to
fix them. Every process-wide side effect (environment variables, SDK globals) is made by the
`_process_*` functions at the end of this file, and nowhere else in the collection.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import ipaddress
import os
import traceback

from configparser import Error as ConfigParserError, RawConfigParser
from urllib.parse import urlsplit

from ansible_collections.ovhcloud.exchange.plugins.module_utils._errors import OvhConfigError

try:
    import ovh
    import ovh.client
    import ovh.config
    import ovh.exceptions
    from urllib3.exceptions import LocationParseError
    from urllib3.util import parse_url
except ImportError:
    HAS_OVH = False
    OVH_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_OVH = True
    OVH_IMPORT_ERROR = None

REGIONS = ("ovh-eu", "ovh-ca", "ovh-us")
CREDENTIAL_OPTIONS = ("endpoint", "application_key", "application_secret", "consumer_key", "client_id",
                      "client_secret", "oauth2_token_url")
_KEYS = ("application_key", "application_secret", "consumer_key", "client_id", "client_secret")


def is_loopback(host):
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url, option):
    """(scheme, host, port, path) of an API or token URL, as the transport (urllib3) reads it.

    Refused: a backslash, a user part, whitespace or a control character, and any URL that urllib3 and
    urllib.parse read as different schemes, hosts or ports (`http://127.0.0.1:1\\@127.0.0.1:2/`: the check
    would see one host and the request go to another).
    """
    def refuse(why):
        return OvhConfigError("{0} {1!r} refused: {2}; give scheme://host[:port]/path and nothing else".format(option, url, why))
    if "\\" in url:
        raise refuse("it holds a backslash, which URL parsers read differently")
    if any(char.isspace() or ord(char) < 0x20 or 0x7f <= ord(char) <= 0x9f for char in url):
        raise refuse("it holds whitespace or a control character")
    try:
        transport = parse_url(url)
        standard = urlsplit(url)
        standard_port = standard.port
    except (LocationParseError, ValueError) as error:
        raise refuse("it is not a valid URL ({0})".format(error))
    if transport.auth is not None or "@" in standard.netloc:
        raise refuse("it holds a user part (user@host): credentials never go in the URL")
    host = (transport.host or "").strip("[]").lower()
    read_by_transport = ((transport.scheme or "").lower(), host, transport.port)
    read_by_urllib = (standard.scheme.lower(), (standard.hostname or "").lower(), standard_port)
    if read_by_transport != read_by_urllib:
        raise refuse("URL parsers disagree on its scheme, host or port ({0} against {1})".format(
            read_by_transport, read_by_urllib))
    return read_by_transport + (standard.path,)


def resolve_endpoint(endpoint):
    """(sdk endpoint name, base URL or None) for a region name or a URL; refuses anything else clearly."""
    if endpoint in REGIONS or (endpoint in ovh.client.ENDPOINTS and "://" not in endpoint):
        return endpoint, None
    if "://" not in endpoint:
        raise OvhConfigError(
            "endpoint {0!r} is neither an OVH region ({1}) nor a URL; set endpoint (or OVH_ENDPOINT) to one of "
            "those".format(endpoint, ", ".join(REGIONS)))
    scheme, host, port, path = check_url(endpoint, "endpoint")
    if scheme == "https" and host:
        pass
    elif scheme == "http" and host and is_loopback(host):
        pass
    elif scheme == "http" and host:
        raise OvhConfigError(
            "endpoint {0!r} refused: plain http would send the signed requests in clear text; it is allowed only "
            "to a loopback address (a local simulator). Use https or a region ({1})".format(endpoint, ", ".join(REGIONS)))
    else:
        raise OvhConfigError(
            "endpoint {0!r} is not a usable URL: give https://host[:port]/1.0 (or http:// to a loopback address), "
            "or a region ({1})".format(endpoint, ", ".join(REGIONS)))
    path = path.rstrip("/") or "/1.0"
    return endpoint, "{0}://{1}{2}".format(scheme, _netloc(host, port), path)


def _netloc(host, port):
    host = "[{0}]".format(host) if ":" in host else host
    return host if port is None else "{0}:{1}".format(host, port)


def _default_token_url(base_url):
    scheme, host, port = check_url(base_url, "endpoint")[:3]
    return "{0}://{1}/auth/oauth2/token".format(scheme, _netloc(host, port))


def check_token_url(token_url):
    """The OAuth2 token URL's rule: the endpoint's (https, or http to loopback only). True for loopback http."""
    scheme, host = check_url(token_url, "oauth2_token_url")[:2]
    loopback_http = scheme == "http" and is_loopback(host)
    if not host or (not loopback_http and scheme != "https"):
        raise OvhConfigError("oauth2_token_url {0!r} must be https (or http to a loopback address)".format(token_url))
    return loopback_http


def option_value(options, name):
    """An option's value, an empty string counting as unset."""
    value = options.get(name)
    return value if value not in ("", None) else None


def sdk_error_text(error):
    """The text of an SDK exception, whose arguments are sometimes a %-format and its values."""
    args = getattr(error, "args", ())
    if args and isinstance(args[0], str) and "%s" in args[0]:
        try:
            return args[0] % tuple(args[1:])
        except TypeError:
            pass
    return str(error)


def build_sdk_client(options, timeout=(10, 60)):
    """An `ovh.Client` from the credential options; the SDK completes unset values from OVH_* and ovh.conf."""
    return sdk_client_and_endpoint_source(options, timeout)[0]


def working_directory_config():
    """The ovh.conf of the working directory, which the SDK reads first of its files (the path, resolved)."""
    return os.path.realpath("./ovh.conf")


def _config_file_with_endpoint():
    """Which ovh.conf gave `[default] endpoint` (the SDK reads them all; the last in CONFIG_PATH wins)."""
    for path in reversed(ovh.config.CONFIG_PATH):
        parser = RawConfigParser()
        try:
            parser.read(path)
        except ConfigParserError:
            continue
        if parser.has_option("default", "endpoint"):
            return path
    return None


def sdk_client_and_endpoint_source(options, timeout=(10, 60)):
    """(`ovh.Client`, where the endpoint came from): `option`, `environment` or `ovh.conf (<path>)`."""
    _process_forget_empty_ovh_variables()
    endpoint = option_value(options, "endpoint")
    if endpoint is not None:
        # Ansible fills the option from OVH_ENDPOINT when the task does not set it.
        source = "environment" if os.environ.get("OVH_ENDPOINT") == endpoint else "option"
    else:
        endpoint = ovh.config.config.get("default", "endpoint")
        source = "environment" if os.environ.get("OVH_ENDPOINT") else "ovh.conf ({0})".format(_config_file_with_endpoint())
    if endpoint is None:
        raise OvhConfigError(
            "no OVH endpoint: set the endpoint option or OVH_ENDPOINT to a region ({0}) or a URL, or write "
            "endpoint= in the [default] section of ovh.conf".format(", ".join(REGIONS)))
    name, base_url = resolve_endpoint(endpoint)
    if base_url is not None:
        _process_register_endpoint(name, base_url)

    keys = dict((key, option_value(options, key)) for key in _KEYS)
    # Resolve the config-file chain ourselves first, so that a mix of both modes is reported in our words.
    for key in keys:
        if keys[key] is None:
            keys[key] = ovh.config.config.get(name, key)
    _check_keys(keys)
    if keys["client_id"]:
        token_url = option_value(options, "oauth2_token_url")
        if token_url is None and base_url is not None:
            token_url = _default_token_url(base_url)
        if token_url is not None:
            loopback_http = check_token_url(token_url)
            _process_register_token_url(name, token_url, loopback_http)
    try:
        return ovh.Client(endpoint=name, timeout=timeout, **keys), source
    except (ovh.exceptions.InvalidRegion, ovh.exceptions.InvalidConfiguration) as error:
        raise OvhConfigError("the OVH client cannot be configured: {0}".format(sdk_error_text(error)))


def _check_keys(keys):
    """One complete mode: application keys with a consumer key, or an OAuth2 service account."""
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


# Process-wide side effects, all of them. Each module run is its own short process, so none leaks.

def _process_forget_empty_ovh_variables():
    # AWX injects empty OVH_* strings for credential fields left blank; the SDK would count them as given.
    for name in ("endpoint",) + _KEYS:
        if os.environ.get("OVH_" + name.upper()) == "":
            del os.environ["OVH_" + name.upper()]


def _process_register_endpoint(name, base_url):
    # The SDK accepts only names of ovh.client.ENDPOINTS: the URL is registered under its own text (also its ovh.conf section).
    ovh.client.ENDPOINTS[name] = base_url


def _process_register_token_url(name, token_url, loopback_http):
    # The SDK looks the token URL up by endpoint name; oauthlib refuses http unless told (a loopback simulator only).
    if loopback_http:
        os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"
    ovh.client.OAUTH2_TOKEN_URLS[name] = token_url
