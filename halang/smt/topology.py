"""The failure universe of a cluster and the static structure the analysis works on.

Nothing here looks at a failure set: this module turns the resolved model into
the components that can fail (named exactly as LANGUAGE.md writes them), the
heartbeat *buses* nodes attach to, and per-group facts (networks needed,
requirements in integer units). Both the concrete evaluator (`evaluate.py`)
and the z3 encoding (`encode.py`) read it, so they cannot disagree about
structure.

Buses. Who hears whom reduces to nodes attached to shared media:

- a *subnet bus* per (network, IP version, network address, prefix): two
  adapters hear each other when both are usable and lie on one network and
  one subnet (address/prefix gives the same network *and prefix* for both;
  adapters whose prefixes differ, which is HA203, are on different buses).
  The switches of one network are interconnected, so every usable adapter
  on the bus hears every other. A node attaches through any of its adapters
  on the bus that is up, on an up node, hanging off an up switch.
- a *disk bus* per `disk` link: a node attaches while it is up, the link is
  up and its `linkend:NODE/LINK` is up.
- a *point-to-point bus* per `rs232`/`tmscsi`/`tmssa` link: its ends fail
  with the link, so a node attaches while it and the link are up. (A link
  with another number of nodes than two is HA307; if that is accepted, the
  link joins all its nodes the same way.)

Two live nodes are in one partition when a chain of buses joins them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from fractions import Fraction
from functools import reduce
from math import gcd, lcm

from halang.model.cluster import Cluster, Group

NODE, ADAPTER, SWITCH, LINK, LINKEND, DOMAIN = "node", "adapter", "switch", "link", "linkend", "domain"
KIND_ORDER = (NODE, DOMAIN, SWITCH, LINK, LINKEND, ADAPTER)


def component(kind: str, *parts: str) -> str:
    """`node:alpha`, `adapter:alpha/en0`, `linkend:wh1/hb_disk` ..."""
    return f"{kind}:{'/'.join(parts)}"


def describe_component(name: str) -> str:
    """A component in words, for messages: 'adapter en0 of alpha', "wh1's connection to hb_disk"."""
    kind, _, rest = name.partition(":")
    if kind == ADAPTER:
        node, _, ifname = rest.partition("/")
        return f"adapter {ifname} of {node}"
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

    @property
    def signature(self) -> tuple[frozenset[str], tuple[str, ...]]:
        """Groups with the same nodes (as a set) and service networks are hostable in the same scenarios."""
        return frozenset(self.nodes), self.networks


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

    def __init__(self, cluster: Cluster):
        self.cluster = cluster
        self.quorum = cluster.heartbeat.quorum
        self.node_count = len(cluster.nodes)

        components: dict[str, str] = {}  # name -> kind, insertion-ordered
        self.adapters: dict[str, AdapterInfo] = {}
        self.adapters_of: dict[tuple[str, str], list[AdapterInfo]] = {}  # (node, network) -> adapters
        self.service_network: dict[str, str] = {}
        self.network_ipat: dict[str, str] = {}
        self.services_of_network: dict[str, tuple[str, ...]] = {}
        self.service_address: dict[str, str] = {}

        for node in cluster.nodes:
            components[component(NODE, node.name)] = NODE
        for node in cluster.nodes:
            for domain in node.domains:
                components.setdefault(component(DOMAIN, domain), DOMAIN)

        bus_ways: list[dict[str, list[Way]]] = []
        bus_kind: list[str] = []
        bus_label: list[str] = []
        subnet_index: dict[tuple, int] = {}

        def new_bus(kind: str, label: str) -> int:
            bus_ways.append({})
            bus_kind.append(kind)
            bus_label.append(label)
            return len(bus_ways) - 1

        for network in cluster.networks:
            self.network_ipat[network.name] = network.ipat
            self.services_of_network[network.name] = tuple(service.name for service in network.services)
            for service in network.services:
                self.service_network[service.name] = network.name
                self.service_address[service.name] = service.address
            for adapter in network.adapters:
                bits = 32 if adapter.version == 4 else 128
                host_bits = bits - adapter.prefix
                net_value = (adapter.value >> host_bits) << host_bits
                key = (network.name, adapter.version, net_value, adapter.prefix)
                if key not in subnet_index:
                    subnet_index[key] = new_bus("subnet", f"{network.name} {_subnet_text(adapter.version, net_value, adapter.prefix)}")
                bus = subnet_index[key]
                switch = component(SWITCH, adapter.switch)
                components.setdefault(switch, SWITCH)
                name = component(ADAPTER, adapter.node, adapter.ifname)
                components[name] = ADAPTER
                info = AdapterInfo(name, adapter.node, adapter.ifname, network.name, switch, bus)
                self.adapters[name] = info
                self.adapters_of.setdefault((adapter.node, network.name), []).append(info)
                bus_ways[bus].setdefault(adapter.node, []).append(Way((name, switch), adapter=name))

        self.tie_breaker_bus: int | None = None
        for link in cluster.links:
            link_name = component(LINK, link.name)
            components[link_name] = LINK
            if link.type == "disk":
                bus = new_bus("disk", f"link {link.name}")
                for node in link.devices:
                    end = component(LINKEND, node, link.name)
                    components[end] = LINKEND
                    bus_ways[bus].setdefault(node, []).append(Way((link_name, end)))
                if cluster.heartbeat.tie_breaker == link.name:
                    self.tie_breaker_bus = bus
            else:
                bus = new_bus("p2p", f"link {link.name}")
                for node in link.devices:
                    bus_ways[bus].setdefault(node, []).append(Way((link_name,)))

        node_order = {node.name: i for i, node in enumerate(cluster.nodes)}
        self.buses: tuple[Bus, ...] = tuple(
            Bus(i, bus_kind[i], bus_label[i],
                tuple(sorted((n for n in bus_ways[i] if n in node_order), key=node_order.__getitem__)),
                {n: tuple(ways) for n, ways in bus_ways[i].items() if n in node_order})
            for i in range(len(bus_ways)))

        # Integer units for cpu (exact decimals) and memory (bytes over their gcd).
        cpus = [Fraction(repr(group.requires.cpu)) for group in cluster.groups]
        cpus += [Fraction(repr(node.capacity.cpu)) for node in cluster.nodes
                 if node.capacity is not None and node.capacity.cpu is not None]
        self.cpu_scale = reduce(lcm, (value.denominator for value in cpus), 1)
        memories = [group.requires.memory for group in cluster.groups]
        memories += [node.capacity.memory for node in cluster.nodes
                     if node.capacity is not None and node.capacity.memory is not None]
        self.memory_unit = reduce(gcd, (m for m in memories if m), 0) or 1

        def cpu_units(value: float) -> int:
            return int(Fraction(repr(value)) * self.cpu_scale)

        self.nodes: dict[str, NodeInfo] = {}
        node_buses: dict[str, list[int]] = {node.name: [] for node in cluster.nodes}
        for bus in self.buses:
            for member in bus.members:
                node_buses[member].append(bus.index)
        for i, node in enumerate(cluster.nodes):
            capacity = node.capacity
            self.nodes[node.name] = NodeInfo(
                node.name, i,
                (component(NODE, node.name),) + tuple(component(DOMAIN, d) for d in node.domains),
                tuple(node_buses[node.name]),
                cpu_units(capacity.cpu) if capacity is not None and capacity.cpu is not None else None,
                capacity.memory // self.memory_unit if capacity is not None and capacity.memory is not None else None)
        self.node_names: tuple[str, ...] = tuple(node.name for node in cluster.nodes)

        self.groups: dict[str, GroupInfo] = {}
        for i, group in enumerate(cluster.groups):
            needs: dict[str, list[str]] = {}
            for label in group.service_ips:
                if label in self.service_network:
                    needs.setdefault(self.service_network[label], []).append(label)
            self.groups[group.name] = GroupInfo(
                group.name, i, group, tuple(n for n in group.nodes if n in node_order),
                tuple((network, tuple(labels)) for network, labels in sorted(needs.items())),
                group.concurrent, group.fallover,
                cpu_units(group.requires.cpu), group.requires.memory // self.memory_unit)
        self.group_names: tuple[str, ...] = tuple(self.groups)

        order = {kind: i for i, kind in enumerate(KIND_ORDER)}
        self.components: tuple[str, ...] = tuple(sorted(components, key=lambda c: (order[components[c]], c)))
        self.kind_of: dict[str, str] = components

    # ------------------------------------------------------------ helpers

    def cpu_text(self, units: int) -> str:
        value = Fraction(units, self.cpu_scale)
        return str(value.numerator) if value.denominator == 1 else f"{float(value):g}"

    def memory_text(self, units: int) -> str:
        from halang.model.literals import format_size

        return format_size(units * self.memory_unit)


def _subnet_text(version: int, value: int, prefix: int) -> str:
    import ipaddress

    address = ipaddress.IPv4Address(value) if version == 4 else ipaddress.IPv6Address(value)
    return f"{address}/{prefix}"
