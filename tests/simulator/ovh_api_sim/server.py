"""Command line, threaded waitress server, state file, and the `export` lines."""
from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import tempfile
import threading

from waitress.channel import HTTPChannel
from waitress.server import TcpWSGIServer
from waitress.task import WSGITask

from .app import SOCKET_ENVIRON_KEY, Simulator
from .backend import Backend
from .faults import RATE_NAMES, Faults, parse_spec
from .seed import load_seed

STATE_FLUSH_SECONDS = 0.2
# Waitress runs requests on a pool of threads: one per request in flight, and every request can
# sleep `--latency-ms`, so the pool must be larger than any client's parallelism (the role's is 8).
WORKER_THREADS = 32


class SocketTask(WSGITask):
    """Puts the client's socket in the WSGI environ, so that the reset fault can drop the connection."""

    def get_environment(self):
        environ = super().get_environment()
        environ[SOCKET_ENVIRON_KEY] = self.channel.socket
        return environ


class SocketChannel(HTTPChannel):
    task_class = SocketTask


class SimulatorServer(TcpWSGIServer):
    """Waitress's HTTP/1.1 server (keep-alive, a thread pool) on one address; port 0 picks a free one."""

    channel_class = SocketChannel


def make_server(host, port, app):
    # A busy pool is normal under a benchmark: waitress would warn about its queue on every request.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    # Idle keep-alive connections count too (each SDK client keeps some), hence more than waitress's 100.
    return SimulatorServer(app, host=host, port=port, threads=WORKER_THREADS, connection_limit=1000,
                           ident="ovh_api_sim")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m ovh_api_sim", description="OVHcloud API simulator (Exchange "
                                     "send connectors). See docs/simulator.md.")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port; 0 picks a free one (default 8080)")
    parser.add_argument("--seed", help="seed YAML file (default: the packaged guide world)")
    parser.add_argument("--accounts", type=int, default=0, help="add N generated mailboxes to the Private platform")
    parser.add_argument("--task-seconds", type=float, default=1.0, help="time a task takes from todo to done")
    parser.add_argument("--state-file", help="JSON file that keeps the state across restarts")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="latency added to every /1.0 request")
    parser.add_argument("--faults", default="", help="e.g. 500=0.05,502=0.05,429=0.05,reset=0.05,task_error=0.1,"
                        "retry_after=1,seed=42")
    parser.add_argument("--no-object-lists", action="store_true",
                        help="ignore X-Pagination-Mode and X-Ovh-Batch (plain id lists only)")
    parser.add_argument("--token-seconds", type=int, default=3600, help="lifetime of OAuth2 access tokens")
    args = parser.parse_args(argv)
    try:
        args.fault_settings = parse_spec(args.faults)
    except ValueError as error:
        parser.error(f"--faults: {error}")
    return args


def write_atomically(path, data):
    """Write JSON to a temporary file beside `path`, then rename: a crash never leaves half a file."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".ovh_api_sim-", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


class StateFile:
    """Saves the backend's state when it changed (debounced), and once more at shutdown."""

    def __init__(self, backend, path):
        self.backend, self.path = backend, path
        self.saved_version = None
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="state-file", daemon=True)

    def load(self):
        if self.path and os.path.exists(self.path):
            with open(self.path, encoding="utf-8") as handle:
                self.backend.load_state(json.load(handle))
            return True
        return False

    def save(self):
        version = self.backend.version
        if version != self.saved_version:
            write_atomically(self.path, self.backend.snapshot())
            self.saved_version = version

    def _loop(self):
        while not self.stop_event.wait(STATE_FLUSH_SECONDS):
            self.save()

    def start(self):
        self.thread.start()

    def close(self):
        self.stop_event.set()
        self.thread.join(timeout=5)
        self.save()


def build(args):
    """The backend, faults and Flask simulator for parsed arguments (no socket yet)."""
    seed = load_seed(args.seed)
    backend = Backend(seed, task_seconds=args.task_seconds, extra_accounts=args.accounts)
    rates = {**dict.fromkeys(RATE_NAMES, 0.0),
             **{k: v for k, v in args.fault_settings.items() if k not in ("retry_after", "seed")}}
    fault_options = {"retry_after": args.fault_settings.get("retry_after", 1.0), "latency_ms": args.latency_ms,
                     "object_lists": not args.no_object_lists, "seed": int(args.fault_settings.get("seed", 0))}
    faults = Faults(rates, **fault_options)

    def reseed(body):
        """POST /_sim/reset: the start-up world (or the given seed/accounts), start-up faults."""
        unknown = set(body) - {"accounts", "seed", "task_seconds"}
        if unknown:
            raise ValueError(f"unknown reset option(s): {', '.join(sorted(unknown))}")
        if "task_seconds" in body:
            backend.task_seconds = float(body["task_seconds"])
        else:
            backend.task_seconds = args.task_seconds
        backend.load_seed(body.get("seed") or seed, extra_accounts=int(body.get("accounts", args.accounts)))
        faults.update({"rates": rates, **fault_options, "methods": None, "script": []})

    simulator = Simulator(backend, faults, reseed, token_seconds=args.token_seconds)
    return backend, simulator


def export_lines(backend, base_url):
    creds = backend.credentials
    application_key, application_secret = next(iter(creds["applications"].items()))
    consumer_keys = list(creds["consumer_keys"].items())
    lines = [
        f"export OVH_ENDPOINT={base_url}/1.0",
        f"export OVH_APPLICATION_KEY={application_key}",
        f"export OVH_APPLICATION_SECRET={application_secret}",
        f"export OVH_CONSUMER_KEY={consumer_keys[0][0]}",
    ]
    read_only = [key for key, ck in consumer_keys if {r.get("method") for r in ck["rules"]} == {"GET"}]
    if read_only:
        lines.append(f"export OVH_SIM_READONLY_CONSUMER_KEY={read_only[0]}")
    if creds["oauth2_clients"]:
        client_id, client_secret = next(iter(creds["oauth2_clients"].items()))
        lines += [f"export OVH_SIM_OAUTH2_CLIENT_ID={client_id}",
                  f"export OVH_SIM_OAUTH2_CLIENT_SECRET={client_secret}",
                  f"export OVH_SIM_OAUTH2_TOKEN_URL={base_url}/auth/oauth2/token"]
    return lines


def main(argv=None):
    args = parse_args(argv)
    backend, simulator = build(args)
    state_file = StateFile(backend, args.state_file) if args.state_file else None
    loaded = state_file.load() if state_file else False
    server = make_server(args.host, args.port, simulator.app)
    host = f"[{args.host}]" if ":" in args.host else args.host
    base_url = f"http://{host}:{server.effective_port}"
    for line in export_lines(backend, base_url):
        print(line)
    print(f"# ovh_api_sim ready on {base_url} (state {'loaded from ' + args.state_file if loaded else 'seeded'})")
    sys.stdout.flush()

    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    if state_file:
        state_file.start()
    try:
        server.run()  # returns on KeyboardInterrupt (and so SIGTERM), its threads stopped
    finally:
        server.close()
        if state_file:
            state_file.close()
