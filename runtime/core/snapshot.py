"""The cluster as the runtime sees it: the bundle's `snapshot.json`, read back.

`load_snapshot(data)` takes the parsed JSON that `Cluster.to_json()` writes
(format 1) and returns a frozen `ClusterSpec`. The reader is strict: a key
that is missing or unknown, a value of the wrong type, a duplicate name or a
reference to a name that is not defined raises `SnapshotError` naming the
path of the bad value (`groups[1].nodes[0]`), because a node that misreads
its cluster must stop before it acts, not guess.

Beside the mirrored fields, `load_snapshot` precomputes what placement needs:
- every adapter's subnet as `(version, network address as int, prefix)`,
  parsed with `ipaddress` (two adapters are on the same subnet when these
  three are equal: "address/prefix gives the same network for both");
- indexes by name (nodes, networks, links, groups, service labels, adapters
  by `(node, ifname)`), the adapters of each node, the switches and failure
  domains in order of first appearance, the nodes of each domain;
- `cpu` values as `Decimal` (from the JSON number's shortest text), so that
  sums of requirements compare exactly with capacities (1.1 + 2.2 is 3.3).

Interpretations:
- Switch identity is its name: the snapshot already holds each adapter's
  resolved switch (the named one, else the network's implicit switch, named
  after the network), and one name is one switch cluster-wide.
- The JSON writer sorts keys, so a link's `devices` comes back in name order;
  `LinkSpec.nodes` is therefore given in the order of the file's `node`
  blocks, which is stable whatever the JSON key order.
- A service without a prefix (no boot adapter to borrow it from) has
  `subnet = None`; placement never needs a service's subnet.
- A network's `ping_targets` is the one key that may be absent: halang
  writes it only when the file names targets, so a snapshot without it
  (every snapshot written before targets existed) has none.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Dict, FrozenSet, List, Mapping, Optional, Tuple

FORMAT_VERSION = 1

QUORUMS = ("majority", "none")
NETWORK_TYPES = ("ether", "token", "fddi", "atm", "socc", "slip")
IPATS = ("alias", "replace")
ROLES = ("boot", "standby")
LINK_TYPES = ("rs232", "disk", "tmscsi", "tmssa")
STARTUPS = ("home_node", "first_available", "all_available")
FALLOVERS = ("next_priority", "least_loaded", "bring_offline")
FALLBACKS = ("never", "higher_priority")
EVENT_KINDS = ("node_up", "node_down", "network_up", "network_down", "adapter_down", "adapter_up",
               "rg_online", "rg_offline", "rg_move", "split_brain")

Subnet = Tuple[int, int, int]  # (IP version, network address as an integer, prefix length)


class SnapshotError(ValueError):
    """The snapshot is not one this runtime can read; the message names the bad value's path."""


# ------------------------------------------------------------------ the specs


@dataclass(frozen=True)
class CapacitySpec:
    cpu: Optional[Decimal]  # None: unlimited
    memory: Optional[int]  # bytes; None: unlimited


@dataclass(frozen=True)
class SshSpec:
    user: Optional[str]
    host: str
    port: int


@dataclass(frozen=True)
class NodeSpec:
    name: str
    capacity: Optional[CapacitySpec]
    domains: Tuple[str, ...]
    ssh: Optional[SshSpec]


@dataclass(frozen=True)
class AdapterSpec:
    network: str
    node: str
    ifname: str
    role: str  # boot | standby
    address: str
    prefix: int
    switch: str  # resolved: the named switch, or the network's implicit one
    version: int
    value: int  # the address as an integer
    subnet: Subnet

    @property
    def key(self) -> Tuple[str, str]:
        return (self.node, self.ifname)

    @property
    def label(self) -> str:
        """`NODE/IFNAME`, as in the component name `adapter:NODE/IFNAME`."""
        return f"{self.node}/{self.ifname}"


@dataclass(frozen=True)
class ServiceSpec:
    network: str
    name: str
    address: str
    prefix: Optional[int]
    version: int
    value: int
    subnet: Optional[Subnet]


