#!/usr/bin/env bash
# `make test`: every suite, in two lanes that run side by side (the machine kind has 2 cores):
#   lane 1: the pytest suites on the main venv (unit, simulator, integration, release)
#   lane 2: reuse lint, antsibull-nox extra checks, ansible-lint, ansible-test sanity (2.21, and 2.16 as
#           certification runs it), ansible-test units, compat (other ansible-core
#           versions, one at a time here since lane 1 holds the other core)
# Each stage's output goes to tests/output/stages/<stage>.log; its result and duration are printed when
# it ends, and a table of all of them, with the total, at the end. A failed stage fails the run, but
# the other stages still run, so that one run shows every failure. TEST_LANES=2 runs lane 2 only.
set -uo pipefail

REPO="$(cd "$(dirname "$0")/../.." && pwd)"
LOGS="$REPO/tests/output/stages"
MAKE="${MAKE:-make}"
cd "$REPO" || exit 1
rm -rf "$LOGS"
mkdir -p "$LOGS"

# stage <name> <command...>: runs it with its output in its log; records "<status> <seconds>".
stage() {
    local name=$1 start=$SECONDS status
    shift
    echo "[$(date +%H:%M:%S)] $name: started (log: tests/output/stages/$name.log)"
    "$@" >"$LOGS/$name.log" 2>&1
    status=$?
    echo "$status $((SECONDS - start))" >"$LOGS/$name.result"
    if (( status == 0 )); then
        echo "[$(date +%H:%M:%S)] $name: passed in $((SECONDS - start))s"
    else
        echo "[$(date +%H:%M:%S)] $name: FAILED (exit $status) in $((SECONDS - start))s; last lines:"
        tail -n 40 "$LOGS/$name.log" | sed "s/^/    $name | /"
    fi
    return 0
}

# Two pytest workers (pytest-xdist): the integration tests mostly wait on ansible-playbook and the simulator,
# so two of them share the two cores with lane 2 and halve lane 1's time. PYTEST_WORKERS=0 runs them serially.
lane1() {
    stage pytest "$REPO/.venv/bin/python" -m pytest tests/unit tests/simulator tests/integration tests/release -q \
        -n "${PYTEST_WORKERS:-2}" --durations=15
}

lane2() {
    stage reuse "$MAKE" --no-print-directory reuse
    stage nox-extra-checks "$MAKE" --no-print-directory nox NOX_SESSIONS=extra-checks
    stage ansible-lint "$MAKE" --no-print-directory lint
    stage sanity "$MAKE" --no-print-directory sanity
    stage sanity-2.16 "$MAKE" --no-print-directory sanity-certification CERTIFICATION_CORES=2.16
    stage ansible-test-units "$MAKE" --no-print-directory units
    stage compat env COMPAT_JOBS="${COMPAT_JOBS:-1}" "$MAKE" --no-print-directory compat
}

start=$SECONDS
declare -a lanes=()
for lane in ${TEST_LANES:-1 2}; do
    case "$lane" in
        1) lane1 & ;;
        2) lane2 & ;;
        *) echo "make test: no lane $lane (TEST_LANES takes 1 and 2)" >&2; exit 2 ;;
    esac
    lanes+=($!)
done
wait "${lanes[@]}"
total=$((SECONDS - start))

echo
echo "================ make test summary ================"
failed=0
for result in "$LOGS"/*.result; do
    name="$(basename "$result" .result)"
    read -r status seconds <"$result"
    if (( status == 0 )); then word=passed; else word=FAILED; failed=1; fi
    printf '%-20s %-7s %4ss\n' "$name" "$word" "$seconds"
done
# What could not run on this machine, and why (compat and sanity say it in their logs).
grep -h '^SKIPPED ansible-core\|^sanity: SKIPPED' "$LOGS"/*.log 2>/dev/null || true
grep -h '^PASSED ansible-core\|^FAILED ansible-core' "$LOGS/compat.log" 2>/dev/null || true
grep -h '^tree: ' "$LOGS"/sanity*.log 2>/dev/null | sed 's/^/sanity /' || true
# The tests that failed, by name (pytest's short summary), so that the end of the output says which.
grep -h '^FAILED \|^ERROR ' "$LOGS/pytest.log" 2>/dev/null | cut -c1-300 || true
printf '%-20s %4ss (wall clock; the lanes ran side by side)\n' "total" "$total"
exit "$failed"
