# Sphinx configuration of the docs site that `make docs` builds (tests/tools/docs.sh) into build/docs.
# Module and role pages come from antsibull-docs; the Markdown guides of docs/ are rendered by MyST.
# Offline by design: no intersphinx inventories, so the build needs no network and warns about nothing.
project = "ovhcloud.exchange"
copyright = "ovhcloud.exchange contributors"
title = "ovhcloud.exchange documentation"
html_short_title = "ovhcloud.exchange"

extensions = ["sphinx_antsibull_ext", "myst_parser"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
myst_heading_anchors = 3

pygments_style = "ansible"
highlight_language = "YAML+Jinja"

html_theme = "sphinx_ansible_theme"
html_show_sphinx = False
html_use_smartypants = True
html_use_modindex = False
html_use_index = False
html_copy_source = False

default_role = "any"
nitpicky = True

# Without intersphinx (offline), references into Ansible's own docsite would be undefined labels.
# Resolve the few that antsibull-docs emits, and other collections' plugin pages, to their public URLs.
ANSIBLE_DOCSITE = "https://docs.ansible.com/projects/ansible/latest/"
ANSIBLE_DOCSITE_LABELS = {
    "common_return_values": "reference_appendices/common_return_values.html",
    "ansible_configuration_settings": "reference_appendices/config.html",
    "module_defaults": "playbook_guide/playbooks_module_defaults.html",
    "check_mode_dry": "playbook_guide/playbooks_checkmode.html",
}
OWN_COLLECTION_PREFIX = "ansible_collections.ovhcloud.exchange."


def _resolve_ansible_docsite_reference(app, env, node, contnode):
    from docutils import nodes

    target = node.get("reftarget", "")
    if target in ANSIBLE_DOCSITE_LABELS:
        url = ANSIBLE_DOCSITE + ANSIBLE_DOCSITE_LABELS[target]
    elif node.get("reftype") == "envvar" and target.startswith("ANSIBLE_"):
        # ansible-core's settings (e.g. the inventory cache's, in the exchange_services plugin): its config page.
        url = ANSIBLE_DOCSITE + ANSIBLE_DOCSITE_LABELS["ansible_configuration_settings"] + "#envvar-" + target
    elif target.startswith("ansible_collections.") and not target.startswith(OWN_COLLECTION_PREFIX):
        # ansible_collections.<ns>.<name>.<plugin>_<type>[__anchor]: the plugin's page on the docsite.
        page = target.split("__", 1)[0].split(".")
        if len(page) != 4:
            return None
        url = ANSIBLE_DOCSITE + "collections/{}/{}/{}.html".format(*page[1:])
    else:
        return None
    reference = nodes.reference("", "", internal=False, refuri=url)
    reference += contnode
    return reference


def setup(app):
    app.connect("missing-reference", _resolve_ansible_docsite_reference)
