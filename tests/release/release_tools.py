"""Helpers of the release checks: paths, the tools' environment, copies of the tracked tree."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
GALAXY = yaml.safe_load((REPO / "galaxy.yml").read_text())
ARTIFACT_NAME = f"{GALAXY['namespace']}-{GALAXY['name']}-{GALAXY['version']}.tar.gz"

# What must never ship, created in the copy that gets built so that build_ignore is really exercised.
DECOYS = (
    ".venv/bin/python",
    ".venv-core2.21-py3.12/bin/python",
    ".venv-nox/bin/nox",
    ".collections/ansible_collections/README",
    "collections/ansible_collections/README",
    ".ansible/tmp/file",
    ".nox/extra-checks/bin/python",
    "tests/output/junit/result.xml",
    "tests/simulator/state.json",
    "tests/simulator/state-demo.json",
    "build/old.tar.gz",
    "docs/site/index.html",
    "plugins/module_utils/__pycache__/_client.cpython-311.pyc",
    ".pytest_cache/v/cache/lastfailed",
    "changelogs/.plugin-cache.yaml",
)


def tool_env(**extra):
    """Environment for the tools: this virtualenv's bin first (they call ansible-doc and friends)."""
    env = dict(os.environ)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["ANSIBLE_COLLECTIONS_PATH"] = str(REPO / ".collections")
    env.update(extra)
    return env


def run(command, cwd, timeout=600, env=None):
    """Run a command, returning the CompletedProcess (stdout and stderr merged, as text)."""
    return subprocess.run(
        [str(c) for c in command], cwd=cwd, env=env or tool_env(), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, timeout=timeout, check=False)


def copy_tracked_tree(dest: Path) -> Path:
    """The files git tracks, as they are in the working tree: what a fresh clone would hold."""
    for name in tracked_files():
        source = REPO / name
        if not (source.exists() or source.is_symlink()):
            continue
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target, follow_symlinks=False)
    return dest


def tracked_files():
    """The paths git tracks (what a fresh clone holds, hence what CI builds and ships)."""
    listing = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=False)
    if listing.returncode != 0:
        pytest.fail(f"git ls-files failed in {REPO}: {listing.stderr.decode()}; the release checks need a git checkout")
    return [name for name in listing.stdout.decode().split("\0") if name]


def module_names(root: Path = REPO):
    """The modules in root/plugins/modules, found now (never a hard-coded list)."""
    return sorted(p.stem for p in (root / "plugins" / "modules").glob("*.py") if not p.name.startswith("_"))


def role_names(root: Path = REPO):
    """The roles in root/roles (a folder with tasks/)."""
    roles = root / "roles"
    return sorted(p.name for p in roles.iterdir() if (p / "tasks").is_dir()) if roles.is_dir() else []
