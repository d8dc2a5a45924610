"""Per-node plans: what one node needs to know about itself, worked out once by the compiler.

`plan_nodes(cluster)` is pure: the resolved cluster in, one JSON-ready dict per
node out (written into the bundle as `plans/NODE.json`). A plan holds:

- `adapters`: the node's adapters, network by network in file order, each with
  its subnet (address/prefix reduced to the network);
- `heartbeat`: the cluster's heartbeat settings, and `paths`: every heartbeat
  path the node sends on and expects beats from. For every other node (file
  order): one `ip` path per pair of adapters, one the node's and one the
  peer's, on the same network and the same subnet (LANGUAGE.md, "Who hears
  whom": roles do not matter, service addresses add no path), with the peer's
  address and the UDP port; then one path per non-IP link joining the two,
  with this node's device, the peer's, and for a `disk` link each node's slot
  (its place among the link's nodes in the file's node order, the order the
  runtime's snapshot reader uses). Each path has an `id` both ends compute
  alike (endpoints sorted), so their detectors name it the same way. The
  paths are the runtime's own (`runtime.core.paths.heartbeat_paths`), the ones
  the verifier reasons about;
- `groups`: the groups whose node list names it, in file order, with its
  1-based priority position, whether it is the home node, and for each
  service address the node's adapters on that address's network that could
  carry it (under `replace` boot and standby adapters, under `alias` any: all
  of the node's adapters there);
- `events`: the event kinds the file declares, each with its wrapper's member
  path and the details the daemon passes it (`EVENT_ARGUMENTS`).
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict

from halang.model.cluster import Adapter, Cluster
from halang.model.spec import cluster_spec
from runtime.core.paths import heartbeat_paths
from runtime.core.snapshot import ClusterSpec

PLAN_FORMAT = 1

# What an event wrapper is called with after its phase: the event's details, in order.
# `NODES...` is one argument per node (split_brain: the nodes of the partition this node is in).
EVENT_ARGUMENTS: dict[str, tuple[str, ...]] = {
    "node_up": ("NODE",),
    "node_down": ("NODE",),
    "network_up": ("NODE", "NETWORK"),
    "network_down": ("NODE", "NETWORK"),
    "adapter_down": ("NODE", "NETWORK", "IFNAME"),
    "adapter_up": ("NODE", "NETWORK", "IFNAME"),
    "rg_online": ("GROUP", "NODE"),
    "rg_offline": ("GROUP", "NODE"),
    "rg_move": ("GROUP", "FROM_NODE", "TO_NODE"),
    "split_brain": ("NODES...",),
}


def subnet_of(adapter: Adapter) -> str:
    return str(ipaddress.ip_interface(f"{adapter.address}/{adapter.prefix}").network)


def event_member(kind: str) -> str:
    return f"events/{kind}.sh"


def plan_nodes(cluster: Cluster, spec: ClusterSpec | None = None) -> dict[str, dict]:
    """Every node's plan, keyed by node name, in the file's node order."""
    spec = spec if spec is not None else cluster_spec(cluster)
    adapters_of: dict[str, list[tuple[str, Adapter, str]]] = defaultdict(list)
    for network in cluster.networks:
        for adapter in network.adapters:
            adapters_of[adapter.node].append((network.name, adapter, subnet_of(adapter)))
    events = {event.kind: {"wrapper": event_member(event.kind), "arguments": list(EVENT_ARGUMENTS[event.kind])}
              for event in cluster.events}
    heartbeat = cluster.heartbeat
    beat = {"interval_ms": heartbeat.interval_ms, "miss_limit": heartbeat.miss_limit,
            "detection_ms": heartbeat.detection_ms, "port": heartbeat.port, "key_file": heartbeat.key_file,
            "quorum": heartbeat.quorum, "tie_breaker": heartbeat.tie_breaker}
    networks = {network.name: network for network in cluster.networks}
    services = {service.name: (network, service) for network in cluster.networks for service in network.services}

    plans = {}
    for node in cluster.nodes:
        local = adapters_of.get(node.name, [])
        plans[node.name] = {
            "format": PLAN_FORMAT,
            "cluster": cluster.name,
            "node": node.name,
            "adapters": [{"network": network, "type": networks[network].type, "ipat": networks[network].ipat,
                          "ifname": adapter.ifname, "role": adapter.role, "address": adapter.address,
                          "prefix": adapter.prefix, "subnet": subnet, "switch": adapter.switch}
                         for network, adapter, subnet in local],
            "heartbeat": beat,
            "paths": _paths(spec, node.name),
            "groups": _groups(cluster, node.name, local, services),
            "events": events,
        }
    return plans


def _paths(spec: ClusterSpec, name: str) -> list[dict]:
    """The node's heartbeat paths, as the runtime lists them (`runtime.core.paths.heartbeat_paths`)."""
    port = spec.heartbeat.port
    found = []
    for path in heartbeat_paths(spec, name):
        mine, peer = path.end_of(name), path.peer_of(name)
        medium = path.medium
        if medium.kind == "subnet":
            found.append({
                "id": path.id, "peer": peer.node, "type": "ip", "network": medium.name, "subnet": medium.subnet,
                "ifname": mine.adapter.ifname, "address": mine.adapter.address,
                "peer_ifname": peer.adapter.ifname, "peer_address": peer.adapter.address, "port": port,
            })
            continue
        link = spec.link(medium.name)
        devices = dict(link.devices)
        disk = link.disk
        found.append({
            "id": path.id, "peer": peer.node, "type": link.type, "link": link.name,
            "device": devices[name], "peer_device": devices[peer.node],
            "slot": link.nodes.index(name) if disk else None,
            "peer_slot": link.nodes.index(peer.node) if disk else None,
        })
    return found


def _groups(cluster: Cluster, name: str, local, services) -> list[dict]:
    groups = []
    for group in cluster.groups:
        if name not in group.nodes:
            continue
        position = group.nodes.index(name) + 1
        service_ips = []
        for label in group.service_ips:
            network, service = services[label]
            service_ips.append({
                "label": label, "address": service.address, "prefix": service.prefix,
                "network": network.name, "ipat": network.ipat,
                "ifnames": [adapter.ifname for net, adapter, _ in local if net == network.name],
            })
        groups.append({
            "group": group.name, "position": position, "home": position == 1, "nodes": list(group.nodes),
            "startup": group.startup, "fallover": group.fallover, "fallback": group.fallback,
            "fallback_delay_ms": group.fallback_delay_ms, "service_ips": service_ips,
        })
    return groups
