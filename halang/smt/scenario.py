"""One failure scenario, decided by the runtime: the analysis's view of `runtime.assess` and `runtime.transition`.

The search asks z3 for scenarios; each answer is handed to the runtime's own
functions (`assess` for who hears whom and who may run groups, `hosts`,
`transition` event by event from the start placement), and the properties
(`properties.py`) read the answer off this object. Nothing here decides:
it only keeps what the runtime said and answers the questions the search
asks of it (which nodes a scenario touched, which groups moved), so a
finding is by construction what the nodes would do.

A scenario is a sequence of *steps*, each a set of components failing at
once as one event; the usual scenario is one step (everything at once). With
`least_loaded` groups the order matters (runtime/core/placement.py), and the
search looks at every order; `failed` is the union of the steps either way.
"""

from __future__ import annotations

from functools import cached_property

from runtime.core.placement import Placement, stranded_addresses
from runtime.core.snapshot import ClusterSpec
from runtime.core.topology import Status, hosts, why_not

from halang.smt.topology import GroupInfo, Topology


class Scenario:
    def __init__(self, topology: Topology, steps: tuple[frozenset[str], ...], start: Placement):
        self.topology = topology
        self.spec: ClusterSpec = topology.spec
        self.steps = steps
        self.failed: frozenset[str] = frozenset().union(*steps) if steps else frozenset()
        self.start = start
        self._changed: set[str] = set()  # groups some step moved, set with the placement
        self._before_last: Placement = start  # where the groups ran before the last event, set with the placement

    @cached_property
    def status(self) -> Status:
        return self.topology.status(self.failed)

    @cached_property
    def placement(self) -> Placement:
        current = self.start
        so_far: frozenset[str] = frozenset()
        changed: set[str] = set()
        for number, step in enumerate(self.steps):
            self._before_last = current
            current, moved = self.topology.step(self.start, self.steps[:number + 1], current, so_far, so_far | step)
            so_far = so_far | step
            changed.update(moved)
        self._changed = changed
        return current

    @property
    def ordered(self) -> bool:
        return len(self.steps) > 1

    # ------------------------------------------------------------ what the search asks

    @property
    def degraded(self) -> frozenset[str]:
        return self.status.degraded

    @cached_property
    def moved(self) -> frozenset[str]:
        """Nodes a group left or came to, against the start placement."""
        placement = self.placement
        nodes: set[str] = set()
        for name in self._changed:
            nodes.update(self.start.nodes(name))
            nodes.update(placement.nodes(name))
        return frozenset(nodes)

    # ------------------------------------------------------------ what the properties ask

    @property
    def before_last(self) -> Placement:
        """Where the groups ran when the last event came."""
        if len(self.steps) > 1:
            self.placement
            return self._before_last
        return self.start

    @cached_property
    def stranded(self) -> tuple[tuple[str, str, str], ...]:
        """(node, label, ifname) of the addresses held on an adapter that passes no frames (HA309)."""
        return stranded_addresses(self.spec, self.placement, self.status)

    @cached_property
    def stranded_groups(self) -> tuple[str, ...]:
        """The groups with an address stranded (`stranded`), once each, file order: the node holding it may judge
        every adapter working (nothing degraded, nothing moved), so this is how HA309 finds its subjects."""
        owner = {label: group.name for group in self.spec.groups for label in group.service_ips}
        return tuple(dict.fromkeys(owner[label] for _, label, _ in self.stranded))

    def holding(self, group: GroupInfo) -> tuple[str, ...]:
        """The nodes that held the group when the last event came: they keep it on an adapter in doubt."""
        return self.before_last.nodes(group.name)

    def hosts(self, group: GroupInfo) -> tuple[str, ...]:
        return hosts(self.spec, self.status, group.name, self.holding(group))

    def why_not(self, group: GroupInfo, node: str) -> tuple[str, str]:
        return why_not(self.spec, self.status, group.name, node, keep=node in self.holding(group))

    def groups_on(self, node: str) -> list[str]:
        placement = self.placement
        return [name for name in self.spec.groups_by_node[node] if node in placement.nodes(name)]

    def load(self, node: str) -> tuple[int, int]:
        """What the groups on the node require, in the topology's integer units."""
        groups = self.topology.groups
        cpu = memory = 0
        for name in self.groups_on(node):
            cpu += groups[name].cpu
            memory += groups[name].memory
        return cpu, memory

    def usable_adapters(self, node: str, network: str) -> list[str]:
        return [adapter.ifname for adapter in self.status.usable_adapters(node, network)]


def detection_orders(failed: tuple[str, ...]) -> list[tuple[frozenset[str], ...]]:
    """Every order in which the nodes may detect the failures: each ordered partition of the set into events
    (for two failures: both at once, one then the other, the other then the one)."""
    if not failed:
        return [()]
    first, rest = failed[0], failed[1:]
    found = []
    for tail in detection_orders(rest):
        for position in range(len(tail)):  # `first` joins an event of the tail
            found.append(tail[:position] + (tail[position] | {first},) + tail[position + 1:])
        for position in range(len(tail) + 1):  # or is an event of its own
            found.append(tail[:position] + (frozenset((first,)),) + tail[position:])
    return found
