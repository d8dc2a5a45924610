from __future__ import annotations

from collections import deque

from halang.checks.dependency.graph import show_path, strongly_connected
from halang.checks.registry import Check
from halang.checks.topology.tree import blocks_by_name, item_spans
from halang.diagnostics import Severity

SHOWN = 8  # groups named when a knot of after dependencies is larger than the cycle shown


class AfterCycle(Check):
    """A cycle in `after` dependencies.

    `after = [db]` makes a group wait until `db` is online, and take it down
    before `db` goes. When the parents loop back (`app` after `db`, `db` after
    `app`), every group of the loop waits for another that is waiting too: none
    of them ever comes online, and on a takeover none can be stopped in order.
    HACMP refuses such parent/child dependencies at verification; Pacemaker's
    ordering constraints loop the same way.

    Each cycle is reported once, at the `after` entry of its first group in
    file order, and named by the path it takes (`app -> db -> app`). When
    several cycles tangle (strongly connected groups), one finding names one
    cycle and lists every group caught in the knot.

    Bad:
        resource_group db  { nodes = [alpha, bravo]  after = [app] }
        resource_group app { nodes = [alpha, bravo]  after = [db] }

    Good:
        resource_group db  { nodes = [alpha, bravo] }
        resource_group app { nodes = [alpha, bravo]  after = [db] }
    """

    code = "HA401"
    name = "dependency.after-cycle"
    severity = Severity.ERROR

    def run(self, context):
        groups = context.cluster.groups
        index = {group.name: number for number, group in enumerate(groups)}
        parents = [[index[name] for name in group.after if name in index] for group in groups]
        if not any(parents):
            return
        blocks = blocks_by_name(context.tree, "resource_group")
        for component in strongly_connected(parents):
            members = set(component)
            if len(component) == 1 and component[0] not in parents[component[0]]:
                continue
            start = min(component)
            cycle = _shortest_cycle(start, parents, members)
            names = [groups[number].name for number in cycle]
            path = show_path(names + [names[0]], " -> ")
            if len(names) >= 12:  # the middle of the path is left out
                path += f" ({len(names)} groups)"
            knot = ""
            if len(component) > len(cycle):
                tangled = sorted(component)
                shown = ", ".join(f"'{groups[number].name}'" for number in tangled[:SHOWN])
                more = f" and {len(tangled) - SHOWN} more" if len(tangled) > SHOWN else ""
                knot = f"; {len(tangled)} groups wait on each other in all: {shown}{more}"
            head = groups[start]
            following = names[1] if len(names) > 1 else names[0]
            span = item_spans(blocks.get(head.name), "after").get(following) or head.span("after")
            if len(names) == 1:
                message = (f"resource group '{head.name}' comes online after itself: {path}, "
                           f"so it never comes online{knot}")
                hint = f"remove '{head.name}' from its own after list"
            else:
                message = (f"a cycle in after: {path}; each group waits for the next to come online, "
                           f"so none of them ever does{knot}")
                hint = (f"remove '{following}' from the after list of '{head.name}', or another dependency of the "
                        "cycle: after must say which group comes online first")
            yield self.finding(span, message, hint)


def _shortest_cycle(start: int, edges: list[list[int]], members: set[int]) -> list[int]:
    """The shortest path from start back to start inside one component, as the list of groups on it."""
    previous = {start: -1}
    queue = deque([start])
    while queue:
        vertex = queue.popleft()
        for target in edges[vertex]:
            if target == start:
                path = [vertex]
                while previous[path[-1]] >= 0:
                    path.append(previous[path[-1]])
                return path[::-1]
            if target in members and target not in previous:
                previous[target] = vertex
                queue.append(target)
    return [start]
