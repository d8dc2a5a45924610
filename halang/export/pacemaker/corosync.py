"""`corosync.conf`: the nodes, one knet link per IP subnet every node is on, token, crypto and quorum.

A knet link joins every node (each node has one address per link number),
and Corosync has at most eight. So the links are the IP subnets of the
file's networks, in file order with each network's boot subnets before its
standby subnets, that every node has an adapter on; the others are
findings (HA805), as are the non-IP links, which knet cannot carry (HA802).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from halang.model.cluster import Adapter, Cluster, Network

MAX_LINKS = 8  # knet's limit on links per node


@dataclass(frozen=True)
class Subnet:
    network: Network
    text: str  # 10.10.1.0/24
    role: str  # boot or standby: the role of its first adapter
    adapters: tuple[Adapter, ...]  # the first adapter of each node on it, in node order


@dataclass(frozen=True)
class Links:
    kept: tuple[Subnet, ...]  # link number = position
    missing: tuple[tuple[Subnet, tuple[str, ...]], ...]  # subnets some nodes are not on, and those nodes
    over: tuple[Subnet, ...]  # subnets past knet's eight links


def subnet_of(adapter: Adapter) -> str:
    address = ipaddress.ip_interface(f"{adapter.address}/{adapter.prefix}")
    return str(address.network)


def corosync_links(cluster: Cluster) -> Links:
    node_names = [node.name for node in cluster.nodes]
    subnets: list[Subnet] = []
    for network in cluster.networks:
        ordered = [a for a in network.adapters if a.role == "boot"] + [a for a in network.adapters if a.role != "boot"]
        by_subnet: dict[str, dict[str, Adapter]] = {}
        for adapter in ordered:
            by_subnet.setdefault(subnet_of(adapter), {}).setdefault(adapter.node, adapter)
        for text, adapters in by_subnet.items():
            first = next(iter(adapters.values()))
            subnets.append(Subnet(network, text, first.role,
                                  tuple(adapters[name] for name in node_names if name in adapters)))
    kept, missing, over = [], [], []
    for subnet in subnets:
        on = {adapter.node for adapter in subnet.adapters}
        absent = tuple(name for name in node_names if name not in on)
        if absent:
            missing.append((subnet, absent))
        elif len(kept) < MAX_LINKS:
            kept.append(subnet)
        else:
            over.append(subnet)
    return Links(tuple(kept), tuple(missing), tuple(over))


def two_node(cluster: Cluster) -> bool:
    """votequorum's two_node keeps the survivor of a two-node cluster quorate: what `quorum = none` does, and what
    a tie-breaker does for a node failure. Two nodes under `majority` without a tie-breaker stop on one failure,
    in halang as in Corosync without it."""
    return len(cluster.nodes) == 2 and (cluster.heartbeat.quorum == "none" or cluster.heartbeat.tie_breaker is not None)


def corosync_context(cluster: Cluster, links: Links) -> dict:
    nodes = []
    for number, node in enumerate(cluster.nodes, start=1):
        addresses = [next(a.address for a in subnet.adapters if a.node == node.name) for subnet in links.kept]
        nodes.append({"name": node.name, "nodeid": number, "addresses": addresses})
    return {
        "cluster": cluster.name,
        "token_ms": cluster.heartbeat.detection_ms,
        "interval_ms": cluster.heartbeat.interval_ms,
        "miss_limit": cluster.heartbeat.miss_limit,
        "crypto": cluster.heartbeat.key_file is not None,
        "links": [{"number": number, "network": subnet.network.name, "subnet": subnet.text, "role": subnet.role}
                  for number, subnet in enumerate(links.kept)],
        "nodes": nodes,
        "two_node": two_node(cluster),
        "quorum": cluster.heartbeat.quorum,
    }
