"""`make bench`: the send_connector role against a per-mailbox loop and a plain `uri` playbook.

Everything runs for real on this machine: the OVH API simulator with a fixed latency per request,
`ansible-playbook` with the collection. Figures come from wall clocks and from the simulator's own
request counters (`/_sim/stats`, `/_sim/requests`), never from the modules' own reports.

    .venv/bin/python tests/tools/bench.py            # full run (about 30 minutes), writes docs/performance.md
    .venv/bin/python tests/tools/bench.py --quick    # small sizes, writes build/bench-quick/performance.md
    .venv/bin/python tests/tools/bench.py --only platforms   # many platforms only (about 15 minutes): its
                                                             # section of docs/performance.md
    .venv/bin/python tests/tools/bench.py --only fair-use    # under a fair-use limit of 10 requests/s per key
                                                             # (about 15 minutes): its section
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
for _path in (REPO / "tests", REPO / "tests" / "integration", REPO / "tests" / "simulator"):
    sys.path.insert(0, str(_path))

from testlib import run_ansible_playbook  # noqa: E402  (the tests' ansible-playbook runner)
from ovh_api_sim.testing import SimulatorProcess  # noqa: E402
from role_play import ROLE_PLAY, extra_vars_file  # noqa: E402
from platforms_support import connector_vars, platform_name, platforms_seed, write_inventory  # noqa: E402

PLATFORM = "private-zz111111-1"
BASE = f"/email/exchange/{PLATFORM}/service/{PLATFORM}"
ROUTE_PREFIX = "/email/exchange/{organizationName}/service/{exchangeService}"
CONNECTOR = "bench-relay"
PARALLEL = 8  # the role's default send_connector_parallel

# The uri loop costs about as much Ansible time per item as the module loop: at the full sizes it runs on a
# sample of `uri_items` mailboxes and its figures per mailbox are scaled, which the report says.
FULL = dict(sizes=[1000, 2000], loop_sizes=[1000], uri_sizes=[1000], uri_items=100, rate_size=60, memory_size=10000,
            output=REPO / "docs" / "performance.md", images=REPO / "docs" / "img")
QUICK = dict(sizes=[100, 200], loop_sizes=[100], uri_sizes=[100], uri_items=None, rate_size=20, memory_size=2000,
             output=REPO / "build" / "bench-quick" / "performance.md", images=REPO / "build" / "bench-quick" / "img")


# Playbooks -------------------------------------------------------------------------------------------

def connector_then(name, bind_task, play_vars=""):
    """A play that creates the connector (`relay`), then binds with `bind_task` (YAML of one task)."""
    return f"""
- name: {name}
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/ovhcloud.exchange.ovh:
      organization: {PLATFORM}
{play_vars}  tasks:
    - name: Create the connector
      ovhcloud.exchange.exchange_send_connector:
        name: {CONNECTOR}
        smart_host: smtp-relay.example.com
        port: 587
      register: relay
{bind_task}"""


LOOP_PLAY = connector_then("Converge with one module call per mailbox", """
    - name: Bind one mailbox per loop item
      ovhcloud.exchange.exchange_account_connector:
        connector: "{{ relay.id }}"
        account: "{{ item }}"
      loop: "{{ bench_mailboxes }}"
""")

ACCOUNT_MODULE_PLAY = connector_then("One bulk call of the account module", """
    - name: Bind the mailboxes in one call
      ovhcloud.exchange.exchange_account_connector:
        connector: "{{ relay.id }}"
        accounts: "{{ bench_mailboxes }}"
""")

# OVH's signature is "$1$" + sha1(secret+consumer+METHOD+URL+BODY+timestamp), per request. The header
# set is one template so that the timestamp in the header and in the signature are the same value;
# the clock offset to the API is read once, as the SDK does.
URI_PLAY = connector_then("Converge with ansible.builtin.uri, one signed PUT per mailbox", f"""
    - name: Read the API clock
      ansible.builtin.uri:
        url: "{{{{ ovh_endpoint }}}}/auth/time"
      register: api_time

    - name: Bind one mailbox per loop item (signed PUT)
      ansible.builtin.uri:
        url: "{{{{ ovh_endpoint }}}}{BASE}/account/{{{{ item | urlencode | replace('@', '%40') }}}}"
        method: PUT
        body: "{{{{ body }}}}"
        headers: >-
          {{%- set ts = (now(utc=true).timestamp() | int + clock_offset | int) | string -%}}
          {{%- set url = ovh_endpoint ~ '{BASE}/account/' ~ (item | urlencode | replace('@', '%40')) -%}}
          {{{{ {{'X-Ovh-Application': ovh_ak, 'X-Ovh-Consumer': ovh_ck, 'X-Ovh-Timestamp': ts,
              'Content-Type': 'application/json',
              'X-Ovh-Signature': '$1$' ~ ([ovh_as, ovh_ck, 'PUT', url, body, ts] | join('+') | hash('sha1'))}} }}}}
      vars:
        body: '{{{{ {{"sendConnectorId": relay.id}} | to_json }}}}'
        clock_offset: "{{{{ api_time.json | int - now(utc=true).timestamp() | int }}}}"
      loop: "{{{{ bench_mailboxes }}}}"
