"""Topology checks: who can hear whom, and which node can carry which address (HA303 to HA307)."""
