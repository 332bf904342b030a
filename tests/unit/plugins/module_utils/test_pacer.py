"""_pacer.py: the shared budget of one OVH key, driven against a token bucket on a fake clock."""
from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import multiprocessing
import os
import time

from ansible_collections.ovhcloud.exchange.plugins.module_utils import _pacer


class FakeTime:
    def __init__(self):
        self.now = 1000.0

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


class TokenBucket:
    """The gateway's fair use as modelled by the simulator: `rate` tokens a second, `burst` at most."""

    def __init__(self, clock, rate, burst):
        self.clock, self.rate, self.burst = clock, rate, burst
        self.tokens, self.at = float(burst), clock()
        self.refused = 0

    def take(self):
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        self.refused += 1
        return False


def drive(pacer, bucket, fake, requests, latency=0.02):
    """Send `requests` requests one after another; a refused one is sent again after the pause."""
    done = 0
    while done < requests:
        assert pacer.acquire()
        fake.sleep(latency)
        if bucket.take():
            pacer.succeeded()
            done += 1
        else:
            pacer.throttled(retry_after=1)


def test_no_signal_means_no_pacing():
    fake = FakeTime()
    pacer = _pacer.Pacer(clock=fake.clock, sleep=fake.sleep)
    for dummy in range(100):
        assert pacer.acquire()
        pacer.succeeded()
    assert fake.now == 1000.0
    assert pacer.rate() is None


def test_finds_the_rate_of_the_key_by_itself():
    fake = FakeTime()
    pacer = _pacer.Pacer(clock=fake.clock, sleep=fake.sleep)
    bucket = TokenBucket(fake.clock, rate=10, burst=8)
    drive(pacer, bucket, fake, 500)
    elapsed = fake.now - 1000.0
    # The ideal is 500/10 = 50 s (less the burst); within 15% of it, with few refusals.
    assert elapsed <= 50 * 1.15, elapsed
    assert bucket.refused <= 15, bucket.refused
    # The rate in force swings about the limit: just under it after a signal, probing above it until the next.
    assert 7 <= pacer.rate() <= 14


def drive_job(pacer, bucket, fake, chunks, per_chunk):
    """A job as the role runs it: a module start, a few reads one by one, the writes, then a task wait, per chunk.
    Returns the seconds nobody asked for a request (the job doing something else)."""
    idle = 0.0
    for dummy in range(chunks):
        for gap, count in ((0.7, 1), (0.3, 1), (0.3, 1), (0.0, per_chunk), (1.0, 1)):
            fake.sleep(gap)
            idle += gap
            drive(pacer, bucket, fake, count)
    return idle


def test_gaps_in_the_demand_do_not_pass_for_a_slow_key():
    """Module starts and task waits between chunks are not the key's slowness: measured over the whole time, the
    rate learned would be far under the limit (the pacer before commit d04e38d learned 4.9 requests/s of 10 here, and took
    2.3 times the ideal)."""
    fake = FakeTime()
    pacer = _pacer.Pacer(clock=fake.clock, sleep=fake.sleep)
    bucket = TokenBucket(fake.clock, rate=10, burst=4)
    idle = drive_job(pacer, bucket, fake, chunks=5, per_chunk=100)
    busy = fake.now - 1000.0 - idle
    assert busy <= 520 / 10.0 * 1.15, busy
    assert bucket.refused <= 520 * 0.03, bucket.refused
    assert 8 <= pacer.rate() <= 15, pacer.rate()


def test_a_key_of_one_request_a_second_without_burst_is_found():
    """OVH's stated fair use (about 60 requests a minute) with no burst: few successes between signals still
    measure the rate (the pacer before commit d04e38d needed 4, so it never paced, and half its requests were refused)."""
    fake = FakeTime()
    pacer = _pacer.Pacer(clock=fake.clock, sleep=fake.sleep)
    bucket = TokenBucket(fake.clock, rate=1, burst=1)
    drive(pacer, bucket, fake, 300)
    assert fake.now - 1000.0 <= 300 * 1.2
    assert bucket.refused <= 300 * 0.05, bucket.refused
    assert 0.8 <= pacer.rate() <= 1.2, pacer.rate()


def test_ceiling_is_never_exceeded():
    fake = FakeTime()
    pacer = _pacer.Pacer(ceiling=4, clock=fake.clock, sleep=fake.sleep)
    for dummy in range(41):
        assert pacer.acquire()
        pacer.succeeded()
    assert fake.now - 1000.0 == 10.0


