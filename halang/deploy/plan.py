"""The pure half of deploy: where each node is reached, what the nodes run, and what their probes say.

    targets(snapshot) -> {node: Target}                 the `ssh` attribute, else the first boot address
    running(statuses) -> {hash or None: [node, ...]}    which nodes run which bundle (more than one key: drift)
    preflight_findings(cluster, probes) -> [Diagnostic] HA701-HA705 from every node's probe, at the file's lines

No I/O, no clock: `halang.deploy.rollout` does the talking.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from halang.diagnostics import Diagnostic, Related, Span, error, warning
from halang.model.cluster import Cluster
from runtime.node.preflight import program


@dataclass(frozen=True)
class Target:
    """Where a node is reached: from its `ssh` attribute, else its first boot address."""

    node: str
    host: str
    user: str | None = None
    port: int = 22


class PlanError(Exception):
    """The file does not say how to reach a node."""


def targets(snapshot: dict) -> dict[str, Target]:
    """From a snapshot (`halang show --format json`, a bundle's snapshot.json), nodes in the file's order."""
    found = {}
    boots: dict[str, str] = {}
    for network in snapshot["networks"]:
        for adapter in network["adapters"]:
            if adapter["role"] == "boot":
                boots.setdefault(adapter["node"], adapter["address"])
    for node in snapshot["nodes"]:
        ssh = node.get("ssh")
        if ssh is not None:
            found[node["name"]] = Target(node["name"], ssh["host"], ssh.get("user"), ssh.get("port") or 22)
        elif node["name"] in boots:
            found[node["name"]] = Target(node["name"], boots[node["name"]])
        else:
            raise PlanError(f"node {node['name']} has no ssh attribute and no boot address: deploy cannot reach it")
    return found


def running(statuses: dict[str, dict]) -> dict[str | None, list[str]]:
    """The content hash each node runs (None: nothing, or a bundle it cannot read), nodes in the file's order."""
    by_hash: dict[str | None, list[str]] = defaultdict(list)
    for node, found in statuses.items():
        current = found.get("current") or {}
        by_hash[current.get("hash")].append(node)
    return dict(by_hash)


def _script_places(cluster: Cluster) -> dict[str, list[tuple[tuple[str, ...], Span]]]:
    """Each program -> (the nodes that may run it, where the file names it), in file order."""
    places: dict[str, list[tuple[tuple[str, ...], Span]]] = defaultdict(list)
    all_nodes = tuple(node.name for node in cluster.nodes)
    for group in cluster.groups:
        for application in group.applications:
            for part, command in (("start", application.start), ("stop", application.stop)):
                places[program(command)].append((group.nodes, application.span(part)))
            if application.monitor is not None and application.monitor.command:
                places[program(application.monitor.command)].append(
                    (group.nodes, application.monitor.span("command")))
    for event in cluster.events:
        for part in ("pre", "post", "notify", "recovery"):
            command = getattr(event, part)
            if command:
                places[program(command)].append((all_nodes, event.span(part)))
    return places


def preflight_findings(cluster: Cluster, probes: dict[str, dict]) -> list[Diagnostic]:
    findings: list[Diagnostic] = []
    for path, uses in _script_places(cluster).items():
        nodes = list(dict.fromkeys(node for group_nodes, _ in uses for node in group_nodes if node in probes))
        span = uses[0][1]
        for node in nodes:
            found = probes[node]["scripts"].get(path)
            if found is None:
                continue
            if not found["exists"]:
                findings.append(error("HA701", span, f"on node {node}, script {path} does not exist",
                                      f"install it on {node}, executable by root (chmod 0755), or correct the path"))
            elif not found["file"] or not found["executable"]:
                what = "not a regular file" if not found["file"] else "not executable"
                findings.append(error("HA701", span, f"on node {node}, script {path} is {what}",
                                      f"chmod 0755 {path} on {node}"))
        for group_nodes, where in uses:
            digests = {node: probes[node]["scripts"].get(path, {}).get("sha256") for node in group_nodes
                       if node in probes}
            kinds = {digest for digest in digests.values() if digest}
            if len(kinds) > 1:
                shown = ", ".join(f"{node} {digest[:12]}" for node, digest in digests.items() if digest)
                findings.append(warning("HA705", where, f"script {path} differs between the nodes that may run it "
                                        f"({shown})", "copy the right one to every node, or accept HA705 with why"))
    for network in cluster.networks:
        for adapter in network.adapters:
            probe = probes.get(adapter.node)
            if probe is not None and not probe["interfaces"].get(adapter.ifname, True):
                findings.append(error("HA702", adapter.span(), f"node {adapter.node} has no interface "
                                      f"{adapter.ifname}", f"name the interface as `ip link` on {adapter.node} shows it"))
    for link in cluster.links:
        for node, device in link.devices.items():
            probe = probes.get(node)
            if probe is not None and not probe["devices"].get(link.name, {}).get("exists", True):
                findings.append(error("HA703", link.span(node), f"on node {node}, {device} of link {link.name} "
                                      "does not exist", "connect the device, or correct the path"))
    for group in cluster.groups:
        for vg in group.volume_groups:
            missing = [node for node in group.nodes if node in probes
                       and not probes[node]["volume_groups"].get(vg, True)]
            for node in missing:
                findings.append(error("HA704", group.span("volume_groups"), f"node {node} does not know volume "
                                      f"group {vg} of group {group.name}", f"import {vg} on {node} (vgimport)",
                                      related=(Related(group.span(), f"group {group.name}"),)))
    return sorted(findings, key=Diagnostic.sort_key)
