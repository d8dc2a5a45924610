"""The one placement function, and the pure findings computed on a placement.

`place(cluster, failed, current=None)` says where every group runs under a
set of failed components (LANGUAGE.md, "Placement"). The verifier calls it
once per failure scenario from the startup placement; the runtime and
`halang simulate` call it event by event with the placement they have.

Startup (`startup_placement`, and `place` with `current=None`), with nothing
failed: `home_node` puts a group on its home node (the first of its list) if
that node can host it, else leaves it offline; `first_available` on the
first node of its list that can host it; `all_available` on every node of its
list that can.

After failures, from `current`:
1. Groups are looked at in file order. A group offline in `current` stays
   offline (the function cannot tell a group offline since startup from one
   that went offline at an earlier event; both stay offline). A concurrent
   group (`all_available`) keeps the instances whose node can still host
   them and loses the others; it never gains instances. Any other group
   whose node can still host it stays.
2. The groups that must move are then taken in file order: `next_priority`
   goes to the first node of its list that can host it (which may be one
   earlier in the list than the node it leaves); `least_loaded` to the node
   of its list that can host it with the most free cpu, then the most free
   memory, then the earliest in the list; `bring_offline` goes offline; a
   group no node can host goes offline.
3. Free capacity is the node's capacity minus the requirements of the groups
   on it: all groups (and concurrent instances) that stayed in step 1, plus
   the groups already moved in step 2, `next_priority` ones included. A
   missing capacity (or a missing cpu or memory in it) is unlimited, so two
   unlimited nodes tie and the list order decides; a missing requirement is
   zero. Free amounts are compared as they are (absolute, not as fractions),
   and may be negative.
4. `fallover` is ignored for concurrent groups (step 1 covers them).
Capacity and dependencies never decide hosting: `node_load`,
`overloaded_nodes`, `service_address_load` and `dependency_violations`
report on a placement, and `fallback_moves` lists the fallbacks the runtime
schedules (it owns the clock and the delay).

With `current=None`, `place` starts from the startup placement (with nothing
failed), then applies `failed` as above; `place(cluster, ())` is the startup
placement. Applying failures one at a time gives the same group placement as
applying them at once for `next_priority` and `bring_offline` (hosting only
shrinks as failures grow); for `least_loaded` the loads seen may differ.

Service addresses. A `Placement` also says, for each node and network (both
`replace` and `alias`), which service addresses the node holds and on which
of its usable adapters: a node holds the addresses of the groups online on
it, listed in the network's service order. Under `replace` each adapter
holds at most one address: an address stays on the adapter it had (in the
previous placement) while that adapter is usable, the others go to free
usable adapters, the boot adapter first, then standbys in file order; an
address left without an adapter is held with adapter `None`, the HA213
situation. Under `alias` an address stays where it was while that adapter is
usable, else goes on the first usable adapter; one adapter may hold many.
This assignment is bookkeeping for events and actuators; it never changes
which node hosts a group.

Numbers: cpu is `Decimal` throughout (exact sums), memory an int of bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable, Dict, List, Mapping, NamedTuple, Optional, Sequence, Tuple

from runtime.snapshot import ClusterSpec, GroupSpec
from runtime.topology import Status, StatusLike, assess

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

    __slots__ = ("groups", "_by_group", "_addresses", "_pending", "_by_holder")

    def __init__(self, groups: Tuple[Tuple[str, Tuple[str, ...]], ...], addresses: Tuple[Holding, ...] = (),
                 pending: Optional[Callable[[], Tuple[Holding, ...]]] = None):
        object.__setattr__(self, "groups", tuple(groups))
        object.__setattr__(self, "_by_group", dict(self.groups))
        object.__setattr__(self, "_addresses", None if pending is not None else tuple(addresses))
        object.__setattr__(self, "_pending", pending)
        object.__setattr__(self, "_by_holder", None)

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
            return f"{self.group} on {here} is not on the same node as {self.other} on {there}"
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


def _hosts(cluster: ClusterSpec, status: Status, group: GroupSpec) -> List[str]:
    """The nodes of the group's list that can host it (topology.can_host, inlined for speed)."""
    return [node for node in group.nodes if _hostable(cluster, status, group, node)]


def _hostable(cluster: ClusterSpec, status: Status, group: GroupSpec, node: str) -> bool:
    if node not in status.runnable_nodes or node not in group.nodes:
        return False
    usable = status.usable
    for network in cluster.group_networks[group.name]:
        if not usable.get((node, network)):
            return False
    return True