""", play_vars="""  vars:
    ovh_endpoint: "{{ lookup('env', 'OVH_ENDPOINT') }}"
    ovh_ak: "{{ lookup('env', 'OVH_APPLICATION_KEY') }}"
    ovh_as: "{{ lookup('env', 'OVH_APPLICATION_SECRET') }}"
    ovh_ck: "{{ lookup('env', 'OVH_CONSUMER_KEY') }}"
""")

# Runs the module process as a child and records its peak resident set (ru_maxrss, KiB on Linux).
RSS_WRAPPER = """#!{python}
import os, resource, subprocess, sys
rc = subprocess.call([sys.executable, *sys.argv[1:]])
with open(os.environ["BENCH_RSS_FILE"], "a") as handle:
    handle.write("%d\\n" % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(rc)
"""


# Measuring -------------------------------------------------------------------------------------------

@dataclass
class Measure:
    scenario: str
    mailboxes: int
    to_bind: int
    seconds: float
    rc: int
    requests: dict = field(default_factory=dict)  # route -> count, from /_sim/stats by_route
    writes: int = 0
    changed: int = 0
    note: str = ""

    @property
    def total(self):
        return sum(self.requests.values())


def short_route(route):
    return route.replace(ROUTE_PREFIX, "…")


def stats_delta(before, after):
    routes = {}
    for route, count in after["by_route"].items():
        diff = count - before["by_route"].get(route, 0)
        if diff:
            routes[short_route(route)] = diff
    return routes, after["writes"] - before["writes"]


def mailboxes(count):
    """The first `count` generated mailboxes (the simulator names them user00001@mydomain.ovh ...)."""
    return [f"user{index:05d}@mydomain.ovh" for index in range(1, count + 1)]


class Bench:
    def __init__(self, sim, workdir):
        self.sim = sim
        self.workdir = workdir
        self.runs = 0
        self.measures = []  # every run, setups included, so that a failed one fails the bench

    def vars_file(self, data):
        self.runs += 1
        return extra_vars_file(self.workdir, f"vars-{self.runs}", data)

    def play(self, text, data, *args, env=None):
        """Run one playbook; returns (PlaybookRun, seconds, route counts, writes) from the simulator."""
        before = self.sim.stats()
        started = time.monotonic()
        run = run_ansible_playbook(text, self.workdir, env={**self.sim.env, **(env or {})},
                                   args=("-e", self.vars_file(data), *args), timeout=3600)
        seconds = time.monotonic() - started
        routes, writes = stats_delta(before, self.sim.stats())
        if run.rc != 0:
            tail = (run.stdout + run.stderr)[-3000:]
            print(f"!! playbook failed (rc={run.rc}):\n{tail}", file=sys.stderr, flush=True)
        return run, seconds, routes, writes

    def measure(self, scenario, text, data, total, to_bind, *args, env=None, note=""):
        print(f"-- {scenario}: {total} mailboxes, {to_bind} to bind ...", end=" ", flush=True)
        run, seconds, routes, writes = self.play(text, data, *args, env=env)
        changed = sum(1 for r in run.results if r["result"].get("changed"))
        measure = Measure(scenario, total, to_bind, seconds, run.rc, routes, writes, changed, note)
        print(f"{seconds:.1f} s, {measure.total} requests ({writes} writes), rc={run.rc}", flush=True)
        self.measures.append(measure)
        return measure


def role_vars(listed, **extra):
    return {"send_connector_organization": PLATFORM, "send_connector_platform_mailboxes": [],
            "send_connector_connectors": [{"name": CONNECTOR, "smart_host": "smtp-relay.example.com", "port": 587,
                                           "mailboxes": listed}], **extra}


def write_phase(sim, since, latency_ms):
    """Seconds from the first mailbox PUT's start to the last one's answer, from the simulator's log.

    The log stamps each request when it is answered, after the injected latency: the first PUT started
    one latency before its stamp."""
    times = [entry["time"] for entry in sim.requests()
             if entry["time"] >= since and entry["method"] == "PUT" and "/account/" in entry["path"]]
    return (max(times) - min(times) + latency_ms / 1000) if times else 0.0, len(times)


def prepare(bench, sim, size):
    """A platform of `size` mailboxes where the connector exists and its first half is bound to it already.

    Done by the role, and not compared: the job measured afterwards lists all `size` mailboxes, so half of
    them are to bind and half are right already."""
    sim.reset(accounts=size)
    bench.measure("setup: role binding the first half", ROLE_PLAY, role_vars(mailboxes(size // 2)),
                  size // 2, size // 2)


def run_scale(bench, sim, size, options, latency):
    """Check mode, the role, its no-op rerun, the loop and the uri playbook: `size` mailboxes, half to bind."""
    half = size // 2
    job = mailboxes(size)
    prepare(bench, sim, size)
    out = {}
    out["check"] = bench.measure("role, check mode", ROLE_PLAY, role_vars(job), size, half, "--check")
    since = time.time()
    out["role"] = bench.measure("role", ROLE_PLAY, role_vars(job), size, half)
    out["write_phase"] = write_phase(sim, since, latency)
    out["noop"] = bench.measure("role, no-op rerun", ROLE_PLAY, role_vars(job), size, 0)
    if size in options["loop_sizes"]:
        prepare(bench, sim, size)
        out["loop"] = bench.measure("module loop", LOOP_PLAY, {"bench_mailboxes": job}, size, half)
    if size in options["uri_sizes"]:
        prepare(bench, sim, size)
        # Every `step`-th mailbox, so that the sample holds bound and unbound ones alike (the uri loop writes both).
        step = max(1, size // (options["uri_items"] or size))
        sample = job[::step]
        measure = bench.measure("uri loop", URI_PLAY, {"bench_mailboxes": sample}, len(sample), len(sample) // 2)
        out["uri"] = scaled(measure, size) if len(sample) < size else measure
    return out


def scaled(sample, listed):
    """The per-mailbox figures of a sampled run, scaled to `listed` mailboxes (fixed costs kept once)."""
    fixed = {route: count for route, count in sample.requests.items() if "/account/" not in route}
    per_item = {route: count for route, count in sample.requests.items() if "/account/" in route}
    factor = listed / sample.mailboxes
    requests = {**fixed, **{route: round(count * factor) for route, count in per_item.items()}}
    writes = sample.writes + round((factor - 1) * per_item.get("PUT …/account/{primaryEmailAddress}", 0))
    note = (f"extrapolated from a measured run of {sample.mailboxes} mailboxes ({sample.seconds:.1f} s, "
            f"{sample.total} requests)")
    return Measure(sample.scenario + " (extrapolated)", listed, round(sample.to_bind * factor), sample.seconds * factor,
                   sample.rc, requests, writes, sample.changed, note)


def run_rate_limited(bench, sim, size):
    prepare(bench, sim, size)
    return bench.measure("role, max_requests_per_second: 1", ROLE_PLAY,
                         role_vars(mailboxes(size), send_connector_max_requests_per_second=1), size, size // 2)


def run_memory(bench, sim, size, workdir):
    """Peak RSS of the account module process binding half of `size` mailboxes (the simulator seeded with them)."""
    sim.reset(accounts=size)
    wrapper = workdir / "python-rss"
    wrapper.write_text(RSS_WRAPPER.format(python=sys.executable))
    wrapper.chmod(0o755)
    rss_file = workdir / "rss.txt"
    rss_file.write_text("")
    measure = bench.measure("account module, memory", ACCOUNT_MODULE_PLAY, {"bench_mailboxes": mailboxes(size // 2)},
                            size, size // 2, env={"ANSIBLE_PYTHON_INTERPRETER": str(wrapper), "BENCH_RSS_FILE": str(rss_file)})
    # One line per module process: the connector task, then the bulk binding.
    peaks_kib = [int(line) for line in rss_file.read_text().split()]
    return measure, peaks_kib


# Report ----------------------------------------------------------------------------------------------

# Many platforms ---------------------------------------------------------------------------------------

PLATFORMS_PLAYBOOK = REPO / "playbooks" / "send_connector_platforms.yml"
PLATFORMS_SECTION = ("<!-- bench:platforms -->", "<!-- /bench:platforms -->")
# Written by tests/tools/bench_read_paths.py (`--only read-paths`), kept by the other runs.
READ_PATHS_SECTION = ("<!-- bench:read-paths -->", "<!-- /bench:read-paths -->")


def run_platforms(workdir, platforms, per_platform, forks_list, latency, task_seconds):
    """playbooks/send_connector_platforms.yml from an empty state on `platforms` platforms of `per_platform`
    mailboxes, all bound to a new connector each, once per forks value (the simulator reseeded each time)."""
    seed = workdir / "platforms-seed.yaml"
    import yaml  # noqa: PLC0415 - only this scenario writes a seed
    seed.write_text(yaml.safe_dump(platforms_seed(platforms, mailbox_count=per_platform, others=0)))
    inventory = write_inventory(workdir / "platforms-inventory", {}, host_vars={
        platform_name(n): connector_vars(n, mailbox_count=per_platform) for n in range(1, platforms + 1)})
    total = platforms * per_platform
    out = {}
    with SimulatorProcess(args=["--seed", str(seed), "--latency-ms", str(latency),
                                "--task-seconds", str(task_seconds)]) as sim:
        bench = Bench(sim, workdir)
        for forks in forks_list:
            sim.reset()
            out[forks] = bench.measure(f"{platforms} platforms, forks {forks}", PLATFORMS_PLAYBOOK, {}, total, total,
                                       "-i", str(inventory), "--forks", str(forks))
    return out, bench.measures


def platforms_report(results, platforms, per_platform, latency, task_seconds, machine_text):
    rows = ["| forks | platforms | mailboxes bound | wall s | requests | writes | outcome |", "|---|---|---|---|---|---|---|"]
    for forks, m in results.items():
        rows.append(f"| {forks} | {platforms} | {m.to_bind:,} | {m.seconds:.1f} | {m.total:,} | {m.writes:,} | "
                    f"{'ok' if m.rc == 0 else f'rc={m.rc}'} |")
    first, *rest = list(results.values())
    lines = [
        PLATFORMS_SECTION[0],
        "## Many platforms: forks",
        "",
        f"`.venv/bin/python tests/tools/bench.py --only platforms` (this section only; the full run keeps it). "
        f"`playbooks/send_connector_platforms.yml` on {platforms} platforms listed by the `exchange_services` inventory "
        f"plugin, each with {per_platform} mailboxes to bind to a new connector of its own, from an empty state "
        f"(simulator `--latency-ms {latency} --task-seconds {task_seconds}`, reseeded before each run). "
        "Requests include the inventory's listing; wall time is the whole `ansible-playbook` run. "
        f"Run on {time.strftime('%Y-%m-%d')}; {machine_text}.",
        "",
        *rows,
        "",
    ]
    for m in rest:
        lines.append(f"- forks {m.scenario.rsplit(' ', 1)[1]} against forks {first.scenario.rsplit(' ', 1)[1]}: "
                     f"{m.seconds / first.seconds:.1f}x the wall time, the same work "
                     f"({m.total:,} against {first.total:,} requests). Forks run whole platforms side by side; each "
                     "platform's own writes are already parallel inside its bulk call, so on two cores the gain is "
                     "the Ansible and task-wait time that the platforms overlap, not more requests per second.")
    lines += ["- All requests of one OVH account share its fair-use budget (about 60 a minute per key): at that pace "
              f"the {first.total:,} requests would take about {first.total / 60:.0f} minutes whatever the forks.",
              PLATFORMS_SECTION[1], ""]
    return "\n".join(lines)


# Fair use ---------------------------------------------------------------------------------------------

FAIR_USE_SECTION = ("<!-- bench:fair-use -->", "<!-- /bench:fair-use -->")
FAIR_USE_RATE = 10  # requests per second per consumer key, the simulator's token bucket (burst: one second's worth)


def fair_use_seed(platforms, size):
    """`platforms` platforms of `size` mailboxes, each with its connector `relay` already binding the first half."""
    seed = platforms_seed(platforms, mailbox_count=size, others=0)
    for number, service in enumerate(seed["services"], start=1):
        relay = connector_vars(number)["send_connector_connectors"][0]
        service["connectors"] = [{"id": 100 + number, "displayName": relay["name"], "smartHost": relay["smart_host"],
                                  "port": relay["port"]}]
        for account in service["accounts"][: size // 2]:
            account["sendConnectorId"] = 100 + number
    return seed


def platform_job(number, size, **extra):
    return {"send_connector_organization": platform_name(number), **connector_vars(number, mailbox_count=size), **extra}


def fair_use_measure(bench, sim, scenario, text, data, total, to_bind, *args):
    """(Measure, throttled answers, ideal seconds, requests/s of the key from its first to its last mailbox PUT)."""
    before = sim.stats()
    since = time.time()
    measure = bench.measure(scenario, text, data, total, to_bind, *args)
    throttled = sum(sim.stats()["throttled"].values()) - sum(before["throttled"].values())
    ideal = measure.total / FAIR_USE_RATE
    log = [entry for entry in sim.requests() if entry["time"] >= since]
    puts = [entry["time"] for entry in log if entry["method"] == "PUT" and "/account/" in entry["path"]]
    accepted = [entry for entry in log if puts and min(puts) <= entry["time"] <= max(puts) and not entry["throttled"]]
    phase_rate = len(accepted) / (max(puts) - min(puts)) if len(puts) > 1 else 0.0
    return measure, throttled, ideal, phase_rate


def run_fair_use(workdir, size, loop_sample, latency, task_seconds):
    """The role, its one-chunk variant and the module loop on one platform, then 4 platforms in 4 forks sharing
    the key, under a simulator limit of FAIR_USE_RATE requests/s per key; `size` mailboxes per platform, half bound."""
    out = {}
    with SimulatorProcess(args=["--latency-ms", str(latency), "--task-seconds", str(task_seconds)]) as sim:
        bench = Bench(sim, workdir)

        def fresh(platforms):
            sim.reset(seed=fair_use_seed(platforms, size), rate_limit=f"{FAIR_USE_RATE}/s", rate_limit_answer="mix")
            # Each run starts with a budget that knows nothing of the key, as a new job would.
            from ansible_collections.ovhcloud.exchange.plugins.module_utils import _pacer  # noqa: PLC0415
            state = Path(_pacer.state_folder()) / (_pacer.budget_identity(
                sim.env["OVH_ENDPOINT"], sim.env["OVH_CONSUMER_KEY"], None) + ".json")
            if state.exists():
                state.unlink()

        fresh(1)
        out["role"] = fair_use_measure(bench, sim, "role (chunks of 100)", ROLE_PLAY, platform_job(1, size), size,
                                       size // 2)
        fresh(1)
        out["one_chunk"] = fair_use_measure(bench, sim, "role, one chunk", ROLE_PLAY,
                                            platform_job(1, size, send_connector_chunk_size=size), size, size // 2)
        fresh(1)
        # Every `step`-th mailbox, bound and unbound alike; its figures are scaled to `size` in the report.
        sample = mailboxes_of(1, size)[:: max(1, size // loop_sample)]
        loop_play = LOOP_PLAY.replace(PLATFORM, platform_name(1)).replace(
            "name: bench-relay\n        smart_host: smtp-relay.example.com",
            "name: relay\n        smart_host: smtp.platform001.example")
        out["loop"] = fair_use_measure(bench, sim, f"module loop ({len(sample)} sampled)", loop_play,
                                       {"bench_mailboxes": sample}, len(sample), len(sample) // 2)
        fresh(4)
        inventory = write_inventory(workdir / "fair-use-inventory", {}, host_vars={
            platform_name(n): connector_vars(n, mailbox_count=size) for n in range(1, 5)})
        out["forks"] = fair_use_measure(bench, sim, "4 platforms, forks 4, one key", PLATFORMS_PLAYBOOK, {}, 4 * size,
                                        4 * size // 2, "-i", str(inventory), "--forks", "4")
    return out, bench.measures


def mailboxes_of(number, size):
    from platforms_support import mailboxes as platform_mailboxes  # noqa: PLC0415
    return platform_mailboxes(number, size)


def fair_use_report(results, size, latency, task_seconds, machine_text):
    rows = ["| run | mailboxes | to bind | wall s | requests | throttled | requests / 10 s | wall / ideal | "
            "accepted requests/s while binding | outcome |",
            "|---|---|---|---|---|---|---|---|---|---|"]
    for measure, throttled, ideal, phase_rate in results.values():
        rows.append(f"| {measure.scenario} | {measure.mailboxes:,} | {measure.to_bind:,} | {measure.seconds:.1f} | "
                    f"{measure.total:,} | {throttled} | {ideal:.1f} | {measure.seconds / ideal:.2f}x | {phase_rate:.1f} | "
                    f"{'ok' if measure.rc == 0 else f'rc={measure.rc}'} |")
    role, dummy, role_ideal, role_phase = results["role"]
    chunk, dummy, dummy_ideal, chunk_phase = results["one_chunk"]
    loop, dummy, dummy_ideal, dummy_phase = results["loop"]
    forks, forks_throttled, forks_ideal, forks_phase = results["forks"]
    per_item = loop.total / loop.mailboxes
    target = role.seconds <= 1.15 * role_ideal and role.rc == 0
    lines = [
        FAIR_USE_SECTION[0],
        "## Under a fair-use limit",
        "",
        "`.venv/bin/python tests/tools/bench.py --only fair-use` (this section only; the full run keeps it). "
        f"The simulator throttles each consumer key to {FAIR_USE_RATE} requests/s (a token bucket of one second's "
        "worth, answering past it with 429, HTML 408 pages and resets, mixed), "
        f"`--latency-ms {latency} --task-seconds {task_seconds}`. Each platform has {size:,} mailboxes, the first half "
        "bound to its connector already; the job lists all of them, so half are to bind. Wall time is the whole "
        "`ansible-playbook` run; requests and throttled answers are the simulator's counts; the ideal is the "
        f"requests over {FAIR_USE_RATE}/s. Every run starts with an empty pacer state, as a new job does. "
        f"Run on {time.strftime('%Y-%m-%d')}; {machine_text}.",
        "",
        *rows,
        "",
        f"- **Target: the role within 1.15x of its requests / {FAIR_USE_RATE} s, with no failed run: "
        f"{'met' if target else 'not met'}** ({role.seconds:.1f} s for {role.total:,} requests, "
        f"{role.seconds / role_ideal:.2f}x). While it binds, the key carries {role_phase:.1f} accepted requests/s "
        f"({role_phase / FAIR_USE_RATE:.0%} of the limit; {chunk_phase:.1f} in one chunk): the rest of the wall time "
        "is Ansible's (starting the playbook, a module process per task and chunk) and the task waits. The pacer "
        "measures the key's rate over busy time only (the time requests waited for the key), so module starts and "
        "task waits between chunks do not pass for a slow key; measured over all the time (the pacer before commit d04e38d), the "
        "same run learned 4 to 6 requests/s and took 1.5x to 1.9x its ideal.",
        f"- Progress costs: chunks of 100 against one chunk: {role.total - chunk.total:+,} requests and "
        f"{role.seconds - chunk.seconds:+.1f} s ({role.seconds / chunk.seconds:.2f}x the wall time); each chunk is a "
        "module run that reads the connectors and its mailboxes again. Only the mailboxes that the role's check "
        f"found elsewhere are chunked: here the {size // 2:,} to bind, in {size // 2 // 100} chunks.",
        f"- The module loop, one module call per mailbox, measured on {loop.mailboxes} sampled mailboxes: "
        f"{per_item:.1f} requests and {loop.seconds / loop.mailboxes:.2f} s per mailbox, so about "
        f"{per_item * size:,.0f} requests and {loop.seconds / loop.mailboxes * size:,.0f} s for {size:,} "
        f"({per_item * size / role.total:.1f}x the role's requests).",
        f"- 4 platforms in 4 forks sharing the key: {forks.seconds:.1f} s for {forks.total:,} requests "
        f"({forks.seconds / forks_ideal:.2f}x its requests / {FAIR_USE_RATE} s), {forks_throttled} throttled answers: "
        f"the forks share one budget instead of multiplying the load on the key ({forks_phase:.1f} accepted "
        "requests/s while binding)"
        f"{'' if forks.rc == 0 else ' (the run failed)'}.",
        FAIR_USE_SECTION[1], "",
    ]
    return "\n".join(lines)


def splice_section(path, section, markers=PLATFORMS_SECTION):
    """Put `section` in place of the one between the markers in `path`, or at its end."""
    text = path.read_text() if path.exists() else ""
    path.parent.mkdir(parents=True, exist_ok=True)
    start, end = markers
    if start in text and end in text:
        text = text[:text.index(start)] + section.rstrip("\n") + text[text.index(end) + len(end):]
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text if text.endswith("\n") else text + "\n")


def kept_section(path, markers=PLATFORMS_SECTION):
    """A section (the platforms one by default) of an existing report, to keep when the other scenarios are rerun."""
    text = path.read_text() if path.exists() else ""
    start, end = markers
    return text[text.index(start):text.index(end) + len(end)] + "\n" if start in text and end in text else ""


def machine():
    mem_kib = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal:"))
    from ansible import __version__ as ansible_version
    return (f"{os.cpu_count()} CPUs (`nproc`), {mem_kib / 1024 / 1024:.1f} GiB of memory, Python "
            f"{platform.python_version()}, ansible-core {ansible_version}, {platform.system()} {platform.machine()}; "
            f"load average at the start {os.getloadavg()[0]:.1f} (the machine is shared with other work)")


def requests_cell(measure):
    return "<br>".join(f"{route}: {count}" for route, count in sorted(measure.requests.items(), key=lambda kv: -kv[1]))


def measure_row(measure):
    ok = "ok" if measure.rc == 0 else f"**failed rc={measure.rc}**"
    return (f"| {measure.scenario} | {measure.mailboxes:,} | {measure.to_bind:,} | {measure.seconds:.1f} | "
            f"{measure.total:,} | {measure.writes:,} | {measure.changed} | {ok} | {requests_cell(measure)} |")


def ratio(a, b):
    return f"{a / b:.1f}x" if b else "n/a"


def verdict(passed):
    return "**met**" if passed else "**not met**"


def plot(results, images, sizes):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    images.mkdir(parents=True, exist_ok=True)
    files = {}
    for metric, label, getter in (("time", "wall time (s)", lambda m: m.seconds), ("requests", "API requests", lambda m: m.total)):
        fig, axis = plt.subplots(figsize=(6.5, 4))
        for key, name, style in (("role", "role (bulk)", "o-"), ("loop", "module per mailbox", "s-"), ("uri", "uri per mailbox", "^-")):
            points = [(size, getter(results[size][key])) for size in sizes if key in results[size]]
            if points:
                axis.plot([p[0] for p in points], [p[1] for p in points], style, label=name)
        axis.set_xlabel("mailboxes listed in the job (half of them to bind)")
        axis.set_ylabel(label)
        axis.set_yscale("log")
        axis.set_xticks(sizes)
        axis.grid(True, which="both", alpha=0.3)
        axis.legend()
        axis.set_title(f"{label} against mailbox count (20 ms per request)")
        fig.tight_layout()
        path = images / f"bench-{metric}.png"
        fig.savefig(path, dpi=100)
        plt.close(fig)
        files[metric] = path
    return files


def report(options, results, rate, memory, latency, task_seconds, started, plots):
    sizes = options["sizes"]
    first = sizes[0]
    lines = [
        "# Performance",
        "",
        "Measured by `make bench` (`tests/tools/bench.py`; `--quick` runs small sizes). Do not edit by hand: rerun it.",
        "",
        f"- Machine: {machine()}.",
        f"- API: the simulator (`tests/simulator`) with `--latency-ms {latency}` (every request sleeps {latency} ms before "
        f"its answer) and `--task-seconds {task_seconds}` (each OVH task takes {task_seconds} s; real tasks take "
        "seconds to minutes, which would widen the gap, since the loop waits for one task per mailbox and the role "
        "for all of them at once).",
        "- The job: converge N mailboxes, half of them to bind. The platform has N mailboxes and the connector, "
        "and the first half of the mailboxes is bound to it already (set up before each measured way by a role "
        "run that is not compared); the job lists all N mailboxes for the connector, so it must bind N/2 and "
        "leave N/2 alone. Request counts come from the simulator's `/_sim/stats` (`by_route`), including "
        "`/auth/time` and everything the role reads; wall time is the whole `ansible-playbook` run.",
        "- The three ways: **role** = `ovhcloud.exchange.send_connector` (validation, a read-only check of every "
        "mailbox, the connector, one bulk `exchange_account_connector` call with `parallel: 8`); **module loop** = "
        "`exchange_send_connector`, then `exchange_account_connector` with one `account:` per loop item (each item "
        "reads its mailbox, and writes and waits for its task only if it differs); **uri loop** = `exchange_send_connector`, then one signed "
        "`ansible.builtin.uri` PUT per mailbox (the OVH signature computed per request in a Jinja expression, the "
        "API clock read once). The uri loop reads nothing and waits for no task: it is the cheapest possible "
        "per-mailbox playbook, not idempotent (a rerun writes every mailbox again) and blind to failed tasks.",
        f"- Run on {time.strftime('%Y-%m-%d', time.gmtime(started))}, {(time.time() - started) / 60:.1f} minutes in all.",
        "",
        "## Results",
        "",
        "| scenario | mailboxes | to bind | wall s | requests | writes | changed tasks | outcome | requests by route |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for size in sizes:
        for key in ("check", "role", "noop", "loop", "uri"):
            if key in results[size]:
                lines.append(measure_row(results[size][key]))
    lines.append(measure_row(rate))
    lines += [f"- {m.scenario}, {m.mailboxes:,} mailboxes: **{m.note}**." for r in results.values() for m in r.values()
              if isinstance(m, Measure) and m.note]
    lines += ["", f"![wall time against mailbox count](img/{plots['time'].name})",
              f"![API requests against mailbox count](img/{plots['requests'].name})", ""]

    role, loop, uri = results[first]["role"], results[first].get("loop"), results[first].get("uri")
    lines += ["## Ratios and targets", "", "| measure | figure | target | verdict |", "|---|---|---|---|"]
    if loop:
        lines.append(f"| requests, module loop / role, {first:,} mailboxes | {ratio(loop.total, role.total)} "
                     f"({loop.total:,} / {role.total:,}) | at least 5x | {verdict(loop.total >= 5 * role.total)} |")
        lines.append(f"| wall time, module loop / role, {first:,} mailboxes | {ratio(loop.seconds, role.seconds)} "
                     f"({loop.seconds:.1f} s / {role.seconds:.1f} s) | at least 20x | {verdict(loop.seconds >= 20 * role.seconds)} |")
    if uri:
        lines.append(f"| requests, uri loop / role, {first:,} mailboxes | {ratio(uri.total, role.total)} "
                     f"({uri.total:,} / {role.total:,}) | (none) | |")
        lines.append(f"| wall time, uri loop / role, {first:,} mailboxes | {ratio(uri.seconds, role.seconds)} "
                     f"({uri.seconds:.1f} s / {role.seconds:.1f} s) | (none) | |")
    last = sizes[-1]
    noop = results[last]["noop"]
    lines.append(f"| requests of the no-op rerun, {last:,} mailboxes (whole role) | {noop.total} ({noop.writes} writes) "
                 f"| at most 5 | {verdict(noop.total <= 5)} |")
    for size in sizes:
        span, puts = results[size]["write_phase"]
        bound = puts * latency / 1000 / PARALLEL
        lines.append(f"| bulk write phase, {size:,} mailboxes: {puts:,} PUTs x {latency} ms / {PARALLEL} parallel | "
                     f"{span:.2f} s against a bound of {bound:.2f} s: {ratio(span, bound)} | within 1.5x | "
                     f"{verdict(bound and span <= 1.5 * bound)} |")
    measure, peaks = memory
    peak_mb = max(peaks) / 1024 if peaks else float("nan")
    lines.append(f"| peak RSS of the module process, {measure.mailboxes:,} mailboxes ({measure.to_bind:,} bound in one call) "
                 f"| {peak_mb:.0f} MB | under 150 MB | {verdict(peaks and peak_mb < 150)} |")

    lines += ["", "## Notes", ""]
    if len(sizes) > 1 and loop and "loop" not in results[last]:
        per_item = loop.seconds / loop.mailboxes
        lines.append(f"- The module loop and the uri loop were measured at {first:,} mailboxes only: the loop alone "
                     f"takes {loop.seconds / 60:.0f} minutes there. **Extrapolated, not measured:** at {last:,} mailboxes "
                     f"the module loop would take about {per_item * last:.0f} s and {loop.total / loop.mailboxes * last:,.0f} "
                     f"requests ({per_item:.2f} s and {loop.total / loop.mailboxes:.1f} requests per listed mailbox at "
                     f"{first:,}).")
    lines.append(f"- Write phase: from the first mailbox PUT's start to the last one's answer, read from the simulator's "
                 f"request log. The bound is writes x latency / parallel, the time {PARALLEL} perfect workers would "
                 "take; the gap is the CPU of signing and answering each request, on two cores shared by client and "
                 "server.")
    lines.append("- The no-op rerun counts every request of the whole role: the read-only mailbox check reads the "
                 "connectors and the mailboxes, the connector module reads the connectors, the binding call reads the "
                 "connectors and the mailboxes. No module reads the API clock (`/auth/time`): they sign with the local "
                 "clock and read the API's only after an authentication refusal.")
    if loop:
        lines.append(f"- Requests, role against module loop: the API has no bulk write, so both make one PUT per mailbox "
                     f"to bind ({role.writes:,} writes for the role here, {loop.writes:,} for the loop). The role "
                     f"reads the whole platform in a handful of requests ({role.total - role.writes} here); the loop "
                     f"reads every listed mailbox one by one, bound or not: {(loop.total - loop.writes) / loop.mailboxes:.1f} "
                     "reads per listed mailbox. The more of the list is right already, the larger the gap: with none "
                     "right it would be just under the loop's requests per mailbox to bind.")
    rate_puts = rate.requests.get("PUT …/account/{primaryEmailAddress}", 0)
    loop_per_item = (loop.total / loop.mailboxes) if loop else None
    rate_line = (f"- Fair use (`max_requests_per_second: 1`): measured at {rate.mailboxes} mailboxes ({rate.to_bind} to "
                 f"bind) rather than {first:,}, because at one request a second {first // 2:,} writes alone take over "
                 f"{first // 2 // 60} minutes. The role took {rate.seconds:.0f} s for {rate_puts} mailbox writes and "
                 f"{rate.total} requests in all (the limit paces the writes; the few reads are not paced).")
    if loop_per_item:
        rate_line += (f" The module loop spends {loop_per_item:.1f} requests per listed mailbox (measured above), so at "
                      f"OVH's 60 requests a minute the same {rate.mailboxes} mailboxes would cost it about "
                      f"{loop_per_item * rate.mailboxes / 60:.0f} minutes of the key's budget against about "
                      f"{rate.total / 60:.1f} for the role (computed from the counts, not run).")
    lines.append(rate_line)
    lines.append(f"- Memory: the playbook ran with `ANSIBLE_PYTHON_INTERPRETER` set to a wrapper script that starts "
                 "the real interpreter as its child and, when it exits, records `resource.getrusage(RUSAGE_CHILDREN)."
                 "ru_maxrss`: the peak resident set of the module process alone (AnsiballZ runs the module in that "
                 f"process), not of `ansible-playbook`. Peaks per module process, in MB: "
                 f"{', '.join(f'{p / 1024:.0f}' for p in peaks)} (the connector task, then the bulk binding); the "
                 f"binding run took {measure.seconds:.1f} s and {measure.total:,} requests.")
    lines.append("- Figures vary by 10 to 30 % from run to run on a shared 2-core machine; the ratios are stable.")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes (a minute or two); writes under build/")
    parser.add_argument("--latency-ms", type=int, default=20)
    parser.add_argument("--task-seconds", type=float, default=0.2)
    parser.add_argument("--output", type=Path, help="where to write the report (images go to img/ beside it)")
    parser.add_argument("--only", choices=["platforms", "fair-use", "read-paths"],
                        help="run one scenario and update its section of the report")
    args = parser.parse_args()
    options = dict(QUICK if args.quick else FULL)
    if args.output:
        options["output"] = args.output
        options["images"] = args.output.parent / "img"
    if args.only == "fair-use":
        size, loop_sample = (200, 20) if args.quick else (1000, 60)
        machine_text = machine()
        with tempfile.TemporaryDirectory(prefix="ovh-bench-") as tmp:
            results, measures = run_fair_use(Path(tmp), size, loop_sample, args.latency_ms, args.task_seconds)
        splice_section(options["output"], fair_use_report(results, size, args.latency_ms, args.task_seconds,
                                                          machine_text), FAIR_USE_SECTION)
        print(f"\nupdated {options['output']}")
        failed = [m.scenario for m in measures if m.rc != 0]
        if failed:
            sys.exit(f"some runs failed: {failed}")
        return
    if args.only == "read-paths":
        import bench_read_paths  # noqa: E402  (beside this file; it imports this one)

        section, ok = bench_read_paths.run()
        splice_section(options["output"], section, READ_PATHS_SECTION)
        print(f"\nupdated {options['output']}")
        if not ok:
            sys.exit("some read-path runs failed")
        return
    if args.only == "platforms":
        platforms, per_platform = (5, 20) if args.quick else (50, 200)
        machine_text = machine()
        with tempfile.TemporaryDirectory(prefix="ovh-bench-") as tmp:
            results, measures = run_platforms(Path(tmp), platforms, per_platform, [10, 1], args.latency_ms,
                                              args.task_seconds)
        splice_section(options["output"], platforms_report(results, platforms, per_platform, args.latency_ms,
                                                           args.task_seconds, machine_text))
        print(f"\nupdated {options['output']}")
        failed = [m.scenario for m in measures if m.rc != 0]
        if failed:
            sys.exit(f"some runs failed: {failed}")
        return
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="ovh-bench-") as tmp, \
            SimulatorProcess(args=["--latency-ms", str(args.latency_ms), "--task-seconds", str(args.task_seconds)]) as sim:
        workdir = Path(tmp)
        bench = Bench(sim, workdir)
        results = {size: run_scale(bench, sim, size, options, args.latency_ms) for size in options["sizes"]}
        rate = run_rate_limited(bench, sim, options["rate_size"])
        memory = run_memory(bench, sim, options["memory_size"], workdir)
    plots = plot(results, options["images"], options["sizes"])
    text = report(options, results, rate, memory, args.latency_ms, args.task_seconds, started, plots)
    for markers in (PLATFORMS_SECTION, FAIR_USE_SECTION, READ_PATHS_SECTION):
        section = kept_section(options["output"], markers)
        if section:
            text = text.rstrip("\n") + "\n\n" + section
    options["output"].parent.mkdir(parents=True, exist_ok=True)
    options["output"].write_text(text)
    print(f"\nwrote {options['output'].relative_to(REPO) if options['output'].is_relative_to(REPO) else options['output']}")
    failed = [f"{m.scenario} ({m.mailboxes})" for m in bench.measures if m.rc != 0]
    if failed:
        sys.exit(f"some runs failed: {failed}")


if __name__ == "__main__":
    main()
