"""Fair use: a token bucket per consumer key, and the gateway's three answers past it."""
from __future__ import annotations

import socket
import time

import pytest
import requests
from ovh import exceptions

from ovh_api_sim.throttle import Throttle, parse_answers, parse_rate
from sim_helpers import BASE

CONNECTORS = f"{BASE}/sendConnector"


def throttled_after_burst(sim, answer, burst=3):
    """A client that spent its burst (rate 30/min, so no token comes back during the test)."""
    sim.reset(rate_limit="30/min", burst=burst, rate_limit_answer=answer)
    client = sim.client()
    for dummy in range(burst):
        assert client.get(CONNECTORS) == []
    return client


def test_429_with_retry_after_past_the_burst(sim):
    client = throttled_after_burst(sim, "429")
    with pytest.raises(exceptions.APIError) as info:
        client.get(CONNECTORS)
    answer = info.value.response
    assert answer.status_code == 429 and answer.json()["class"] == "Client::TooManyRequests"
    assert answer.headers["Retry-After"] == "2"  # one token back in 2 s at 30/min
    stats = sim.stats()
    assert stats["throttled"] == {"429": 1} and stats["faults"] == {}
    assert [r["throttled"] for r in sim.requests()][-1] == "429"


def test_the_bucket_is_per_consumer_key(sim):
    throttled_after_burst(sim, "429")
    other = sim.client(consumer_key=sim.env["OVH_SIM_READONLY_CONSUMER_KEY"])
    assert other.get(CONNECTORS) == []
    assert sim.stats()["throttled"] == {}


def test_408_html_page(sim):
    client = throttled_after_burst(sim, "408")
    with pytest.raises(exceptions.InvalidResponse):  # the SDK cannot decode an HTML page
        client.get(CONNECTORS)
    page = requests.get(f"{sim.endpoint}{CONNECTORS}", headers={"X-Ovh-Consumer": sim.env["OVH_CONSUMER_KEY"]},
                        timeout=30)
    assert page.status_code == 408 and page.headers["Content-Type"].startswith("text/html")
    assert "408 Request Time-out" in page.text
    assert sim.stats()["throttled"] == {"408": 2}


def test_reset_drops_the_connection_with_a_tcp_reset(sim):
    client = throttled_after_burst(sim, "reset")
    with pytest.raises(exceptions.HTTPError) as info:  # through the SDK: requests' ConnectionError
        client.get(CONNECTORS)
    assert isinstance(info.value.args[1], requests.ConnectionError)
    # On a raw socket: an RST (ECONNRESET), not an orderly close and not an answer.
    with socket.create_connection(("127.0.0.1", sim.port), timeout=30) as raw:
        raw.sendall(f"GET /1.0{CONNECTORS} HTTP/1.1\r\nHost: 127.0.0.1:{sim.port}\r\n"
                    f"X-Ovh-Consumer: {sim.env['OVH_CONSUMER_KEY']}\r\n\r\n".encode())
        with pytest.raises(ConnectionResetError):
            while raw.recv(4096):
                pass
    assert sim.stats()["throttled"] == {"reset": 2}
    assert [r["status"] for r in sim.requests()][-2:] == ["reset", "reset"]


def test_mixed_answers(sim):
    client = throttled_after_burst(sim, "mix", burst=1)
    for dummy in range(30):
        with pytest.raises((exceptions.APIError, exceptions.InvalidResponse, exceptions.HTTPError)):
            client.get(CONNECTORS)
    throttled = sim.stats()["throttled"]
    assert set(throttled) == {"429", "408", "reset"} and sum(throttled.values()) == 30


def test_tokens_come_back_at_the_rate(sim):
    sim.reset(rate_limit="20/s", burst=1)
    client = sim.client()
    assert client.get(CONNECTORS) == []
    with pytest.raises(exceptions.APIError):
        client.get(CONNECTORS)
    time.sleep(0.1)  # two tokens' worth at 20/s; the bucket holds one
    assert client.get(CONNECTORS) == []
    assert sim.stats()["throttled"] == {"429": 1}


def test_off_by_default_and_after_a_reset(sim):
    client = sim.client()
    for dummy in range(30):
        client.get(CONNECTORS)
    assert sim.stats()["throttled"] == {}
    sim.reset(rate_limit="1/min")
    assert sim.readings()["rate_limit"] == pytest.approx(1 / 60)
    sim.reset()
    assert sim.readings()["rate_limit"] == 0


def test_bucket_with_a_fake_clock():
    now = [0.0]
    throttle = Throttle(rate=2, burst=2, answers=("429",), clock=lambda: now[0])
    assert [throttle.admit("ck") for dummy in range(2)] == [None, None]
    assert throttle.admit("ck") == ("429", 0.5)
    now[0] += 0.5
    assert throttle.admit("ck") is None and throttle.admit("ck")[0] == "429"
    assert throttle.admit(None) is None  # requests with no key (e.g. /auth/time) are not counted


@pytest.mark.parametrize("text, per_second", [("4", 4.0), ("4/s", 4.0), ("60/min", 1.0), ("0", 0.0)])
def test_rate_syntax(text, per_second):
    assert parse_rate(text) == per_second


def test_bad_rate_and_answer_are_refused(sim):
    with pytest.raises(ValueError):
        parse_rate("4/h")
    with pytest.raises(ValueError):
        parse_answers("503")
    assert parse_answers("429,reset") == ("429", "reset")
    with pytest.raises(Exception, match="400"):
        sim.reset(rate_limit_answer="teapot")
