#!/usr/bin/env bash
# `make compat`: every supported ansible-core release other than the main venv's, each on the Python its
# users run it with, in its own virtualenv: the unit tests, then the example playbook against the
# simulator twice (the second run must change nothing).
#
#   CORE_MATRIX="2.21@3.12"   narrows it (entries are <ansible-core>@<python>)
#   COMPAT_JOBS=2             how many versions run at once (default 2)
#   OVH_EXCHANGE_REQUIRE_ALL_CORES=1 (set by .ci/run): a missing interpreter fails instead of skipping.
#
# Virtualenvs are .venv-core<version>-py<python> under the repository, kept between runs and reused when
# their ansible-core and Python still match the entry; a stale one (another minor, another Python, a
# pre-release once the final is out, an edited requirements.txt) is rebuilt.
set -euo pipefail

REPO="$(cd "$(dirname "$0")/../.." && pwd)"
# shellcheck source=tests/tools/lib.sh
source "$REPO/tests/tools/lib.sh"
CORE_MATRIX="${CORE_MATRIX:-2.16@3.11 2.17@3.11 2.18@3.11 2.20@3.12 2.21@3.12 2.22@3.13}"
COMPAT_JOBS="${COMPAT_JOBS:-2}"
REQUIRE_ALL="${OVH_EXCHANGE_REQUIRE_ALL_CORES:-}"
LOGS="$REPO/tests/output/compat"

cd "$REPO"
mkdir -p "$LOGS"

run_entry() {
    local core=$1 python=$2 interpreter=$3
    local venv="$REPO/.venv-core$core-py$python"
    core_venv "$core" "$python" "$interpreter"
    local version
    version="$("$venv/bin/ansible-playbook" --version)"
    echo "== ${version%%$'\n'*}, Python $python"
    "$venv/bin/python" -m pytest tests/unit -q -p no:cacheprovider
    "$REPO/.venv/bin/python" tests/tools/demo.py --ansible-playbook "$venv/bin/ansible-playbook"
}

declare -a names=() pids=() skipped=()
missing=0
for entry in $CORE_MATRIX; do
    core="${entry%@*}" python="${entry#*@}"
    if ! interpreter="$(find_python "$python")"; then
        skipped+=("ansible-core $core: no Python $python interpreter (looked for python$python on PATH and under pyenv's versions)")
        missing=1
        continue
    fi
    # At most COMPAT_JOBS at once: wait for the oldest before starting another.
    if (( ${#pids[@]} >= COMPAT_JOBS )); then
        wait "${pids[${#pids[@]}-COMPAT_JOBS]}" || true
    fi
    log="$LOGS/core$core-py$python.log"
    ( start=$SECONDS; set +e; ( set -e; run_entry "$core" "$python" "$interpreter" ) >"$log" 2>&1; status=$?
      echo "$status $((SECONDS - start))" >"$log.status" ) &
    names+=("$core@$python") pids+=($!)
    echo "compat: ansible-core $core on Python $python started ($interpreter), log $log"
done

failed=0
declare -a results=()
for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || true
    log="$LOGS/core${names[$i]/@/-py}.log"
    read -r status seconds <"$log.status" || { status=1; seconds="?"; }
    entry="ansible-core ${names[$i]/@/ on Python } in ${seconds}s: $(grep -m1 '^== ansible-playbook' "$log" | cut -c4- || true)"
    if [[ "$status" == 0 ]]; then
        results+=("PASSED $entry")
    else
        failed=1
        echo "---------------- ${names[$i]}: FAILED, last lines of its log ----------------"
        tail -n 40 "$log"
        results+=("FAILED $entry (log: $log)")
    fi
done

echo "================ compat summary ================"
for line in "${results[@]}"; do
    echo "$line"
done
for line in "${skipped[@]}"; do
    echo "SKIPPED $line"
done
if (( missing )) && [[ -n "$REQUIRE_ALL" ]]; then
    echo "compat: FAILED: OVH_EXCHANGE_REQUIRE_ALL_CORES is set and an interpreter is missing (install it, e.g. with pyenv)" >&2
    exit 1
fi
exit "$failed"
