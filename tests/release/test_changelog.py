"""The changelog: fragments lint clean, a release folds them in, CHANGELOG.md is the generated one."""
from __future__ import annotations

import yaml

from release_tools import BIN, GALAXY, REPO, module_names, role_names, run


def test_changelog_fragments_lint_clean():
    proc = run([BIN / "antsibull-changelog", "lint"], cwd=REPO)
    assert proc.returncode == 0 and not proc.stdout.strip(), proc.stdout


def test_a_release_lists_the_fragments_and_every_new_module_and_role(tracked_tree):
    """Dry run of `antsibull-changelog release` on a copy: what the coming release's notes will say."""
    changes = yaml.safe_load((tracked_tree / "changelogs" / "changelog.yaml").read_text())
    released = set((changes.get("releases") or {}))
    version = GALAXY["version"]
    if version in released:
        # galaxy.yml was not bumped since the last release: the notes to check are the committed ones.
        proc = run([BIN / "antsibull-changelog", "generate"], cwd=tracked_tree)
        assert proc.returncode == 0, proc.stdout
        assert (tracked_tree / "CHANGELOG.md").read_text() == (REPO / "CHANGELOG.md").read_text(), (
            "CHANGELOG.md differs from what `antsibull-changelog generate` writes; regenerate it")
        return
    fragments = sorted((tracked_tree / "changelogs" / "fragments").glob("*.yml"))
    assert fragments, f"no changelog fragment for the unreleased {version} (changelogs/fragments/)"

    proc = run([BIN / "antsibull-changelog", "release", "--version", version, "--date", "2000-01-01"],
               cwd=tracked_tree)
    assert proc.returncode == 0, proc.stdout
    notes = (tracked_tree / "CHANGELOG.md").read_text()
    assert f"v{version}".replace(".", "\\.") in notes, notes
    release = yaml.safe_load((tracked_tree / "changelogs" / "changelog.yaml").read_text())["releases"][version]
    assert sorted(release.get("fragments", [])) == sorted(f.name for f in fragments)
    if not released:
        # The first release: every module and role is new, so each needs version_added equal to it.
        new_modules = {m["name"] for m in release.get("modules", [])}
        new_roles = {r["name"] for r in release.get("objects", {}).get("role", [])}
        missing_modules = sorted(set(module_names(tracked_tree)) - new_modules)
        missing_roles = sorted(set(role_names(tracked_tree)) - new_roles)
        assert not missing_modules, (
            f"modules missing from the release notes' New Modules: {missing_modules}; each needs "
            f"`version_added: {version}` in a DOCUMENTATION that ansible-doc accepts")
        assert not missing_roles, (
            f"roles missing from the release notes' New Roles: {missing_roles}; each needs "
            f"`version_added: {version}` in meta/argument_specs.yml (argument_specs.main)")
