"""Dependency and policy checks on resource groups: after, same/different node, startup policies (HA401 to HA405)."""
