"""Names every test uses for the simulator's seeded platform, defined once.

Unit tests import it as `ansible_collections.ovhcloud.exchange.tests.shared_constants`, integration tests
(which run with tests/ on sys.path) as `shared_constants`.
"""

PLATFORM = "private-zz111111-1"
# The API path of the platform's Exchange service (organization and service share the platform's name).
BASE = f"/email/exchange/{PLATFORM}/service/{PLATFORM}"
