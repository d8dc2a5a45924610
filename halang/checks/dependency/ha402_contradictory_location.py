from __future__ import annotations

from halang.checks.dependency.graph import shortest_path, show_path
from halang.checks.registry import Check
from halang.checks.topology.tree import blocks_by_name, item_spans
from halang.diagnostics import Severity
from runtime.core.sets import DisjointSets


class ContradictoryLocation(Check):
    """Location dependencies that contradict each other: same node and different node.

    `same_node_as` puts groups on one node and `different_node_from` keeps
    them apart. Being on the same node is symmetric and transitive: `app`
    same_node_as `cache` and `cache` same_node_as `log` put all three on one
    node, whoever wrote which line. A `different_node_from` between two groups
    that a chain of `same_node_as` ties together can never be met, on any
    node, in any scenario: at least one of the groups is always kept offline.
    HACMP's online-on-same-node and online-on-different-nodes dependencies
    clash the same way, as do Pacemaker colocation constraints with scores of
    INFINITY and -INFINITY.

    The finding points at the `different_node_from` entry and shows the chain
    of `same_node_as` that ties the two groups. A group that is to be on a
    different node from itself is reported too.

    Bad:
        resource_group app   { nodes = [alpha, bravo]  same_node_as = [cache] }
        resource_group cache { nodes = [alpha, bravo]  same_node_as = [log] }
        resource_group log   { nodes = [alpha, bravo]  different_node_from = [app] }

    Good:
        resource_group app   { nodes = [alpha, bravo]  same_node_as = [cache] }
        resource_group cache { nodes = [alpha, bravo] }
        resource_group log   { nodes = [bravo, alpha]  different_node_from = [app] }
    """

    code = "HA402"
    name = "dependency.contradictory-location"
    severity = Severity.ERROR

    def run(self, context):
        groups = context.cluster.groups
        if not any(group.different_node_from for group in groups):
            return
        index = {group.name: number for number, group in enumerate(groups)}
        together = DisjointSets(len(groups))
        neighbours: list[list[int]] = [[] for _ in groups]
        for number, group in enumerate(groups):
            for name in group.same_node_as:
                other = index.get(name)
                if other is not None and other != number:
                    together.union(number, other)
                    neighbours[number].append(other)
                    neighbours[other].append(number)
        blocks = None
        for number, group in enumerate(groups):
            for name in group.different_node_from:
                other = index.get(name)
                if other is None or together.find(number) != together.find(other):
                    continue
                if blocks is None:
                    blocks = blocks_by_name(context.tree, "resource_group")
                span = item_spans(blocks.get(group.name), "different_node_from").get(name) \
                    or group.span("different_node_from")
                if other == number:
                    yield self.finding(span, f"resource group '{group.name}' is to be on a different node from itself",
                                       f"remove '{name}' from its different_node_from")
                    continue
                chain = [groups[member].name for member in shortest_path(number, other, neighbours)]
                if len(chain) == 2:
                    tie = f"same_node_as ties '{group.name}' to '{name}'"
                else:
                    tie = "same_node_as ties them through " + show_path([f"'{step}'" for step in chain], " = ")
                yield self.finding(
                    span,
                    f"resource group '{group.name}' is to be on a different node from '{name}', "
                    f"but {tie}: no placement meets both",
                    f"drop '{name}' from the different_node_from of '{group.name}', or break the same_node_as chain")
