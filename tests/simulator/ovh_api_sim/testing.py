"""Run the simulator as a subprocess for tests: `with SimulatorProcess(args=[...]) as sim: ...`."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

PACKAGE_PARENT = str(Path(__file__).resolve().parents[1])
START_TIMEOUT = 60.0
CONTROL_TIMEOUT = 60.0


class SimulatorError(RuntimeError):
    pass


def option_flags(options):
    """Keyword options as command-line flags: api_profile="pessimistic" -> --api-profile pessimistic,
    no_batch=True -> --no-batch, unpaged_routes=["task"] -> --unpaged-routes task (None or False: left out)."""
    flags = []
    for name, value in options.items():
        if value is None or value is False:
            continue
        flags.append("--" + name.replace("_", "-"))
        if value is not True:
            flags.append(",".join(value) if isinstance(value, (list, tuple)) else str(value))
    return flags


class SimulatorProcess:
    """A simulator on a free loopback port (or `--port` from `args`), stopped on exit.

    `args` are command-line flags; keyword `options` are more of them, by name (see option_flags), e.g.
    SimulatorProcess(api_profile="pessimistic", rate_limit="4/s", burst=8, platforms=12).
    """

    def __init__(self, args=(), **options):
        self.args = list(args) + option_flags(options)
        self.process = None
        self.port = None
        self.env = {}
        self.exports = {}
        self.log_file = None

    # ----------------------------------------------------------------- lifecycle
    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        if self.log_file is not None:  # kept while running: it holds the server's stderr
            self.log_file.close()
            os.unlink(self.log_file.name)
            self.log_file = None

    def _command(self):
        args = list(self.args)
        if self.port is not None:  # a restart keeps the port the first start got
            args = _without_option(args, "--port") + ["--port", str(self.port)]
        elif "--port" not in args:
            args += ["--port", "0"]
        return [sys.executable, "-m", "ovh_api_sim", *args]

    def start(self):
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [PACKAGE_PARENT, env.get("PYTHONPATH")]))
        if self.log_file is None:
            self.log_file = tempfile.NamedTemporaryFile(prefix="ovh_api_sim-", suffix=".log", delete=False)
        self.process = subprocess.Popen(self._command(), stdout=subprocess.PIPE, stderr=self.log_file, env=env,
                                        text=True)
        exports = {}
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                raise SimulatorError(f"the simulator exited early (rc={self.process.wait()}); "
                                     f"its log: {Path(self.log_file.name).read_text()[-2000:]}")
            if line.startswith("export "):
                name, dummy_equals, value = line[len("export "):].strip().partition("=")
                exports[name] = value
            elif line.startswith("# ovh_api_sim ready"):
                break
        else:
            self.stop()
            raise SimulatorError("the simulator did not start in time")
        self.exports = exports
        self.env = dict(exports)
        self.endpoint = exports["OVH_ENDPOINT"]
        self.base_url = self.endpoint[: -len("/1.0")]
        self.port = int(self.base_url.rsplit(":", 1)[1])
        self._control("GET", "/_sim/health")
        return self

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process and self.process.stdout:
            self.process.stdout.close()
        self.process = None

    def restart(self):
        """Stop and start again on the same port with the same arguments (and --state-file)."""
        self.stop()
        return self.start()

    # ----------------------------------------------------------------- control plane
    def _control(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base_url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"} if data else {})
        with urllib.request.urlopen(req, timeout=CONTROL_TIMEOUT) as response:  # noqa: S310 - loopback
            return json.loads(response.read())

    def reset(self, **options):
        """Back to the start-up world, zeroed statistics, start-up faults, readings and fair use (options:
        accounts, seed, task_seconds, platforms, platform_accounts, api_profile, rate_limit, burst,
        rate_limit_answer, and any reading by name, e.g. late_writes=0.5), until the next reset."""
        return self._control("POST", "/_sim/reset", options)

    def readings(self):
        """The API readings in force, and the fair-use settings (rate_limit, burst, rate_limit_answer)."""
        return self._control("GET", "/_sim/readings")

    def set_readings(self, **readings):
        """Change some readings until the next reset, e.g. set_readings(no_batch=True)."""
        return self._control("PUT", "/_sim/readings", readings)

    def stats(self):
        return self._control("GET", "/_sim/stats")

    def requests(self):
        return self._control("GET", "/_sim/requests")

    def state(self):
        return self._control("GET", "/_sim/state")

    def faults(self):
        return self._control("GET", "/_sim/faults")

    def set_faults(self, **settings):
        """e.g. set_faults(**{"500": 0.5}), set_faults(reset=1.0, retry_after=0.1), set_faults(object_lists=False),
        set_faults(script=[{"fault": "reset_after", "method": "POST"}])."""
        return self._control("PUT", "/_sim/faults", settings)

    # ----------------------------------------------------------------- SDK clients
    def client(self, consumer_key=None, **kwargs):
        """An `ovh.Client` signed with the demo keys (the SDK takes endpoint names, not URLs)."""
        import ovh
        import ovh.client

        name = f"ovh-api-sim-{self.port}"
        ovh.client.ENDPOINTS[name] = self.endpoint
        options = {"application_key": self.env["OVH_APPLICATION_KEY"],
                   "application_secret": self.env["OVH_APPLICATION_SECRET"],
                   "consumer_key": consumer_key or self.env["OVH_CONSUMER_KEY"], **kwargs}
        return ovh.Client(endpoint=name, **options)

    def oauth2_client(self, client_id=None, client_secret=None):
        """An `ovh.Client` in OAuth2 mode. The SDK allows OAuth2 only for endpoints listed in
        ovh.client.OAUTH2_TOKEN_URLS, and oauthlib refuses http:// token URLs unless
        OAUTHLIB_INSECURE_TRANSPORT=1, so both are set here (process-wide)."""
        import ovh
        import ovh.client

        name = f"ovh-api-sim-{self.port}"
        ovh.client.ENDPOINTS[name] = self.endpoint
        ovh.client.OAUTH2_TOKEN_URLS[name] = self.exports["OVH_SIM_OAUTH2_TOKEN_URL"]
        os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"
        return ovh.Client(endpoint=name, client_id=client_id or self.exports["OVH_SIM_OAUTH2_CLIENT_ID"],
                          client_secret=client_secret or self.exports["OVH_SIM_OAUTH2_CLIENT_SECRET"])


def _without_option(args, option):
    out, skip = [], False
    for arg in args:
        if skip:
            skip = False
            continue
        if arg == option:
            skip = True
            continue
        if arg.startswith(option + "="):
            continue
        out.append(arg)
    return out
