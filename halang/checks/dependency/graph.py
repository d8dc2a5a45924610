"""Graph helpers for the dependency checks: strongly connected components, shortest chains (union-find is\n`runtime.core.sets.DisjointSets`, the one the runtime uses)."""

from __future__ import annotations

from collections import deque


def strongly_connected(edges: list[list[int]]) -> list[list[int]]:
    """Tarjan's strongly connected components, iterative (no recursion limit on long chains)."""
    count = len(edges)
    order = [-1] * count
    low = [0] * count
    on_stack = [False] * count
    stack: list[int] = []
    components: list[list[int]] = []
    counter = 0
    for root in range(count):
        if order[root] >= 0:
            continue
        order[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack[root] = True
        work = [(root, 0)]
        while work:
            vertex, position = work[-1]
            targets = edges[vertex]
            if position < len(targets):
                work[-1] = (vertex, position + 1)
                target = targets[position]
                if order[target] < 0:
                    order[target] = low[target] = counter
                    counter += 1
                    stack.append(target)
                    on_stack[target] = True
                    work.append((target, 0))
                elif on_stack[target] and order[target] < low[vertex]:
                    low[vertex] = order[target]
                continue
            work.pop()
            if work:
                caller = work[-1][0]
                if low[vertex] < low[caller]:
                    low[caller] = low[vertex]
            if low[vertex] == order[vertex]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack[member] = False
                    component.append(member)
                    if member == vertex:
                        break
                components.append(component)
    return components


def shortest_path(start: int, goal: int, neighbours: list[list[int]]) -> list[int]:
    """The shortest path from start to goal (both included), or [] if goal cannot be reached."""
    if start == goal:
        return [start]
    previous = {start: -1}
    queue = deque([start])
    while queue:
        vertex = queue.popleft()
        for target in neighbours[vertex]:
            if target in previous:
                continue
            previous[target] = vertex
            if target == goal:
                path = [target]
                while previous[path[-1]] >= 0:
                    path.append(previous[path[-1]])
                return path[::-1]
            queue.append(target)
    return []


def show_path(names: list[str], joiner: str, longest: int = 12) -> str:
    """A path of names for a message, its middle left out when it is long."""
    if len(names) > longest:
        names = names[:longest - 3] + ["..."] + names[-2:]
    return joiner.join(names)
