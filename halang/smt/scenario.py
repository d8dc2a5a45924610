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
`least_loaded` groups the order matters (runtime/placement.py), and the
search looks at every order; `failed` is the union of the steps either way.
"""

from __future__ import annotations

from functools import cached_property

from runtime.placement import Placement, transition
from runtime.snapshot import ClusterSpec
from runtime.topology import Status, assess, hosts, why_not

from halang.smt.topology import GroupInfo, Topology


class Scenario:
    def __init__(self, topology: Topology, steps: tuple[frozenset[str], ...], start: Placement):
        self.topology = topology
        self.spec: ClusterSpec = topology.spec
        self.steps = steps
        self.failed: frozenset[str] = frozenset().union(*steps) if steps else frozenset()
        self.start = start
        self._changed: set[str] = set()  # groups some step moved, set with the placement

    @cached_property
    def status(self) -> Status:
        return assess(self.spec, self.failed)

    @cached_property
    def placement(self) -> Placement:
        spec, current, before = self.spec, self.start, ()
        so_far: frozenset[str] = frozenset()
        changed: set[str] = set()
        for number, step in enumerate(self.steps):
            so_far = so_far | step
            result = transition(spec, current, before, self.status if number == len(self.steps) - 1 else so_far)
            current, before = result.placement, so_far
            changed.update(result.changed)
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

    def hosts(self, group: GroupInfo) -> tuple[str, ...]:
        return hosts(self.spec, self.status, group.name)

    def why_not(self, group: GroupInfo, node: str) -> tuple[str, str]:
        return why_not(self.spec, self.status, group.name, node)

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
