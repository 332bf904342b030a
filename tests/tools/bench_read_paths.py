"""The no-op rerun's request count under each read path the API may offer (docs/simulator.md, reading 4).

Whether OVH's gateway answers full objects (`CachedObjectList-Pages`), cursors, batch GETs or only plain
ids on the Exchange routes is known for the account list only; the collection reads whatever it gets.
This measures what each path costs in requests: the simulator is switched to one path, the role
converges once (not measured), then runs again with nothing to do, counted by the simulator's own
`/_sim/stats`. The section it writes in docs/performance.md sits between two markers, so that it can
be measured alone:

    .venv/bin/python tests/tools/bench.py --only read-paths     # updates docs/performance.md
    .venv/bin/python tests/tools/bench_read_paths.py --print    # prints the section only
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
for _path in (REPO / "tests", REPO / "tests" / "integration", REPO / "tests" / "simulator", REPO / "tests" / "tools"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from testlib import run_ansible_playbook  # noqa: E402
from ovh_api_sim.testing import SimulatorProcess  # noqa: E402
from role_play import ROLE_PLAY, extra_vars_file  # noqa: E402
from bench import READ_PATHS_SECTION, mailboxes, splice_section, stats_delta  # noqa: E402

PLATFORM = "private-zz111111-1"
BEGIN, END = READ_PATHS_SECTION
ALL_ROUTES = ["sendConnector", "domain", "task", "account"]
LARGE = 12000  # generated mailboxes of the large platform: three pages of 5,000
# name, what the gateway serves, the simulator's readings for it, and optionally (mailboxes, listed)
PATHS = [
    ("paged", "full objects by page on every list route (`CachedObjectList-Pages`)", {}),
    ("cursor", "no pages, cursors (`CachedObjectList-Cursor`) on every list route", {
        "unpaged_routes": ALL_ROUTES, "no_batch": True, "cursor_paging": True}),
    ("batch", "plain ids, then batch GETs (`X-Ovh-Batch`) of up to 50 objects", {"unpaged_routes": ALL_ROUTES}),
    ("single GETs", "plain ids, then one GET per object", {"unpaged_routes": ALL_ROUTES, "no_batch": True}),
    ("pessimistic", "`--api-profile pessimistic`: pages on the account list only, no batch, the manager's filters, "
                    "late writes", {"api_profile": "pessimistic"}),
    ("paged, large platform, 10 listed", "pages; the 10 mailboxes asked for by `primaryEmailAddress:in=...`", {},
     (LARGE, 10)),
    ("paged, large platform, 60 listed", "pages; more than 50 listed, so the whole account list is read", {},
     (LARGE, 60)),
]


def role_vars(listed, domains):
    return {"send_connector_organization": PLATFORM,
            "send_connector_connectors": [{"name": "bench-relay", "smart_host": "smtp-relay.example.com", "port": 587,
                                           "mailboxes": listed, "default_for_domains": domains}]}


def measure(sim, workdir, readings, accounts, listed):
    """(setup rc, rerun rc, requests by route, writes) of the role's no-op rerun under `readings`."""
    sim.reset(accounts=accounts, task_seconds=0.2, **readings)
    variables = extra_vars_file(workdir, "read-paths", role_vars(mailboxes(listed), ["guides.ovh"]))
    env = dict(sim.env)
    setup = run_ansible_playbook(ROLE_PLAY, workdir, env=env, args=("-e", variables))
    before = sim.stats()
    rerun = run_ansible_playbook(ROLE_PLAY, workdir, env=env, args=("-e", variables))
    routes, writes = stats_delta(before, sim.stats())
    for run in (setup, rerun):
        if run.rc != 0:
            print((run.stdout + run.stderr)[-3000:], file=sys.stderr)
    return setup.rc, rerun.rc, routes, writes


def render(rows, accounts, listed, seconds):
    # rows: (name, served, routes, writes, ok, mailboxes, listed)
    lines = [
        BEGIN,
        "## The no-op rerun by read path",
        "",
        f"Measured by `tests/tools/bench_read_paths.py` on {time.strftime('%Y-%m-%d')} ({seconds:.0f} s in all). The role "
        f"with one connector, {listed} of the platform's {accounts + 6:,} mailboxes (unless the row says otherwise) and "
        "one domain default, already converged; the figures are the requests of the run that finds nothing to do, "
        "from the simulator's `/_sim/stats` (writes must be 0). Each row switches the simulator to "
        "one way the real gateway may answer list routes (docs/simulator.md, reading 4); the collection detects it per "
        "route and remembers it for the rest of the module run. The other paths pay, once per route and module run, the "
        "paged request whose plain-id answer shows that pages are not served (and the cursor request, when it is not "
        "served either), and where batches are off, one refused batch GET per module run.",
        "",
        "| read path | the gateway serves | mailboxes (listed) | requests | writes | requests by route |",
        "|---|---|---|---|---|---|",
    ]
    for name, served, routes, writes, ok, mailboxes, listed_here in rows:
        by_route = "<br>".join(f"{route}: {count}" for route, count in sorted(routes.items(), key=lambda kv: -kv[1]))
        total = sum(routes.values())
        lines.append(f"| {name} | {served} | {mailboxes + 6:,} ({listed_here}) | {total if ok else 'failed'} | {writes} | "
                     f"{by_route} |")
    lines += ["", END]
    return "\n".join(lines)


def run(accounts=200, listed=10):
    started = time.monotonic()
    rows = []
    with SimulatorProcess(args=["--task-seconds", "0.2"]) as sim, tempfile.TemporaryDirectory() as folder:
        for name, served, readings, *size in PATHS:
            mailboxes, listed_here = size[0] if size else (accounts, listed)
            print(f"-- {name} ...", end=" ", flush=True)
            setup_rc, rerun_rc, routes, writes = measure(sim, Path(folder), readings, mailboxes, listed_here)
            print(f"{sum(routes.values())} requests, {writes} writes, rc={setup_rc}/{rerun_rc}", flush=True)
            rows.append((name, served, routes, writes, setup_rc == 0 and rerun_rc == 0 and writes == 0, mailboxes,
                         listed_here))
    return render(rows, accounts, listed, time.monotonic() - started), all(row[4] for row in rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--accounts", type=int, default=200, help="generated mailboxes on the platform")
    parser.add_argument("--listed", type=int, default=10, help="mailboxes the job lists")
    parser.add_argument("--print", action="store_true", help="print the section instead of updating the report")
    parser.add_argument("--output", type=Path, default=REPO / "docs" / "performance.md")
    options = parser.parse_args()
    section, ok = run(options.accounts, options.listed)
    if options.print:
        print(section)
    else:
        splice_section(options.output, section, READ_PATHS_SECTION)
        print(f"updated {options.output}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
