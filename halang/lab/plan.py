"""The lab as data: what `build` creates for a cluster, named and addressed, before anything exists.

`plan_lab(snapshot, prefix, base_dir)` is pure (no I/O): from the cluster's
snapshot (`Cluster.snapshot()`, what the runtime reads) it names every
namespace, bridge, veth and file of one lab, and picks the client addresses.
The plan is JSON (`LabPlan.to_json` / `LabPlan.from_json`), so the state file
of a lab holds it and a later process (`halang lab down`) can act on it alone.

Naming (the prefix is `hl` and 6 random hex digits, e.g. `hl3fa2c1`):

| what | where | name |
|---|---|---|
| the switch namespace | `/run/netns` | `PREFIX-sw` |
| a node's namespace | `/run/netns` | `PREFIX-n-NODE` |
| a network's client namespace | `/run/netns` | `PREFIX-c-NETWORK` |
| a network's ping-target namespace | `/run/netns` | `PREFIX-t-NETWORK` |
| the core bridge (never fails) | switch namespace | `PREFIXcore` |
| switch number I's bridge | switch namespace | `PREFIXbI` |
| its uplink to the core | switch namespace | `PREFIXuIs` (in the switch), `PREFIXuIc` (in the core) |
| adapter number I's switch port | switch namespace | `PREFIXaI` |
| its node end | the node's namespace | the file's IFNAME |
| client number I's switch port | switch namespace | `PREFIXcI` (in the core) |
| its client end | the client's namespace | `eth0` |
| ping-target namespace number I's port | switch namespace | `PREFIXtI` (in the core) |
| its end | the ping-target namespace | `eth0` |
| the lab's files | `BASE/PREFIX/` | `lab.json`, `disk-LINK`, `disk-LINK-NODE`, `tty-LINK-NODE`, ... |

Switches: one bridge per switch name (cluster-wide, as `runtime.core.failures`
says), each uplinked to one core bridge, because "the switches of one
network are taken to be interconnected" (LANGUAGE.md). One core for all
networks keeps the bridges a tree (a core per network would make a loop
as soon as two networks share two switches); networks never share a subnet
(HA204), so sharing layer 2 is invisible to IP. The clients hang off the
core: they stand for the rest of the LAN, so one failed switch cuts only
the adapters on it.

Ping targets: a network with `ping_targets` gets a namespace on the core that
holds each target address and so answers ICMP echo (and ICMPv6) there. On
the core, because a target "never fails" (LANGUAGE.md) and an adapter
reaches it "as for hearing, in both directions through the adapter's port
and switch": only the adapter's own port and switch may cut it off. Off one
switch, a hung switch would cut the target off the adapters of every other
switch of its subnet too. A target gets the prefix of the network's subnet
it lies in; one in no subnet of its network is probed by no adapter and
gets no address.

Addresses: inside the lab only the file's own addresses (adapters, services,
ping targets), and for each network's client one address in each of its
boot subnets, chosen from the top of the subnet down, outside every address
of the file (IPv6 skips the 128 highest interface identifiers, RFC 2526's
subnet anycast). Every adapter's subnet, every service address and every
ping target must lie in 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 or
fd00::/8; otherwise the lab refuses.
"""

from __future__ import annotations

import ipaddress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from runtime.core.snapshot import ClusterSpec, SnapshotError, load_snapshot

FORMAT = 1
IFNAMSIZ = 15  # Linux's interface-name limit (IFNAMSIZ - 1)
PRIVATE = tuple(ipaddress.ip_network(text) for text in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
                                                        "fd00::/8"))
PRIVATE_TEXT = "10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 or fd00::/8"
DISK_SIZE = 1 << 20  # bytes of a disk link's shared file (sparse), at least DISK_PER_NODE a node
DISK_PER_NODE = 64 << 10
CLIENT_IFNAME = "eth0"


class LabError(Exception):
    """The lab cannot be planned, built, changed or torn down; the message says why and what to do."""


@dataclass(frozen=True)
class NodePlan:
    name: str
    netns: str


@dataclass(frozen=True)
class SwitchPlan:
    name: str
    bridge: str
    uplink: str  # the switch's end of its uplink, a port of its bridge
    core_port: str  # the core's end


