from __future__ import annotations

from halang.checks.registry import Check
from halang.diagnostics import Severity


class FallbackSingleNode(Check):
    """`fallback = higher_priority` on a group with one node.

    Fallback moves a group back to a node earlier in its list when that node
    comes back up. A group with a single node has no earlier node to return
    to and no other node to have left: the setting does nothing, and it
    usually means a backup node was meant to be in the list and is missing.
    HACMP's fallback policy has the same meaning, and the same emptiness on a
    one-node group.

    Bad:
        resource_group report {
          nodes    = [alpha]
          fallback = higher_priority
        }

    Good:
        resource_group report {
          nodes    = [alpha, bravo]
          fallback = higher_priority
        }
    """

    code = "HA405"
    name = "dependency.fallback-single-node"
    severity = Severity.WARNING

    def run(self, context):
        for group in context.cluster.groups:
            if group.fallback != "higher_priority" or len(group.nodes) > 1:
                continue
            what = f"one node, '{group.nodes[0]}'" if group.nodes else "no node"
            yield self.finding(
                group.span("fallback"),
                f"resource group '{group.name}' falls back to a higher-priority node, but its list has {what}: "
                "there is no node to fall back from",
                "add the backup node to its nodes, or write fallback = never")
