"""A stateful stand-in for the OVHcloud v1 API, Exchange send-connector routes (see docs/simulator.md)."""