@dataclass(frozen=True)
class AdapterPlan:
    node: str
    ifname: str
    network: str
    role: str
    address: str  # "10.10.1.11/24"
    switch: str
    port: str  # the veth end in the switch namespace, a port of the switch's bridge

    @property
    def label(self) -> str:
        return f"{self.node}/{self.ifname}"

    @property
    def ip(self) -> str:
        return self.address.partition("/")[0]


@dataclass(frozen=True)
class ClientPlan:
    network: str
    netns: str
    port: str  # in the switch namespace, a port of the core bridge
    ifname: str
    addresses: tuple[str, ...]  # "10.10.1.254/24", one in each boot subnet
    routes: tuple[str, ...]  # service subnets of an alias network, on-link in the client

    @property
    def ips(self) -> tuple[str, ...]:
        return tuple(address.partition("/")[0] for address in self.addresses)


@dataclass(frozen=True)
class TargetPlan:
    network: str
    netns: str
    port: str  # in the switch namespace, a port of the core bridge
    ifname: str
    addresses: tuple[str, ...]  # "10.10.1.1/24": each target, with the prefix of its network's subnet it lies in

    @property
    def ips(self) -> tuple[str, ...]:
        return tuple(address.partition("/")[0] for address in self.addresses)


@dataclass(frozen=True)
class DiskPlan:
    link: str
    file: str  # the shared file
    size: int
    paths: dict[str, str]  # node -> its path to the disk (a symlink to `file` while connected)
    cut: dict[str, str]  # node -> what its path points at while cut (a file that does not exist)


@dataclass(frozen=True)
class SerialPlan:
    link: str
    type: str  # rs232, tmscsi, tmssa
    nodes: tuple[str, str]
    paths: dict[str, str]  # node -> its end (a symlink to a pty the relay holds)
    mode_file: str  # where the relay says whether it forwards
    log_file: str


@dataclass(frozen=True)
class LabPlan:
    prefix: str
    cluster: str
    source: str | None
    workdir: str
    state_file: str
    switch_netns: str
    core: str
    nodes: tuple[NodePlan, ...]
    switches: tuple[SwitchPlan, ...]
    adapters: tuple[AdapterPlan, ...]
    clients: tuple[ClientPlan, ...]
    targets: tuple[TargetPlan, ...]
    disks: tuple[DiskPlan, ...]
    serials: tuple[SerialPlan, ...]
    snapshot: dict[str, Any] = field(repr=False, compare=False)

    # ------------------------------------------------------------ look-ups

    @property
    def namespaces(self) -> tuple[str, ...]:
        """Every namespace of the lab, the switch namespace first."""
        return (self.switch_netns, *(node.netns for node in self.nodes), *(client.netns for client in self.clients),
                *(target.netns for target in self.targets))

    def node(self, name: str) -> NodePlan:
        for node in self.nodes:
            if node.name == name:
                return node
        raise LabError(f"the lab has no node '{name}' (its nodes: {', '.join(n.name for n in self.nodes)})")

    def netns(self, node: str) -> str:
        return self.node(node).netns

    def adapter(self, node: str, ifname: str) -> AdapterPlan:
        for adapter in self.adapters:
            if adapter.node == node and adapter.ifname == ifname:
                return adapter
        raise LabError(f"the lab has no adapter {node}/{ifname}")

    def adapters_of(self, node: str) -> tuple[AdapterPlan, ...]:
        return tuple(adapter for adapter in self.adapters if adapter.node == node)

    def switch(self, name: str) -> SwitchPlan:
        for switch in self.switches:
            if switch.name == name:
                return switch
        raise LabError(f"the lab has no switch '{name}'")

    def client(self, network: str) -> ClientPlan:
        for client in self.clients:
            if client.network == network:
                return client
        raise LabError(f"the lab has no client on network '{network}' (it has one on each network with adapters)")

    def devices(self, node: str) -> dict[str, str]:
        """Link name -> the path the node uses for it in the lab (instead of the file's device path)."""
        self.node(node)
        found = {disk.link: disk.paths[node] for disk in self.disks if node in disk.paths}
        found.update({serial.link: serial.paths[node] for serial in self.serials if node in serial.paths})
        return dict(sorted(found.items()))

    def device_args(self, node: str) -> list[str]:
        """`devices(node)` as the node engine's options: `--device LINK=PATH` for each link of the node."""
        return [word for link, path in self.devices(node).items() for word in ("--device", f"{link}={path}")]

    def devices_file(self, node: str) -> str:
        """The JSON file holding `devices(node)`, written by `build`, for the node engine's run."""
        return str(Path(self.workdir) / f"devices-{node}.json")

    def spec(self) -> ClusterSpec:
        try:
            return load_snapshot(self.snapshot)
        except SnapshotError as exc:
            raise LabError(f"the lab's state holds a cluster this runtime cannot read: {exc}") from None

    # ------------------------------------------------------------ JSON

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["format"] = FORMAT
        return data

    @classmethod
    def from_json(cls, data: Any) -> LabPlan:
        try:
            if data.get("format") != FORMAT:
                raise LabError(f"lab plan format {data.get('format')!r} is not {FORMAT}")
            return cls(
                prefix=data["prefix"], cluster=data["cluster"], source=data["source"], workdir=data["workdir"],
                state_file=data["state_file"], switch_netns=data["switch_netns"], core=data["core"],
                nodes=tuple(NodePlan(**item) for item in data["nodes"]),
                switches=tuple(SwitchPlan(**item) for item in data["switches"]),
                adapters=tuple(AdapterPlan(**item) for item in data["adapters"]),
                clients=tuple(ClientPlan(**{**item, "addresses": tuple(item["addresses"]),
                                            "routes": tuple(item["routes"])}) for item in data["clients"]),
                # A lab built before ping targets has none in its state file, and must still come down.
                targets=tuple(TargetPlan(**{**item, "addresses": tuple(item["addresses"])})
                              for item in data.get("targets", [])),
                disks=tuple(DiskPlan(**item) for item in data["disks"]),
                serials=tuple(SerialPlan(**{**item, "nodes": tuple(item["nodes"])}) for item in data["serials"]),
                snapshot=data["snapshot"])
        except (AttributeError, KeyError, TypeError) as exc:
            raise LabError(f"not a lab plan: {exc!r} is missing or malformed") from None


