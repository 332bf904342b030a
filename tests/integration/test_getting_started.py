"""docs/getting-started.md, "Your own playbook, outside make demo", followed as a reader would.

The page's shell block runs in bash in a fresh folder laid out like the repository (its .venv and
.collections), with none of the ANSIBLE_* settings the other tests use, and the simulator's export
lines where the page says to paste them; the playbook is the page's YAML block, saved under the name the
page gives. The simulator's state then shows the connector and the binding, and a second run writes nothing.
"""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bindings_support import account_connectors, platform_state
from testlib import REPO

pytestmark = pytest.mark.integration

PAGE = REPO / "docs" / "getting-started.md"
SECTION = "## Your own playbook, outside `make demo`"


def page_blocks():
    """(the bash block, the yaml block) of the section, as the reader sees them."""
    text = PAGE.read_text()
    assert SECTION in text, f"{PAGE} has no section {SECTION!r}"
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    blocks = dict(re.findall(r"```(bash|yaml)\n(.*?)```", section, re.S))
    assert set(blocks) == {"bash", "yaml"}, f"the section must hold one bash and one yaml block, got {sorted(blocks)}"
    return blocks["bash"], blocks["yaml"]


def follow_the_page(sim, folder):
    script, playbook = page_blocks()
    (folder / "my-connector.yml").write_text(playbook)
    exports = "".join(f"export {name}={value}\n" for name, value in sim.env.items())
    # The reader pastes the simulator's export lines where the page says so.
    script = script.replace("# the OVH_* export lines printed by `make sim`", exports + "#", 1)
    # A user's shell: none of the test suite's ANSIBLE_* settings, no PYTHONPATH.
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("ANSIBLE_", "OVH_")) and key not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if not p.startswith(sys.prefix))
    return subprocess.run(["bash", "-e", "-c", script], cwd=folder, env=env, text=True, capture_output=True,
                          check=False, timeout=300)


@pytest.fixture
def reader_folder(tmp_path):
    """A folder laid out like the repository after `make demo`: .venv and .collections."""
    (tmp_path / ".venv").symlink_to(Path(sys.prefix), target_is_directory=True)
    (tmp_path / ".collections").symlink_to(REPO / ".collections", target_is_directory=True)
    if not (tmp_path / ".venv" / "bin" / "activate").exists():
        pytest.skip(f"the test interpreter ({sys.prefix}) is not a virtualenv with bin/activate, as the page's is")
    return tmp_path


def test_a_reader_runs_their_own_playbook(sim, reader_folder):
    first = follow_the_page(sim, reader_folder)
    assert first.returncode == 0, first.stdout + first.stderr
    connectors = {c["displayName"]: c for c in platform_state(sim)["connectors"].values()}
    assert connectors["my-first-relay"]["smartHost"] == "smtp-relay.example.com"
    assert connectors["my-first-relay"]["port"] == 587
    assert account_connectors(sim)["newsletter@mydomain.ovh"] == connectors["my-first-relay"]["id"]
    writes_after_first = sim.stats()["writes"]

    second = follow_the_page(sim, reader_folder)
    assert second.returncode == 0, second.stdout + second.stderr
    assert re.search(r"localhost\s*:\s*ok=2\s+changed=0\s+unreachable=0\s+failed=0", second.stdout), second.stdout
    assert sim.stats()["writes"] == writes_after_first
    assert len([c for c in platform_state(sim)["connectors"].values() if c["displayName"] == "my-first-relay"]) == 1
