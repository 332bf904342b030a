"""Command line, threaded waitress server, state file, and the `export` lines."""
from __future__ import annotations

import argparse
import dataclasses
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

from .app import CHANNEL_ENVIRON_KEY, Simulator
from .backend import Backend
from .faults import RATE_NAMES, Faults, parse_spec
from .readings import FILTER_SYNTAXES, PROFILES, ROUTE_FAMILIES, Readings, readings_for
from .seed import load_seed
from .throttle import Throttle, parse_answers, parse_rate

STATE_FLUSH_SECONDS = 0.2
# Waitress runs requests on a pool of threads: one per request in flight, and every request can
# sleep `--latency-ms`, so the pool must be larger than any client's parallelism (the role's is 8).
WORKER_THREADS = 32


class SocketTask(WSGITask):
    """Puts the client's channel in the WSGI environ, so that the reset fault can drop the connection."""

    def get_environment(self):
        environ = super().get_environment()
        environ[CHANNEL_ENVIRON_KEY] = self.channel
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
    parser.add_argument("--platforms", type=int, default=0,
                        help="add N generated platforms (offers in turn: dedicated, dedicatedCluster, dedicated, "
                        "hosted, dedicated, provider), each with two domains and --platform-accounts mailboxes")
    parser.add_argument("--platform-accounts", type=int, default=5, help="mailboxes per generated platform")
    fair_use = parser.add_argument_group("fair use (a token bucket per consumer key; off by default)")
    fair_use.add_argument("--rate-limit", default="0", help="e.g. 4/s or 60/min (a bare number is per second)")
    fair_use.add_argument("--burst", type=float, default=None, help="bucket size (default: one second's worth, >= 1)")
    fair_use.add_argument("--rate-limit-answer", default="429",
                          help="429 (JSON, Retry-After), 408 (HTML page), reset (connection reset), a comma-separated "
                          "mix, or mix")
    readings = parser.add_argument_group("API readings (docs/simulator.md, 'Readings'); all off by default")
    readings.add_argument("--api-profile", choices=sorted(PROFILES), default="friendly",
                          help="pessimistic turns on every unfriendly reading; the flags below add to it")
    for field in dataclasses.fields(Readings):
        flag = "--" + field.name.replace("_", "-")
        default = getattr(Readings(), field.name)
        if isinstance(default, bool):
            readings.add_argument(flag, action="store_true", default=None)
        elif isinstance(default, float):
            readings.add_argument(flag, type=float, default=None, metavar="SECONDS")
        elif isinstance(default, list):
            readings.add_argument(flag, default=None, metavar=",".join(ROUTE_FAMILIES))
        else:
            readings.add_argument(flag, choices=FILTER_SYNTAXES, default=None)
    args = parser.parse_args(argv)
    try:
        args.fault_settings = parse_spec(args.faults)
    except ValueError as error:
        parser.error(f"--faults: {error}")
    overrides = {f.name: getattr(args, f.name) for f in dataclasses.fields(Readings) if getattr(args, f.name) is not None}
    try:
        args.readings = readings_for(args.api_profile, **overrides).to_dict()
        args.throttle = {"rate": parse_rate(args.rate_limit), "burst": args.burst,
                         "answers": parse_answers(args.rate_limit_answer)}
    except ValueError as error:
        parser.error(str(error))
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


RESET_OPTIONS = ("accounts", "seed", "task_seconds", "platforms", "platform_accounts", "api_profile",
                 "rate_limit", "burst", "rate_limit_answer")


def build(args):
    """The backend, faults, readings, throttle and Flask simulator for parsed arguments (no socket yet)."""
    seed = load_seed(args.seed)
    rates = {**dict.fromkeys(RATE_NAMES, 0.0),
             **{k: v for k, v in args.fault_settings.items() if k not in ("retry_after", "seed")}}
    fault_options = {"retry_after": args.fault_settings.get("retry_after", 1.0), "latency_ms": args.latency_ms,
                     "object_lists": not args.no_object_lists, "seed": int(args.fault_settings.get("seed", 0))}
    faults = Faults(rates, **fault_options)
    readings = Readings().update(args.readings)
    generated = {"extra_accounts": args.accounts, "platforms": args.platforms,
                 "platform_accounts": args.platform_accounts}
    # The faults decide which tasks fail: their hook is the backend's, from the start.
    backend = Backend(seed, task_seconds=args.task_seconds, task_fails=faults.task_fails, readings=readings,
                      **generated)
    throttle = Throttle(**args.throttle)

    def reseed(body):
        """POST /_sim/reset: the start-up world, faults, readings and fair use, with the body's changes."""
        reading_names = set(Readings().to_dict())
        unknown = set(body) - set(RESET_OPTIONS) - reading_names
        if unknown:
            raise ValueError(f"unknown reset option(s): {', '.join(sorted(unknown))}")
        new_readings = readings_for(body.get("api_profile", args.api_profile)).to_dict() if "api_profile" in body \
            else dict(args.readings)
        new_readings.update({k: v for k, v in body.items() if k in reading_names})
        readings.update(new_readings)
        throttle.configure(
            parse_rate(body.get("rate_limit", args.rate_limit)),
            body.get("burst", args.burst),
            parse_answers(body.get("rate_limit_answer", args.rate_limit_answer)))
        backend.task_seconds = float(body.get("task_seconds", args.task_seconds))
        backend.load_seed(body.get("seed") or seed, extra_accounts=int(body.get("accounts", args.accounts)),
                          platforms=int(body.get("platforms", args.platforms)),
                          platform_accounts=int(body.get("platform_accounts", args.platform_accounts)))
        faults.update({"rates": rates, **fault_options, "methods": None, "script": []})

    simulator = Simulator(backend, faults, reseed, token_seconds=args.token_seconds, throttle=throttle)
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