def startup_placement(cluster: ClusterSpec) -> Placement:
    """Where groups start with nothing failed (LANGUAGE.md, "Placement", first rule)."""
    status = assess(cluster, ())
    groups = []
    for group in cluster.groups:
        hosts = _hosts(cluster, status, group)
        if group.startup == "all_available":
            nodes = tuple(hosts)
        elif group.startup == "first_available":
            nodes = tuple(hosts[:1])
        else:
            nodes = (group.nodes[0],) if group.nodes and hosts and hosts[0] == group.nodes[0] else ()
        groups.append((group.name, nodes))
    placed = tuple(groups)
    return Placement(placed, pending=lambda: _assign_addresses(cluster, placed, status, None))


def place(cluster: ClusterSpec, failed: StatusLike = (), current: Optional[Placement] = None) -> Placement:
    """Where every group runs under the failed components, from `current` (None: from the startup placement).

    `failed` is component names, a `Down` or a `Status` (see runtime.topology).
    """
    status = assess(cluster, failed)
    if current is None:
        current = startup_placement(cluster)
        if not status.down.failed:
            return current
    cpu: Dict[str, Decimal] = {name: ZERO for name in cluster.node_names}
    memory: Dict[str, int] = {name: 0 for name in cluster.node_names}
    now = current.as_dict()
    chosen: Dict[str, Tuple[str, ...]] = {}
    moving: List[Tuple[GroupSpec, List[str]]] = []
    for group in cluster.groups:
        was = now.get(group.name, ())
        if not was:
            chosen[group.name] = ()
            continue
        if group.concurrent:
            kept = tuple(node for node in was if _hostable(cluster, status, group, node))
        elif _hostable(cluster, status, group, was[0]):
            kept = was[:1]
        else:
            moving.append((group, _hosts(cluster, status, group)))
            continue
        chosen[group.name] = kept
        for node in kept:
            cpu[node] += group.requires.cpu
            memory[node] += group.requires.memory
    for group, hosts in moving:
        target: Optional[str] = None
        if not hosts or group.fallover == "bring_offline":
            target = None
        elif group.fallover == "next_priority":
            target = hosts[0]
        else:
            target = min(hosts, key=lambda node: _least_loaded_key(cluster, cpu, memory, node))
        chosen[group.name] = () if target is None else (target,)
        if target is not None:
            cpu[target] += group.requires.cpu
            memory[target] += group.requires.memory
    groups = tuple((group.name, chosen[group.name]) for group in cluster.groups)
    return Placement(groups, pending=lambda: _assign_addresses(cluster, groups, status, current))


def _least_loaded_key(cluster: ClusterSpec, cpu: Mapping[str, Decimal], memory: Mapping[str, int],
                      node: str) -> Tuple[Decimal, Decimal]:
    # min() keeps the first of equal keys, which is the earliest in the group's list.
    cap_cpu, cap_memory = _capacity(cluster, node)
    return (-(cap_cpu - cpu[node]), -(cap_memory - memory[node]))


def _capacity(cluster: ClusterSpec, node: str) -> Tuple[Decimal, Decimal]:
    capacity = cluster.node(node).capacity
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
        usable = status.usable_adapters(node, network_name)
        if network.ipat == "replace":
            usable = tuple(a for a in usable if a.role == "boot") + tuple(a for a in usable if a.role != "boot")
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


def node_load(cluster: ClusterSpec, placement: Placement) -> Dict[str, Tuple[Decimal, int]]:
    """Every node (file order) -> (cpu, memory) the groups placed on it require (each concurrent instance counts)."""
    cpu: Dict[str, Decimal] = {name: ZERO for name in cluster.node_names}
    memory: Dict[str, int] = {name: 0 for name in cluster.node_names}
    for name, nodes in placement.groups:
        requires = cluster.group(name).requires
        for node in nodes:
            cpu[node] += requires.cpu
            memory[node] += requires.memory
    return {name: (cpu[name], memory[name]) for name in cluster.node_names}


def overloaded_nodes(cluster: ClusterSpec, placement: Placement) -> Tuple[str, ...]:
    """The nodes (file order) whose placed groups require more cpu or memory than the node's capacity."""
    over = []
    for name, (cpu, memory) in node_load(cluster, placement).items():
        capacity = cluster.node(name).capacity
        if capacity is None:
            continue
        if (capacity.cpu is not None and cpu > capacity.cpu) or (capacity.memory is not None
                                                                  and memory > capacity.memory):
            over.append(name)
    return tuple(over)


