"""The failure universe of a cluster and the static structure the z3 encoding works on.

Nothing here decides anything: it reads the runtime's own definitions
(`runtime.core.failures.all_components` for what can fail, `runtime.core.paths.media`
for what nodes hear each other through) and lays them out as the encoding
needs them: one *bus* per medium, with, for each node on it, the *ways* it
attaches (the components that must all be up: the adapter and its switch on
a subnet, the link and the node's connection on a disk, the link on a
point-to-point line; the node itself always), and per-group facts
(networks needed, requirements in integer units, so that capacity sums are
pseudo-Boolean constraints).

Two live nodes are in one partition when a chain of buses joins them: the
encoding's terms for that are tested against `runtime.core.topology.assess`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from fractions import Fraction
from functools import reduce
from math import gcd, lcm

from halang.model.cluster import Cluster, Group
from halang.model.spec import cluster_spec
from runtime.core.failures import INFERRED_KINDS, all_components
from runtime.core.paths import media
from runtime.core.snapshot import ClusterSpec
from runtime.core.placement import Placement, transition
from runtime.core.topology import Status, assess

NODE, ADAPTER, SWITCH, LINK, LINKEND, DOMAIN = "node", "adapter", "switch", "link", "linkend", "domain"
PORT, DEAF, MUTE, HUNG = "port", "deaf", "mute", "hung"


def component(kind: str, *parts: str) -> str:
    """`node:alpha`, `adapter:alpha/en0`, `linkend:wh1/hb_disk` ..."""
    return f"{kind}:{'/'.join(parts)}"


def describe_component(name: str) -> str:
    """A component in words, for messages: 'adapter en0 of alpha', "wh1's connection to hb_disk"."""
    kind, _, rest = name.partition(":")
    if kind == ADAPTER:
        node, _, ifname = rest.partition("/")
        return f"adapter {ifname} of {node}"
    if kind in (PORT, DEAF, MUTE):
        node, _, ifname = rest.partition("/")
        what = {PORT: "the port", DEAF: "the receiving side", MUTE: "the sending side"}[kind]
        return f"{what} of adapter {ifname} of {node} (carrier up)"
    if kind == HUNG:
        return f"the forwarding of switch {rest} (carriers up)"
    if kind == LINKEND:
        node, _, link = rest.partition("/")
        return f"{node}'s connection to {link}"
    return f"{kind} {rest}"


def describe_scenario(scenario: tuple[str, ...]) -> str:
    """'if switch sw1 fails', 'if node alpha and switch sw2 fail', 'with nothing failed'."""
    if not scenario:
        return "with nothing failed"
    words = [describe_component(name) for name in scenario]
    if len(words) == 1:
        return f"if {words[0]} fails"
    return f"if {', '.join(words[:-1])} and {words[-1]} fail"


@dataclass(frozen=True)
class AdapterInfo:
    component: str  # adapter:NODE/IFNAME
    node: str
    ifname: str
    network: str
    switch: str  # switch:NAME (the network's implicit switch when none is written)
    bus: int


@dataclass(frozen=True)
class Way:
    """One way for a node to be attached to a bus: every listed component up (and the node up)."""

    needs: tuple[str, ...]
    adapter: str | None = None  # the adapter component, for subnet buses


@dataclass(frozen=True)
class Bus:
    index: int
    kind: str  # "subnet", "disk", "p2p"
    label: str  # for messages: "net_public 172.20.1.0/24", "link hb_disk"
    members: tuple[str, ...]  # nodes that can attach, in file order
    ways: dict[str, tuple[Way, ...]] = field(hash=False, compare=False)


@dataclass(frozen=True)
class GroupInfo:
    name: str
    index: int
    group: Group = field(hash=False, compare=False, repr=False)
    nodes: tuple[str, ...]
    needs: tuple[tuple[str, tuple[str, ...]], ...]  # (network, service labels on it), networks sorted
    concurrent: bool
    fallover: str
    cpu: int  # in the topology's cpu units
    memory: int  # in the topology's memory units

    @cached_property
    def networks(self) -> tuple[str, ...]:
        return tuple(network for network, _ in self.needs)

    @cached_property
    def node_set(self) -> frozenset[str]:
        return frozenset(self.nodes)



@dataclass(frozen=True)
class NodeInfo:
    name: str
    index: int
    killers: tuple[str, ...]  # node:NAME and domain:D for each of its domains
    buses: tuple[int, ...]
    cpu: int | None  # capacity in cpu units, None: unlimited
    memory: int | None


class Topology:
    """Static structure of one cluster; see the module docstring."""

    def __init__(self, cluster: Cluster, spec: ClusterSpec | None = None):
        self.cluster = cluster
        self.spec = spec = spec if spec is not None else cluster_spec(cluster)
        self.quorum = spec.heartbeat.quorum
        self.node_count = len(spec.node_names)
        self.node_names: tuple[str, ...] = spec.node_names
        self.components: tuple[str, ...] = tuple(all_components(spec))
        self.kind_of: dict[str, str] = {name: name.partition(":")[0] for name in self.components}
        # The failures that keep the carrier up: what the nodes observe of them is worked out by the runtime.
        self.inferred: frozenset[str] = frozenset(name for name, kind in self.kind_of.items()
                                                  if kind in INFERRED_KINDS)

        self.adapters: dict[str, AdapterInfo] = {}
        self.adapters_of: dict[tuple[str, str], list[AdapterInfo]] = {}  # (node, network) -> adapters
        self.service_network = {service.name: service.network for service in spec.service_by_name.values()}
        self.service_address = {service.name: service.address for service in spec.service_by_name.values()}
        self.network_ipat = {network.name: network.ipat for network in spec.networks}
        self.services_of_network = {network.name: tuple(service.name for service in network.services)
                                    for network in spec.networks}
        self.tie_breaker_bus: int | None = None
        buses = []
        for medium in media(spec):
            ways: dict[str, list[Way]] = {}
            for end in medium.ends:
                if end.adapter is not None:
                    adapter = end.adapter
                    name = component(ADAPTER, adapter.node, adapter.ifname)
                    switch = component(SWITCH, adapter.switch)
                    info = AdapterInfo(name, adapter.node, adapter.ifname, adapter.network, switch, medium.index)
                    self.adapters[name] = info
                    # Two adapters hear each other both ways only while neither port, direction nor switch is cut.
                    needs = (name, switch, component(PORT, adapter.node, adapter.ifname),
                             component(DEAF, adapter.node, adapter.ifname),
                             component(MUTE, adapter.node, adapter.ifname), component(HUNG, adapter.switch))
                    ways.setdefault(end.node, []).append(Way(needs, adapter=name))
                elif medium.kind == "disk":
                    ways.setdefault(end.node, []).append(
                        Way((component(LINK, medium.name), component(LINKEND, end.node, medium.name))))
                else:
                    ways.setdefault(end.node, []).append(Way((component(LINK, medium.name),)))
            if medium.kind != "subnet" and medium.name == spec.heartbeat.tie_breaker:
                self.tie_breaker_bus = medium.index
            members = tuple(sorted(ways, key=spec.node_index.__getitem__))
            buses.append(Bus(medium.index, medium.kind, medium.label, members,
                             {node: tuple(items) for node, items in ways.items()}))
        self.buses: tuple[Bus, ...] = tuple(buses)
        for adapter in spec.adapters:  # file order
            info = self.adapters[component(ADAPTER, adapter.node, adapter.ifname)]
            self.adapters_of.setdefault((adapter.node, adapter.network), []).append(info)

        # Integer units for cpu (exact decimals) and memory (bytes over their gcd).
        cpus = [Fraction(group.requires.cpu) for group in spec.groups]
        cpus += [Fraction(node.capacity.cpu) for node in spec.nodes
                 if node.capacity is not None and node.capacity.cpu is not None]
        self.cpu_scale = reduce(lcm, (value.denominator for value in cpus), 1)
        memories = [group.requires.memory for group in spec.groups]
        memories += [node.capacity.memory for node in spec.nodes
                     if node.capacity is not None and node.capacity.memory is not None]
        self.memory_unit = reduce(gcd, (m for m in memories if m), 0) or 1

        def cpu_units(value) -> int:
            return int(Fraction(value) * self.cpu_scale)

        self.nodes: dict[str, NodeInfo] = {}
        node_buses: dict[str, list[int]] = {name: [] for name in spec.node_names}
        for bus in self.buses:
            for member in bus.members:
                node_buses[member].append(bus.index)
        for i, node in enumerate(spec.nodes):
            capacity = node.capacity
            self.nodes[node.name] = NodeInfo(
                node.name, i,
                (component(NODE, node.name),) + tuple(component(DOMAIN, d) for d in node.domains),
                tuple(node_buses[node.name]),
                cpu_units(capacity.cpu) if capacity is not None and capacity.cpu is not None else None,
                capacity.memory // self.memory_unit if capacity is not None and capacity.memory is not None else None)

        models = {group.name: group for group in cluster.groups}
        self.groups: dict[str, GroupInfo] = {}
        for i, group in enumerate(spec.groups):
            needs: dict[str, list[str]] = {}
            for label in group.service_ips:
                needs.setdefault(self.service_network[label], []).append(label)
            self.groups[group.name] = GroupInfo(
                group.name, i, models[group.name], group.nodes,
                tuple((network, tuple(labels)) for network, labels in sorted(needs.items())),
                group.concurrent, group.fallover,
                cpu_units(group.requires.cpu), group.requires.memory // self.memory_unit)
        self.group_names: tuple[str, ...] = tuple(self.groups)
        self._statuses: dict[frozenset[str], Status] = {}
        self._steps: dict[tuple, tuple[Placement, tuple[str, ...]]] = {}

    # ------------------------------------------------------------ helpers

    STATUS_CACHE = 1 << 14  # failure sets whose status is kept: the orders of one scenario share their prefixes

    def step(self, start: Placement, steps: tuple, current: Placement, before: frozenset[str],
             after: frozenset[str]) -> tuple[Placement, tuple[str, ...]]:
        """`runtime.core.placement.transition` of the last of `steps` (from `start`, `current` being where the earlier
        steps put the groups), kept: the orders of one scenario, and scenarios that share failures, share their
        first events."""
        key = (id(start), steps)  # the start placements of one analysis live as long as it
        found = self._steps.get(key)
        if found is None:
            if len(self._steps) >= self.STATUS_CACHE:
                self._steps.clear()
            result = transition(self.spec, current, self.status(before), self.status(after))
            found = self._steps[key] = (result.placement, result.changed)
        return found

    def status(self, failed: frozenset[str]) -> Status:
        """`runtime.core.topology.assess` of the failure set, kept for the scenarios that ask again."""
        found = self._statuses.get(failed)
        if found is None:
            if len(self._statuses) >= self.STATUS_CACHE:
                self._statuses.clear()
            found = self._statuses[failed] = assess(self.spec, failed)
        return found

    def cpu_text(self, units: int) -> str:
        value = Fraction(units, self.cpu_scale)
        return str(value.numerator) if value.denominator == 1 else f"{float(value):g}"

    def memory_text(self, units: int) -> str:
        from halang.model.literals import format_size

        return format_size(units * self.memory_unit)
