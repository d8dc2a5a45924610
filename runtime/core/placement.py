"""The one placement function, and the pure findings computed on a placement.

`transition(spec, current, before, after)` says where every group runs after
one event: the cluster went from the failures `before` to the failures
`after` (components that fail, and components that come back). The node
engine calls it on every change of its view, `halang simulate` on every
step, and the verifier, through `place`, once per failure scenario from the
startup placement (LANGUAGE.md, "Placement"). `startup_placement` is the
transition from every group offline and nothing running yet.

A node is a *host* of a group when it can host it (`topology.can_host`) after
the event; a *new host* when it is a host after the event and was not before
(every host, at startup). Groups are taken in file order:

1. A group online on a node that can keep it stays (to keep a group an
   adapter that is not failed serves; to take one, a working adapter: an
   adapter in doubt neither releases nor gives a group, LANGUAGE.md "Who can
   host a group"). A concurrent group (`all_available`) keeps its instances
   where they can be kept, loses the others, and gains one on every new host.
2. An offline group comes online when it has a new host, by its startup
   policy: `home_node` on its home node if that is a new host;
   `first_available` on the first new host of its list. (A node that came
   back takes it, as a joining PowerHA node acquires the groups it is first
   for; a group kept offline while hosts were there, by `bring_offline`,
   waits for one to come back.)
3. `fallback = higher_priority`: a group that stays, when a new host comes
   before its node in its list, returns to its first host: at once with no
   `fallback_delay`, else the move is pending (`Step.pending`) and the
   engine, which owns the clock, carries it out when the delay is over and
   `fallback_moves` still lists it.
4. The groups whose node can no longer host them move, in file order:
   `next_priority` to the first host of their list (which may be earlier in
   the list than the node left); `least_loaded` to the host with the most
   free cpu, then the most free memory, then the earliest in the list;
   `bring_offline` offline; a group with no host goes offline. Free capacity
   is the capacity minus the requirements of the groups decided so far (all
   of 1 to 3 and the groups moved before it in file order); a group still
   to move counts nowhere. A missing capacity is unlimited (two unlimited
   nodes tie and list order decides), a missing requirement zero.

Capacity and dependencies never decide hosting: `node_load`,
`overloaded_nodes`, `address_overloads` and `dependency_violations` report on
a placement (HA502, HA213, HA406).

Failures only ever remove hosts (partitions only shrink, so quorum is only
lost), so a failure event has no new host and steps 2 and 3 do nothing.
Hence, for every group whose fallover is not `least_loaded`, failing the
components of a scenario one event at a time, in any order and grouping,
ends where failing them all at once does: a group that stays through the
events stays at once; one that moves goes to the first host after each
event, and the first host after the last event is the first host of the
whole scenario. `least_loaded` choices depend on the loads seen at each
event, so the verifier checks every order for them (docs/placement.md).

Speed. A node that is not `degraded` (see `topology.Status`) hosts exactly
the groups it hosts with nothing failed; `transition` only revisits the
groups whose list names a node degraded before or after the event (and any
group a given placement put on a node that could never host it), so one
event costs what it touches, not the size of the cluster.

Service addresses. A `Placement` also says, for each node and network (both
`replace` and `alias`), which service addresses the node holds and on which
of its usable adapters: a node holds the addresses of the groups online on
it, listed in the network's service order. Under `replace` each adapter
holds at most one address: an address stays on the adapter it had (in the
previous placement) while that adapter is not failed (working or in doubt),
the others go to free adapters, working before in doubt, and within each
the boot adapter first, then standbys in file order; an
address left without an adapter is held with adapter `None`, the HA213
situation. Under `alias` an address stays where it was while that adapter is
usable, else goes on the first usable adapter; one adapter may hold many.
This assignment is bookkeeping for events and actuators; it never changes
which node hosts a group.

Numbers: cpu is `Decimal` throughout (exact sums), memory an int of bytes."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable, Dict, List, Mapping, NamedTuple, Optional, Sequence, Tuple

from runtime.core.snapshot import ClusterSpec, GroupSpec
from runtime.core.topology import FAILED, Status, StatusLike, assess, can_host_now

UNLIMITED = Decimal("Infinity")
ZERO = Decimal(0)


class PlacementError(ValueError):
    """A placement that does not fit the cluster (unknown group or node, two nodes for a non-concurrent group)."""


class Holding(NamedTuple):
    """The service addresses one node holds on one network: (label, ifname or None) in the network's order."""

    node: str
    network: str
    services: Tuple[Tuple[str, Optional[str]], ...]


