"""`halang show`: the resolved cluster as an administrator reads it."""

from __future__ import annotations

from halang.model.cluster import Cluster
from halang.model.literals import format_duration, format_size


def render_summary(cluster: Cluster) -> str:
    hb = cluster.heartbeat
    lines = [
        f"cluster {cluster.name}: {_count(cluster.nodes, 'node')}, {_count(cluster.networks, 'IP network')}, "
        f"{_count(cluster.links, 'non-IP link')}, {_count(cluster.groups, 'resource group')}",
        f"  heartbeat every {format_duration(hb.interval_ms)} on UDP port {hb.port}, down after {hb.miss_limit} missed "
        f"(detection {format_duration(hb.detection_ms)}); quorum {hb.quorum}"
        + (f", tie-breaker {hb.tie_breaker}" if hb.tie_breaker else "")
        + ("; signed with " + hb.key_file if hb.key_file else "; UNSIGNED"),
        "",
        "nodes:",
    ]
    for node in cluster.nodes:
        extra = []
        if node.capacity:
            extra.append("capacity " + _resources(node.capacity.cpu, node.capacity.memory))
        if node.domains:
            extra.append("domains " + ", ".join(node.domains))
        lines.append(f"  {node.name}" + (f"  ({'; '.join(extra)})" if extra else ""))
    for network in cluster.networks:
        lines += ["", f"network {network.name} ({network.type}, IPAT via {'replacement' if network.ipat == 'replace' else 'aliasing'}):"]
        for adapter in network.adapters:
            lines.append(f"  {adapter.node:<12} {adapter.ifname:<8} {adapter.role:<8} "
                         f"{adapter.address}/{adapter.prefix:<4} switch {adapter.switch}")
        for service in network.services:
            prefix = f"/{service.prefix}" if service.prefix is not None else ""
            lines.append(f"  service {service.name} {service.address}{prefix}")
        if network.ping_targets:
            lines.append("  ping targets " + ", ".join(network.ping_targets))
    if cluster.links:
        lines += ["", "non-IP links:"]
        for link in cluster.links:
            ends = ", ".join(f"{node} {device}" for node, device in link.devices.items())
            lines.append(f"  {link.name} ({link.type}): {ends}")
    if cluster.groups:
        lines += ["", "resource groups:"]
    for group in cluster.groups:
        policy = f"startup {group.startup}, fallover {group.fallover}, fallback {group.fallback}"
        if group.fallback_delay_ms:
            policy += f" after {format_duration(group.fallback_delay_ms)}"
        lines.append(f"  {group.name}: nodes {' > '.join(group.nodes)}; {policy}")
        resources = []
        if group.service_ips:
            resources.append("service " + ", ".join(group.service_ips))
        if group.volume_groups:
            resources.append("vg " + ", ".join(group.volume_groups))
        if group.filesystems:
            resources.append("fs " + ", ".join(fs.mount_point for fs in group.filesystems))
        if group.applications:
            resources.append("app " + ", ".join(app.name for app in group.applications))
        if resources:
            lines.append("    " + "; ".join(resources))
        relations = [f"{word} {', '.join(names)}" for word, names in
                     (("after", group.after), ("same node as", group.same_node_as),
                      ("not with", group.different_node_from)) if names]
        if group.requires.cpu or group.requires.memory:
            relations.append("requires " + _resources(group.requires.cpu, group.requires.memory))
        if group.rto_ms is not None:
            relations.append(f"rto {format_duration(group.rto_ms)}")
        if relations:
            lines.append("    " + "; ".join(relations))
    if cluster.accepts:
        lines += ["", "accepted findings:"] + [
            f"  {a.code}" + (f" when [{', '.join(a.when)}]" if a.when is not None else "")
            + f": {a.reason}" for a in cluster.accepts]
    return "\n".join(lines)


def _resources(cpu: float | None, memory: int | None) -> str:
    parts = []
    if cpu is not None:
        parts.append(f"cpu {cpu:g}")
    if memory is not None:
        parts.append(f"memory {format_size(memory)}")
    return " ".join(parts) or "none"


def _count(items, word: str) -> str:
    return f"{len(items)} {word}{'' if len(items) == 1 else 's'}"