def service_address_load(cluster: ClusterSpec, placement: Placement,
                         failed: StatusLike = ()) -> Dict[Tuple[str, str], Tuple[int, int]]:
    """(node, replace network) -> (distinct service addresses of that network placed on the node,
    its usable adapters there: up, on an up switch, boot and standby alike).

    Only pairs where the node holds at least one address; HA213 is `held > usable`. Nodes and
    networks come in file order.
    """
    status = assess(cluster, failed)
    held: Dict[Tuple[str, str], set] = {}
    for name, nodes in placement.groups:
        for label in cluster.group(name).service_ips:
            service = cluster.service(label)
            if cluster.network(service.network).ipat != "replace":
                continue
            for node in nodes:
                held.setdefault((node, service.network), set()).add((service.version, service.value))
    result = {}
    for node, network in sorted(held, key=lambda key: (cluster.node_index[key[0]], cluster.network_index[key[1]])):
        result[(node, network)] = (len(held[(node, network)]), len(status.usable_adapters(node, network)))
    return result


def address_overloads(cluster: ClusterSpec, placement: Placement, failed: StatusLike = ()) -> Tuple[Tuple[str, str], ...]:
    """The (node, replace network) pairs holding more service addresses than usable adapters (HA213)."""
    return tuple(key for key, (held, usable) in service_address_load(cluster, placement, failed).items()
                 if held > usable)


def dependency_violations(cluster: ClusterSpec, placement: Placement) -> Tuple[Violation, ...]:
    """The dependencies the placement breaks, groups in file order, then as written:
    - after: the group is online while a parent is offline;
    - same_node_as: both online, on different nodes (for concurrent groups: different node sets);
    - different_node_from: both online and sharing a node.
    One offline side never breaks a location dependency.
    """
    found = []
    nodes = placement.as_dict()
    for group in cluster.groups:
        mine = nodes.get(group.name, ())
        if not mine:
            continue
        for parent in group.after:
            if not nodes.get(parent):
                found.append(Violation("after", group.name, parent))
        for other in group.same_node_as:
            theirs = nodes.get(other, ())
            if theirs and set(theirs) != set(mine):
                found.append(Violation("same_node_as", group.name, other))
        for other in group.different_node_from:
            theirs = nodes.get(other, ())
            if set(theirs) & set(mine):
                found.append(Violation("different_node_from", group.name, other))
    return tuple(found)


def fallback_moves(cluster: ClusterSpec, placement: Placement, failed: StatusLike = ()) -> Tuple[Move, ...]:
    """Groups with `fallback = higher_priority` online on a node later in their list than the first node
    that can host them now: the move back to that node, with the delay to wait (the runtime keeps time)."""
    status = assess(cluster, failed)
    moves = []
    for group in cluster.groups:
        if group.fallback != "higher_priority" or group.concurrent:
            continue
        nodes = placement.nodes(group.name)
        if len(nodes) != 1:
            continue
        hosts = _hosts(cluster, status, group)
        if hosts and group.nodes.index(hosts[0]) < group.nodes.index(nodes[0]):
            moves.append(Move(group.name, nodes[0], hosts[0], group.fallback_delay_ms))
    return tuple(moves)


# ------------------------------------------------------------------ events


def events(cluster: ClusterSpec, before: Placement, after: Placement, failed_before: StatusLike,
           failed_after: StatusLike) -> Tuple[Event, ...]:
    """What the runtime raises going from (`before`, `failed_before`) to (`after`, `failed_after`), in order:

    1. node_down / node_up, nodes in file order;
    2. adapter_down / adapter_up for each adapter (file order) of a node up on both sides whose
       usability changed (the adapter itself, or its switch); `swaps` says where the service
       addresses it held went on the same node (an ifname, or None: no usable adapter left);
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
        was, now = old.down.usable(adapter), new.down.usable(adapter)
        if was == now:
            continue
        kind = "adapter_down" if was else "adapter_up"
        swaps: Tuple[Tuple[str, Optional[str]], ...] = ()
        if was:
            then = before.held(adapter.node, adapter.network)
            still = dict(after.held(adapter.node, adapter.network))
            swaps = tuple((label, still[label]) for label, ifname in then
                          if ifname == adapter.ifname and label in still)
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