# ------------------------------------------------------------------ planning


def valid_prefix(prefix: str) -> bool:
    return len(prefix) == 8 and prefix.startswith("hl") and all(c in "0123456789abcdef" for c in prefix[2:])


def plan_lab(snapshot: dict[str, Any], prefix: str, base_dir: str, source: str | None = None) -> LabPlan:
    """The lab of a cluster (its snapshot); LabError naming every address the lab may not use."""
    if not valid_prefix(prefix):
        raise LabError(f"'{prefix}' is not a lab prefix: write 'hl' and 6 lower-case hex digits")
    try:
        spec = load_snapshot(snapshot)
    except SnapshotError as exc:
        raise LabError(f"the runtime cannot read this cluster: {exc}") from None
    _check_addresses(spec, source)
    if not spec.adapters and not spec.links:
        raise LabError(f"cluster {spec.name} has no adapters and no links: there is nothing to build a lab of")
    workdir = Path(base_dir) / prefix

    def ifname(*parts: object) -> str:
        name = prefix + "".join(str(part) for part in parts)
        if len(name) > IFNAMSIZ:
            raise LabError(f"cluster {spec.name} is too large for the lab: interface name {name} is over "
                           f"{IFNAMSIZ} characters")
        return name

    nodes = tuple(NodePlan(node.name, f"{prefix}-n-{node.name}") for node in spec.nodes)
    switches = tuple(SwitchPlan(name, ifname("b", number), ifname("u", number, "s"), ifname("u", number, "c"))
                     for number, name in enumerate(spec.switches))
    adapters = tuple(AdapterPlan(a.node, a.ifname, a.network, a.role, f"{a.address}/{a.prefix}", a.switch,
                                 ifname("a", number))
                     for number, a in enumerate(spec.adapters))
    used = {(a.version, a.value) for a in spec.adapters} | {(s.version, s.value) for n in spec.networks
                                                          for s in n.services}
    used |= {(ipaddress.ip_address(t).version, int(ipaddress.ip_address(t))) for n in spec.networks
             for t in n.ping_targets}
    clients = []
    for network in spec.networks:
        if not network.adapters:
            continue
        subnets: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        for a in network.adapters:
            if a.role == "boot":
                subnet = ipaddress.ip_network(f"{a.address}/{a.prefix}", strict=False)
                if subnet not in subnets:
                    subnets.append(subnet)
        addresses = tuple(f"{_client_address(subnet, used, network.name)}/{subnet.prefixlen}" for subnet in subnets)
        routes: list[str] = []
        if network.ipat == "alias":
            for service in network.services:
                route = str(ipaddress.ip_network(f"{service.address}/{service.prefix}", strict=False)
                            if service.prefix is not None else ipaddress.ip_network(service.address))
                if route not in routes and not any(ipaddress.ip_address(service.address) in s for s in subnets):
                    routes.append(route)
        clients.append(ClientPlan(network.name, f"{prefix}-c-{network.name}", ifname("c", len(clients)),
                                  CLIENT_IFNAME, addresses, tuple(routes)))
    targets = []
    for network in spec.networks:
        subnets = [ipaddress.ip_network(f"{a.address}/{a.prefix}", strict=False) for a in network.adapters]
        placed = tuple(found for found in (_in_subnet(target, subnets) for target in network.ping_targets) if found)
        if placed:
            targets.append(TargetPlan(network.name, f"{prefix}-t-{network.name}", ifname("t", len(targets)),
                                      CLIENT_IFNAME, placed))
    disks = []
    serials = []
    for link in spec.links:
        if link.disk:
            disks.append(DiskPlan(link.name, str(workdir / f"disk-{link.name}"),
                                  max(DISK_SIZE, DISK_PER_NODE * len(link.nodes)),
                                  {node: str(workdir / f"disk-{link.name}-{node}") for node in link.nodes},
                                  {node: str(workdir / "cut" / f"disk-{link.name}-{node}") for node in link.nodes}))
        else:
            first, second = link.nodes
            serials.append(SerialPlan(link.name, link.type, (first, second),
                                      {node: str(workdir / f"tty-{link.name}-{node}") for node in link.nodes},
                                      str(workdir / f"relay-{link.name}.mode"),
                                      str(workdir / f"relay-{link.name}.log")))
    return LabPlan(prefix=prefix, cluster=spec.name, source=source, workdir=str(workdir),
                   state_file=str(workdir / "lab.json"), switch_netns=f"{prefix}-sw", core=ifname("core"),
                   nodes=nodes, switches=switches, adapters=adapters, clients=tuple(clients),
                   targets=tuple(targets), disks=tuple(disks), serials=tuple(serials), snapshot=snapshot)


