#!/usr/bin/env bash
# `make units`: the unit tests through `ansible-test units`, as collections' CI runs them (the collection
# loader imports tests/unit/** by collection name; tests/unit/requirements.txt is installed beside
# ansible-test's own pytest), on exactly what git tracks. UNITS_CORE/UNITS_PYTHON choose the ansible-core
# venv as for sanity (default: the main .venv on its Python). `make unit` runs the same tests with plain pytest.
set -euo pipefail

REPO="$(cd "$(dirname "$0")/../.." && pwd)"
# shellcheck source=tests/tools/lib.sh
source "$REPO/tests/tools/lib.sh"
BIN="$REPO/.venv/bin"
PYTHON_VERSION="$("$BIN/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
if [[ -n "${UNITS_CORE:-}" ]]; then
    PYTHON_VERSION="${UNITS_PYTHON:?UNITS_PYTHON with UNITS_CORE}"
    interpreter="$(find_python "$PYTHON_VERSION")" || { echo "units: no Python $PYTHON_VERSION interpreter" >&2; exit 1; }
    core_venv "$UNITS_CORE" "$PYTHON_VERSION" "$interpreter"
    BIN="$REPO/.venv-core$UNITS_CORE-py$PYTHON_VERSION/bin"
    PATH="$(dirname "$interpreter"):$PATH"
fi
export PATH="$BIN:$PATH"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
TREE="$(copy_tracked_tree "$WORK")"
install_get_pip_stand_in "$BIN/python" "$PYTHON_VERSION"
# The tests that read ../shared find it beside the copy too.
if [[ -d "$REPO/../shared" ]]; then
    ln -s "$(cd "$REPO/../shared" && pwd)" "$(dirname "$TREE")/shared"
fi

cd "$TREE"
"$BIN/ansible-test" units --venv --requirements --python "$PYTHON_VERSION" --color no "$@"
