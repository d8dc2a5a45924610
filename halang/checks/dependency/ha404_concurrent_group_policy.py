from __future__ import annotations

from halang.checks.registry import Check
from halang.diagnostics import Severity


class ConcurrentGroupPolicy(Check):
    """A concurrent group (`startup = all_available`) with a fallover, fallback or service address it cannot have.

    A concurrent group is online on every node of its list that can host it,
    all at once (HACMP's "online on all available nodes"; a Pacemaker clone).
    When one of its nodes fails there is nowhere to move that instance: every
    other node already runs one. So its fallover is `bring_offline` (that
    instance just goes), its fallback `never` (there is no better node to
    return to), and it takes no service address: one address cannot be up on
    several nodes at once, and the nodes would answer ARP for it in turn.
    HACMP refuses the same combinations for concurrent resource groups.

    `fallover` defaults to `bring_offline` for a concurrent group, so only a
    fallover written in the file is reported. Each offending attribute is one
    finding, pointed at its value.

    Bad:
        resource_group mon_agent {
          nodes       = [alpha, bravo, charlie]
          startup     = all_available
          fallover    = next_priority
          service_ips = [mon_svc]
        }

    Good:
        resource_group mon_agent {
          nodes    = [alpha, bravo, charlie]
          startup  = all_available
          fallover = bring_offline
          fallback = never
        }
    """

    code = "HA404"
    name = "dependency.concurrent-group-policy"
    severity = Severity.ERROR

    def run(self, context):
        for group in context.cluster.groups:
            if not group.concurrent:
                continue
            if "fallover" in group.spans and group.fallover != "bring_offline":
                yield self.finding(
                    group.span("fallover"),
                    f"resource group '{group.name}' runs on all its nodes at once (startup = all_available), so "
                    f"it has no node to fall over to: fallover = {group.fallover} cannot apply",
                    "write fallover = bring_offline, or leave fallover out (it is the default here)")
            if group.fallback != "never":
                yield self.finding(
                    group.span("fallback"),
                    f"resource group '{group.name}' runs on all its nodes at once (startup = all_available), so "
                    f"there is no better node to fall back to: fallback = {group.fallback} cannot apply",
                    "write fallback = never, or leave fallback out")
            if group.service_ips:
                labels = ", ".join(f"'{label}'" for label in group.service_ips)
                plural = "es" if len(group.service_ips) > 1 else ""
                yield self.finding(
                    group.span("service_ips"),
                    f"resource group '{group.name}' runs on all its nodes at once (startup = all_available) but "
                    f"takes the service address{plural} {labels}: one address cannot be up on several nodes",
                    "move the address to a group that runs on one node at a time (startup = home_node or "
                    "first_available), for example one that comes online after this one")
