"""The Galaxy artifact: what users need and nothing else, accepted by galaxy-importer as it is."""
from __future__ import annotations

import fnmatch
import json
import tarfile

import pytest

from release_tools import ARTIFACT_NAME, BIN, DECOYS, GALAXY, REPO, module_names, role_names, run, tool_env


@pytest.fixture(scope="module")
def members(artifact):
    with tarfile.open(artifact) as tar:
        return {m.name.removeprefix("./") for m in tar.getmembers()}


def test_the_artifact_holds_what_users_need(members, artifact_source):
    modules = [f"plugins/modules/{name}.py" for name in module_names(artifact_source)]
    roles = [f"roles/{name}/tasks/main.yml" for name in role_names(artifact_source)]
    required = ["MANIFEST.json", "FILES.json", "README.md", "meta/runtime.yml", "docs", "CHANGELOG.md",
                "meta/execution-environment.yml", "meta/ee-requirements.txt", *modules, *roles,
                # The licence text, as galaxy.yml's GPL-3.0-or-later requires it to travel with the code.
                "COPYING", "LICENSES/GPL-3.0-or-later.txt"]
    missing = [path for path in required if path not in members]
    assert not missing, f"missing from {ARTIFACT_NAME}: {missing}"


def test_the_artifact_leaves_out_environments_caches_output_and_state(members):
    never = (".venv/", ".collections/", "collections/", "build/", ".ansible/", ".nox/", ".pytest_cache/", ".git/",
             "tests/output/", "docs/site/")
    shipped = sorted(m for m in members
                     if m in DECOYS or m.startswith(never) or "__pycache__" in m
                     or fnmatch.fnmatch(m, "*.pyc") or fnmatch.fnmatch(m, "tests/simulator/state*"))
    assert not shipped, f"{ARTIFACT_NAME} ships what build_ignore in galaxy.yml should drop: {shipped}"


def test_galaxy_importer_accepts_the_artifact_with_no_error_or_warning(artifact, artifact_source, tmp_path):
    """The checks Galaxy runs on upload (ansible-doc, content, ansible-lint), without its container step."""
    config = tmp_path / "galaxy-importer.cfg"
    config.write_text("[galaxy-importer]\nRUN_ANSIBLE_TEST = False\nRUN_ANSIBLE_LINT = True\n"
                      "RUN_ANSIBLE_DOC = True\nCHECK_CHANGELOG = True\nLOG_LEVEL_MAIN = INFO\n")
    proc = run([BIN / "python", "-m", "galaxy_importer.main", artifact], cwd=tmp_path,
               env=tool_env(GALAXY_IMPORTER_CONFIG=str(config)), timeout=900)
    problems = [line for line in proc.stdout.splitlines() if line.startswith(("ERROR", "WARNING"))]
    assert proc.returncode == 0 and not problems, proc.stdout
    result = json.loads((tmp_path / "importer_result.json").read_text())
    found = {(c["content_type"], c["name"]) for c in result["contents"]}
    expected = ({("module", name) for name in module_names(artifact_source)}
                | {("role", name) for name in role_names(artifact_source)})
    assert expected <= found, f"galaxy-importer did not find {sorted(expected - found)}"
    assert result["metadata"]["version"] == GALAXY["version"]


def test_make_build_writes_the_artifact_into_build(tmp_path):
    """`make build` is the documented way; build/ is git-ignored and left out of the artifact itself."""
    makefile = (REPO / "Makefile").read_text()
    assert "collection build" in makefile and "--output-path build" in makefile
    assert "/build/" in (REPO / ".gitignore").read_text().splitlines()
