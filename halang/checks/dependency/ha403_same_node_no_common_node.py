from __future__ import annotations

from halang.checks.registry import Check
from halang.checks.topology.tree import blocks_by_name, item_spans
from halang.diagnostics import Severity
from runtime.core.sets import DisjointSets

SHOWN = 8  # groups named in a finding about a long chain


class SameNodeNoCommonNode(Check):
    """`same_node_as` between groups that share no node.

    `same_node_as` asks for groups to be online on one node, and a group runs
    only on the nodes of its own `nodes` list. Two groups whose lists have no
    node in common can never be together: whichever comes online first keeps
    the other offline for good. PowerHA goes further and asks the groups of an
    online-on-same-node dependency for identical node lists; halang asks for
    a node they all have in common.

    Being on the same node is transitive, so the check follows chains too:
    `a` same_node_as `b` and `b` same_node_as `c` put all three on one node,
    and that node must be in all three lists even when each pair shares one.
    The finding points at the `same_node_as` entry that ties a group to
    another it shares no node with, or at the entry that completes a chain
    whose lists have no node in common; a chain broken once is reported once.

    Bad:
        resource_group app   { nodes = [alpha, bravo] }
        resource_group cache { nodes = [charlie]  same_node_as = [app] }

    Good:
        resource_group app   { nodes = [alpha, bravo] }
        resource_group cache { nodes = [bravo, alpha]  same_node_as = [app] }
    """

    code = "HA403"
    name = "dependency.same-node-no-common-node"
    severity = Severity.ERROR

    def run(self, context):
        groups = context.cluster.groups
        if not any(group.same_node_as for group in groups):
            return
        index = {group.name: number for number, group in enumerate(groups)}
        together = DisjointSets(len(groups))
        common: dict[int, set[str]] = {}  # root -> the nodes every group of its set lists
        members: dict[int, list[int]] = {}  # root -> the groups of its set
        broken: set[int] = set()  # roots of sets already reported
        blocks = None
        for number, group in enumerate(groups):
            for name in group.same_node_as:
                other = index.get(name)
                if other is None or other == number:
                    continue
                direct = not set(group.nodes) & set(groups[other].nodes)
                mine, theirs = together.find(number), together.find(other)
                if mine == theirs:
                    if not direct:
                        continue
                    message = None
                    broken.add(mine)
                else:
                    shared = common.get(mine, set(group.nodes)) & common.get(theirs, set(groups[other].nodes))
                    message = None
                    if not direct and not shared and mine not in broken and theirs not in broken:
                        chained = sorted(members.get(mine, [number]) + members.get(theirs, [other]))
                        shown = ", ".join(f"'{groups[member].name}'" for member in chained[:SHOWN])
                        more = f" and {len(chained) - SHOWN} more" if len(chained) > SHOWN else ""
                        message = (f"same_node_as '{name}' puts {shown}{more} on one node, but no node is in all "
                                   "their node lists")
                    root = self._join(together, number, other, mine, theirs, members, common, shared)
                    if direct or message is not None or mine in broken or theirs in broken:
                        broken.discard(mine)
                        broken.discard(theirs)
                        broken.add(root)
                if direct:
                    message = (f"resource group '{group.name}' is to be on the same node as '{name}', but they "
                               f"share no node: '{group.name}' runs on {_nodes(group.nodes)}, "
                               f"'{name}' on {_nodes(groups[other].nodes)}")
                    hint = (f"add a node both can run on to the nodes of '{group.name}' and '{name}', "
                            "or drop the same_node_as")
                elif message is not None:
                    hint = "give one node a place in every one of these node lists, or break the same_node_as chain"
                else:
                    continue
                if blocks is None:
                    blocks = blocks_by_name(context.tree, "resource_group")
                span = item_spans(blocks.get(group.name), "same_node_as").get(name) or group.span("same_node_as")
                yield self.finding(span, message, hint)

    @staticmethod
    def _join(together, number, other, mine, theirs, members, common, shared) -> int:
        root = together.union(number, other)
        joined, added = members.pop(mine, None) or [number], members.pop(theirs, None) or [other]
        if len(joined) < len(added):
            joined, added = added, joined
        joined.extend(added)
        members[root] = joined
        common.pop(mine, None)
        common.pop(theirs, None)
        common[root] = shared
        return root


def _nodes(nodes) -> str:
    return "[" + ", ".join(nodes) + "]" if nodes else "no node"
