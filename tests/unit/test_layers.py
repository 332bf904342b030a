"""The layering of plugins/module_utils (docs/architecture.md), checked on the source itself."""
from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import ast
import re
from pathlib import Path

import pytest

MODULE_UTILS = Path(__file__).resolve().parents[2] / "plugins" / "module_utils"
PLANNERS = ["_connectors.py", "_mailbox_connectors.py", "_connector_info.py"]
# Field names of the Exchange API's JSON: only the resource layer (_exchange.py) reads or writes them.
API_FIELDS = {"displayName", "smartHost", "requireTLS", "smartHostAuthMechanism", "maxSendSize", "dnsRouting",
              "taskPendingId", "primaryEmailAddress", "sendConnectorId", "sendConnectorIdDefault", "changeDefaultSBR"}


def local_imports(path):
    """The module_utils files that `path` imports."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and ".plugins.module_utils" in node.module:
            tail = node.module.rsplit(".", 1)[-1]
            found.update([alias.name for alias in node.names] if tail == "module_utils" else [tail])
    return found


@pytest.mark.parametrize("planner", PLANNERS)
def test_planners_never_touch_api_json_nor_paths(planner):
    tree = ast.parse((MODULE_UTILS / planner).read_text())
    used = set()
    for node in ast.walk(tree):
        # A JSON name in code is a subscript, a .get() argument or a dict key; words in messages are not.
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
            used.add(node.slice.value)
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "get" and node.args \
                and isinstance(node.args[0], ast.Constant):
            used.add(node.args[0].value)
        elif isinstance(node, ast.Dict):
            used.update(key.value for key in node.keys if isinstance(key, ast.Constant))
    assert not used & API_FIELDS, f"{planner} handles API fields {sorted(used & API_FIELDS)}: move it to _exchange.py"
    assert not re.search(r"['\"]/email/", (MODULE_UTILS / planner).read_text()), f"{planner} builds a path"
    assert "_client" not in local_imports(MODULE_UTILS / planner), f"{planner} reaches past the resource layer"


def test_no_import_cycle_in_module_utils():
    graph = dict((path.stem, local_imports(path) - {path.stem}) for path in MODULE_UTILS.glob("*.py"))

    def reach(start, node, seen):
        for nxt in graph.get(node, ()):
            assert nxt != start, f"import cycle through {start} and {node}"
            if nxt not in seen:
                seen.add(nxt)
                reach(start, nxt, seen)

    for name in graph:
        reach(name, name, set())


def test_only_the_transport_sends_requests():
    senders = sorted(path.name for path in MODULE_UTILS.glob("*.py") if "raw_call(" in path.read_text())
    assert senders == ["_client.py"]
