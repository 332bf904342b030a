# ovhcloud.exchange developer commands. `make demo` and `make test` are the two a new user needs.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
STAMP := $(VENV)/.installed
COLLECTIONS := $(CURDIR)/.collections
COLLECTION_LINK := $(COLLECTIONS)/ansible_collections/ovhcloud/exchange
SIM_PORT ?= 8080
PYTEST := $(BIN)/python -m pytest
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export PYTHONPATH := $(CURDIR)/tests/simulator
export ANSIBLE_PYTHON_INTERPRETER := $(BIN)/python
export ANSIBLE_LOCALHOST_WARNING := false
export ANSIBLE_INVENTORY_UNPARSED_WARNING := false

.PHONY: help venv collections sim demo test unit units simulator-tests integration release-tests sanity sanity-certification lint reuse nox compat docs build release-dry-run bench clean

help:
	@echo "make demo   - start the OVH API simulator and run the main playbook against it (twice)"
	@echo "make test   - every test: unit, simulator, integration, release checks, sanity, lint, licences, other ansible-core versions"
	@echo "make sim    - run the simulator in the foreground on 127.0.0.1:$(SIM_PORT)"
	@echo "make bench  - benchmarks (about 30 minutes); writes docs/performance.md"
	@echo "make docs   - render the docs site with antsibull-docs into build/docs/html"
	@echo "make build  - build the collection tarball into build/ (ansible-galaxy collection build)"
	@echo "make release-dry-run VERSION=1.0.0 - the release notes and tarball that version would get, on a copy"

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

venv: $(STAMP)

# Ansible finds the collection through a link named ansible_collections/ovhcloud/exchange.
$(COLLECTION_LINK):
	mkdir -p $(dir $@)
	ln -sfn ../../.. $@

collections: $(COLLECTION_LINK)

sim: venv
	$(BIN)/python -m ovh_api_sim --port $(SIM_PORT)

demo: venv collections
	$(BIN)/python tests/tools/demo.py

unit: venv collections
	$(PYTEST) tests/unit -q

simulator-tests: venv
	$(PYTEST) tests/simulator -q

integration: venv collections
	$(PYTEST) tests/integration -q

# ansible-test sanity on ansible-core 2.21 / Python 3.12 (SANITY_CORE, SANITY_PYTHON; SANITY_CORE=main: the .venv's).
sanity: venv
	bash tests/tools/sanity.sh

# What Red Hat's partner certification runs: sanity on ansible-core 2.16, 2.18 and 2.20 with Python 3.12
# (its older rules differ: 2.16 wants the future-import boilerplate in tests/unit/plugins/). make test runs 2.16.
CERTIFICATION_CORES ?= 2.16 2.18 2.20
sanity-certification: venv
	@status=0; for core in $(CERTIFICATION_CORES); do \
	    SANITY_CORE=$$core SANITY_PYTHON=3.12 bash tests/tools/sanity.sh || status=1; done; exit $$status

# The unit tests through ansible-test units, as collections' CI runs them (`make unit`: plain pytest).
units: venv
	bash tests/tools/units.sh

# ansible-lint's production profile on the whole collection (every file git tracks). A run that finds
# nothing to lint fails: a gate that checks nothing must not pass.
lint: venv collections
	@log=$$(mktemp); trap 'rm -f "$$log"' EXIT; set -o pipefail; \
	PATH="$(BIN):$$PATH" $(BIN)/ansible-lint --offline --profile production 2>&1 | tee "$$log"; \
	if grep -qE ' in 0 files processed' "$$log"; then echo "lint: FAILED: ansible-lint found no file to lint" >&2; exit 1; fi

# antsibull-nox's community checks (antsibull-nox.toml): no-unwanted-files, action-groups, trailing
# whitespace, reuse, docs, build and Galaxy import. NOX_SESSIONS narrows them; make test runs extra-checks.
NOX_VENV := .venv-nox
NOX_SESSIONS ?= extra-checks license-check docs-check build-import-check
$(NOX_VENV)/.installed: requirements-nox.txt
	$(PYTHON) -m venv $(NOX_VENV)
	$(NOX_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-nox.txt
	touch $@

nox: $(NOX_VENV)/.installed
	$(NOX_VENV)/bin/nox --reuse-venv=yes --no-install -e $(NOX_SESSIONS)

# REUSE compliance: every file's licence and copyright is known (REUSE.toml, LICENSES/).
reuse: venv
	$(BIN)/reuse lint

release-tests: venv collections
	$(PYTEST) tests/release -q

docs: venv collections
	bash tests/tools/docs.sh build/docs

build: venv
	$(BIN)/ansible-galaxy collection build --force --output-path build .

# What releasing VERSION would produce, on a copy of the tracked tree (nothing here changes):
# antsibull-changelog release, its CHANGELOG.md, and the tarball. The release checklist is in CONTRIBUTING.md.
release-dry-run: venv
	bash tests/tools/release_dry_run.sh $(VERSION)

# Every other supported ansible-core on its Python (2.16-2.18 on 3.11, 2.20 and 2.21 on 3.12, 2.22 on 3.13),
# each in .venv-core<version>-py<python>: unit tests and the example playbook twice. CORE_MATRIX narrows it.
compat: venv collections
	bash tests/tools/compat.sh

# Every suite, in two lanes side by side, with each stage's duration and the total at the end.
test: venv collections
	MAKE="$(MAKE)" bash tests/tools/test_all.sh

bench: venv collections
	$(BIN)/python tests/tools/bench.py

clean:
	rm -rf $(VENV) .venv-core* $(NOX_VENV) .nox $(COLLECTIONS) build tests/output
