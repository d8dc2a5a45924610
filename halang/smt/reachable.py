"""The placements the nodes can reach through earlier failures that have since recovered (`verify --reachable`).

With `fallback = never` (or `least_loaded`, or a `fallback_delay` still
running) a group can stay where an earlier failure put it after that failure
is repaired, and the next failure then starts from there, not from the
startup placement. This module finds every such placement by walking the
runtime's own `transition`, the function the nodes run, over the states the
cluster can be in:

- a state is a placement, the components failed, and the groups whose
  fallback is waiting for its delay;
- from a state, up to K components in all may be failed at a time: one more
  fails (several at once too, where the order of events matters: with
  `least_loaded` groups), some of the failed ones come back at once (any
  subset: a node that returns first takes the groups it is first for), or
  the waiting fallbacks' delays run out (`fallback_moves` still lists them);
- the placements with nothing failed are the starting points of the
  analysis, each with the shortest history that reaches it.

The walk is breadth first and exact; its cost grows with the number of
states, which is at most (components choose K) for every distinct
placement, so it is for the clusters of a site (a few nodes, tens of
groups), and within the analysis's time budget: where the budget runs out
the result says so and `verify` reports HA300 (docs/placement.md, "Reachable
states", has the measurements).
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from itertools import combinations

from runtime.core.failures import all_components
from runtime.core.placement import Placement, apply_moves, fallback_moves, transition
from runtime.core.snapshot import ClusterSpec

Event = tuple[str, tuple[str, ...]]  # ("fail" | "recover", components) or ("delay", groups)


@dataclass(frozen=True)
class Reached:
    placement: Placement
    history: tuple[Event, ...]

    def describe(self, start: Placement) -> str:
        """'after node:alpha fails, then recovers, app_a runs on bravo instead of alpha'."""
        words = []
        for kind, names in self.history:
            if kind == "delay":
                words.append(f"the fallback delay of {', '.join(names)} passes")
                continue
            verb = ("fails" if kind == "fail" else "recovers") if len(names) == 1 else \
                ("fail at once" if kind == "fail" else "recover at once")
            words.append(f"{' and '.join(names)} {verb}")
        moved = [f"{name} runs on {', '.join(nodes) or 'no node'} instead of {', '.join(start.nodes(name)) or 'none'}"
                 for name, nodes in self.placement.groups if nodes != start.nodes(name)]
        text = "after " + ", then ".join(words)
        return text + (", " + "; ".join(moved) if moved else "")


MAX_STATES = 200_000  # states kept in memory at most (a few hundred bytes each); beyond, the walk stops


@dataclass
class Exploration:
    reached: list[Reached]  # every placement with nothing failed other than the start, shortest history first
    complete: bool
    states: int
    stopped_by: str = ""  # why the walk stopped short: "time" or "states"


def explore(spec: ClusterSpec, start: Placement, faults: int, deadline: float,
            max_states: int = MAX_STATES) -> Exploration:
    components = all_components(spec)
    at_once = any(group.fallover == "least_loaded" and not group.concurrent for group in spec.groups)
    root = (start.groups, frozenset(), frozenset())
    seen = {root}
    queue = deque([(root, start, ())])  # the state, its placement, the history that reached it
    reached: dict[tuple, Reached] = {}
    stopped_by = ""
    while queue and not stopped_by:
        if time.monotonic() > deadline:
            stopped_by = "time"
            break
        (_, failed, waiting), placement, history = queue.popleft()
        for event, after, new_placement, new_waiting in _successors(spec, components, placement, failed, waiting,
                                                                    faults, at_once):
            state = (new_placement.groups, after, new_waiting)
            if state in seen:
                continue
            if len(seen) >= max_states:
                stopped_by = "states"
                break
            seen.add(state)
            queue.append((state, new_placement, history + (event,)))
            if not after and new_placement.groups != start.groups and new_placement.groups not in reached:
                reached[new_placement.groups] = Reached(new_placement, history + (event,))
    return Exploration(list(reached.values()), not stopped_by, len(seen), stopped_by)


def _successors(spec, components, placement, failed, waiting, faults, at_once):
    room = faults - len(failed)
    if room > 0:
        up = [name for name in components if name not in failed]
        sizes = range(1, room + 1) if at_once else (1,)
        for size in sizes:
            for chosen in combinations(up, size):
                after = failed | frozenset(chosen)
                yield _step(spec, placement, failed, after, waiting, ("fail", chosen))
    for size in range(1, len(failed) + 1):
        for chosen in combinations(sorted(failed), size):
            after = failed - frozenset(chosen)
            yield _step(spec, placement, failed, after, waiting, ("recover", chosen))
    if waiting:
        moves = [move for move in fallback_moves(spec, placement, failed) if move.group in waiting]
        moved = apply_moves(spec, placement, moves, failed)
        moved.addresses  # noqa: B018 - as in _step
        yield ("delay", tuple(sorted(waiting))), failed, moved, frozenset()


def _step(spec, placement, failed, after, waiting, event):
    step = transition(spec, placement, failed, after)
    step.placement.addresses  # noqa: B018 - settled now, so that no placement keeps the one it came from alive
    still = {name for name in waiting if name not in step.changed} | {move.group for move in step.pending}
    return event, after, step.placement, frozenset(still)
