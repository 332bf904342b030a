"""Names every test uses for the simulator's seeded platform, defined once.

Unit tests import it as `ansible_collections.ovhcloud.exchange.tests.shared_constants`, integration tests
(which run with tests/ on sys.path) as `shared_constants`.
"""

PLATFORM = "private-zz111111-1"
# The API path of the platform's Exchange service (organization and service share the platform's name).
BASE = f"/email/exchange/{PLATFORM}/service/{PLATFORM}"
# The demo connector (playbooks/inventory) as a send_connector_connectors entry, without its mailboxes and domains.
DEMO_CONNECTOR = {
    "name": "newsletter-relay",
    "smart_host": "smtp-relay.example.com",
    "port": 587,
    "require_tls": True,
    "auth_mechanism": "basicAuthRequireTLS",
    "user": "relay-user@mydomain.ovh",
    "password": "demo-relay-password",
    "max_send_size": 50,
}
