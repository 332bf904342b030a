#!/usr/bin/env bash
# The supported ansible-core releases other than the main venv's (2.19): 2.16, 2.17 and 2.18, each in its
# own virtualenv: the unit tests, then the example playbook against the simulator, twice (the second run
# must change nothing). `make compat`, in `make test`. CORE_VERSIONS="2.16" narrows it.
set -euo pipefail

REPO="$(cd "$(dirname "$0")/../.." && pwd)"
PYTHON="${PYTHON:-python3}"
CORE_VERSIONS="${CORE_VERSIONS:-2.16 2.17 2.18}"

cd "$REPO"
for version in $CORE_VERSIONS; do
    venv="$REPO/.venv-core$version"
    next="${version%.*}.$(( ${version#*.} + 1 ))"
    if [[ ! -x "$venv/bin/ansible-playbook" ]]; then
        "$PYTHON" -m venv "$venv"
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "ansible-core>=$version,<$next" pytest \
            -r "$REPO/requirements.txt"
    fi
    echo "== $("$venv/bin/ansible-playbook" --version | head -n 1)"
    "$venv/bin/python" -m pytest tests/unit -q -p no:cacheprovider
    "$REPO/.venv/bin/python" tests/tools/demo.py --ansible-playbook "$venv/bin/ansible-playbook"
done