class Placement:
    """Where every group runs: `groups` lists every group in file order with its nodes (() = offline).

    `addresses` lists, for each node (file order) and network (file order) where the node holds a
    service address, the `Holding`. `place` computes it on first use (it is bookkeeping the verifier
    rarely needs); the value is fixed at creation all the same. Immutable; equal when groups and
    addresses are equal.
    """

    __slots__ = ("groups", "_by_group", "_addresses", "_pending", "_by_holder", "_misplaced")

    def __init__(self, groups: Tuple[Tuple[str, Tuple[str, ...]], ...], addresses: Tuple[Holding, ...] = (),
                 pending: Optional[Callable[[], Tuple[Holding, ...]]] = None):
        object.__setattr__(self, "groups", tuple(groups))
        object.__setattr__(self, "_by_group", dict(self.groups))
        object.__setattr__(self, "_addresses", None if pending is not None else tuple(addresses))
        object.__setattr__(self, "_pending", pending)
        object.__setattr__(self, "_by_holder", None)
        object.__setattr__(self, "_misplaced", None)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("a Placement is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("a Placement is immutable")

    @property
    def addresses(self) -> Tuple[Holding, ...]:
        if self._addresses is None:
            object.__setattr__(self, "_addresses", self._pending())  # type: ignore[misc]
            object.__setattr__(self, "_pending", None)
        return self._addresses  # type: ignore[return-value]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Placement):
            return NotImplemented
        return self.groups == other.groups and self.addresses == other.addresses

    def __hash__(self) -> int:
        return hash(self.groups)

    def __repr__(self) -> str:
        return f"Placement(groups={self.groups!r}, addresses={self.addresses!r})"

    def nodes(self, group: str) -> Tuple[str, ...]:
        return self._by_group.get(group, ())

    def online(self, group: str) -> bool:
        return bool(self._by_group.get(group))

    def as_dict(self) -> Dict[str, Tuple[str, ...]]:
        return dict(self.groups)

    def held(self, node: str, network: str) -> Tuple[Tuple[str, Optional[str]], ...]:
        if self._by_holder is None:
            object.__setattr__(self, "_by_holder", {(item.node, item.network): item.services
                                                    for item in self.addresses})
        return self._by_holder.get((node, network), ())  # type: ignore[union-attr]

    def groups_on(self, node: str) -> Tuple[str, ...]:
        return tuple(name for name, nodes in self.groups if node in nodes)

    def misplaced(self, spec: ClusterSpec) -> Tuple[int, ...]:
        """Indexes of the groups on a node that cannot host them even with nothing failed (only a placement
        given from outside has them); `transition` always revisits these. Computed once per spec."""
        known = self._misplaced
        if known is None or known[0] is not spec:
            index, static = spec.group_index, spec.static_hosts
            found = tuple(index[name] for name, nodes in self.groups
                          if name in index and any(node not in static[name] for node in nodes))
            known = (spec, found)
            object.__setattr__(self, "_misplaced", known)
        return known[1]


OFFLINE = Placement(())  # every group offline: where `startup_placement` starts from


class Move(NamedTuple):
    """A fallback the runtime should schedule: after `delay_ms` of `target` being able to host, move back."""

    group: str
    source: str
    target: str
    delay_ms: int


class Violation(NamedTuple):
    """A dependency a placement breaks: `kind` is after, same_node_as or different_node_from."""

    kind: str
    group: str  # the group that declares the dependency
    other: str  # the group it names

    def describe(self, placement: Placement) -> str:
        if self.kind == "after":
            return f"{self.group} is online while its parent {self.other} is offline"
        here, there = ", ".join(placement.nodes(self.group)), ", ".join(placement.nodes(self.other))
        if self.kind == "same_node_as":
            where = f"on {there}" if there else "which is offline"
            return f"{self.group} on {here} is not on the same node as {self.other}, {where}"
        return f"{self.group} on {here} shares a node with {self.other} on {there}"


@dataclass(frozen=True)
class Event:
    """One event the runtime raises, as data (see `events`)."""

    kind: str
    node: Optional[str] = None
    group: Optional[str] = None
    network: Optional[str] = None
    adapter: Optional[str] = None  # ifname
    source: Optional[str] = None  # rg_move: the node left
    target: Optional[str] = None  # rg_move: the node taken
    swaps: Tuple[Tuple[str, Optional[str]], ...] = ()  # adapter_down/up: (service label, ifname now or None)
    partitions: Tuple[Tuple[str, ...], ...] = ()  # split_brain: the partitions that each run groups

    def describe(self) -> str:
        kind = self.kind
        if kind in ("node_down", "node_up"):
            return f"{kind} {self.node}"
        if kind in ("network_down", "network_up"):
            return f"{kind} {self.network} on {self.node}"
        if kind in ("adapter_down", "adapter_up"):
            text = f"{kind} {self.node}/{self.adapter} on {self.network}"
            if self.swaps:
                moves = [f"{label} to {ifname}" if ifname else f"{label} has no adapter left"
                         for label, ifname in self.swaps]
                text += ": " + ", ".join(moves)
            return text
        if kind == "split_brain":
            return "split_brain " + " | ".join(", ".join(part) for part in self.partitions)
        if kind == "rg_move":
            return f"rg_move {self.group} {self.source} -> {self.target}"
        return f"{kind} {self.group} on {self.node}"

    def to_json(self) -> Dict[str, Any]:
        data: Dict[str, Any] = {"kind": self.kind}
        for key in ("node", "group", "network", "adapter", "source", "target"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        if self.kind in ("adapter_down", "adapter_up"):
            data["swaps"] = [{"service": label, "adapter": ifname} for label, ifname in self.swaps]
        if self.kind == "split_brain":
            data["partitions"] = [list(part) for part in self.partitions]
        return data


# ------------------------------------------------------------------ placing


class Step(NamedTuple):
    """What one transition decides: the placement, the fallbacks waiting for their delay, and the groups whose
    nodes changed (file order)."""

    placement: Placement
    pending: Tuple[Move, ...]
    changed: Tuple[str, ...] = ()


def startup_placement(spec: ClusterSpec, status: StatusLike = ()) -> Placement:
    """Where groups start (LANGUAGE.md, "Placement", first rule): every group offline, then every node
    that can host one is new (`transition` with `before=None`)."""
    return transition(spec, OFFLINE, None, status).placement


def place(spec: ClusterSpec, failed: StatusLike = (), current: Optional[Placement] = None,
          before: StatusLike = ()) -> Placement:
    """Where every group runs once the components of `failed` are down, from `current` (None: from the startup
    placement, with nothing failed), which ran while `before` was down (default: nothing).

    The same as `transition(spec, current, before, failed).placement`: fallbacks with a delay are not applied.
    """
    if current is None:
        current = startup_placement(spec)
        before = ()
    return transition(spec, current, before, failed).placement


def transition(spec: ClusterSpec, current: Placement, before: Optional[StatusLike], after: StatusLike) -> Step:
    """The placement after one event: the cluster went from `before` (None: nothing ran yet) to `after`.

    See the module docstring for the rules; `before` is what tells a node that came back (a new host)
    from one that could host all along.
    """
    new = assess(spec, after)
    old = assess(spec, before) if before is not None else None
    if old is None:
        affected = range(len(spec.groups))
    else:
        changed = old.degraded | new.degraded
        indexes = spec.group_index
        touched = {indexes[name] for node in changed for name in spec.groups_by_node[node]}
        touched.update(current.misplaced(spec))
        affected = sorted(touched)
    if not affected:
        return Step(current, ())
    now = current._by_group
    chosen: Dict[str, Tuple[str, ...]] = {}  # the groups whose place is decided anew (the rest stay)
    moving: List[GroupSpec] = []
    pending: List[Move] = []
    for number in affected:
        group = spec.groups[number]
        was = now.get(group.name, ())
        if group.concurrent:
            fresh = _fresh(spec, old, group, _hosts(spec, new, group))
            chosen[group.name] = tuple(node for node in group.nodes
                                       if node in fresh or (node in was and can_host_now(spec, new, group, node,
                                                                                         keep=True)))
        elif not was:
            chosen[group.name] = _come_online(group, _fresh(spec, old, group, _hosts(spec, new, group)))
        elif not can_host_now(spec, new, group, was[0], keep=True):
            moving.append(group)
        elif group.fallback == "higher_priority" and old is not None:
            earlier = group.nodes[:group.nodes.index(was[0])]
            if any(can_host_now(spec, new, group, node) and not can_host_now(spec, old, group, node)
                   for node in earlier):
                target = next(node for node in earlier if can_host_now(spec, new, group, node))
                if group.fallback_delay_ms:
                    pending.append(Move(group.name, was[0], target, group.fallback_delay_ms))
                else:
                    chosen[group.name] = (target,)
    if moving:
        loads = _Loads(spec, now, chosen, {group.name for group in moving})
        for group in moving:
            hosts = _hosts(spec, new, group)
            if not hosts or group.fallover == "bring_offline":
                target: Tuple[str, ...] = ()
            elif group.fallover == "next_priority":
                target = (hosts[0],)
            else:
                target = (min(hosts, key=loads.least_loaded_key),)
            chosen[group.name] = target
            loads.add(group, target)
    changed = [number for number in affected
               if spec.groups[number].name in chosen
               and chosen[spec.groups[number].name] != now.get(spec.groups[number].name, ())]
    if not changed:  # the same groups; the addresses may still move to other adapters
        groups = current.groups
    elif len(current.groups) == len(spec.groups):
        listed = list(current.groups)
        for number in changed:
            name = spec.groups[number].name
            listed[number] = (name, chosen[name])
        groups = tuple(listed)
    else:
        groups = tuple((group.name, chosen.get(group.name, now.get(group.name, ()))) for group in spec.groups)
    placement = Placement(groups, pending=lambda: _assign_addresses(spec, groups, new, current))
    return Step(placement, tuple(pending), tuple(spec.groups[number].name for number in changed))


def _fresh(spec: ClusterSpec, old: Optional[Status], group: GroupSpec, hosts: List[str]) -> List[str]:
    """The new hosts: those of `hosts` that could not host the group before (all of them at startup)."""
    return hosts if old is None else [node for node in hosts if not can_host_now(spec, old, group, node)]


def _come_online(group: GroupSpec, fresh: List[str]) -> Tuple[str, ...]:
    """An offline group comes online when a node that can host it is new: by its startup policy."""
    if not fresh:
        return ()
    if group.startup == "home_node":
        return (group.nodes[0],) if fresh[0] == group.nodes[0] else ()
    return (fresh[0],)


def _earlier(group: GroupSpec, nodes: List[str], node: str) -> bool:
    """Some node of `nodes` comes before `node` in the group's list."""
    position = group.nodes.index(node)
    return any(group.nodes.index(other) < position for other in nodes)


def _hosts(spec: ClusterSpec, status: Status, group: GroupSpec) -> List[str]:
    """The nodes of the group's list that can host it, in priority order."""
    return [node for node in group.nodes if can_host_now(spec, status, group, node)]


class _Loads:
    """Free capacity while movers are placed: groups decided so far count, groups still to move count nowhere."""

    def __init__(self, spec: ClusterSpec, now: Mapping[str, Tuple[str, ...]], chosen: Mapping[str, Tuple[str, ...]],
                 leaving: set):
        self.spec, self.now, self.chosen, self.leaving = spec, now, chosen, leaving
        self.cache: Dict[str, Tuple[Decimal, int]] = {}

    def load(self, node: str) -> Tuple[Decimal, int]:
        found = self.cache.get(node)
        if found is None:
            cpu, memory = ZERO, 0
            for name in self.spec.groups_by_node[node]:
                if name in self.leaving and name not in self.chosen:
                    continue
                if node in self.chosen.get(name, self.now.get(name, ())):
                    requires = self.spec.group(name).requires
                    cpu += requires.cpu
                    memory += requires.memory
            self.cache[node] = found = (cpu, memory)
        return found

    def add(self, group: GroupSpec, nodes: Tuple[str, ...]) -> None:
        for node in nodes:
            if node in self.cache:
                cpu, memory = self.cache[node]
                self.cache[node] = (cpu + group.requires.cpu, memory + group.requires.memory)

    def least_loaded_key(self, node: str) -> Tuple[Decimal, Decimal]:
        # min() keeps the first of equal keys, which is the earliest in the group's list.
        cpu, memory = self.load(node)
        cap_cpu, cap_memory = _capacity(self.spec, node)
        return (-(cap_cpu - cpu), -(cap_memory - memory))


def _capacity(spec: ClusterSpec, node: str) -> Tuple[Decimal, Decimal]:
    capacity = spec.node(node).capacity
    if capacity is None:
        return UNLIMITED, UNLIMITED
    return (UNLIMITED if capacity.cpu is None else capacity.cpu,
            UNLIMITED if capacity.memory is None else Decimal(capacity.memory))


def _assign_addresses(cluster: ClusterSpec, groups: Sequence[Tuple[str, Tuple[str, ...]]], status: Status,
                      previous: Optional[Placement]) -> Tuple[Holding, ...]:
    held: Dict[Tuple[str, str], set] = {}
    services = cluster.service_by_name
    for name, nodes in groups:
        labels = cluster.group_by_name[name].service_ips
        if not labels or not nodes:
            continue
        for node in nodes:
            for label in labels:
                held.setdefault((node, services[label].network), set()).add(label)
    if not held:
        return ()
    was: Dict[Tuple[str, str], Optional[str]] = {}
    if previous is not None:
        for holding in previous.addresses:
            for label, ifname in holding.services:
                was[(holding.node, label)] = ifname
    holdings = []
    for node, network_name in sorted(held, key=lambda key: (cluster.node_index[key[0]],
                                                             cluster.network_index[key[1]])):
        network = cluster.network(network_name)
        order = sorted(held[(node, network_name)], key=cluster.service_index.__getitem__)
        working = status.working_adapters(node, network_name)
        replace = network.ipat == "replace"
        # A new adapter is chosen among the working ones first, then among those in doubt (file order within).
        usable = sorted(status.usable_adapters(node, network_name),
                        key=lambda adapter: (adapter not in working, replace and adapter.role != "boot"))
        names = [adapter.ifname for adapter in usable]
        where: Dict[str, Optional[str]] = {}
        taken = set()
        for label in order:  # what stays where it was
            ifname = was.get((node, label))
            if ifname in names and (network.ipat == "alias" or ifname not in taken):
                where[label] = ifname
                taken.add(ifname)
        for label in order:  # what needs an adapter
            if label in where:
                continue
            if network.ipat == "alias":
                where[label] = names[0] if names else None
            else:
                free = [name for name in names if name not in taken]
                where[label] = free[0] if free else None
                if free:
                    taken.add(free[0])
        holdings.append(Holding(node, network_name, tuple((label, where[label]) for label in order)))
    return tuple(holdings)


def make_placement(cluster: ClusterSpec, groups: Mapping[str, Sequence[str]], failed: StatusLike = (),
                   previous: Optional[Placement] = None) -> Placement:
    """A placement from group -> nodes (groups left out are offline), checked against the cluster."""
    for name, nodes in groups.items():
        group = cluster.group_by_name.get(name)
        if group is None:
            raise PlacementError(f"no group named '{name}'")
        if isinstance(nodes, str):
            raise PlacementError(f"group {name}: expected a list of nodes, got the string '{nodes}'")
        for node in nodes:
            if node not in cluster.node_by_name:
                raise PlacementError(f"group {name}: no node named '{node}'")
            if node not in group.nodes:
                raise PlacementError(f"group {name}: node {node} is not in its list ({', '.join(group.nodes)})")
        if len(set(nodes)) != len(nodes):
            raise PlacementError(f"group {name}: a node is named twice")
        if len(nodes) > 1 and not group.concurrent:
            raise PlacementError(f"group {name} is not concurrent (startup = {group.startup}) but is placed on "
                                 f"{len(nodes)} nodes")
    ordered = []
    for group in cluster.groups:
        nodes = groups.get(group.name, ())
        ordered.append((group.name, tuple(sorted(nodes, key=group.nodes.index))))
    return Placement(tuple(ordered), _assign_addresses(cluster, ordered, assess(cluster, failed), previous))


def placement_from_json(cluster: ClusterSpec, data: Any, failed: StatusLike = ()) -> Placement:
    """A placement from `{"groups": {"GROUP": ["NODE", ...], ...}, "addresses": [...]}`, as `placement_to_json`
    writes it. Groups left out are offline. "addresses" is optional: where given, each service address
    stays on the adapter it names while that adapter is usable and the node holds the address; the
    others are assigned afresh. Other keys are ignored.
    """
    if not isinstance(data, dict) or not isinstance(data.get("groups"), dict):
        raise PlacementError('a placement is an object {"groups": {"GROUP": ["NODE", ...], ...}}')
    groups = {}
    for name, nodes in data["groups"].items():
        if not isinstance(nodes, list) or not all(isinstance(node, str) for node in nodes):
            raise PlacementError(f"group {name}: expected a list of node names")
        groups[name] = nodes
    previous = None
    if data.get("addresses") is not None:
        previous = Placement((), tuple(_holdings_from_json(data["addresses"])))
    return make_placement(cluster, groups, failed, previous)


def _holdings_from_json(data: Any) -> List[Holding]:
    shape = 'addresses: expected [{"node": N, "network": NET, "services": [{"service": S, "adapter": IF}]}]'
    if not isinstance(data, list):
        raise PlacementError(shape)
    holdings = []
    for item in data:
        if not isinstance(item, dict) or not isinstance(item.get("node"), str) \
                or not isinstance(item.get("network"), str) or not isinstance(item.get("services"), list):
            raise PlacementError(shape)
        services = []
        for entry in item["services"]:
            if not isinstance(entry, dict) or not isinstance(entry.get("service"), str) \
                    or not isinstance(entry.get("adapter"), (str, type(None))):
                raise PlacementError(shape)
            services.append((entry["service"], entry["adapter"]))
        holdings.append(Holding(item["node"], item["network"], tuple(services)))
    return holdings


def placement_to_json(placement: Placement) -> Dict[str, Any]:
    return {
        "groups": {name: list(nodes) for name, nodes in placement.groups},
        "addresses": [{"node": holding.node, "network": holding.network,
                       "services": [{"service": label, "adapter": ifname} for label, ifname in holding.services]}
                      for holding in placement.addresses],
    }


# ------------------------------------------------------------------ findings on a placement


def node_load(spec: ClusterSpec, placement: Placement,
              nodes: Optional[Sequence[str]] = None) -> Dict[str, Tuple[Decimal, int]]:
    """Node -> (cpu, memory) the groups placed on it require (each concurrent instance counts), for `nodes`
    (default: every node, file order)."""
    result = {}
    for node in spec.node_names if nodes is None else nodes:
        cpu, memory = ZERO, 0
        for name in spec.groups_by_node[node]:
            if node in placement.nodes(name):
                requires = spec.group(name).requires
                cpu += requires.cpu
                memory += requires.memory
        result[node] = (cpu, memory)
    return result


def overloaded_nodes(spec: ClusterSpec, placement: Placement,
                     nodes: Optional[Sequence[str]] = None) -> Tuple[str, ...]:
    """The nodes (of `nodes`, default all, in that order) whose placed groups require more cpu or memory than
    the node's capacity."""
    over = []
    for name in spec.node_names if nodes is None else nodes:
        capacity = spec.node(name).capacity
        if capacity is None or (capacity.cpu is None and capacity.memory is None):
            continue
        cpu, memory = node_load(spec, placement, (name,))[name]
        if (capacity.cpu is not None and cpu > capacity.cpu) or (capacity.memory is not None
                                                                  and memory > capacity.memory):
            over.append(name)
    return tuple(over)


def placed_services(spec: ClusterSpec, placement: Placement, node: str, network: str) -> Tuple[str, ...]:
    """The service labels of `network` placed on the node, one per distinct address, in the network's order."""
    seen: Dict[Tuple[int, int], str] = {}
    for name in spec.groups_by_node[node]:
        if node not in placement.nodes(name):
            continue
        for label in spec.group(name).service_ips:
            service = spec.service(label)
            if service.network == network:
                key = (service.version, service.value)
                if key not in seen or spec.service_index[label] < spec.service_index[seen[key]]:
                    seen[key] = label
    return tuple(sorted(seen.values(), key=spec.service_index.__getitem__))


def service_address_load(spec: ClusterSpec, placement: Placement, failed: StatusLike = (),
                         pairs: Optional[Sequence[Tuple[str, str]]] = None) -> Dict[Tuple[str, str], Tuple[int, int]]:
    """(node, replace network) -> (distinct service addresses of that network placed on the node,
    its usable adapters there: up, on an up switch, boot and standby alike).

    For `pairs`, or by default every pair where the node holds at least one address, nodes and networks in
    file order. HA213 is `held > usable`.
    """
    status = assess(spec, failed)
    if pairs is None:
        found = set()
        for name, nodes in placement.groups:
            for label in spec.group(name).service_ips:
                network = spec.service(label).network
                if spec.network(network).ipat == "replace":
                    found.update((node, network) for node in nodes)
        pairs = sorted(found, key=lambda key: (spec.node_index[key[0]], spec.network_index[key[1]]))
    return {(node, network): (len(placed_services(spec, placement, node, network)),
                              len(status.usable_adapters(node, network)))
            for node, network in pairs}


def address_overloads(spec: ClusterSpec, placement: Placement, failed: StatusLike = (),
                      pairs: Optional[Sequence[Tuple[str, str]]] = None) -> Tuple[Tuple[str, str], ...]:
    """The (node, replace network) pairs holding more service addresses than usable adapters (HA213)."""
    return tuple(key for key, (held, usable) in service_address_load(spec, placement, failed, pairs).items()
                 if held > usable)


def stranded_addresses(spec: ClusterSpec, placement: Placement,
                       failed: StatusLike = ()) -> Tuple[Tuple[str, str, str], ...]:
    """(node, label, ifname) of the service addresses held on an adapter that passes no frames both ways under the
    failures (a port, direction or switch cut with the carrier up): the nodes did not judge it failed, so clients
    are dark there (HA309). Nodes in file order, then networks and labels in file order."""
    status = assess(spec, failed)
    down = status.down
    if not down.inferred:
        return ()
    found = []
    for holding in placement.addresses:
        for label, ifname in holding.services:
            adapter = spec.adapter_by_key.get((holding.node, ifname or ""))
            if adapter is not None and not (down.sends(adapter) and down.receives(adapter)):
                found.append((holding.node, label, adapter.ifname))
    return tuple(found)


def dependency_violations(spec: ClusterSpec, placement: Placement,
                          groups: Optional[Sequence[str]] = None) -> Tuple[Violation, ...]:
    """The dependencies the placement breaks, for `groups` (default all, file order), each as written
    (docs/placement.md, "Dependencies"). Only a group that is online breaks one:
    - after: the group is online while a parent is offline;
    - same_node_as: the group is online on a node where the other is not (offline included: like a
      mandatory colocation in Pacemaker, a group may only run where the other runs);
    - different_node_from: both online and sharing a node.
    """
    found = []
    for name in [group.name for group in spec.groups] if groups is None else groups:
        group = spec.group(name)
        mine = placement.nodes(name)
        if not mine:
            continue
        for parent in group.after:
            if not placement.nodes(parent):
                found.append(Violation("after", name, parent))
        for other in group.same_node_as:
            theirs = placement.nodes(other)
            if any(node not in theirs for node in mine):
                found.append(Violation("same_node_as", name, other))
        for other in group.different_node_from:
            theirs = placement.nodes(other)
            if any(node in theirs for node in mine):
                found.append(Violation("different_node_from", name, other))
    return tuple(found)


def fallback_moves(spec: ClusterSpec, placement: Placement, failed: StatusLike = ()) -> Tuple[Move, ...]:
    """Groups with `fallback = higher_priority` online on a node later in their list than the first node
    that can host them now: the move back to that node, with its delay. The runtime calls this when a
    pending fallback's delay is over, to check that it still holds; `transition` decides when one starts."""
    status = assess(spec, failed)
    moves = []
    for group in spec.groups:
        if group.fallback != "higher_priority" or group.concurrent:
            continue
        nodes = placement.nodes(group.name)
        if len(nodes) != 1:
            continue
        hosts = _hosts(spec, status, group)
        if hosts and group.nodes.index(hosts[0]) < group.nodes.index(nodes[0]):
            moves.append(Move(group.name, nodes[0], hosts[0], group.fallback_delay_ms))
    return tuple(moves)


def apply_moves(spec: ClusterSpec, placement: Placement, moves: Sequence[Move], failed: StatusLike = ()) -> Placement:
    """The placement with the fallbacks `moves` carried out (each from its source to its target)."""
    if not moves:
        return placement
    target = {move.group: (move.target,) for move in moves}
    groups = tuple((name, target.get(name, nodes)) for name, nodes in placement.groups)
    status = assess(spec, failed)
    return Placement(groups, pending=lambda: _assign_addresses(spec, groups, status, placement))


# ------------------------------------------------------------------ events


def events(cluster: ClusterSpec, before: Placement, after: Placement, failed_before: StatusLike,
           failed_after: StatusLike) -> Tuple[Event, ...]:
    """What the runtime raises going from (`before`, `failed_before`) to (`after`, `failed_after`), in order:

    1. node_down / node_up, nodes in file order;
    2. adapter_down / adapter_up for each adapter (file order) of a node up on both sides whose
       usability changed (the adapter itself, or its switch); for adapter_down `swaps` says where the
       service addresses it held went on the same node (an ifname, or None: no usable adapter left),
       for adapter_up which addresses the node held elsewhere (or on no adapter) came to it;
       addresses whose group left the node are not swaps (see rg_move);
    3. network_down / network_up for each node up on both sides and network where the node went
       from some usable adapter to none, or back;
    4. split_brain when, after, two or more partitions may run groups and the partitions changed;
    5. for each group in file order: rg_move (one node to another), rg_offline (per node left
       without a replacement), rg_online (per node taken from offline, or concurrent instance gained).
    """
    old, new = assess(cluster, failed_before), assess(cluster, failed_after)
    found: List[Event] = []
    both_up = []
    for node in cluster.node_names:
        was_up, is_up = old.down.node_up(node), new.down.node_up(node)
        if was_up and not is_up:
            found.append(Event("node_down", node=node))
        elif is_up and not was_up:
            found.append(Event("node_up", node=node))
        elif is_up:
            both_up.append(node)
    live = set(both_up)
    for adapter in cluster.adapters:
        if adapter.node not in live:
            continue
        was, now = old.adapter_state(adapter) != FAILED, new.adapter_state(adapter) != FAILED
        if was == now:
            continue
        kind = "adapter_down" if was else "adapter_up"
        then = dict(before.held(adapter.node, adapter.network))
        still = dict(after.held(adapter.node, adapter.network))
        if was:  # where the addresses it held went
            swaps = tuple((label, still[label]) for label, ifname in then.items()
                          if ifname == adapter.ifname and label in still)
        else:  # the addresses that came to it (one left with no adapter, say)
            swaps = tuple((label, ifname) for label, ifname in still.items()
                          if ifname == adapter.ifname and label in then and then[label] != ifname)
        found.append(Event(kind, node=adapter.node, network=adapter.network, adapter=adapter.ifname, swaps=swaps))
    for node in both_up:
        networks = sorted({adapter.network for adapter in cluster.adapters_by_node[node]},
                          key=cluster.network_index.__getitem__)
        for network in networks:
            was_on = bool(old.usable_adapters(node, network))
            is_on = bool(new.usable_adapters(node, network))
            if was_on and not is_on:
                found.append(Event("network_down", node=node, network=network))
            elif is_on and not was_on:
                found.append(Event("network_up", node=node, network=network))
    if len(new.runnable) > 1 and new.partitions != old.partitions:
        found.append(Event("split_brain", partitions=new.runnable))
    for group in cluster.groups:
        was_nodes, now_nodes = before.nodes(group.name), after.nodes(group.name)
        if was_nodes == now_nodes:
            continue
        if not group.concurrent and len(was_nodes) == 1 and len(now_nodes) == 1:
            found.append(Event("rg_move", group=group.name, source=was_nodes[0], target=now_nodes[0]))
            continue
        for node in was_nodes:
            if node not in now_nodes:
                found.append(Event("rg_offline", group=group.name, node=node))
        for node in now_nodes:
            if node not in was_nodes:
                found.append(Event("rg_online", group=group.name, node=node))
    return tuple(found)

