#!/usr/bin/env bash
# `make release-dry-run VERSION=1.0.0`: what releasing VERSION (default: galaxy.yml's) would produce, done
# on a copy of the tracked tree so that nothing here changes: galaxy.yml bumped, `antsibull-changelog
# release` (the fragments folded into changelogs/changelog.yaml, CHANGELOG.md written), the tarball
# built. Fails when the release notes would miss a module or role (on a first release every one of them
# must be new in it, i.e. carry version_added: VERSION). Prints the notes. Checklist: CONTRIBUTING.md.
set -euo pipefail

REPO="$(cd "$(dirname "$0")/../.." && pwd)"
# shellcheck source=tests/tools/lib.sh
source "$REPO/tests/tools/lib.sh"
BIN="$REPO/.venv/bin"
export PATH="$BIN:$PATH"
current="$("$BIN/python" -c 'import yaml, sys; print(yaml.safe_load(open(sys.argv[1]))["version"])' "$REPO/galaxy.yml")"
VERSION="${1:-$current}"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
TREE="$(copy_tracked_tree "$WORK")"
export ANSIBLE_COLLECTIONS_PATH="$WORK"
cd "$TREE"

sed -i "s/^version: .*/version: $VERSION/" galaxy.yml
sed -i "s/ovhcloud-exchange-$current.tar.gz/ovhcloud-exchange-$VERSION.tar.gz/" ee/requirements.yml
antsibull-changelog lint
antsibull-changelog release --version "$VERSION"
"$BIN/python" - "$VERSION" <<'PY'
import pathlib, sys
import yaml

version = sys.argv[1]
changes = yaml.safe_load(pathlib.Path("changelogs/changelog.yaml").read_text())
release = changes["releases"][version]
first = len(changes["releases"]) == 1
modules = sorted(p.stem for p in pathlib.Path("plugins/modules").glob("*.py"))
roles = sorted(p.parent.name for p in pathlib.Path("roles").glob("*/tasks"))
listed_modules = sorted(m["name"] for m in release.get("modules", []))
listed_roles = sorted(r["name"] for r in release.get("objects", {}).get("role", []))
print(f"release {version}: {len(release.get('fragments', []))} fragments; new modules {listed_modules}; new roles {listed_roles}")
if first:
    missing = sorted(set(modules) - set(listed_modules)) + sorted(set(roles) - set(listed_roles))
    if missing:
        sys.exit(f"release-dry-run: FAILED: the first release's notes would not list {missing} as new: "
                 f"set version_added: {version} in their DOCUMENTATION / meta/argument_specs.yml")
PY
ansible-galaxy collection build --output-path "$WORK/dist" . >/dev/null
echo "release-dry-run: built $(basename "$WORK"/dist/*.tar.gz)"
echo "================ CHANGELOG.md as $VERSION would have it ================"
cat CHANGELOG.md
