"""`make demo`: start the OVH API simulator, apply the example playbook twice, show what the API holds.

The second run must report changed=0 (the collection is idempotent); the demo fails otherwise.
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "simulator"))

from ovh_api_sim.testing import SimulatorProcess  # noqa: E402

PLATFORM = "private-zz111111-1"
PLAYBOOK = REPO / "playbooks" / "send_connector.yml"
INVENTORY = REPO / "playbooks" / "inventory"


def banner(text):
    print(f"\n{'=' * 100}\n== {text}\n{'=' * 100}", flush=True)


def run_playbook(sim, ansible_playbook, *args):
    env = dict(os.environ)
    env.update(sim.env)
    env.update(
        {
            "ANSIBLE_COLLECTIONS_PATH": str(REPO / ".collections"),
            # The modules run with the Python of this ansible-playbook, which has the ovh SDK beside it.
            "ANSIBLE_PYTHON_INTERPRETER": str(Path(ansible_playbook).parent / "python"),
            "ANSIBLE_FORCE_COLOR": env.get("ANSIBLE_FORCE_COLOR", "1" if sys.stdout.isatty() else "0"),
        }
    )
    command = [str(ansible_playbook), "-i", str(INVENTORY), str(PLAYBOOK), *args]
    print("$ " + " ".join(["ansible-playbook", "-i", "playbooks/inventory", "playbooks/send_connector.yml", *args]), flush=True)
    started = time.monotonic()
    proc = subprocess.run(command, env=env, cwd=REPO, text=True, capture_output=True, check=False)
    print(proc.stdout, end="")
    print(proc.stderr, end="", file=sys.stderr)
    recap = re.search(r"changed=(\d+).*failed=(\d+)", proc.stdout)
    changed, failed = (int(recap.group(1)), int(recap.group(2))) if recap else (None, None)
    print(f"(run took {time.monotonic() - started:.1f} s)", flush=True)
    return proc.returncode, changed, failed


def show_api_state(sim):
    """What the API itself now holds, read with the official SDK (not through the collection)."""
    client = sim.client()
    base = f"/email/exchange/{PLATFORM}/service/{PLATFORM}"
    for connector_id in client.get(f"{base}/sendConnector"):
        connector = client.get(f"{base}/sendConnector/{connector_id}")
        print(
            f"connector {connector['id']} '{connector['displayName']}': {connector['smartHost']}:{connector['port']}"
            f" auth={connector['smartHostAuthMechanism']} requireTLS={connector['requireTLS']}"
            f" maxSendSize={connector['maxSendSize']}MB state={connector['state']}"
        )
    for address in ("newsletter@mydomain.ovh", "contact@mydomain.ovh"):
        account = client.get(f"{base}/account/{address}")
        print(f"mailbox {address}: sendConnectorId={account['sendConnectorId']}")
    for domain in client.get(f"{base}/domain"):
        record = client.get(f"{base}/domain/{domain}")
        print(f"domain {domain}: sendConnectorIdDefault={record['sendConnectorIdDefault']}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ansible-playbook", default=str(Path(sys.executable).parent / "ansible-playbook"),
                        help="the ansible-playbook to run (another ansible-core version, for instance)")
    ansible_playbook = parser.parse_args().ansible_playbook
    with SimulatorProcess(args=["--task-seconds", "1"]) as sim:
        banner(f"OVH API simulator running at {sim.endpoint} (the guide's platform {PLATFORM})")
        banner("First run: create the connector, bind newsletter@, keep contact@ on the platform, set the domain default")
        rc, _changed, _failed = run_playbook(sim, ansible_playbook, "--diff")
        if rc != 0:
            sys.exit(f"The first run failed (rc={rc}).")
        banner("What the API now holds")
        show_api_state(sim)
        banner("Second run: nothing to change")
        rc, changed, _failed = run_playbook(sim, ansible_playbook)
        if rc != 0 or changed != 0:
            sys.exit(f"The second run was expected to report changed=0 and succeed; it gave rc={rc}, changed={changed}.")
        stats = sim.stats()
        banner(f"Done: second run changed=0. The simulator served {stats['total']} API requests in all ({stats['writes']} writes).")


if __name__ == "__main__":
    main()
