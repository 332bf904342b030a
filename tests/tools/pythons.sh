# Sourced by tests/tools/compat.sh and tests/tools/sanity.sh: where the Python interpreters are.
#
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
