"""Test helpers shared by every test folder: the collection on the import path, ../shared, playbook runs.

Imported as `testlib` (tests/conftest.py puts this folder on sys.path); fixtures live in tests/conftest.py.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
COLLECTIONS = REPO / ".collections"
COLLECTION_LINK = COLLECTIONS / "ansible_collections" / "ovhcloud" / "exchange"
SHARED = REPO.parent / "shared"
CALLBACKS = REPO / "tests" / "integration" / "callback_plugins"


def _ensure_collection_link():
    # Ansible (and `import ansible_collections.ovhcloud.exchange`) need the repo under that name.
    if not COLLECTION_LINK.exists():
        COLLECTION_LINK.parent.mkdir(parents=True, exist_ok=True)
        try:
            COLLECTION_LINK.symlink_to(Path("..") / ".." / "..", target_is_directory=True)
        except FileExistsError:  # another xdist worker made it first
            pass


_ensure_collection_link()
# Tools run by the tests (ansible-playbook, ansible-runner's subprocesses) come from this interpreter's venv.
os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")
for _path in (str(COLLECTIONS), str(REPO / "tests" / "simulator")):
    if _path not in sys.path:
        sys.path.insert(0, _path)


def shared_file(relative):
    """A file of ../shared, or a skip saying why it is absent."""
    path = SHARED / relative
    if not path.exists() and os.environ.get("CI") and (REPO / ".git").exists():
        # CI's checkout always has ../shared beside it: a test that needs it must not pass by skipping.
        # (ansible-test units copies the tree elsewhere, without .git: there the skip stands.)
        pytest.fail(f"../shared/{relative} is missing beside this CI checkout ({SHARED}): the test that reads it "
                    "cannot run, and CI does not pass it by skipping")
    if not path.exists():
        pytest.skip(f"../shared/{relative} is not beside this checkout (it holds the reference material)")
    return path


@dataclass
class PlaybookRun:
    rc: int
    stdout: str
    stderr: str
    results: list = field(default_factory=list)

    def task(self, name):
        """The last result of the task called `name` (a test failure names what ran instead)."""
        # Role tasks are recorded as "<role> : <name>".
        matches = [r for r in self.results if r["task"] == name or r["task"].endswith(" : " + name)]
        assert matches, f"no task named {name!r}; ran: {[r['task'] for r in self.results]}\n{self.stdout}"
        return matches[-1]["result"]

    @property
    def changed_tasks(self):
        return [r["task"] for r in self.results if r["result"].get("changed")]

    @property
    def failed_tasks(self):
        return [r["task"] for r in self.results if r["status"] == "failed"]


def ansible_env(extra=None):
    """Environment for ansible-playbook runs: this collection, this interpreter, recorded results."""
    env = dict(os.environ)
    env.update(
        {
            "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS),
            "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
            "ANSIBLE_CALLBACK_PLUGINS": str(CALLBACKS),
            "ANSIBLE_CALLBACKS_ENABLED": "record_results",
            "ANSIBLE_LOCALHOST_WARNING": "false",
            "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_RETRY_FILES_ENABLED": "false",
            "PYTHONPATH": str(REPO / "tests" / "simulator"),
        }
    )
    env.update(extra or {})
    return env


def private_tmpdir(tmp_path):
    """{"TMPDIR": a temporary folder of this test}: the API modules keep each key's request budget (the pacer's
    learned rate) under it, and a rate learned in one test's throttling must not pace the next test that gets the
    same simulator port. The runs of one test share it, as the jobs of one controller do."""
    folder = tmp_path / "tmp"
    folder.mkdir(exist_ok=True)
    return {"TMPDIR": str(folder)}


def run_ansible_playbook(playbook, tmp_path, env=None, args=(), timeout=600, cwd=REPO):
    """Run ansible-playbook for real (in `cwd`); `playbook` is a path or YAML text. Returns a PlaybookRun."""
    if not isinstance(playbook, Path):
        path = tmp_path / f"play-{len(list(tmp_path.glob('play-*.yml')))}.yml"
        path.write_text(playbook)
        playbook = path
    results_file = tmp_path / f"results-{os.getpid()}-{len(list(tmp_path.glob('results-*')))}.jsonl"
    run_env = ansible_env({"RECORD_RESULTS_FILE": str(results_file), **private_tmpdir(tmp_path), **(env or {})})
    bin_dir = Path(sys.executable).parent
    command = [str(bin_dir / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(playbook), *args]
    proc = subprocess.run(command, check=False, env=run_env, capture_output=True, text=True, timeout=timeout, cwd=cwd)
    results = []
    if results_file.exists():
        results = [json.loads(line) for line in results_file.read_text().splitlines() if line.strip()]
    return PlaybookRun(proc.returncode, proc.stdout, proc.stderr, results)
