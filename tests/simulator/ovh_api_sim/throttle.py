"""Fair use: a token bucket per consumer key, answering past it as OVH's gateway is reported to.

Sources (docs/simulator.md, "Fair use"): about 60 requests a minute per consumer key (python-ovh#81);
past it, 429s, HTML `408 Request Time-out` pages and connection resets (kubernetes-sigs/external-dns#1546);
terraform-provider-ovh added a client-side limit for it (#979, #980).
"""
from __future__ import annotations

import math
import random
import threading
import time

ANSWERS = ("429", "408", "reset")


def parse_rate(text):
    """`4`, `4/s` or `60/min` -> requests per second (0 turns the limit off)."""
    text = str(text).strip()
    number, dummy, unit = text.partition("/")
    per = {"": 1.0, "s": 1.0, "sec": 1.0, "second": 1.0, "m": 60.0, "min": 60.0, "minute": 60.0}.get(unit.strip())
    if per is None:
        raise ValueError(f"rate {text!r}: the unit must be /s or /min")
    rate = float(number) / per
    if rate < 0:
        raise ValueError(f"rate {text!r} must be >= 0")
    return rate


def parse_answers(text):
    """`429`, `408`, `reset`, a comma-separated mix of them, or `mix` (all three)."""
    names = ANSWERS if text == "mix" else tuple(a.strip() for a in str(text).split(",") if a.strip())
    if not names or set(names) - set(ANSWERS):
        raise ValueError(f"rate limit answer {text!r}: use 429, 408, reset, a comma-separated mix, or mix")
    return names


class Throttle:
    """Off when `rate` is 0. `burst` is the bucket's size (default: one second of requests, at least 1)."""

    def __init__(self, rate=0.0, burst=None, answers=("429",), seed=0, clock=time.monotonic):
        self.lock = threading.Lock()
        self.clock = clock
        self.rng = random.Random(seed)
        self.configure(rate, burst, answers)

    def configure(self, rate, burst=None, answers=("429",)):
        with self.lock:
            self.rate = float(rate)
            self.burst = float(burst) if burst else max(1.0, self.rate)
            self.answers = tuple(answers)
            self.buckets = {}  # key -> (tokens, time of the last refill)

    def to_dict(self):
        return {"rate_limit": self.rate, "burst": self.burst, "rate_limit_answer": ",".join(self.answers)}

    def admit(self, key):
        """None when the request may pass; else (answer, seconds until a token is back)."""
        if not self.rate or not key:
            return None
        with self.lock:
            now = self.clock()
            tokens, last = self.buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens >= 1:
                self.buckets[key] = (tokens - 1, now)
                return None
            self.buckets[key] = (tokens, now)
            return self.rng.choice(self.answers), (1 - tokens) / self.rate


def retry_after_text(seconds):
    """Retry-After in whole seconds, at least 1 (the HTTP form)."""
    return str(max(1, math.ceil(seconds)))
