"""meta/runtime.yml's `ovh` action group lists exactly the modules that take the OVH credential options."""
from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
MODULES = REPO / "plugins" / "modules"


def ovh_group():
    runtime = yaml.safe_load((REPO / "meta" / "runtime.yml").read_text())
    return runtime["action_groups"]["ovh"]


def takes_ovh_credentials(source):
    """The module's argument spec comes from api_argument_spec, or its docs extend the credentials fragment."""
    return "api_argument_spec(" in source or re.search(r"^\s*-\s*ovhcloud\.exchange\.ovh\s*$", source, re.M) is not None


def test_every_module_with_ovh_credentials_is_in_the_group():
    modules = sorted(path.stem for path in MODULES.glob("*.py") if takes_ovh_credentials(path.read_text()))
    assert "exchange_send_connector" in modules  # the detection itself works
    missing = [name for name in modules if name not in ovh_group()]
    assert not missing, f"add {missing} to action_groups.ovh in meta/runtime.yml"


def test_every_group_entry_is_an_existing_module_listed_once():
    group = ovh_group()
    assert len(group) == len(set(group)), f"listed twice in action_groups.ovh: {sorted({g for g in group if group.count(g) > 1})}"
    unknown = [name for name in group if not (MODULES / f"{name}.py").is_file()]
    assert not unknown, f"action_groups.ovh lists modules that do not exist: {unknown}"


def test_modules_without_ovh_credentials_stay_out_of_the_group():
    others = [path.stem for path in MODULES.glob("*.py") if not takes_ovh_credentials(path.read_text())]
    assert not [name for name in others if name in ovh_group()]
