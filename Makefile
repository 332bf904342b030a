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

.PHONY: help venv collections sim demo test unit simulator-tests integration release-tests sanity lint compat docs build bench clean

help:
	@echo "make demo   - start the OVH API simulator and run the main playbook against it (twice)"
	@echo "make test   - every test: unit, simulator, integration, sanity, lint, release checks"
	@echo "make sim    - run the simulator in the foreground on 127.0.0.1:$(SIM_PORT)"
	@echo "make bench  - benchmarks (about 30 minutes); writes docs/performance.md"
	@echo "make docs   - render the docs site with antsibull-docs into build/docs/html"
	@echo "make build  - build the collection tarball into build/ (ansible-galaxy collection build)"

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

sanity: venv
	bash tests/tools/sanity.sh

# Only the paths that exist, so that lint passes (with a note) before the role and playbooks land.
LINT_PATHS = $(wildcard roles/*/ playbooks/*.yml)
lint: venv collections
	@if [ -z "$(strip $(LINT_PATHS))" ]; then echo "lint: no role or playbook yet, nothing to lint"; \
	else PATH="$(BIN):$$PATH" $(BIN)/ansible-lint --offline --profile production $(LINT_PATHS); fi

release-tests: venv collections
	$(PYTEST) tests/release -q

docs: venv collections
	bash tests/tools/docs.sh build/docs

build: venv
	$(BIN)/ansible-galaxy collection build --force --output-path build .

# ansible-core 2.16, 2.17 and 2.18, each in .venv-core<version>: unit tests and the example playbook twice.
compat: venv collections
	bash tests/tools/compat.sh

test: venv collections
	$(PYTEST) tests/unit tests/simulator tests/integration tests/release -q
	$(MAKE) --no-print-directory sanity
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory compat

bench: venv collections
	$(BIN)/python tests/tools/bench.py

clean:
	rm -rf $(VENV) .venv-core2.1[678] $(COLLECTIONS) build tests/output
