#!/usr/bin/env bash
# `make docs`: the docs site in build/docs/html. Module and role pages are rendered by antsibull-docs
# from their own documentation; every Markdown guide of docs/ is added by MyST. Warnings are errors.
#
# Usage: tests/tools/docs.sh [DEST]   (default build/docs)
set -euo pipefail

REPO="$(cd "$(dirname "$0")/../.." && pwd)"
BIN="${BIN:-$REPO/.venv/bin}"
DEST="$(mkdir -p "${1:-$REPO/build/docs}" && cd "${1:-$REPO/build/docs}" && pwd)"
COLLECTIONS="$REPO/.collections"
LINK="$COLLECTIONS/ansible_collections/ovhcloud/exchange"

# antsibull-docs and ansible-doc find the collection through the same link as the tests use.
if [[ ! -e "$LINK" ]]; then
    mkdir -p "$(dirname "$LINK")"
    ln -sfn ../../.. "$LINK"
fi
export ANSIBLE_COLLECTIONS_PATH="$COLLECTIONS"
export PATH="$BIN:$PATH"

rm -rf "$DEST/rst" "$DEST/html"
mkdir -p "$DEST/rst"
chmod og-w "$DEST/rst"  # antsibull-docs wants the directory writable only by its owner

antsibull-docs --config-file "$REPO/docs/sphinx/antsibull-docs.cfg" collection \
    --use-current --fail-on-error --cleanup everything --dest-dir "$DEST/rst" ovhcloud.exchange

cp "$REPO/docs/sphinx/index.rst" "$DEST/rst/index.rst"
mkdir -p "$DEST/rst/guides"
cp "$REPO"/docs/*.md "$DEST/rst/guides/"
# What the guides link to or show (docs/awx, the plots in docs/img), beside them as in the repository.
for folder in awx img; do
    if [[ -d "$REPO/docs/$folder" ]]; then
        cp -r "$REPO/docs/$folder" "$DEST/rst/guides/$folder"
    fi
done

sphinx-build -q -W --keep-going -c "$REPO/docs/sphinx" -b html "$DEST/rst" "$DEST/html"
echo "docs: $DEST/html/index.html"
