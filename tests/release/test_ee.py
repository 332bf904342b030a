"""Execution environment: ansible-builder sees the Python dependency and makes a build context."""
from __future__ import annotations

import shutil
import tarfile
from pathlib import Path

import yaml

from release_tools import ARTIFACT_NAME, BIN, GALAXY, REPO, run


def test_collection_metadata_declares_ovh_unpinned_and_no_ansible():
    meta = yaml.safe_load((REPO / "meta" / "execution-environment.yml").read_text())
    requirements_file = REPO / meta["dependencies"]["python"]
    lines = [line.split("#")[0].strip() for line in requirements_file.read_text().splitlines()]
    names = [line for line in lines if line]
    assert any(line.startswith("ovh") for line in names), names
    assert not any(line.startswith("ansible") for line in names), "never list ansible/ansible-core"
    assert not any(op in line for line in names for op in ("==", "<=", "<", "~=")), (
        f"certified collections pin nothing and set no upper bound: {names}")


def test_introspect_lists_ovh_from_the_built_collection(artifact, tmp_path):
    """Introspection of the installed artifact, so the dependency files must ship too."""
    tree = tmp_path / "ansible_collections" / GALAXY["namespace"] / GALAXY["name"]
    tree.mkdir(parents=True)
    with tarfile.open(artifact) as tar:
        tar.extractall(tree, filter="data")
    proc = run([BIN / "ansible-builder", "introspect", "--sanitize", tmp_path], cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout
    data = yaml.safe_load(proc.stdout)
    assert any(entry.startswith("ovh") and "ovhcloud.exchange" in entry for entry in data["python"]), proc.stdout
    assert not data.get("system"), proc.stdout


def test_ansible_builder_create_makes_a_context_with_the_collection(artifact, tmp_path):
    """No container engine here: the image itself is not built, its build context is checked."""
    definition = yaml.safe_load((REPO / "execution-environment.yml").read_text())
    assert definition["version"] == 3
    deps = definition["dependencies"]
    assert "ansible_core" in deps and "ansible_runner" in deps
    # The Python of AAP's execution environments, and an ansible-core that is maintained on it.
    assert deps["python_interpreter"]["python_path"] == "/usr/bin/python3.12"
    assert deps["ansible_core"]["package_pip"] == "ansible-core>=2.20"
    galaxy = yaml.safe_load((REPO / deps["galaxy"]).read_text())
    tarballs = [c["name"] for c in galaxy["collections"] if c.get("type") == "file"]
    assert tarballs == [f"collections/{ARTIFACT_NAME}"], (
        f"{deps['galaxy']} must install the tarball of galaxy.yml's version: {tarballs}")

    # The definition reads the tarball from build/, as `make build` leaves it; give it just that.
    project = tmp_path / "project"
    (project / "build").mkdir(parents=True)
    shutil.copy2(REPO / "execution-environment.yml", project)
    shutil.copytree(REPO / Path(deps["galaxy"]).parent, project / Path(deps["galaxy"]).parent)
    shutil.copy2(artifact, project / "build" / ARTIFACT_NAME)
    context = tmp_path / "context"
    proc = run([BIN / "ansible-builder", "create", "-f", project / "execution-environment.yml",
                "-c", context, "--output-filename", "Containerfile"], cwd=project)
    assert proc.returncode == 0, proc.stdout
    assert "No matches" not in proc.stdout, proc.stdout
    containerfile = (context / "Containerfile").read_text()
    assert "ansible-galaxy collection install" in containerfile
    assert (context / "_build" / "collections" / ARTIFACT_NAME).is_file()
    requirements = yaml.safe_load((context / "_build" / "requirements.yml").read_text())
    assert requirements["collections"][0]["name"] == f"collections/{ARTIFACT_NAME}"
    assert "ansible-core" in containerfile or "ANSIBLE_INSTALL_REFS" in containerfile
    assert 'ARG PYCMD="/usr/bin/python3.12"' in containerfile and 'ARG PYPKG="python3.12"' in containerfile
