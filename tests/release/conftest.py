"""Fixtures of the release checks: the tracked tree and the built artifact (built once per session)."""
from __future__ import annotations

import pytest

from release_tools import ARTIFACT_NAME, BIN, DECOYS, GALAXY, copy_tracked_tree, run


@pytest.fixture(scope="session")
def tracked_tree(tmp_path_factory):
    """A copy of the tracked tree at <tmp>/ansible_collections/ovhcloud/exchange."""
    root = tmp_path_factory.mktemp("tracked")
    tree = root / "ansible_collections" / GALAXY["namespace"] / GALAXY["name"]
    tree.mkdir(parents=True)
    return copy_tracked_tree(tree)


@pytest.fixture(scope="session")
def artifact_source(tmp_path_factory):
    """The tracked tree plus the DECOYS that build_ignore must drop: what the artifact is built from."""
    source = copy_tracked_tree(tmp_path_factory.mktemp("source"))
    for decoy in DECOYS:
        path = source / decoy
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("must not ship\n")
    return source


@pytest.fixture(scope="session")
def artifact(artifact_source, tmp_path_factory):
    """The collection tarball, built from artifact_source."""
    source = artifact_source
    output = tmp_path_factory.mktemp("artifact")
    proc = run([BIN / "ansible-galaxy", "collection", "build", "--output-path", output, source], cwd=source)
    assert proc.returncode == 0, proc.stdout
    tarball = output / ARTIFACT_NAME
    assert tarball.is_file(), f"ansible-galaxy did not write {ARTIFACT_NAME}:\n{proc.stdout}"
    return tarball
