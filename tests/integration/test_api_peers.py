"""What the API client hands to peers that are not the verified endpoint: nothing (issue 20 items 2, 3, 6).

Each case runs a real `ansible-playbook` against the simulator on loopback with a capture listener (a
plain socket server) where a flaw would send the request: the endpoint or token URL read differently by
two URL parsers, HTTP_PROXY, a redirect. The assertion is on what the listener received: not one byte,
so no application key, consumer key, signature, client secret nor relay password.
"""
from __future__ import annotations

import socket
import threading

import pytest

from bindings_support import platform_state, task
from testlib import run_ansible_playbook

pytestmark = pytest.mark.integration

PASSWORD = "relay-pw-7f3c9a"
CONNECTOR = {"name": "peer-relay", "smart_host": "smtp-relay.example.com", "port": 587,
             "auth_mechanism": "basicAuth", "user": "relay-user", "password": PASSWORD}
APP_KEYS = ("OVH_APPLICATION_KEY", "OVH_APPLICATION_SECRET", "OVH_CONSUMER_KEY")
NO_PROXY_SETTINGS = {name: "" for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY",
                                           "all_proxy", "NO_PROXY", "no_proxy")}


class Listener:
    """A loopback TCP server that records every byte received and answers each request with `answer(path)`."""

    def __init__(self, answer=None):
        self.answer = answer or (lambda path: b"HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n"
                                              b"Content-Length: 22\r\nConnection: close\r\n\r\n"
                                              b'{"message":"captured"}')
        self.received = b""
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.close()

    def _serve(self):
        while True:
            try:
                peer, dummy_address = self.server.accept()
            except OSError:
                return
            with peer:
                peer.settimeout(5)
                request = b""
                try:
                    while b"\r\n\r\n" not in request:
                        chunk = peer.recv(65536)
                        if not chunk:
                            break
                        request += chunk
                    head, dummy_sep, body = request.partition(b"\r\n\r\n")
                    length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                                   if line.lower().startswith(b"content-length:")), 0)
                    while len(body) < length:
                        chunk = peer.recv(65536)
                        if not chunk:
                            break
                        body += chunk
                        request += chunk
                    self.received += request
                    path = head.split(b" ")[1].decode() if head.count(b" ") >= 2 else "/"
                    peer.sendall(self.answer(path))
                except OSError:
                    self.received += request


def secrets_of(sim):
    return [sim.env[name] for name in APP_KEYS] + [sim.exports["OVH_SIM_OAUTH2_CLIENT_SECRET"], PASSWORD]


def assert_received_nothing(listener, sim):
    for secret in secrets_of(sim):
        assert secret.encode() not in listener.received
    assert b"X-Ovh-Signature" not in listener.received
    assert listener.received == b"", listener.received[:500]


def oauth2_env(sim):
    return {**{name: "" for name in APP_KEYS}, "OVH_CLIENT_ID": sim.exports["OVH_SIM_OAUTH2_CLIENT_ID"],
            "OVH_CLIENT_SECRET": sim.exports["OVH_SIM_OAUTH2_CLIENT_SECRET"]}


@pytest.mark.parametrize("form,words", [("{capture}\\@{sim}", "backslash"), ("{capture}@{sim}", "user part")])
def test_an_endpoint_read_differently_by_the_transport_is_refused(sim, run_playbook, form, words):
    with Listener() as capture:
        netloc = form.format(capture=f"127.0.0.1:{capture.port}", sim=f"127.0.0.1:{sim.port}")
        run = run_playbook(task("exchange_send_connector", CONNECTOR), env={"OVH_ENDPOINT": f"http://{netloc}/1.0"})
    assert run.rc != 0
    assert words in run.task("under test")["msg"]
    assert "Traceback" not in run.stdout + run.stderr
    assert_received_nothing(capture, sim)
    assert sim.stats()["total"] == 0


def test_a_token_url_read_differently_by_the_transport_is_refused(sim, run_playbook):
    with Listener() as capture:
        token_url = f"http://127.0.0.1:{capture.port}\\@127.0.0.1:{sim.port}/auth/oauth2/token"
        run = run_playbook(task("exchange_send_connector", CONNECTOR),
                           env={**oauth2_env(sim), "OVH_OAUTH2_TOKEN_URL": token_url})
    assert run.rc != 0
    assert "oauth2_token_url" in run.task("under test")["msg"] and "backslash" in run.task("under test")["msg"]
    assert_received_nothing(capture, sim)


