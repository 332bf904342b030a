"""The HTTPS path to the API over a real TLS connection: an untrusted certificate is refused with a clear
message before anything is sent, and the same run succeeds once REQUESTS_CA_BUNDLE names the CA.

The simulator (plain HTTP) sits behind tls_forwarder.TlsForwarder with a certificate from a test CA
(`trustme`). The runs use an OAuth2 service account: application-key signatures cover the URL with its
scheme, and the simulator, which sees plain HTTP, would recompute them over http:// and refuse them.
"""
from __future__ import annotations

import pytest
import trustme

from bindings_support import platform_state, task
from tls_forwarder import TlsForwarder

pytestmark = pytest.mark.integration

CONNECTOR = {"name": "tls-relay", "smart_host": "smtp-relay.example.com", "port": 587}


@pytest.fixture
def https_api(sim, tmp_path):
    """(the https endpoint, the CA's PEM file, the environment for OAuth2 over it)."""
    ca = trustme.CA()
    ca_file = tmp_path / "test-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    with TlsForwarder(sim.port, ca) as forwarder:
        endpoint = f"https://127.0.0.1:{forwarder.port}/1.0"
        env = {"OVH_ENDPOINT": endpoint, "OVH_APPLICATION_KEY": "", "OVH_APPLICATION_SECRET": "", "OVH_CONSUMER_KEY": "",
               "OVH_CLIENT_ID": sim.exports["OVH_SIM_OAUTH2_CLIENT_ID"],
               "OVH_CLIENT_SECRET": sim.exports["OVH_SIM_OAUTH2_CLIENT_SECRET"],
               "REQUESTS_CA_BUNDLE": "", "CURL_CA_BUNDLE": "", "SSL_CERT_FILE": ""}
        yield endpoint, ca_file, env


def test_untrusted_certificate_is_refused_then_the_ca_bundle_is_trusted(sim, run_playbook, https_api):
    endpoint, ca_file, env = https_api

    # Refused with either kind of credentials: application keys (the API requests' session) and OAuth2
    # (the token request comes first).
    app_keys = {**env, "OVH_CLIENT_ID": "", "OVH_CLIENT_SECRET": "",
                **{name: sim.env[name] for name in ("OVH_APPLICATION_KEY", "OVH_APPLICATION_SECRET", "OVH_CONSUMER_KEY")}}
    for credentials in (app_keys, env):
        refused = run_playbook(task("exchange_send_connector", CONNECTOR), env=credentials)
        message = refused.task("under test").get("msg", "")
        assert refused.rc != 0
        assert "certificate" in message.lower() and "127.0.0.1" in message, message
        assert "Traceback" not in refused.stdout + refused.stderr
    # Refused during the TLS handshake: nothing reached the API.
    assert sim.stats()["total"] == 0 and platform_state(sim)["connectors"] == {}

    accepted = run_playbook(task("exchange_send_connector", CONNECTOR), env={**env, "REQUESTS_CA_BUNDLE": str(ca_file)})
    assert accepted.rc == 0, accepted.stdout[-3000:]
    [connector] = platform_state(sim)["connectors"].values()
    assert (connector["displayName"], connector["smartHost"], connector["state"]) == ("tls-relay", "smtp-relay.example.com", "ok")
    assert accepted.task("under test")["id"] == connector["id"]
    # One create, and no other write, over the TLS connection.
    assert sim.stats()["writes"] == 1