def _private(network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
    return any(network.version == block.version and network.subnet_of(block) for block in PRIVATE)  # type: ignore[arg-type]


def _check_addresses(spec: ClusterSpec, source: str | None) -> None:
    outside = []
    for a in spec.adapters:
        subnet = ipaddress.ip_network(f"{a.address}/{a.prefix}", strict=False)
        if not _private(subnet):
            outside.append(f"adapter {a.node}/{a.ifname} {a.address}/{a.prefix}")
    for network in spec.networks:
        for s in network.services:
            if not _private(ipaddress.ip_network(s.address)):
                outside.append(f"service {s.name} {s.address}")
        for target in network.ping_targets:
            if not _private(ipaddress.ip_network(target)):
                outside.append(f"ping target {target} of network {network.name}")
    if outside:
        where = f"{source}: " if source else ""
        raise LabError(f"{where}the lab uses only private addresses ({PRIVATE_TEXT}), and these are outside them: "
                       + "; ".join(outside) + ". Change the file's addresses to build a lab of it.")


def _in_subnet(target: str, subnets: list[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> str | None:
    """`ADDRESS/PREFIX` of the first subnet holding the target; None if none does (no adapter probes it)."""
    address = ipaddress.ip_address(target)
    for subnet in subnets:
        if address in subnet:
            return f"{address}/{subnet.prefixlen}"
    return None


def _client_address(subnet: ipaddress.IPv4Network | ipaddress.IPv6Network, used: set[tuple[int, int]],
                    network: str) -> str:
    """An address of the subnet for the client: from the top down, past what no host may use and what the file uses."""
    first = int(subnet.network_address)
    last = int(subnet.broadcast_address)
    if subnet.version == 4:
        top, bottom = last - 1, first + 1  # neither the broadcast nor the network address
    else:
        top, bottom = last - (128 if subnet.prefixlen <= 120 else 0), first + 1  # RFC 2526 anycast; not subnet-router
    for value in range(top, max(bottom, top - 4096) - 1, -1):
        if (subnet.version, value) not in used:
            return str(ipaddress.IPv4Address(value) if subnet.version == 4 else ipaddress.IPv6Address(value))
    raise LabError(f"network {network}: subnet {subnet} has no address left for the lab's client "
                   f"(every usable address is the file's)")
