"""Simulator capacity on loopback (a benchmark, not a test): `python tests/simulator/bench_sim.py`.

Starts a simulator with 5,000 generated mailboxes, then measures:

1. the server alone, with `wrk` (a C load generator that costs little CPU; `apt-get install wrk`):
   requests/s, latency percentiles and server CPU per request for a single mailbox GET, the plain
   account id list and a paged object list of 1,000 accounts. The requests are signed once: the
   simulator accepts a timestamp within its skew window, so a signature for a fixed URL and
   timestamp stays valid for the few seconds of a run;
2. signed GETs of single mailboxes through the official SDK, from client threads and processes that
   compete with the server for the same cores;
3. one big paged object list and one big id list of 10,000 mailboxes.
"""
from __future__ import annotations

import argparse
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ovh_api_sim.auth import signature  # noqa: E402
from ovh_api_sim.testing import SimulatorProcess  # noqa: E402

BASE = "/email/exchange/private-zz111111-1/service/private-zz111111-1"
PAGED = {"X-Pagination-Mode": "CachedObjectList-Pages", "X-Pagination-Size": "1000"}
WRK_KINDS = (
    ("GET one mailbox", f"{BASE}/account/user00042@mydomain.ovh", {}),
    ("GET account id list (5,006 ids)", f"{BASE}/account", {}),
    ("GET paged object list, 1,000 accounts", f"{BASE}/account", PAGED),
)


def cpu_seconds(pid):
    """User + system CPU time of a process (Linux /proc), to report the server's cost per request."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def machine():
    memory_kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
    return (f"machine: {os.cpu_count()} CPUs (nproc), {memory_kb / 1024 ** 2:.1f} GiB memory, Python "
            f"{platform.python_version()}, load average {os.getloadavg()[0]:.1f} (other work on the same cores)")


def signed_headers(sim, url):
    env, timestamp = sim.env, str(int(time.time()))
    return {"X-Ovh-Application": env["OVH_APPLICATION_KEY"], "X-Ovh-Consumer": env["OVH_CONSUMER_KEY"],
            "X-Ovh-Timestamp": timestamp,
            "X-Ovh-Signature": signature(env["OVH_APPLICATION_SECRET"], env["OVH_CONSUMER_KEY"], "GET", url, b"",
                                         timestamp)}


def wrk_run(sim, path, extra_headers, connections, seconds):
    """One wrk run; returns (requests/s, {percentile: ms}, server CPU ms per request, wrk CPU ms per request,
    non-2xx count)."""
    url = sim.base_url + "/1.0" + path
    headers = {**signed_headers(sim, url), **extra_headers}
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    server_cpu, wrk_cpu, served = cpu_seconds(sim.process.pid), children_cpu_seconds(), sim.stats()["total"]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    server_cpu = cpu_seconds(sim.process.pid) - server_cpu
    wrk_cpu = children_cpu_seconds() - wrk_cpu
    served = sim.stats()["total"] - served
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    percentiles = {p: _milliseconds(v) for p, v in re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", output, re.M)}
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return (rate, percentiles, server_cpu / served * 1000, wrk_cpu / served * 1000,
            int(non_2xx.group(1)) if non_2xx else 0)


def _milliseconds(text):
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]


def bench_wrk(sim, connections, seconds):
    if shutil.which("wrk") is None:
        print("wrk: not installed (apt-get install wrk); server-alone figures skipped")
        return
    print(f"server alone, wrk -t1 -c{connections} -d{seconds}s (keep-alive), signed GETs:")
    for label, path, extra in WRK_KINDS:
        rate, pct, server_ms, wrk_ms, non_2xx = wrk_run(sim, path, extra, connections, seconds)
        errors = f", {non_2xx} non-2xx answers" if non_2xx else ""
        print(f"  {label}: {rate:.0f} requests/s; latency p50 {pct['50']:.1f} ms, p90 {pct['90']:.1f} ms, "
              f"p99 {pct['99']:.1f} ms; server CPU {server_ms:.2f} ms per request (wrk {wrk_ms:.2f} ms){errors}; "
              f"load average {os.getloadavg()[0]:.1f}")


def hammer(sim, threads, requests_per_thread):
    clients = [sim.client() for dummy in range(threads)]
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
    for dummy in workers:
        results.get()
    started = time.perf_counter()
    done = sum(results.get() for dummy in workers)
    elapsed = time.perf_counter() - started
    for worker in workers:
        worker.join()
    return done / elapsed


def bench_sdk(sim, threads, requests):
    print("official SDK clients on the same cores, signed GETs of single mailboxes:")
    for count in (1, threads):
        cpu_before, count_before = cpu_seconds(sim.process.pid), sim.stats()["total"]
        rate, errors = hammer(sim, count, requests)
        server_cpu = cpu_seconds(sim.process.pid) - cpu_before
        served = sim.stats()["total"] - count_before
        print(f"  {count} client thread(s): {rate:.0f} requests/s ({len(errors)} errors); server CPU "
              f"{server_cpu / served * 1000:.2f} ms per request")
    for processes in (2, 4):
        rate = hammer_processes(sim, processes, requests)
        print(f"  {processes} client processes: {rate:.0f} requests/s")


def bench_big_lists(sim):
    sim.reset(accounts=10000)
    client = sim.client()
    started = time.perf_counter()
    answer = client.raw_call("GET", f"{BASE}/account", headers={**PAGED, "X-Pagination-Size": "10000"})
    elapsed = time.perf_counter() - started
    print(f"paged object list of {len(answer.json())} mailboxes in one page: {elapsed * 1000:.0f} ms "
          f"({len(answer.content) / 1e6:.1f} MB)")
    started = time.perf_counter()
    ids = client.get(f"{BASE}/account")
    print(f"plain id list of {len(ids)} mailboxes: {(time.perf_counter() - started) * 1000:.0f} ms")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--connections", type=int, default=8, help="wrk connections (default 8)")
    parser.add_argument("--seconds", type=int, default=10, help="duration of each wrk run (default 10)")
    parser.add_argument("--threads", type=int, default=8, help="SDK client threads (default 8)")
    parser.add_argument("--requests", type=int, default=250, help="SDK requests per client thread or process")
    parser.add_argument("--only", choices=("wrk", "sdk", "lists"), help="run one part only")
    args = parser.parse_args()
    print(machine())
    started = time.perf_counter()
    with SimulatorProcess(args=["--accounts", "5000"]) as sim:
        print(f"start with 5,000 mailboxes: {time.perf_counter() - started:.2f} s")
        if args.only in (None, "wrk"):
            bench_wrk(sim, args.connections, args.seconds)
        if args.only in (None, "sdk"):
            bench_sdk(sim, args.threads, args.requests)
        if args.only in (None, "lists"):
            bench_big_lists(sim)


if __name__ == "__main__":
    main()
