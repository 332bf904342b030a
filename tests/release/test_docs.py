"""The docs site: built by `make docs`'s script without a warning, a page per module, role and guide."""
from __future__ import annotations

import pytest

from release_tools import BIN, REPO, module_names, role_names, run

COLLECTION_PAGES = "collections/ovhcloud/exchange"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    dest = tmp_path_factory.mktemp("docs")
    proc = run(["bash", REPO / "tests" / "tools" / "docs.sh", dest], cwd=REPO, timeout=900)
    assert proc.returncode == 0, f"the docs site does not build cleanly (warnings are errors):\n{proc.stdout}"
    return dest / "html"


def test_the_plugin_docs_lint_clean():
    proc = run([BIN / "antsibull-docs", "lint-collection-docs", "--plugin-docs", "--validate-collection-refs",
                "self", REPO], cwd=REPO, timeout=900)
    assert proc.returncode == 0, proc.stdout


def test_every_module_has_a_page(site):
    names = module_names()
    assert names, "no module in plugins/modules"
    missing = [name for name in names if not (site / COLLECTION_PAGES / f"{name}_module.html").is_file()]
    assert not missing, f"modules without a page: {missing}"
    index = (site / COLLECTION_PAGES / "index.html").read_text()
    assert all(f"{name}_module.html" in index for name in names)


def test_every_inventory_plugin_has_a_page(site):
    names = sorted(p.stem for p in (REPO / "plugins" / "inventory").glob("*.py") if not p.stem.startswith("_"))
    assert names, "no inventory plugin in plugins/inventory"
    missing = [name for name in names if not (site / COLLECTION_PAGES / f"{name}_inventory.html").is_file()]
    assert not missing, f"inventory plugins without a page: {missing}"


def test_every_role_has_a_page(site):
    missing = [name for name in role_names() if not (site / COLLECTION_PAGES / f"{name}_role.html").is_file()]
    assert not missing, f"roles without a page (is meta/argument_specs.yml there?): {missing}"


def test_every_guide_of_docs_has_a_page(site):
    guides = sorted(p.stem for p in (REPO / "docs").glob("*.md"))
    missing = [name for name in guides if not (site / "guides" / f"{name}.html").is_file()]
    assert not missing, f"guides of docs/ without a page: {missing}"
    index = (site / "index.html").read_text()
    assert all(f"guides/{name}.html" in index for name in guides)