def test_retry_after_pauses_every_worker():
    fake = FakeTime()
    pacer = _pacer.Pacer(clock=fake.clock, sleep=fake.sleep)
    pacer.acquire()
    assert pacer.throttled(retry_after=3) == 3
    before = fake.now
    pacer.acquire()  # another worker: it waits for the pause too
    assert fake.now - before >= 3


def test_workers_refused_together_lower_the_rate_once():
    fake = FakeTime()
    pacer = _pacer.Pacer(clock=fake.clock, sleep=fake.sleep)
    for dummy in range(20):
        pacer.acquire()
        pacer.succeeded()
    fake.sleep(2)
    pacer.throttled(retry_after=1)
    learned = pacer.rate()
    for dummy in range(7):
        pacer.throttled(retry_after=1)
    assert pacer.rate() == learned


def test_a_turn_booked_before_a_signal_waits_for_the_pause():
    """A worker waiting for its turn when another is refused is not sent into the pause (to be refused too)."""
    fake = FakeTime()
    refused_during_the_wait = []

    def sleep(seconds):
        if not refused_during_the_wait:
            refused_during_the_wait.append(pacer.throttled(retry_after=5))  # another worker, refused meanwhile
        fake.sleep(seconds)

    pacer = _pacer.Pacer(clock=fake.clock, sleep=sleep)
    pacer._locked(lambda state, now: state.update(rate=1.0))
    assert pacer.acquire()  # at once
    assert pacer.acquire()  # its turn was in 1 s; the pause that began meanwhile ends in 5 s
    assert refused_during_the_wait == [5.0]
    assert fake.now - 1000.0 >= 5.0


def test_backoff_without_retry_after_grows_until_a_success():
    fake = FakeTime()
    pacer = _pacer.Pacer(clock=fake.clock, sleep=fake.sleep, rng=lambda: 1.0)
    pauses = []
    for dummy in range(4):
        pauses.append(pacer.throttled())
        fake.sleep(pauses[-1])
    assert pauses == [1.0, 2.0, 4.0, 8.0]
    pacer.succeeded()
    assert pacer.throttled() == 1.0


def test_workers_refused_during_the_pause_do_not_lengthen_it():
    fake = FakeTime()
    pacer = _pacer.Pacer(clock=fake.clock, sleep=fake.sleep, rng=lambda: 1.0)
    assert pacer.throttled() == 1.0
    fake.sleep(0.25)
    # Seven more workers whose requests were on the wire when the first was refused.
    assert [pacer.throttled() for dummy in range(7)] == [0.75] * 7
    fake.sleep(0.75)
    assert pacer.throttled() == 2.0  # refused again after the pause, with no success: a longer one


def test_cancel_ends_a_wait_at_once():
    import threading
    cancelled = threading.Event()
    pacer = _pacer.Pacer(cancelled=cancelled)
    pacer.acquire()
    pacer.throttled(retry_after=30)
    threading.Timer(0.1, cancelled.set).start()
    started = time.monotonic()
    assert pacer.acquire() is False
    assert time.monotonic() - started < 5


def test_the_state_file_names_no_key(tmp_path):
    identity = _pacer.budget_identity("https://eu.api.ovh.com/1.0", "app-key", "consumer-secret-key")
    pacer = _pacer.Pacer(identity, folder=str(tmp_path))
    pacer.acquire()
    pacer.throttled(retry_after=0)
    (state_file,) = os.listdir(str(tmp_path))
    content = (tmp_path / state_file).read_text()
    assert "consumer-secret-key" not in state_file + content and "app-key" not in state_file + content
    assert oct((tmp_path / state_file).stat().st_mode & 0o777) == "0o600"


def _book_slots(folder, identity, count, queue):
    pacer = _pacer.Pacer(identity, folder=folder)
    starts = []
    for dummy in range(count):
        pacer.acquire()
        starts.append(time.monotonic())
    queue.put(starts)


def test_processes_sharing_a_key_share_its_rate(tmp_path):
    identity = _pacer.budget_identity("endpoint", "key")
    parent = _pacer.Pacer(identity, folder=str(tmp_path))
    parent._locked(lambda state, now: state.update(rate=20.0))
    queue = multiprocessing.get_context("fork").Queue()
    workers = [multiprocessing.get_context("fork").Process(target=_book_slots, args=(str(tmp_path), identity, 10, queue))
               for dummy in range(3)]
    for worker in workers:
        worker.start()
    starts = sorted(start for dummy in workers for start in queue.get(timeout=30))
    for worker in workers:
        worker.join(10)
    # 30 requests from 3 processes at 20 a second: about 1.5 s in all, not 0.5 s (each process alone).
    assert starts[-1] - starts[0] >= 29 / 20.0 * 0.9
