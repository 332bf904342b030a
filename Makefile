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

.PHONY: help venv collections sim demo test unit simulator-tests integration sanity lint docs build bench clean

help:
	@echo "make demo   - start the OVH API simulator and run the main playbook against it (twice)"
	@echo "make test   - every test: unit, simulator, integration, sanity, lint, release checks"
	@echo "make sim    - run the simulator in the foreground on 127.0.0.1:$(SIM_PORT)"
	@echo "make bench  - benchmarks; writes docs/performance.md"
	@echo "make docs   - render the docs site with antsibull-docs into build/docs"

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

lint: venv collections
	cd $(CURDIR) && $(BIN)/ansible-lint --profile production roles playbooks

test: venv collections
	$(PYTEST) tests/unit tests/simulator tests/integration -q
	$(MAKE) --no-print-directory sanity

bench: venv collections
	$(BIN)/python tests/tools/bench.py

clean:
	rm -rf $(VENV) $(COLLECTIONS) build tests/output