@dataclass(frozen=True)
class NetworkSpec:
    name: str
    type: str
    ipat: str  # alias | replace
    adapters: Tuple[AdapterSpec, ...]
    services: Tuple[ServiceSpec, ...]
    ping_targets: Tuple[str, ...] = ()  # addresses outside the cluster the adapters probe (LANGUAGE.md)


@dataclass(frozen=True)
class LinkSpec:
    name: str
    type: str  # rs232 | disk | tmscsi | tmssa
    devices: Tuple[Tuple[str, str], ...]  # (node, device path) in the order of the file's nodes
    nodes: Tuple[str, ...]

    @property
    def point_to_point(self) -> bool:
        return self.type != "disk"

    @property
    def disk(self) -> bool:
        return self.type == "disk"


@dataclass(frozen=True)
class HeartbeatSpec:
    interval_ms: int
    miss_limit: int
    port: int
    key_file: Optional[str]
    quorum: str  # majority | none
    tie_breaker: Optional[str]

    @property
    def detection_ms(self) -> int:
        return self.interval_ms * self.miss_limit


@dataclass(frozen=True)
class MonitorSpec:
    command: Optional[str]
    process: Optional[str]
    interval_ms: int
    timeout_ms: int
    restarts: int
    stabilization_ms: int


@dataclass(frozen=True)
class ApplicationSpec:
    name: str
    start: str
    stop: str
    timeout_ms: int
    monitor: Optional[MonitorSpec]


@dataclass(frozen=True)
class FilesystemSpec:
    mount_point: str
    device: Optional[str]
    fstype: Optional[str]
    options: Optional[str]


@dataclass(frozen=True)
class RequirementsSpec:
    cpu: Decimal
    memory: int


@dataclass(frozen=True)
class GroupSpec:
    name: str
    nodes: Tuple[str, ...]
    startup: str
    fallover: str
    fallback: str
    fallback_delay_ms: int
    service_ips: Tuple[str, ...]
    volume_groups: Tuple[str, ...]
    filesystems: Tuple[FilesystemSpec, ...]
    applications: Tuple[ApplicationSpec, ...]
    requires: RequirementsSpec
    rto_ms: Optional[int]
    after: Tuple[str, ...]
    same_node_as: Tuple[str, ...]
    different_node_from: Tuple[str, ...]

    @property
    def concurrent(self) -> bool:
        return self.startup == "all_available"


@dataclass(frozen=True)
class EventSpec:
    kind: str
    pre: Optional[str]
    post: Optional[str]
    notify: Optional[str]
    recovery: Optional[str]


@dataclass(frozen=True)
class AcceptSpec:
    code: str
    reason: str


def _index() -> Any:
    return field(default_factory=lambda: MappingProxyType({}), compare=False, hash=False, repr=False)


@dataclass(frozen=True)
class ClusterSpec:
    format: int
    name: str
    heartbeat: HeartbeatSpec
    nodes: Tuple[NodeSpec, ...]
    networks: Tuple[NetworkSpec, ...]
    links: Tuple[LinkSpec, ...]
    groups: Tuple[GroupSpec, ...]
    events: Tuple[EventSpec, ...]
    accepts: Tuple[AcceptSpec, ...]
    # Precomputed by load_snapshot (left out of equality and repr).
    node_names: Tuple[str, ...] = field(default=(), compare=False, repr=False)
    adapters: Tuple[AdapterSpec, ...] = field(default=(), compare=False, repr=False)  # network order, then line order
    switches: Tuple[str, ...] = field(default=(), compare=False, repr=False)  # first appearance among adapters
    domains: Tuple[str, ...] = field(default=(), compare=False, repr=False)  # first appearance among nodes
    node_index: Mapping[str, int] = _index()
    node_by_name: Mapping[str, NodeSpec] = _index()
    network_by_name: Mapping[str, NetworkSpec] = _index()
    network_index: Mapping[str, int] = _index()
    link_by_name: Mapping[str, LinkSpec] = _index()
    group_by_name: Mapping[str, GroupSpec] = _index()
    group_index: Mapping[str, int] = _index()
    service_by_name: Mapping[str, ServiceSpec] = _index()
    service_index: Mapping[str, int] = _index()  # position among all service labels, networks in file order
    adapter_by_key: Mapping[Tuple[str, str], AdapterSpec] = _index()
    adapters_by_node: Mapping[str, Tuple[AdapterSpec, ...]] = _index()
    group_networks: Mapping[str, Tuple[str, ...]] = _index()  # the networks of a group's service addresses
    domain_nodes: Mapping[str, Tuple[str, ...]] = _index()
    groups_by_node: Mapping[str, Tuple[str, ...]] = _index()  # node -> the groups whose list names it, file order
    # group -> the nodes of its list with an adapter on every network it needs: who can host it with nothing failed
    static_hosts: Mapping[str, FrozenSet[str]] = _index()
    # Structures other runtime modules derive from the spec once and keep (heartbeat media, ...).
    derived: Dict[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)

    def node(self, name: str) -> NodeSpec:
        return self.node_by_name[name]

    def group(self, name: str) -> GroupSpec:
        return self.group_by_name[name]

    def network(self, name: str) -> NetworkSpec:
        return self.network_by_name[name]

    def link(self, name: str) -> LinkSpec:
        return self.link_by_name[name]

    def service(self, name: str) -> ServiceSpec:
        return self.service_by_name[name]


