# shellcheck shell=bash
# Sourced by tests/tools/compat.sh, sanity.sh and units.sh: interpreters, per-version virtualenvs, and the
# collection tree that ansible-test wants. Needs REPO set to the repository root.

# find_python 3.12 prints a working python3.12 interpreter: the one on PATH if it runs (a pyenv shim
# whose version is not selected does not), else the newest 3.12.x under pyenv's versions directory
# (`pyenv root`, $PYENV_ROOT or ~/.pyenv). Returns 1 when there is none. No machine path is assumed.
find_python() {
    local version=$1 candidate root
    local -a candidates=()
    candidate="$(command -v "python$version" 2>/dev/null || true)"
    [[ -n "$candidate" ]] && candidates+=("$candidate")
    for root in "$(pyenv root 2>/dev/null || true)" "${PYENV_ROOT:-}" "$HOME/.pyenv"; do
        [[ -n "$root" && -d "$root/versions" ]] || continue
        while IFS= read -r candidate; do
            candidates+=("$candidate")
        done < <(compgen -G "$root/versions/$version.*/bin/python$version" | sort -t. -k3,3nr)
    done
    for candidate in "${candidates[@]}"; do
        if "$candidate" -c "import sys; sys.exit(sys.version_info[:2] != tuple(map(int, '$version'.split('.'))))" 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

CORE_PIP=(-m pip install --quiet --disable-pip-version-check)

# What a venv was built from, so that an edit of requirements.txt rebuilds it.
_core_venv_key() {
    printf '%s %s\n' "$1" "$(sha256sum "$REPO/requirements.txt" | cut -c1-16)"
}

# Prints why the venv must be rebuilt, or nothing when it holds ansible-core <core>.x on Python <python>.
_core_venv_staleness() {
    local venv=$1 core=$2 python=$3 found installed
    [[ -x "$venv/bin/ansible-playbook" && -x "$venv/bin/python" ]] || { echo "absent"; return; }
    found="$("$venv/bin/python" -c '
import sys
from ansible.release import __version__
print("%d.%d %s" % (sys.version_info[0], sys.version_info[1], __version__))' 2>/dev/null)" \
        || { echo "broken"; return; }
    [[ "${found%% *}" == "$python" ]] || { echo "Python ${found%% *}, not $python"; return; }
    installed="${found#* }"
    [[ "$installed" == "$core".* ]] || { echo "ansible-core $installed, not $core"; return; }
    [[ "$(cat "$venv/.requirements" 2>/dev/null)" == "$(_core_venv_key "$core")" ]] \
        || { echo "requirements.txt changed"; return; }
}

# ansible-core <core>.x: the newest final release, or the newest pre-release while there is no final one
# yet (2.22 until it is out).
_install_core() {
    local venv=$1 core=$2 next="${2%.*}.$(( ${2#*.} + 1 ))"
    if "$venv/bin/python" "${CORE_PIP[@]}" "ansible-core>=$core,<$next" 2>/dev/null; then
        return 0
    fi
    echo "no final ansible-core $core release on the index: installing its newest pre-release"
    "$venv/bin/python" "${CORE_PIP[@]}" --pre "ansible-core>=$core.0a0,<$next"
}

# core_venv <core> <python> <interpreter>: makes sure $REPO/.venv-core<core>-py<python> holds ansible-core
# <core>.x, pytest and requirements.txt on that Python, (re)building it when absent or stale. A venv that
# holds a pre-release moves to the final release once the index has it. Safe to call from parallel jobs.
core_venv() {
    local core=$1 python=$2 interpreter=$3 venv="$REPO/.venv-core$1-py$2" why
    (
        flock 9
        why="$(_core_venv_staleness "$venv" "$core" "$python")"
        if [[ -n "$why" ]]; then
            [[ "$why" == absent ]] || echo "rebuilding $venv ($why)"
            rm -rf "$venv"
            "$interpreter" -m venv "$venv"
            "$venv/bin/python" "${CORE_PIP[@]}" pytest -r "$REPO/requirements.txt"
            _install_core "$venv" "$core"
            _core_venv_key "$core" >"$venv/.requirements"
        elif "$venv/bin/python" -c 'import sys; from ansible.release import __version__ as v; sys.exit(not any(t in v for t in ("a", "b", "rc")))'; then
            _install_core "$venv" "$core"
        fi
    ) 9>"$venv.lock"
}

# copy_tracked_tree <dest>: the files git tracks, as they are in the working tree, copied under
# <dest>/ansible_collections/ovhcloud/exchange (ansible-test wants a real tree, not our .collections link,
# that git lists), made its own git repository. Prints the tree's path.
copy_tracked_tree() {
    local tree="$1/ansible_collections/ovhcloud/exchange"
    mkdir -p "$tree"
    (
        cd "$REPO" || exit 1
        git ls-files -z | while IFS= read -r -d '' path; do
            [[ -e "$path" || -L "$path" ]] && printf '%s\0' "$path"
        done | tar --null -T - -cf -
    ) | tar -xf - -C "$tree"
    (
        cd "$tree" || exit 1
        git init -q
        git add -A
        git -c user.name=ansible-test -c user.email=ansible-test@localhost commit -q -m tree
    )
    echo "$tree"
}

# install_get_pip_stand_in <ansible-test's python> <python version>: ansible-test bootstraps pip in each
# virtualenv it makes with get-pip.py, downloaded from a host that offline machines cannot reach
# (ansible/ansible#77304). Where the cached copy is missing, save a stand-in that bootstraps pip from the
# interpreter's own ensurepip, then installs the requested pip through the machine's usual index
# configuration. Machines that already have the real one keep it.
install_get_pip_stand_in() {
    local python=$1 version=$2 pip_version cache
    pip_version="$("$python" -c '
import types
from ansible_test._internal.python_requirements import get_venv_packages
print(get_venv_packages(types.SimpleNamespace(version="'"$version"'"))["pip"])')"
    cache="$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
    [[ -f "$cache" ]] && return 0
    mkdir -p "$(dirname "$cache")"
    cat >"$cache" <<'PY'
"""Offline stand-in for get-pip.py, written by ovhcloud.exchange's tests/tools/lib.sh."""
import ensurepip
import os
import subprocess
import sys

ensurepip.bootstrap(upgrade=True)
# ensurepip points PIP_CONFIG_FILE at os.devnull, hiding the machine's index mirror and certificates.
os.environ.pop("PIP_CONFIG_FILE", None)
arguments = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install", "--disable-pip-version-check", *arguments]))
PY
    echo "saved an offline get-pip stand-in as $cache"
}
