"""Injected faults: gateway errors, rate limits, dropped connections, failing tasks, latency.

Random faults draw from a seedable RNG per API request; a `script` of faults applies to the next
matching requests, for tests that need one exact failure.
"""
from __future__ import annotations

import random
import threading

RATE_NAMES = ("500", "502", "429", "reset", "task_error")
# How often a dropped connection happens after the write was applied (the ambiguous case).
RESET_AFTER_SHARE = 0.5
SCRIPT_FAULTS = ("500", "502", "429", "reset_before", "reset_after", "task_error")


def parse_spec(spec):
    """`500=0.05,502=0.05,429=0.05,reset=0.05,task_error=0.1,retry_after=0.2` -> dict of floats."""
    settings = {}
    for item in filter(None, (part.strip() for part in (spec or "").split(","))):
        name, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"fault {item!r} has no '=value'")
        name = name.strip()
        if name not in RATE_NAMES + ("retry_after", "seed"):
            raise ValueError(f"unknown fault {name!r}; known: {', '.join(RATE_NAMES)}, retry_after, seed")
        settings[name] = float(value)
    return settings


class Faults:
    def __init__(self, rates=None, retry_after=1.0, latency_ms=0.0, object_lists=True, seed=0):
        self.lock = threading.Lock()
        self.rates = dict.fromkeys(RATE_NAMES, 0.0)
        self.retry_after = retry_after
        self.latency_ms = latency_ms
        self.object_lists = object_lists
        self.methods = None  # random faults hit only these methods when set
        self.script = []
        self.seed = seed
        self.rng = random.Random(seed)
        self.update(rates or {})

    def to_dict(self):
        with self.lock:
            return {"rates": dict(self.rates), "retry_after": self.retry_after, "latency_ms": self.latency_ms,
                    "object_lists": self.object_lists, "methods": self.methods, "seed": self.seed,
                    "script": [dict(item) for item in self.script]}

    def update(self, settings):
        """Apply a PUT /_sim/faults body (or parsed --faults); unknown keys raise ValueError."""
        with self.lock:
            for name, value in settings.items():
                if name in RATE_NAMES:
                    value = float(value)
                    if not 0 <= value <= 1:
                        raise ValueError(f"rate {name} must be within 0..1")
                    self.rates[name] = value
                elif name == "rates":
                    for rate_name, rate in value.items():
                        if rate_name not in RATE_NAMES:
                            raise ValueError(f"unknown fault {rate_name!r}")
                        self.rates[rate_name] = float(rate)
                elif name in ("retry_after", "latency_ms"):
                    setattr(self, name, float(value))
                elif name == "object_lists":
                    self.object_lists = bool(value)
                elif name == "methods":
                    self.methods = [m.upper() for m in value] if value else None
                elif name == "seed":
                    self.seed = int(value)
                    self.rng = random.Random(self.seed)
                elif name == "script":
                    for item in value:
                        if item.get("fault") not in SCRIPT_FAULTS:
                            raise ValueError(f"script fault must be one of {', '.join(SCRIPT_FAULTS)}")
                    self.script = [dict(item) for item in value]
                else:
                    raise ValueError(f"unknown fault setting {name!r}")

    def decide(self, method, path, is_write):
        """The fault for this request: None, '500', '502', '429', 'reset_before' or 'reset_after'."""
        with self.lock:
            for index, item in enumerate(self.script):
                if item["fault"] == "task_error":
                    continue
                if item.get("method", method).upper() == method and item.get("path", "") in path:
                    del self.script[index]
                    return item["fault"]
            if self.methods and method not in self.methods:
                return None
            draw = self.rng.random()
            for name in ("500", "502", "429", "reset"):
                rate = self.rates[name]
                if draw < rate:
                    if name != "reset":
                        return name
                    after = is_write and self.rng.random() < RESET_AFTER_SHARE
                    return "reset_after" if after else "reset_before"
                draw -= rate
            return None

    def task_fails(self):
        """Whether the task being created ends in `error` (a scripted task_error first, else the rate)."""
        with self.lock:
            for index, item in enumerate(self.script):
                if item["fault"] == "task_error":
                    del self.script[index]
                    return True
            return self.rng.random() < self.rates["task_error"]
