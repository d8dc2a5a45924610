"""Heartbeat paths: every way two nodes can hear each other (LANGUAGE.md, "Who hears whom").

A *medium* is something nodes attach to and hear each other through:
- a subnet of an IP network, `(network, IP version, network address, prefix)`:
  its ends are the adapters on it, in the network's line order (two adapters
  hear each other when they lie on one network and one subnet; the switches
  of one network are interconnected; service addresses add no medium);
- a `disk` link: its ends are its nodes, in the file's node order, each
  writing its own slot;
- a point-to-point link (`rs232`, `tmscsi`, `tmssa`): its two nodes.

A *path* is one pair of ends of one medium on two different nodes: one
adapter to one peer adapter, or one link between two of its nodes. Each
path has an `id` both ends compute alike (its ends sorted), which is how the
failure detectors of two nodes name it the same way, and how the bundle's
plans list it.

`media(spec)` and `heartbeat_paths(spec, node)` are computed from the spec
alone. `end_works(down, medium, end)` says whether one end still works
under a set of failures: an adapter that is usable (`Down.usable`), a link
node whose connection is up while the link is up; `alive_paths` lists the
paths both of whose ends work.
"""

from __future__ import annotations

import ipaddress
from typing import Dict, List, NamedTuple, Optional, Tuple

from runtime.core.failures import Down
from runtime.core.snapshot import AdapterSpec, ClusterSpec


class End(NamedTuple):
    """One end of a medium: a node, and for a subnet the adapter it attaches through."""

    node: str
    adapter: Optional[AdapterSpec] = None

    @property
    def key(self) -> Tuple[str, str]:
        return (self.node, self.adapter.ifname if self.adapter is not None else "")


class Medium(NamedTuple):
    index: int
    kind: str  # "subnet", "disk" or "p2p"
    name: str  # the network or the link
    link_type: Optional[str]  # rs232, disk, tmscsi, tmssa; None for a subnet
    subnet: Optional[str]  # "10.10.1.0/24" for a subnet
    ends: Tuple[End, ...]

    @property
    def label(self) -> str:
        return f"{self.name} {self.subnet}" if self.kind == "subnet" else f"link {self.name}"


class Path(NamedTuple):
    """One heartbeat path: two ends of one medium, on two different nodes, in sorted order."""

    medium: Medium
    first: End
    second: End

    @property
    def id(self) -> str:
        if self.medium.kind == "subnet":
            a, b = self.first.key, self.second.key
            return f"{self.medium.name}:{a[0]}/{a[1]}-{b[0]}/{b[1]}"
        return f"{self.medium.name}:{self.first.node}-{self.second.node}"

    @property
    def nodes(self) -> Tuple[str, str]:
        return (self.first.node, self.second.node)

    def end_of(self, node: str) -> End:
        return self.first if self.first.node == node else self.second

    def peer_of(self, node: str) -> End:
        return self.second if self.first.node == node else self.first


def subnet_text(adapter: AdapterSpec) -> str:
    version, network, prefix = adapter.subnet
    address = ipaddress.IPv4Address(network) if version == 4 else ipaddress.IPv6Address(network)
    return f"{address}/{prefix}"


def media(spec: ClusterSpec) -> Tuple[Medium, ...]:
    """Every medium of the cluster: subnets (networks in file order, by first adapter), then links in file order."""
    found = spec.derived.get("media")
    if found is not None:
        return found
    subnets: Dict[Tuple[str, Tuple[int, int, int]], List[AdapterSpec]] = {}
    for adapter in spec.adapters:
        subnets.setdefault((adapter.network, adapter.subnet), []).append(adapter)
    result: List[Medium] = []
    for (network, _), adapters in subnets.items():
        result.append(Medium(len(result), "subnet", network, None, subnet_text(adapters[0]),
                             tuple(End(adapter.node, adapter) for adapter in adapters)))
    for link in spec.links:
        result.append(Medium(len(result), "disk" if link.disk else "p2p", link.name, link.type, None,
                             tuple(End(node) for node in link.nodes)))
    spec.derived["media"] = found = tuple(result)
    return found


def heartbeat_paths(spec: ClusterSpec, node: str) -> Tuple[Path, ...]:
    """Every path the node sends on and expects beats from: peers in file order; for each peer, its IP
    paths (the node's adapters in file order, then the peer's) before its links (file order)."""
    index = spec.node_index
    by_peer: Dict[str, List[Path]] = {}
    mine = [(medium, end) for medium in media(spec) for end in medium.ends if end.node == node]
    for medium, end in sorted(mine, key=lambda item: item[0].kind != "subnet"):
        for other in medium.ends:
            if other.node != node:
                first, second = sorted((end, other), key=lambda item: item.key)
                by_peer.setdefault(other.node, []).append(Path(medium, first, second))
    return tuple(path for peer in sorted(by_peer, key=index.__getitem__) for path in by_peer[peer])


def paths_by_id(spec: ClusterSpec) -> Dict[str, Path]:
    """Every heartbeat path of the cluster by id."""
    found = spec.derived.get("paths-by-id")
    if found is None:
        found = {path.id: path for node in spec.node_names for path in heartbeat_paths(spec, node)}
        spec.derived["paths-by-id"] = found
    return found


def pair_id(medium: Medium, one: End, other: End) -> str:
    """The id of the path between two ends of a medium (on two different nodes), whichever end is named first:
    `Path.id` of the two ends in sorted order, without building the path (the observation functions ask often)."""
    a, b = one.key, other.key
    if b < a:
        a, b = b, a
    if medium.kind == "subnet":
        return f"{medium.name}:{a[0]}/{a[1]}-{b[0]}/{b[1]}"
    return f"{medium.name}:{a[0]}-{b[0]}"


def end_works(down: Down, medium: Medium, end: End) -> bool:
    """Whether one end of a medium works under the failures (LANGUAGE.md, "Who hears whom")."""
    if end.adapter is not None:
        return down.usable(end.adapter)
    return down.link_up(medium.name) and down.connected(end.node, medium.name)


def alive_paths(spec: ClusterSpec, down: Down) -> List[Path]:
    """Every path both of whose ends work under the failures, one by one (the engine's view of them is what
    `topology.assess` computes at once)."""
    found = []
    for medium in media(spec):
        working = [end for end in medium.ends if end_works(down, medium, end)]
        for number, end in enumerate(working):
            for other in working[number + 1:]:
                if other.node != end.node:
                    first, second = sorted((end, other), key=lambda item: item.key)
                    found.append(Path(medium, first, second))
    return found
