# -*- coding: utf-8 -*-
# Copyright (c) 2026 ovhcloud.exchange contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""PRIVATE: one request budget per OVH key, shared by every thread and every module process on the controller.

OVH asks for fair use (about 60 requests a minute per consumer key) without publishing the limit, and
past it the gateway answers 429, an HTML 408 page or a reset. The pacer finds the key's rate by itself:
it sends freely until the first throttling signal, then spaces requests just under the rate that got through,
and probes upwards until the next signal, which measures the rate again. The rate is measured over busy time
only: the successes since the previous signal over the time the requests were waiting for the key (the pause
included, since a token bucket refills during it), not over the time the job was doing something else (a
module starting, a task being waited for). A gap in the demand would make the key look slower than it is,
which costs far more (every later request paced too slowly) than a rate measured a little high (one more
signal, which measures again). On a signal every worker pauses (Retry-After, else a jittered backoff).

The state lives in a small JSON file per key (named by a hash, never by the key) under a private
temporary folder, guarded by flock: the forks of one ansible-playbook, and tasks running at once, share
one budget instead of multiplying the load. Without flock (not POSIX) it is shared by threads only.

This file is private to ovhcloud.exchange; it may change at any time without notice.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import hashlib
import json
import os
import random
import tempfile
import threading
import time

try:
    import fcntl
except ImportError:  # not POSIX: the budget is shared by the threads of one process only
    fcntl = None

# Lowest pace the pacer falls to: one request every 10 s still finishes a job, slowly.
MIN_RATE = 0.1
# A request asked for this long after it could have been sent is demand idle, not the key's slowness: beyond
# this grace the gap is left out of the busy time.
IDLE_GRACE = 0.1
# After a throttling signal, pace just under the rate that got through.
SETTLE_FACTOR = 0.95
# Busy time below this measures nothing reliable (a burst answered at once): the rate is taken over this at least.
MIN_BUSY = 0.5
# Successes a measure needs: the tokens left unused at a signal (under one) are an error of one request at most, so
# fewer successes would measure a slow key far too low (one success in 1.5 s is 0.67/s for a key of 1/s). Until a
# window holds this many, each signal steps the rate down instead, and the window goes on.
MIN_SAMPLE = 8
# A second signal within the same episode (workers refused together) lowers the rate only once.
EPISODE_SECONDS = 2.0
# Successes raise the rate by this fraction each (about +20% after 50 requests): paced just under the limit, the
# next signal comes within a few dozen requests and measures the limit again; paced far under it (a measure taken
# low, a limit lifted), the rate doubles within about 175 requests.
PROBE_STEP = 0.004
# Backoff when the gateway gives no Retry-After.
BACKOFF_BASE = 1.0
BACKOFF_MAX = 30.0
MAX_PAUSE = 120.0
# State older than this (a previous job, or another boot's clock) is dropped.
STALE_SECONDS = 600.0
# A learned rate with no signal for this many requests' worth of time (and at least FORGET_MIN_SECONDS) is
# forgotten: the limit was lifted, or the signal was a one-off (a lone reset), and pacing on it would only slow
# every later job of the key. Paced just under a real limit, probing meets the limit again well before that.
FORGET_REQUESTS = 150
FORGET_MIN_SECONDS = 20.0


def state_folder():
    """The private folder of pacer states: per user, mode 0700."""
    folder = os.path.join(tempfile.gettempdir(), "ovhcloud-exchange-pacer-{0}".format(os.getuid() if hasattr(os, "getuid") else "user"))
    try:
        os.mkdir(folder, 0o700)
    except FileExistsError:
        pass
    return folder


def budget_identity(endpoint, *key_parts):
    """A file name for the budget of one key on one endpoint: a hash, so that no key is written to disk."""
    digest = hashlib.sha256("\0".join(str(part or "") for part in (endpoint,) + key_parts).encode("utf-8"))
    return digest.hexdigest()[:32]