@pytest.mark.parametrize("credentials", ["application keys", "oauth2"])
def test_a_loopback_endpoint_never_goes_through_the_proxy(sim, run_playbook, credentials):
    with Listener() as proxy:
        proxy_url = f"http://127.0.0.1:{proxy.port}"
        env = {**NO_PROXY_SETTINGS, "HTTP_PROXY": proxy_url, "http_proxy": proxy_url, "ALL_PROXY": proxy_url}
        if credentials == "oauth2":
            env.update(oauth2_env(sim))
        run = run_playbook(task("exchange_send_connector", CONNECTOR), env=env)
    assert run.rc == 0, run.stdout[-3000:]
    assert_received_nothing(proxy, sim)
    [connector] = platform_state(sim)["connectors"].values()
    assert connector["displayName"] == "peer-relay"


def redirect_to(port):
    def answer(path):
        return (f"HTTP/1.1 307 Temporary Redirect\r\nLocation: http://127.0.0.1:{port}{path}\r\n"
                "Content-Length: 0\r\nConnection: close\r\n\r\n").encode()
    return answer


@pytest.mark.parametrize("credentials", ["application keys", "oauth2"])
def test_a_redirect_is_an_error_naming_its_target_and_is_not_followed(sim, run_playbook, credentials):
    with Listener() as capture, Listener(redirect_to(capture.port)) as redirector:
        env = {**NO_PROXY_SETTINGS, "OVH_ENDPOINT": f"http://127.0.0.1:{redirector.port}/1.0"}
        if credentials == "oauth2":
            # The token request is the one redirected: it carries the client secret.
            env.update(oauth2_env(sim))
        run = run_playbook(task("exchange_send_connector", CONNECTOR), env=env)
    message = run.task("under test")["msg"]
    assert run.rc != 0
    assert "redirect" in message and f"127.0.0.1:{capture.port}" in message, message
    assert "Traceback" not in run.stdout + run.stderr
    assert_received_nothing(capture, sim)
    # Asked once, not retried.
    assert redirector.received.count(b"HTTP/1.1\r\n") == 1


@pytest.mark.parametrize("field,value", [("organization", ".."), ("organization", "."), ("service", ".."),
                                         ("name", "relay\r\nX-Injected: 1"), ("organization", "org\nname")])
def test_dot_segments_and_control_characters_are_refused_before_any_request(sim, run_playbook, field, value):
    run = run_playbook(task("exchange_send_connector", {**CONNECTOR, field: value}))
    message = run.task("under test")["msg"]
    assert run.rc != 0 and field in message
    assert "Traceback" not in run.stdout + run.stderr
    assert sim.stats()["total"] == 0


def test_an_endpoint_from_the_working_directory_ovh_conf_is_named_and_warned_about(sim, tmp_path):
    # ansible-playbook runs local modules in the playbook's directory: the playbooks and ovh.conf are in tmp_path.
    conf = tmp_path / "ovh.conf"
    conf.write_text(f"[default]\nendpoint = {sim.endpoint}\n")
    play = task("exchange_send_connector_info", {})
    from_file = run_ansible_playbook(play, tmp_path, env={**sim.env, "OVH_ENDPOINT": ""}, cwd=tmp_path)
    result = from_file.task("under test")
    assert from_file.rc == 0, from_file.stdout[-3000:]
    assert result["endpoint_source"] == f"ovh.conf ({conf.resolve()})"
    assert any(str(conf.resolve()) in warning and "working directory" in warning for warning in result["warnings"])

    from_environment = run_ansible_playbook(play, tmp_path, env=sim.env, cwd=tmp_path)
    result = from_environment.task("under test")
    assert from_environment.rc == 0 and result["endpoint_source"] == "environment"
    assert not any("ovh.conf" in warning for warning in result.get("warnings", []))
    # The same task giving the endpoint itself.
    given = run_ansible_playbook(task("exchange_send_connector_info", {"endpoint": sim.endpoint}), tmp_path,
                                 env={**sim.env, "OVH_ENDPOINT": ""}, cwd=tmp_path)
    assert given.task("under test")["endpoint_source"] == "option"
