"""One failure set, evaluated directly: who is up, who hears whom, who may run and host what, placement.

The analysis's own oracle, written from LANGUAGE.md ("What a failure is",
"Who hears whom", "Who may run groups", "Who can host a group",
"Placement") in plain Python: `evaluate` and `place` (with
`evaluate_placed`) are the plain reference; `Evaluator` computes the same,
incrementally from the empty scenario, for the thousands of scenarios the
search looks at. The solver finds scenarios; each one is evaluated here to
decide which groups, nodes and dependencies it breaks and to word the
finding. Tests hold the z3 encoding, `Evaluator` and the reference equal
scenario by scenario, and the analysis equal to brute force over `evaluate`.

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
    unusable: frozenset[str]  # adapter components that carry nothing (adapter, node or switch down)
    attached: dict[str, frozenset[int]]  # node -> buses it is attached to (up nodes only)
    runs: frozenset[str]  # nodes that may run groups (up, in a partition with quorum or quorum = none)
    degraded: frozenset[str]  # nodes down, without quorum, or with an adapter that is not usable
    placement: dict[str, tuple[str, ...]] = field(default_factory=dict)
    start: dict | None = None  # the startup placement `placement` was computed from

    @cached_property
    def partitions(self) -> tuple[tuple[str, ...], ...]:
        """The live nodes, by who hears whom; each partition in file order, partitions by their first node."""
        return _partitions(self.topology, self.up, self.attached)

    @cached_property
    def partition_of(self) -> dict[str, int]:
        return {node: i for i, nodes in enumerate(self.partitions) for node in nodes}

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
        unusable = self.unusable
        return any(a.component not in unusable for a in adapters)

    def can_host(self, group: GroupInfo, node: str) -> bool:
        if node not in self.runs or node not in group.node_set:
            return False
        key = (node, group.networks)
        cache = self._host_cache
        value = cache.get(key)
        if value is None:
            value = cache[key] = all(self.network_ok(node, network) for network in group.networks)
        return value

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

    @cached_property
    def groups_on(self) -> dict[str, list[str]]:
        """Node -> the groups the placement puts on it, in file order."""
        index: dict[str, list[str]] = {}
        for name, nodes in self.placement.items():
            for node in nodes:
                index.setdefault(node, []).append(name)
        return index

    def load(self, node: str) -> tuple[int, int]:
        cpu = memory = 0
        for name in self.groups_on.get(node, ()):
            group = self.topology.groups[name]
            cpu += group.cpu
            memory += group.memory
        return cpu, memory

    def placed_services(self, node: str, network: str) -> list[str]:
        """Distinct service addresses of a network that the placement puts on a node (labels, file order)."""
        seen, labels = set(), []
        for name in self.groups_on.get(node, ()):
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
        return [a.ifname for a in self.topology.adapters_of.get((node, network), ())
                if a.component not in self.unusable]

    @cached_property
    def usable(self) -> frozenset[str]:
        """Adapter components that carry traffic."""
        return frozenset(self.topology.adapters).difference(self.unusable)


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

    runs = _runs(topology, up, attached)
    degraded.update(up - runs)
    return State(topology, failed, up, frozenset(topology.adapters).difference(usable),
                 {n: frozenset(b) for n, b in attached.items()}, runs,
                 frozenset(degraded))


def _partitions(topology: Topology, up, attached) -> tuple[tuple[str, ...], ...]:
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
    return tuple(tuple(nodes) for nodes in members.values())


def _runs(topology: Topology, up, attached) -> frozenset[str]:
    if topology.quorum == "none":
        return frozenset(up)
    total = topology.node_count
    running = []
    for nodes in _partitions(topology, up, attached):
        size = len(nodes)
        holds_tie = topology.tie_breaker_bus is not None and any(
            topology.tie_breaker_bus in attached[node] for node in nodes)
        if 2 * size > total or (2 * size == total and holds_tie):
            running.extend(nodes)
    return frozenset(running)


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


class Evaluator:
    """`evaluate_placed`, made cheap for failure sets that touch little of a large cluster.

    The search evaluates every scenario z3 returns (thousands at 128 nodes
    and K = 2), and a scenario of K failures leaves most nodes as they were
    with nothing failed. This keeps the empty scenario's attachments, bus
    partitions and loads, and recomputes only the nodes the failed
    components touch; partitions are worked out over buses (nodes with the
    same attachments join the same buses), and placement revisits only the
    groups on nodes that changed. Tests hold it equal to `evaluate_placed`.
    """

    def __init__(self, topology: Topology, start: dict[str, tuple[str, ...]]):
        self.topology = topology
        self.start = start
        touches: dict[str, set[str]] = {}
        for name, node in topology.nodes.items():
            for killer in node.killers:
                touches.setdefault(killer, set()).add(name)
        for adapter in topology.adapters.values():
            touches.setdefault(adapter.component, set()).add(adapter.node)
            touches.setdefault(adapter.switch, set()).add(adapter.node)
        for bus in topology.buses:
            for node, ways in bus.ways.items():
                for way in ways:
                    for c in way.needs:
                        touches.setdefault(c, set()).add(node)
        self.touches = {c: frozenset(nodes) for c, nodes in touches.items()}
        disables: dict[str, list] = {}  # component -> adapters it makes unusable
        for adapter in topology.adapters.values():
            disables.setdefault(adapter.component, []).append(adapter)
            disables.setdefault(adapter.switch, []).append(adapter)
            for killer in topology.nodes[adapter.node].killers:
                disables.setdefault(killer, []).append(adapter)
        self.disables = disables
        ways_with: dict[str, set[tuple[str, int]]] = {}  # component -> (node, bus) whose ways need it
        for bus in topology.buses:
            for node, ways in bus.ways.items():
                for way in ways:
                    for c in way.needs:
                        ways_with.setdefault(c, set()).add((node, bus.index))
        self.ways_with = ways_with
        self.all_nodes = frozenset(topology.node_names)
        self.all_adapters = frozenset(topology.adapters)
        empty = evaluate(topology, ())
        self.base_attached = {node: empty.attached[node] for node in topology.node_names}
        self.profiles: dict[frozenset[int], int] = {}
        for node in topology.node_names:
            key = self.base_attached[node]
            self.profiles[key] = self.profiles.get(key, 0) + 1
        self.adapters_of_node: dict[str, list] = {}
        for adapter in topology.adapters.values():
            self.adapters_of_node.setdefault(adapter.node, []).append(adapter)
        self.groups_at: dict[str, list[GroupInfo]] = {}
        self.groups_at_network: dict[tuple[str, str], list[GroupInfo]] = {}
        self.base_groups_on: dict[str, list[str]] = {}
        self.base_cpu = {name: 0 for name in topology.node_names}
        self.base_memory = dict(self.base_cpu)
        for group in topology.groups.values():
            for node in start[group.name]:
                self.groups_at.setdefault(node, []).append(group)
                for network in group.networks:
                    self.groups_at_network.setdefault((node, network), []).append(group)
                self.base_groups_on.setdefault(node, []).append(group.name)
                self.base_cpu[node] += group.cpu
                self.base_memory[node] += group.memory

    def evaluate(self, failed, placement: bool = True) -> State:
        topology = self.topology
        failed = frozenset(failed)
        touched: set[str] = set()
        killed: set[str] = set()
        for c in failed:
            nodes = self.touches.get(c, ())
            touched.update(nodes)
            if topology.kind_of[c] in ("node", "domain"):
                killed.update(nodes)
        up = self.all_nodes - killed
        unusable = set()
        degraded = set(killed)
        lost: dict[str, set[str]] = {}  # up node -> networks where one of its adapters is not usable
        attached = dict(self.base_attached)
        for c in failed:
            for adapter in self.disables.get(c, ()):
                unusable.add(adapter.component)
                node = adapter.node
                degraded.add(node)
                if node not in killed:
                    lost.setdefault(node, set()).add(adapter.network)
        for node in killed:
            attached.pop(node, None)
        cut: dict[str, set[int]] = {}
        for c in failed:
            for node, bus in self.ways_with.get(c, ()):
                if node not in killed and bus not in cut.get(node, ()) and not any(
                        not any(n in failed for n in way.needs) for way in topology.buses[bus].ways[node]):
                    cut.setdefault(node, set()).add(bus)
        for node, buses in cut.items():
            attached[node] = attached[node] - buses
        runs = self._runs(up, attached, touched)
        if len(runs) != len(up):
            degraded.update(up - runs)
        state = State(topology, failed, up, frozenset(unusable), attached, runs, frozenset(degraded))
        if placement:
            state.placement, changed = self._place(state, lost)
            state.start = self.start
            groups_on = self.base_groups_on
            moved = set()
            if changed:
                groups_on = dict(groups_on)
                for name in changed:
                    before, after = self.start[name], state.placement[name]
                    moved.update(before)
                    moved.update(after)
                for node in moved:
                    groups_on[node] = [name for name in self._candidates_on(node) if node in state.placement[name]]
            state.__dict__["groups_on"] = groups_on
            state.__dict__["moved"] = frozenset(moved)
        return state

    def _candidates_on(self, node: str) -> list[str]:
        """Groups that can ever be on a node (it is in their list), in file order."""
        cache = self.__dict__.setdefault("_on_cache", {})
        if node not in cache:
            cache[node] = [g.name for g in self.topology.groups.values() if node in g.node_set]
        return cache[node]

    def _runs(self, up: frozenset[str], attached: dict, touched: set[str]) -> frozenset[str]:
        topology = self.topology
        if topology.quorum == "none":
            return up
        parent = list(range(len(topology.buses)))

        def find(x: int) -> int:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        def join(buses) -> None:
            it = iter(buses)
            first = next(it, None)
            if first is None:
                return
            root = find(first)
            for other in it:
                r = find(other)
                if r != root:
                    parent[r] = root

        counts = dict(self.profiles)
        for node in touched:
            counts[self.base_attached[node]] -= 1
        for profile, count in counts.items():
            if count:
                join(profile)
        changed = [node for node in touched if node in up]
        for node in changed:
            join(attached[node])
        size: dict[int, int] = {}
        isolated = 0
        for profile, count in counts.items():
            if count:
                if profile:
                    root = find(next(iter(profile)))
                    size[root] = size.get(root, 0) + count
                else:
                    isolated += count
        for node in changed:
            buses = attached[node]
            if buses:
                root = find(next(iter(buses)))
                size[root] = size.get(root, 0) + 1
        total = topology.node_count
        tie = topology.tie_breaker_bus
        tie_root = find(tie) if tie is not None else None
        # A partition holds the tie-breaker when its buses include the tie-breaker's, which is then live.
        quorum_roots = {root for root, n in size.items() if 2 * n > total or (2 * n == total and root == tie_root)}
        singles_run = 2 > total
        if len(quorum_roots) == len(size) and (singles_run or not isolated and
                                                all(attached[n] for n in changed)):
            return up
        return frozenset(node for node in up
                         if (attached[node] and find(next(iter(attached[node]))) in quorum_roots)
                         or (not attached[node] and singles_run))

    def _place(self, state: State, lost: dict[str, set[str]]) -> tuple[dict[str, tuple[str, ...]], list[str]]:
        """`place`, revisiting only the groups that may have lost their node; also the groups that moved.

        A group is revisited when one of its startup nodes is down or has no
        quorum, or lost an adapter on a network the group needs.
        """
        topology, start = self.topology, self.start
        chosen_groups: dict[int, GroupInfo] = {}
        for node in state.degraded:
            if node in state.runs:
                for network in lost.get(node, ()):
                    for group in self.groups_at_network.get((node, network), ()):
                        chosen_groups[group.index] = group
            else:
                for group in self.groups_at.get(node, ()):
                    chosen_groups[group.index] = group
        revisit = sorted(chosen_groups.items())
        if not revisit:
            return start, []
        result = dict(start)
        cpu, memory = dict(self.base_cpu), dict(self.base_memory)
        pending = []
        for _, group in revisit:
            nodes = start[group.name]
            if group.concurrent:
                kept = tuple(node for node in nodes if state.can_host(group, node))
            elif state.can_host(group, nodes[0]):
                continue
            else:
                pending.append(group)
                kept = ()
            result[group.name] = kept
            for node in nodes:
                if node not in kept:
                    cpu[node] -= group.cpu
                    memory[node] -= group.memory
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
        return result, [group.name for _, group in revisit if result[group.name] != start[group.name]]
