"""One failure set, evaluated directly: who is up, who hears whom, who may run and host what, placement.

This is the analysis's own oracle, written from LANGUAGE.md ("What a
failure is", "Who hears whom", "Who may run groups", "Who can host a group",
"Placement") in plain Python. The solver finds scenarios; this module
recomputes each one the solver returns, to decide which groups, nodes and
dependencies it breaks and to word the finding. Tests check that the z3
encoding and this function agree scenario by scenario.

Interpretations (where LANGUAGE.md leaves room), kept identical in
`encode.py`:

- An adapter is *usable* when it, its node and its switch are up; only
  usable adapters carry heartbeats or service addresses.
- Placement never looks at capacity or at dependencies: `next_priority`
  and `least_loaded` may overload a node (HA502) or break a dependency
  (HA406); those are findings, not placement rules.
- After failures the new placement is built from the startup placement:
  first every group that stays (its node can still host it; concurrent
  instances whose node can still host them), then, in file order, each
  group that must move. `least_loaded` compares free capacity against the
  placement built so far: the groups that stay plus the groups placed
  before it in file order (a group that is leaving counts nowhere).
  Missing capacity is unlimited and beats any finite free capacity; two
  unlimited values tie and the next criterion decides.
- A concurrent group (`startup = all_available`) never moves, whatever its
  `fallover` says (HA404 when it says something else): its instances stay
  where they can still be hosted and go offline elsewhere.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property

from halang.smt.topology import GroupInfo, Topology


class _Partitions:
    """Union-find over node names."""

    def __init__(self, names):
        self.parent = {name: name for name in names}

    def find(self, name: str) -> str:
        parent = self.parent
        while parent[name] != name:
            parent[name] = parent[parent[name]]
            name = parent[name]
        return name

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[rb] = ra


@dataclass
class State:
    """The cluster under one failure set. Placement needs the startup placement (`place`)."""

    topology: Topology
    failed: frozenset[str]
    up: frozenset[str]
    usable: frozenset[str]  # adapter components that carry traffic
    attached: dict[str, frozenset[int]]  # node -> buses it is attached to (up nodes only)
    partitions: tuple[tuple[str, ...], ...]  # live nodes, each partition in file order
    partition_of: dict[str, int]
    runs: frozenset[str]  # nodes that may run groups (up, in a partition with quorum or quorum = none)
    degraded: frozenset[str]  # nodes down, without quorum, or with an adapter that is not usable
    placement: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @cached_property
    def _host_cache(self) -> dict:
        return {}

    def network_ok(self, node: str, network: str) -> bool:
        """The node has a usable adapter on the network."""
        adapters = self.topology.adapters_of.get((node, network))
        if not adapters:
            return False
        if node not in self.degraded:
            return True
        return any(a.component in self.usable for a in adapters)

    def can_host(self, group: GroupInfo, node: str) -> bool:
        key = (group.name, node)
        cache = self._host_cache
        if key not in cache:
            cache[key] = (node in self.runs and node in group.node_set
                          and all(self.network_ok(node, network) for network in group.networks))
        return cache[key]

    @cached_property
    def moved(self) -> frozenset[str]:
        """Nodes where the placement differs from the startup placement (needs `placement` and `start`)."""
        changed = set()
        start = self.start or {}
        for name, nodes in self.placement.items():
            before = start.get(name, ())
            if nodes != before:
                changed.update(nodes)
                changed.update(before)
        return frozenset(changed)

    start: dict | None = None

    def hosts(self, group: GroupInfo) -> list[str]:
        return [node for node in group.nodes if self.can_host(group, node)]

    def why_not(self, group: GroupInfo, node: str) -> tuple[str, str]:
        """Why a node cannot host a group, as (kind, words): kind is down, quorum or network."""
        if node not in self.up:
            return "down", f"{node} is down"
        if node not in self.runs:
            size = len(self.partitions[self.partition_of[node]])
            return "quorum", (f"{node} has no quorum (its partition holds {size} of "
                              f"{self.topology.node_count} nodes)")
        missing = [(network, labels) for network, labels in group.needs if not self.network_ok(node, network)]
        words = "; ".join(f"{', '.join(labels)} needs an adapter on {network}" for network, labels in missing)
        return "network", words

    def load(self, node: str) -> tuple[int, int]:
        cpu = memory = 0
        for name, nodes in self.placement.items():
            if node in nodes:
                group = self.topology.groups[name]
                cpu += group.cpu
                memory += group.memory
        return cpu, memory

    def placed_services(self, node: str, network: str) -> list[str]:
        """Distinct service addresses of a network that the placement puts on a node (labels, file order)."""
        seen, labels = set(), []
        for name, nodes in self.placement.items():
            if node not in nodes:
                continue
            for net, group_labels in self.topology.groups[name].needs:
                if net != network:
                    continue
                for label in group_labels:
                    address = self.topology.service_address[label]
                    if address not in seen:
                        seen.add(address)
                        labels.append(label)
        return labels

    def usable_adapters(self, node: str, network: str) -> list[str]:
        return [a.ifname for a in self.topology.adapters_of.get((node, network), ()) if a.component in self.usable]


def evaluate(topology: Topology, failed) -> State:
    """Who is up, attached, in which partition, and who may run groups, under `failed`."""
    failed = frozenset(failed)
    up = frozenset(name for name, node in topology.nodes.items()
                   if not any(killer in failed for killer in node.killers))
    usable = frozenset(name for name, adapter in topology.adapters.items()
                       if adapter.node in up and name not in failed and adapter.switch not in failed)
    degraded = set(topology.node_names) - up
    degraded.update(adapter.node for name, adapter in topology.adapters.items() if name not in usable)
    attached: dict[str, set[int]] = {name: set() for name in up}
    for bus in topology.buses:
        for node in bus.members:
            if node in up and any(not any(c in failed for c in way.needs) for way in bus.ways[node]):
                attached[node].add(bus.index)

    union = _Partitions(up)
    first_on_bus: dict[int, str] = {}
    for node in topology.node_names:
        if node not in up:
            continue
        for bus in attached[node]:
            if bus in first_on_bus:
                union.union(first_on_bus[bus], node)
            else:
                first_on_bus[bus] = node
    members: dict[str, list[str]] = {}
    for node in topology.node_names:
        if node in up:
            members.setdefault(union.find(node), []).append(node)
    partitions = tuple(tuple(nodes) for nodes in members.values())
    partition_of = {node: i for i, nodes in enumerate(partitions) for node in nodes}

    total = topology.node_count
    if topology.quorum == "none":
        runs = up
    else:
        running = []
        for nodes in partitions:
            size = len(nodes)
            holds_tie = topology.tie_breaker_bus is not None and any(
                topology.tie_breaker_bus in attached[node] for node in nodes)
            if 2 * size > total or (2 * size == total and holds_tie):
                running.extend(nodes)
        runs = frozenset(running)
    degraded.update(up - runs)
    return State(topology, failed, up, usable, {n: frozenset(b) for n, b in attached.items()},
                 partitions, partition_of, runs, frozenset(degraded))


def startup_placement(topology: Topology, state: State) -> dict[str, tuple[str, ...]]:
    """Where each group comes online with nothing failed (`state` is `evaluate(topology, ())`)."""
    placement = {}
    for group in topology.groups.values():
        hosts = state.hosts(group)
        startup = group.group.startup
        if startup == "home_node":
            placement[group.name] = (group.nodes[0],) if group.nodes and group.nodes[0] in hosts else ()
        elif startup == "first_available":
            placement[group.name] = tuple(hosts[:1])
        else:
            placement[group.name] = tuple(hosts)
    return placement


def place(topology: Topology, state: State, start: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """Where each group runs after the failures of `state`, computed once from the startup placement."""
    result: dict[str, tuple[str, ...]] = {}
    cpu = {name: 0 for name in topology.node_names}
    memory = dict(cpu)
    pending = []
    degraded = state.degraded
    for group in topology.groups.values():
        nodes = start[group.name]
        if nodes and not degraded.intersection(nodes):
            result[group.name] = nodes  # nothing changed where it runs: it stays
        elif group.concurrent:
            result[group.name] = tuple(node for node in nodes if state.can_host(group, node))
        elif not nodes:
            result[group.name] = ()
        elif state.can_host(group, nodes[0]):
            result[group.name] = nodes
        else:
            pending.append(group)
            continue
        for node in result[group.name]:
            cpu[node] += group.cpu
            memory[node] += group.memory
    for group in pending:
        hosts = state.hosts(group)
        if not hosts or group.fallover == "bring_offline":
            chosen = ()
        elif group.fallover == "next_priority":
            chosen = (hosts[0],)
        else:
            def key(node: str, position: int):
                info = topology.nodes[node]
                free_cpu = math.inf if info.cpu is None else info.cpu - cpu[node]
                free_memory = math.inf if info.memory is None else info.memory - memory[node]
                return (free_cpu, free_memory, -position)

            chosen = (max(hosts, key=lambda node: key(node, group.nodes.index(node))),)
        result[group.name] = chosen
        for node in chosen:
            cpu[node] += group.cpu
            memory[node] += group.memory
    return {name: result[name] for name in topology.groups}


def evaluate_placed(topology: Topology, failed, start: dict[str, tuple[str, ...]]) -> State:
    """`evaluate` plus the placement after the failures."""
    state = evaluate(topology, failed)
    state.placement = place(topology, state, start)
    state.start = start
    return state
