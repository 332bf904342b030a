#!/usr/bin/env bash
# The oldest supported ansible-core (2.16) in its own virtualenv: the unit tests, then the example
# playbook against the simulator, twice (the second run must change nothing). `make compat`, in `make test`.
set -euo pipefail

REPO="$(cd "$(dirname "$0")/../.." && pwd)"
VENV="$REPO/.venv-core2.16"
PYTHON="${PYTHON:-python3}"

if [[ ! -x "$VENV/bin/ansible-playbook" ]]; then
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check 'ansible-core>=2.16,<2.17' pytest -r "$REPO/requirements.txt"
fi
"$VENV/bin/ansible-playbook" --version | head -n 1
cd "$REPO"
"$VENV/bin/python" -m pytest tests/unit -q -p no:cacheprovider
"$REPO/.venv/bin/python" tests/tools/demo.py --ansible-playbook "$VENV/bin/ansible-playbook"