# ------------------------------------------------------------------ reading


# The keys of each object of a format-1 snapshot, exactly.
HEARTBEAT_KEYS = frozenset(("interval_ms", "key_file", "miss_limit", "port", "quorum", "tie_breaker"))
NODE_KEYS = frozenset(("capacity", "domains", "name", "ssh"))
CPU_MEMORY_KEYS = frozenset(("cpu", "memory"))
SSH_KEYS = frozenset(("host", "port", "user"))
NETWORK_KEYS = frozenset(("adapters", "ipat", "name", "ping_targets", "services", "type"))
# Keys a snapshot may leave out: halang writes them only when they hold something.
OPTIONAL_NETWORK_KEYS = frozenset(("ping_targets",))
ADAPTER_KEYS = frozenset(("address", "ifname", "node", "prefix", "role", "switch"))
SERVICE_KEYS = frozenset(("address", "name", "prefix"))
LINK_KEYS = frozenset(("devices", "name", "type"))
APPLICATION_KEYS = frozenset(("monitor", "name", "start", "stop", "timeout_ms"))
FILESYSTEM_KEYS = frozenset(("device", "fstype", "mount_point", "options"))
EVENT_KEYS = frozenset(("kind", "notify", "post", "pre", "recovery"))
ACCEPT_KEYS = frozenset(("code", "reason"))
GROUP_KEYS = frozenset(("after", "applications", "different_node_from", "fallback", "fallback_delay_ms",
                        "fallover", "filesystems", "name", "nodes", "requires", "rto_ms", "same_node_as",
                        "service_ips", "startup", "volume_groups"))
MONITOR_KEYS = frozenset(("command", "interval_ms", "process", "restarts", "stabilization_ms", "timeout_ms"))
CLUSTER_KEYS = frozenset(("accepts", "events", "format", "groups", "heartbeat", "links", "name", "networks",
                             "nodes"))


