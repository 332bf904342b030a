"""The smallest playbook that applies the send_connector role, and its variables as an extra-vars file."""
import json

ROLE_PLAY = """
- name: Converge send connectors with the role
  hosts: localhost
  gather_facts: false
  roles:
    - role: ovhcloud.exchange.send_connector
"""


def extra_vars_file(folder, name, data):
    """Write `data` to `folder/name.json` and return the `-e` argument that loads it."""
    path = folder / f"{name}.json"
    path.write_text(json.dumps(data))
    return f"@{path}"
