"""Checks on resource groups: after, same/different node, startup policies, what groups hold (HA401 to HA407)."""