class _Object:
    """One JSON object with its path, handing out checked values."""

    def __init__(self, data: Any, path: str, keys: FrozenSet[str], optional: FrozenSet[str] = frozenset()):
        if not isinstance(data, dict):
            raise SnapshotError(f"{path or 'snapshot'}: expected an object, got {_kind(data)}")
        self.data = data
        self.path = path
        if data.keys() == keys:
            return
        missing = sorted(key for key in keys if key not in data and key not in optional)
        if missing:
            raise SnapshotError(f"{_at(path)}missing key{'s' if len(missing) > 1 else ''} "
                                + ", ".join(repr(key) for key in missing))
        unknown = sorted(str(key) for key in data if key not in keys)
        if unknown:
            raise SnapshotError(f"{_at(path)}unknown key{'s' if len(unknown) > 1 else ''} "
                                + ", ".join(repr(key) for key in unknown)
                                + f" (this runtime reads snapshot format {FORMAT_VERSION})")

    def sub(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def text(self, key: str, choices: Tuple[str, ...] = ()) -> str:
        value = self.data[key]
        if not isinstance(value, str):
            raise SnapshotError(f"{self.sub(key)}: expected a string, got {_kind(value)}")
        if choices and value not in choices:
            raise SnapshotError(f"{self.sub(key)}: '{value}' is not one of {', '.join(choices)}")
        if not choices and not value:
            raise SnapshotError(f"{self.sub(key)}: expected a non-empty string")
        return value

    def opt_text(self, key: str) -> Optional[str]:
        return None if self.data[key] is None else self.text(key)

    def integer(self, key: str, minimum: int = 0) -> int:
        value = self.data[key]
        if isinstance(value, bool) or not isinstance(value, int):
            raise SnapshotError(f"{self.sub(key)}: expected an integer, got {_kind(value)}")
        if value < minimum:
            raise SnapshotError(f"{self.sub(key)}: {value} is below {minimum}")
        return value

    def opt_integer(self, key: str, minimum: int = 0) -> Optional[int]:
        return None if self.data[key] is None else self.integer(key, minimum)

    def number(self, key: str) -> Decimal:
        value = self.data[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise SnapshotError(f"{self.sub(key)}: expected a number, got {_kind(value)}")
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        if not number.is_finite() or number < 0:
            raise SnapshotError(f"{self.sub(key)}: {value} is not a number of zero or more")
        return number

    def opt_number(self, key: str) -> Optional[Decimal]:
        return None if self.data[key] is None else self.number(key)

    def items(self, key: str) -> List[Any]:
        value = self.data[key]
        if not isinstance(value, list):
            raise SnapshotError(f"{self.sub(key)}: expected a list, got {_kind(value)}")
        return value

    def names(self, key: str) -> Tuple[str, ...]:
        items = self.items(key)
        for number, item in enumerate(items):
            if not isinstance(item, str) or not item:
                raise SnapshotError(f"{self.sub(key)}[{number}]: expected a name, got {_kind(item)}")
        return tuple(items)

    def addresses(self, key: str) -> Tuple[str, ...]:
        """A list of IP addresses without a prefix, each once."""
        items = self.items(key)
        for number, item in enumerate(items):
            if not isinstance(item, str):
                raise SnapshotError(f"{self.sub(key)}[{number}]: expected an address, got {_kind(item)}")
            try:
                ipaddress.ip_address(item)
            except ValueError:
                raise SnapshotError(f"{self.sub(key)}[{number}]: '{item}' is not an IP address") from None
        _no_duplicates(tuple(items), self.sub(key), "address")
        return tuple(items)

    def objects(self, key: str) -> List[Tuple[Any, str]]:
        return [(item, f"{self.sub(key)}[{number}]") for number, item in enumerate(self.items(key))]


def _at(path: str) -> str:
    return f"{path}: " if path else "snapshot: "


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _address(text: str, prefix: Optional[int], path: str) -> Tuple[int, int, Optional[Subnet]]:
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        raise SnapshotError(f"{path}.address: '{text}' is not an IP address") from None
    if prefix is None:
        return address.version, int(address), None
    bits = address.max_prefixlen
    if prefix > bits:
        raise SnapshotError(f"{path}.prefix: /{prefix} is too long for IPv{address.version}")
    value = int(address)
    network = value >> (bits - prefix) << (bits - prefix)  # the host bits cleared, as ip_network(strict=False)
    return address.version, value, (address.version, network, prefix)


def _heartbeat(data: Any) -> HeartbeatSpec:
    obj = _Object(data, "heartbeat", HEARTBEAT_KEYS)
    return HeartbeatSpec(interval_ms=obj.integer("interval_ms", 1), miss_limit=obj.integer("miss_limit", 1),
                         port=obj.integer("port", 1), key_file=obj.opt_text("key_file"),
                         quorum=obj.text("quorum", QUORUMS), tie_breaker=obj.opt_text("tie_breaker"))


def _node(data: Any, path: str) -> NodeSpec:
    obj = _Object(data, path, NODE_KEYS)
    capacity = None
    if obj.data["capacity"] is not None:
        cap = _Object(obj.data["capacity"], obj.sub("capacity"), CPU_MEMORY_KEYS)
        capacity = CapacitySpec(cpu=cap.opt_number("cpu"), memory=cap.opt_integer("memory"))
    ssh = None
    if obj.data["ssh"] is not None:
        raw = _Object(obj.data["ssh"], obj.sub("ssh"), SSH_KEYS)
        ssh = SshSpec(user=raw.opt_text("user"), host=raw.text("host"), port=raw.integer("port", 1))
    domains = obj.names("domains")
    _no_duplicates(domains, obj.sub("domains"), "domain")
    return NodeSpec(name=obj.text("name"), capacity=capacity, domains=domains, ssh=ssh)


def _network(data: Any, path: str) -> NetworkSpec:
    obj = _Object(data, path, NETWORK_KEYS, OPTIONAL_NETWORK_KEYS)
    name = obj.text("name")
    adapters = []
    for item, item_path in obj.objects("adapters"):
        raw = _Object(item, item_path, ADAPTER_KEYS)
        address, prefix = raw.text("address"), raw.integer("prefix")
        version, value, subnet = _address(address, prefix, item_path)
        assert subnet is not None
        adapters.append(AdapterSpec(network=name, node=raw.text("node"), ifname=raw.text("ifname"),
                                    role=raw.text("role", ROLES), address=address, prefix=prefix,
                                    switch=raw.text("switch"), version=version, value=value, subnet=subnet))
    services = []
    for item, item_path in obj.objects("services"):
        raw = _Object(item, item_path, SERVICE_KEYS)
        address, prefix = raw.text("address"), raw.opt_integer("prefix")
        version, value, subnet = _address(address, prefix, item_path)
        services.append(ServiceSpec(network=name, name=raw.text("name"), address=address, prefix=prefix,
                                    version=version, value=value, subnet=subnet))
    ping_targets = obj.addresses("ping_targets") if "ping_targets" in obj.data else ()
    return NetworkSpec(name=name, type=obj.text("type", NETWORK_TYPES), ipat=obj.text("ipat", IPATS),
                       adapters=tuple(adapters), services=tuple(services), ping_targets=ping_targets)


def _link(data: Any, path: str, node_order: Mapping[str, int]) -> LinkSpec:
    obj = _Object(data, path, LINK_KEYS)
    devices = obj.data["devices"]
    if not isinstance(devices, dict):
        raise SnapshotError(f"{obj.sub('devices')}: expected an object of node -> device, got {_kind(devices)}")
    for node, device in devices.items():
        if node not in node_order:
            raise SnapshotError(f"{obj.sub('devices')}: names no node '{node}'")
        if not isinstance(device, str) or not device:
            raise SnapshotError(f"{obj.sub('devices')}.{node}: expected a device path, got {_kind(device)}")
    ordered = tuple(sorted(devices.items(), key=lambda item: node_order[item[0]]))
    return LinkSpec(name=obj.text("name"), type=obj.text("type", LINK_TYPES), devices=ordered,
                    nodes=tuple(node for node, _ in ordered))


def _group(data: Any, path: str) -> GroupSpec:
    obj = _Object(data, path, GROUP_KEYS)
    applications = []
    for item, item_path in obj.objects("applications"):
        raw = _Object(item, item_path, APPLICATION_KEYS)
        monitor = None
        if raw.data["monitor"] is not None:
            mon = _Object(raw.data["monitor"], raw.sub("monitor"),
                          MONITOR_KEYS)
            monitor = MonitorSpec(command=mon.opt_text("command"), process=mon.opt_text("process"),
                                  interval_ms=mon.integer("interval_ms"), timeout_ms=mon.integer("timeout_ms"),
                                  restarts=mon.integer("restarts"), stabilization_ms=mon.integer("stabilization_ms"))
        applications.append(ApplicationSpec(name=raw.text("name"), start=raw.text("start"), stop=raw.text("stop"),
                                            timeout_ms=raw.integer("timeout_ms"), monitor=monitor))
    filesystems = []
    for item, item_path in obj.objects("filesystems"):
        raw = _Object(item, item_path, FILESYSTEM_KEYS)
        filesystems.append(FilesystemSpec(mount_point=raw.text("mount_point"), device=raw.opt_text("device"),
                                          fstype=raw.opt_text("fstype"), options=raw.opt_text("options")))
    requires = _Object(obj.data["requires"], obj.sub("requires"), CPU_MEMORY_KEYS)
    lists = {}
    for key in ("nodes", "service_ips", "volume_groups", "after", "same_node_as", "different_node_from"):
        lists[key] = obj.names(key)
        _no_duplicates(lists[key], obj.sub(key), "name")
    return GroupSpec(name=obj.text("name"), startup=obj.text("startup", STARTUPS),
                     fallover=obj.text("fallover", FALLOVERS), fallback=obj.text("fallback", FALLBACKS),
                     fallback_delay_ms=obj.integer("fallback_delay_ms"), filesystems=tuple(filesystems),
                     applications=tuple(applications),
                     requires=RequirementsSpec(cpu=requires.number("cpu"), memory=requires.integer("memory")),
                     rto_ms=obj.opt_integer("rto_ms"), **lists)


def _no_duplicates(names: Tuple[str, ...], path: str, what: str) -> None:
    seen = set()
    for name in names:
        if name in seen:
            raise SnapshotError(f"{path}: {what} '{name}' is listed twice")
        seen.add(name)


def _unique(items: List[Tuple[Any, str]], path: str, what: str) -> Dict[Any, Any]:
    by_name: Dict[Any, Any] = {}
    for key, item in items:
        if key in by_name:
            raise SnapshotError(f"{path}: {what} '{_show(key)}' is defined twice")
        by_name[key] = item
    return by_name


def _show(key: Any) -> str:
    return "/".join(key) if isinstance(key, tuple) else str(key)


def load_snapshot(data: Any) -> ClusterSpec:
    """The cluster of a parsed snapshot JSON document; SnapshotError if it is not a valid format-1 snapshot."""
    obj = _Object(data, "", CLUSTER_KEYS)
    version = obj.data["format"]
    if version != FORMAT_VERSION or isinstance(version, bool):
        raise SnapshotError(f"format: this runtime reads snapshot format {FORMAT_VERSION}, not {version!r}")
    heartbeat = _heartbeat(obj.data["heartbeat"])
    nodes = tuple(_node(item, path) for item, path in obj.objects("nodes"))
    node_index = {node.name: number for number, node in enumerate(nodes)}
    networks = tuple(_network(item, path) for item, path in obj.objects("networks"))
    links = tuple(_link(item, path, node_index) for item, path in obj.objects("links"))
    groups = tuple(_group(item, path) for item, path in obj.objects("groups"))
    events = []
    for item, path in obj.objects("events"):
        raw = _Object(item, path, EVENT_KEYS)
        events.append(EventSpec(kind=raw.text("kind", EVENT_KINDS), pre=raw.opt_text("pre"), post=raw.opt_text("post"),
                                notify=raw.opt_text("notify"), recovery=raw.opt_text("recovery")))
    accepts = []
    for item, path in obj.objects("accepts"):
        raw = _Object(item, path, ACCEPT_KEYS)
        accepts.append(AcceptSpec(code=raw.text("code"), reason=raw.text("reason")))

    return make_spec(obj.text("name"), heartbeat, nodes, networks, links, groups, tuple(events), tuple(accepts))


def make_spec(name: str, heartbeat: HeartbeatSpec, nodes: Tuple[NodeSpec, ...], networks: Tuple[NetworkSpec, ...],
              links: Tuple[LinkSpec, ...], groups: Tuple[GroupSpec, ...], events: Tuple[EventSpec, ...] = (),
              accepts: Tuple[AcceptSpec, ...] = ()) -> ClusterSpec:
    """A `ClusterSpec` with its indexes, from specs built by `load_snapshot` or straight from halang's model.

    SnapshotError for a duplicate name or a reference to a name that is not defined.
    """
    node_by_name = _unique([(node.name, node) for node in nodes], "nodes", "node")
    node_index = {node.name: number for number, node in enumerate(nodes)}
    network_by_name = _unique([(network.name, network) for network in networks], "networks", "network")
    link_by_name = _unique([(link.name, link) for link in links], "links", "link")
    group_by_name = _unique([(group.name, group) for group in groups], "groups", "group")
    adapters = tuple(adapter for network in networks for adapter in network.adapters)
    adapter_by_key = _unique([(adapter.key, adapter) for adapter in adapters], "networks", "adapter")
    service_by_name = _unique([(service.name, service) for network in networks for service in network.services],
                              "networks", "service label")

    for number, network in enumerate(networks):
        for line, adapter in enumerate(network.adapters):
            if adapter.node not in node_by_name:
                raise SnapshotError(f"networks[{number}].adapters[{line}].node: names no node '{adapter.node}'")
    for number, link in enumerate(links):
        for node in link.nodes:
            if node not in node_by_name:
                raise SnapshotError(f"links[{number}].devices: names no node '{node}'")
    if heartbeat.tie_breaker is not None and heartbeat.tie_breaker not in link_by_name:
        raise SnapshotError(f"heartbeat.tie_breaker: names no link '{heartbeat.tie_breaker}'")
    for number, group in enumerate(groups):
        for key, known, what in (("nodes", node_by_name, "node"), ("service_ips", service_by_name, "service label"),
                                 ("after", group_by_name, "group"), ("same_node_as", group_by_name, "group"),
                                 ("different_node_from", group_by_name, "group")):
            for position, item in enumerate(getattr(group, key)):
                if item not in known:
                    raise SnapshotError(f"groups[{number}].{key}[{position}]: names no {what} '{item}'")

    switches: Dict[str, None] = {}
    for adapter in adapters:
        switches.setdefault(adapter.switch, None)
    domain_nodes: Dict[str, List[str]] = {}
    for node in nodes:
        for domain in node.domains:
            domain_nodes.setdefault(domain, []).append(node.name)
    adapters_by_node: Dict[str, List[AdapterSpec]] = {node.name: [] for node in nodes}
    for adapter in adapters:
        adapters_by_node[adapter.node].append(adapter)
    group_networks = {group.name: tuple(dict.fromkeys(service_by_name[label].network for label in group.service_ips))
                      for group in groups}
    on_network = {(adapter.node, adapter.network) for adapter in adapters}
    groups_by_node: Dict[str, List[str]] = {node.name: [] for node in nodes}
    static_hosts = {}
    for group in groups:
        for node in group.nodes:
            groups_by_node[node].append(group.name)
        needs = group_networks[group.name]
        static_hosts[group.name] = frozenset(node for node in group.nodes
                                             if all((node, network) in on_network for network in needs))

    return ClusterSpec(
        format=FORMAT_VERSION, name=name, heartbeat=heartbeat, nodes=nodes, networks=networks, links=links,
        groups=groups, events=events, accepts=accepts,
        node_names=tuple(node.name for node in nodes), adapters=adapters, switches=tuple(switches),
        domains=tuple(domain_nodes),
        node_index=MappingProxyType(node_index), node_by_name=MappingProxyType(node_by_name),
        network_by_name=MappingProxyType(network_by_name),
        network_index=MappingProxyType({network.name: number for number, network in enumerate(networks)}),
        link_by_name=MappingProxyType(link_by_name),
        group_by_name=MappingProxyType(group_by_name),
        group_index=MappingProxyType({group.name: number for number, group in enumerate(groups)}),
        service_by_name=MappingProxyType(service_by_name),
        service_index=MappingProxyType({name: number for number, name in enumerate(service_by_name)}),
        adapter_by_key=MappingProxyType(adapter_by_key),
        adapters_by_node=MappingProxyType({name: tuple(items) for name, items in adapters_by_node.items()}),
        group_networks=MappingProxyType(group_networks),
        domain_nodes=MappingProxyType({name: tuple(items) for name, items in domain_nodes.items()}),
        groups_by_node=MappingProxyType({name: tuple(items) for name, items in groups_by_node.items()}),
        static_hosts=MappingProxyType(static_hosts),
    )
