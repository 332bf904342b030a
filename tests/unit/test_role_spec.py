"""The role's argument spec and its defaults agree: Ansible validates with one and runs with the other."""
from __future__ import (absolute_import, annotations, division, print_function)
__metaclass__ = type


import yaml

from ansible_collections.ovhcloud.exchange.tests.testlib import REPO

ROLE = REPO / "roles" / "send_connector"


def load(relative):
    return yaml.safe_load((ROLE / relative).read_text())


def test_every_optional_variable_has_its_documented_default():
    options = load("meta/argument_specs.yml")["argument_specs"]["main"]["options"]
    defaults = load("defaults/main.yml")
    optional = {name: spec for name, spec in options.items() if not spec.get("required")}
    missing = sorted(set(optional) - set(defaults))
    assert not missing, f"defaults/main.yml lacks {missing}: the role would fail on an undefined variable"
    differ = {name: (spec["default"], defaults[name]) for name, spec in optional.items()
              if "default" in spec and spec["default"] != defaults[name]}
    assert not differ, f"argument spec default vs defaults/main.yml: {differ}"


def test_every_default_is_documented():
    options = load("meta/argument_specs.yml")["argument_specs"]["main"]["options"]
    undocumented = sorted(set(load("defaults/main.yml")) - set(options))
    assert not undocumented, f"meta/argument_specs.yml does not document {undocumented}"
