"""Dependency and policy checks on resource groups: after, same/different node, startup policies and what groups hold (HA401 to HA407)."""
