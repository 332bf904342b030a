"""The AWX/Tower custom credential type of docs/awx/: secrets marked secret, injectors consistent."""
from __future__ import annotations

import re

import yaml

from release_tools import REPO

AWX = REPO / "docs" / "awx"
SECRET_INPUTS = {"application_secret", "consumer_key", "client_secret"}
ENV = {
    "OVH_ENDPOINT": "endpoint",
    "OVH_APPLICATION_KEY": "application_key",
    "OVH_APPLICATION_SECRET": "application_secret",
    "OVH_CONSUMER_KEY": "consumer_key",
    "OVH_CLIENT_ID": "client_id",
    "OVH_CLIENT_SECRET": "client_secret",
}


def load(name):
    return yaml.safe_load((AWX / name).read_text())


def test_every_secret_input_is_marked_secret_and_only_those():
    fields = {field["id"]: field for field in load("credential_type_inputs.yml")["fields"]}
    assert set(fields) == set(ENV.values())
    assert {name for name, field in fields.items() if field.get("secret")} == SECRET_INPUTS
    for name, field in fields.items():
        assert field.get("type", "string") == "string" and field.get("label"), name
    assert set(load("credential_type_inputs.yml").get("required", [])) <= set(fields)


def test_every_injector_references_a_declared_input():
    inputs = {field["id"] for field in load("credential_type_inputs.yml")["fields"]}
    injectors = load("credential_type_injectors.yml")
    assert set(injectors) == {"env"}, "environment variables only: the modules and the ovh SDK read them"
    references = {}
    for variable, template in injectors["env"].items():
        names = re.findall(r"{{\s*(\w+)\s*}}", template)
        assert names and set(names) <= inputs, f"{variable}: {template!r} uses an undeclared input"
        references[variable] = names[0]
    assert references == ENV


def test_the_injected_variables_are_the_modules_fallbacks():
    client = (REPO / "plugins" / "module_utils" / "_runner.py").read_text()  # the options and their env fallbacks
    for variable in ENV:
        assert f'"{variable}"' in client, f"{variable} is injected but no module option falls back to it"
