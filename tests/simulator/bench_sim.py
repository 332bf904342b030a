"""Simulator capacity on loopback (a benchmark, not a test): `python tests/simulator/bench_sim.py`.

Starts a simulator with 5,000 generated mailboxes, then measures signed SDK requests per second
with concurrent clients, and the time of a paged object list of 10,000 mailboxes.
"""
from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ovh_api_sim.testing import SimulatorProcess  # noqa: E402

BASE = "/email/exchange/private-zz111111-1/service/private-zz111111-1"


def cpu_seconds(pid):
    """User + system CPU time of a process (Linux /proc), to report the server's cost per request."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def hammer(sim, threads, requests_per_thread):
    clients = [sim.client() for _ in range(threads)]
    for client in clients:
        client.get("/auth/time", _need_auth=False)
        client.time_delta  # noqa: B018 - fetch the clock delta before timing
    errors = []

    def work(client, worker):
        try:
            for index in range(requests_per_thread):
                client.get(f"{BASE}/account/user{(worker * requests_per_thread + index) % 5000 + 1:05d}@mydomain.ovh")
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    workers = [threading.Thread(target=work, args=(c, i)) for i, c in enumerate(clients)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    return threads * requests_per_thread / elapsed, errors


def process_worker(endpoint, env, count, worker, results):
    import ovh
    import ovh.client

    ovh.client.ENDPOINTS["bench"] = endpoint
    client = ovh.Client(endpoint="bench", application_key=env["OVH_APPLICATION_KEY"],
                        application_secret=env["OVH_APPLICATION_SECRET"], consumer_key=env["OVH_CONSUMER_KEY"])
    client.time_delta  # noqa: B018
    results.put(None)  # ready
    for index in range(count):
        client.get(f"{BASE}/account/user{(worker * count + index) % 5000 + 1:05d}@mydomain.ovh")
    results.put(count)


def hammer_processes(sim, processes, requests_per_process):
    """Client processes, so that the SDK side is not bound by one interpreter lock."""
    import multiprocessing

    results = multiprocessing.Queue()
    workers = [multiprocessing.Process(target=process_worker,
                                       args=(sim.endpoint, sim.env, requests_per_process, i, results))
               for i in range(processes)]
    for worker in workers:
        worker.start()
    for _ in workers:
        results.get()
    started = time.perf_counter()
    done = sum(results.get() for _ in workers)
    elapsed = time.perf_counter() - started
    for worker in workers:
        worker.join()
    return done / elapsed


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--requests", type=int, default=250, help="per thread")
    args = parser.parse_args()
    started = time.perf_counter()
    with SimulatorProcess(args=["--accounts", "5000"]) as sim:
        print(f"start with 5,000 mailboxes: {time.perf_counter() - started:.2f} s")
        for threads in (1, args.threads):
            cpu_before, count_before = cpu_seconds(sim.process.pid), sim.stats()["total"]
            rate, errors = hammer(sim, threads, args.requests)
            server_cpu = cpu_seconds(sim.process.pid) - cpu_before
            served = sim.stats()["total"] - count_before
            print(f"{threads} client thread(s): {rate:.0f} signed GET/s ({len(errors)} errors); server CPU "
                  f"{server_cpu / served * 1000:.2f} ms per request, i.e. {served / server_cpu:.0f} requests per "
                  "CPU-second")
        for processes in (2, 4):
            rate = hammer_processes(sim, processes, args.requests)
            print(f"{processes} client processes: {rate:.0f} signed GET/s")
        sim.reset(accounts=10000)
        client = sim.client()
        started = time.perf_counter()
        answer = client.raw_call("GET", f"{BASE}/account", headers={
            "X-Pagination-Mode": "CachedObjectList-Pages", "X-Pagination-Size": "10000"})
        elapsed = time.perf_counter() - started
        print(f"paged object list of {len(answer.json())} mailboxes in one page: {elapsed * 1000:.0f} ms "
              f"({len(answer.content) / 1e6:.1f} MB)")
        started = time.perf_counter()
        ids = client.get(f"{BASE}/account")
        print(f"plain id list of {len(ids)} mailboxes: {(time.perf_counter() - started) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