class Pacer:
    """Paces requests for one OVH key; thread-safe; shared across processes through a state file.

    ``acquire()`` before each request (it waits as needed and returns False when cancelled while
    waiting), then ``succeeded()`` or ``throttled(retry_after)`` with what the API answered.
    ``ceiling``: requests per second never exceeded (the modules' max_requests_per_second).
    """

    def __init__(self, identity=None, ceiling=None, folder=None, clock=time.monotonic, sleep=None, rng=random.random,
                 cancelled=None):
        self.ceiling = ceiling
        self.clock = clock
        self.rng = rng
        self.cancelled = cancelled
        self._sleep = sleep
        self._lock = threading.Lock()
        self._path = None
        self._memory = {}
        self.waited = 0.0
        self.signals = 0
        if identity is not None and fcntl is not None:
            self._path = os.path.join(folder or state_folder(), identity + ".json")

    # State --------------------------------------------------------------------------------------

    def _locked(self, change):
        """Run ``change(state, now)`` under the thread lock and the file lock; returns what it returns."""
        with self._lock:
            if self._path is None:
                return change(self._memory, self.clock())
            descriptor = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX)
                raw = b""
                while True:
                    chunk = os.read(descriptor, 4096)
                    if not chunk:
                        break
                    raw += chunk
                try:
                    state = json.loads(raw.decode("utf-8")) if raw else {}
                except ValueError:
                    state = {}
                now = self.clock()
                if not isinstance(state, dict) or abs(now - state.get("touched", now)) > STALE_SECONDS:
                    # Another job's state (or another boot's clock): start afresh.
                    state = {}
                result = change(state, now)
                state["touched"] = now
                data = json.dumps(state).encode("utf-8")
                os.lseek(descriptor, 0, os.SEEK_SET)
                os.ftruncate(descriptor, 0)
                os.write(descriptor, data)
                return result
            finally:
                os.close(descriptor)  # releases the flock

    def _interval(self, state, now):
        learned = state.get("rate")
        if learned and now - state.get("signal_at", now) > max(FORGET_MIN_SECONDS, FORGET_REQUESTS / learned):
            state["rate"] = learned = None
        rates = [rate for rate in (learned, self.ceiling) if rate]
        return 1.0 / min(rates) if rates else 0.0

    # Public -------------------------------------------------------------------------------------

    def acquire(self):
        """Wait for this request's turn; False if cancelled while waiting (send nothing then)."""
        def book(state, now):
            interval = self._interval(state, now)
            earliest = max(state.get("next", now), state.get("pause_until", 0.0))
            start = max(now, earliest)
            # Busy time: from the previous request's start to this one's, less the time nobody asked (a module
            # starting, a task being waited for), which says nothing of the key's rate.
            idle = max(0.0, now - earliest - IDLE_GRACE)
            state["busy"] = state.get("busy", 0.0) + max(0.0, start - state.get("last", start) - idle)
            state["last"] = start
            state["next"] = start + interval
            return start - now, state.get("signal_at")

        while True:
            delay, signal_at = self._locked(book)
            if delay <= 0:
                return not self._is_cancelled()
            self.waited += delay
            if not self._wait(delay):
                return False
            # A throttling signal while this request waited: its turn was booked at a pace the key refused, so it
            # books again (after the pause, at the new pace) instead of being sent to be refused too.
            if self._locked(lambda state, now: state.get("signal_at")) == signal_at:
                return True

    def succeeded(self):
        """A request got a real answer: count it, and probe a little faster when paced."""
        def count(state, now):
            state["ok"] = state.get("ok", 0) + 1
            state["strikes"] = 0
            if state.get("rate"):
                state["rate"] = state["rate"] * (1.0 + PROBE_STEP)
        self._locked(count)

    def throttled(self, retry_after=None):
        """The gateway throttled a request: every worker pauses, and the rate drops. Returns the pause."""
        self.signals += 1

        def slow_down(state, now):
            if now < state.get("pause_until", 0.0):
                # Sent before the pause began (workers refused together): a signal already acted upon.
                return state["pause_until"] - now
            episode = now - state.get("signal_at", -1e9) < EPISODE_SECONDS
            # Signals with no success between them back off further; a success starts again from the base.
            state["strikes"] = state.get("strikes", 0) + 1
            if retry_after is not None:
                pause = min(max(float(retry_after), 0.0), MAX_PAUSE)
            else:
                pause = min(BACKOFF_MAX, BACKOFF_BASE * 2 ** (state["strikes"] - 1)) * (0.5 + 0.5 * self.rng())
            if not episode:
                # What got through since the window began, over the busy time, is what the key allows (for a token
                # bucket, to one request: it refills during the pauses, which count as busy). Too few successes to
                # measure: a step down from the rate in force, or from the first rough measure.
                ok = state.get("ok", 0)
                busy = max(state.get("busy", 0.0) + max(0.0, now - state.get("last", now)), MIN_BUSY)
                if ok >= MIN_SAMPLE:
                    # Half a request for the unused tokens at this signal, unknown between none and one.
                    state["rate"] = max(MIN_RATE, (ok + 0.5) / busy * SETTLE_FACTOR)
                    state["ok"], state["busy"] = 0, 0.0
                elif state.get("rate"):
                    state["rate"] = max(MIN_RATE, state["rate"] * SETTLE_FACTOR)
                elif ok:
                    state["rate"] = max(MIN_RATE, ok / busy * SETTLE_FACTOR)
                state["signal_at"] = now
            state["pause_until"] = max(state.get("pause_until", 0.0), now + pause)
            state["next"] = max(state.get("next", 0.0), state["pause_until"])
            return pause
        return self._locked(slow_down)

    def rate(self):
        """The learned rate in requests per second (None until the first throttling signal)."""
        return self._locked(lambda state, now: state.get("rate"))

    def _is_cancelled(self):
        return bool(self.cancelled is not None and self.cancelled.is_set())

    def _wait(self, delay):
        if self._sleep is not None:
            self._sleep(delay)
            return not self._is_cancelled()
        if self.cancelled is not None:
            return not self.cancelled.wait(delay)
        time.sleep(delay)
        return True
