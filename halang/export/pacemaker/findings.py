"""What `halang export pacemaker` cannot carry over, as findings (HA801-HA814, documented in
halang/checks/export/). Pure: a cluster and its Corosync links in, warnings out, in file order."""

from __future__ import annotations

from collections.abc import Iterator

from halang.diagnostics import Diagnostic, warning
from halang.export.pacemaker.cib import capacity_units, utilization_attributes
from halang.export.pacemaker.corosync import MAX_LINKS, Links
from halang.model.cluster import Cluster


def export_findings(cluster: Cluster, links: Links) -> list[Diagnostic]:
    return sorted(_findings(cluster, links), key=Diagnostic.sort_key)


def _findings(cluster: Cluster, links: Links) -> Iterator[Diagnostic]:
    yield from _fencing(cluster)
    yield from _heartbeats(cluster, links)
    yield from _addresses(cluster)
    yield from _policies(cluster)
    yield from _capacity(cluster)
    yield from _storage(cluster)
    for event in cluster.events:
        yield warning("HA813", event.span(), f"Pacemaker runs no event scripts: event {event.kind}'s are not carried "
                      "over", "a Pacemaker alert agent (pcs alert create path=...) is called on node, fencing and "
                      "resource changes, with its own arguments")


def _fencing(cluster: Cluster) -> Iterator[Diagnostic]:
    yield warning("HA801", cluster.span("name"),
                  f"Pacemaker needs fencing and the file describes none: cib.xml keeps stonith-enabled=true, so "
                  f"cluster {cluster.name} starts no group until the site adds a fencing device",
                  "add a stonith resource for the nodes' power or management boards (fence_ipmilan, fence_sbd "
                  "on a shared disk, ...), then run crm_verify --xml-file cib.xml")


def _heartbeats(cluster: Cluster, links: Links) -> Iterator[Diagnostic]:
    heartbeat = cluster.heartbeat
    for link in cluster.links:
        if link.name == heartbeat.tie_breaker:
            continue
        yield warning("HA802", link.span(), f"link {link.name} ({link.type}) has no Corosync transport: "
                      f"{' and '.join(link.devices)} hear each other only over IP networks in Pacemaker",
                      "add another IP network between them (one more knet link), so that losing one network is "
                      "not taken for a node failure")
    for subnet, absent in links.missing:
        yield warning("HA805", subnet.adapters[0].span(),
                      f"subnet {subnet.text} of network {subnet.network.name} is no Corosync link: a knet link "
                      f"joins every node, and {', '.join(absent)} {'has' if len(absent) == 1 else 'have'} no "
                      "adapter on it", "give every node an adapter on it, or let the other links carry the heartbeats")
    if not links.kept and len(cluster.nodes) > 1:
        yield warning("HA805", cluster.span("name"), "no IP subnet joins every node: corosync.conf has no knet link, "
                      "and Corosync cannot form the cluster", "put every node on one IP network")
    for subnet in links.over:
        yield warning("HA805", subnet.adapters[0].span(),
                      f"subnet {subnet.text} of network {subnet.network.name} is no Corosync link: knet has at "
                      f"most {MAX_LINKS} links, taken by the subnets before it", None)
    if heartbeat.tie_breaker is not None:
        count = len(cluster.nodes)
        if count == 2:
            effect = ("with two_node both nodes stay quorate when they lose each other, and the first to fence "
                      "the other through SBD keeps running")
        else:
            effect = (f"an even split of the {count} nodes leaves neither half quorate, so every group stops "
                      "where halang keeps the half that reaches the disk")
        yield warning("HA806", heartbeat.span("tie_breaker"),
                      f"Corosync has no disk tie-breaker: {heartbeat.tie_breaker} becomes SBD's poison-pill disk, "
                      f"and {effect}", "a corosync-qdevice on a third machine breaks ties by a vote")


def _addresses(cluster: Cluster) -> Iterator[Diagnostic]:
    used = {label: group for group in cluster.groups for label in group.service_ips}
    for network in cluster.networks:
        labels = [service.name for service in network.services if service.name in used]
        if not labels:
            continue
        if network.ipat == "replace":
            yield warning("HA803", network.span("ipat"),
                          f"no Pacemaker agent takes over an address by replacement: on network {network.name} "
                          f"IPaddr2 adds {', '.join(labels)} beside each node's boot address, as an alias",
                          "check that the boot subnet works with both addresses up, or make the network "
                          "ipat = alias")
        hosts = {node for label in labels for node in used[label].nodes}
        spare = sorted({a.node for a in network.adapters if a.node in hosts
                        and sum(1 for b in network.adapters if b.node == a.node) > 1},
                       key=[node.name for node in cluster.nodes].index)
        if spare:
            yield warning("HA804", network.span(),
                          f"IPaddr2 holds a service address on one interface of each node: when that adapter of "
                          f"network {network.name} fails, Pacemaker moves the group to another node instead of "
                          f"to the node's other adapter ({', '.join(spare)})",
                          "bond the node's adapters into one interface for IPaddr2, or accept that a failed "
                          "adapter moves the group")


def _policies(cluster: Cluster) -> Iterator[Diagnostic]:
    for group in cluster.groups:
        if group.fallback == "higher_priority" and group.fallback_delay_ms:
            yield warning("HA807", group.span("fallback_delay"),
                          f"Pacemaker has no delay before a fallback: {group.name} moves back as soon as an earlier "
                          "node of its list rejoins", "use fallback = never and move the group back by hand "
                          "(pcs resource move), or accept it")
        if group.fallover == "least_loaded":
            yield warning("HA808", group.span("fallover"),
                          f"Pacemaker has no least_loaded fallover: {group.name}'s nodes after its home node score "
                          "alike and placement-strategy=balanced picks the one with most free capacity counted "
                          "attribute by attribute, then the one running fewest resources, not the most free cpu, "
                          "then memory, then list order", None)
        if group.fallover == "bring_offline" and not group.concurrent:
            yield warning("HA809", group.span("fallover"),
                          f"Pacemaker has no bring_offline for a group on one node: {group.name} falls over in "
                          "list order, as with next_priority", "list only the home node if the group must not "
                          "run elsewhere")
        for key, what in (("after", "mandatory orders: Pacemaker stops it while a parent is stopped"),
                          ("same_node_as", "mandatory colocations: Pacemaker moves or stops it to keep it with them"),
                          ("different_node_from", "colocations of -INFINITY: Pacemaker moves or stops it to keep "
                                                  "it apart")):
            if getattr(group, key):
                yield warning("HA810", group.span(key),
                              f"{key} = [{', '.join(getattr(group, key))}] of {group.name} becomes {what}, where "
                              "halang places groups by their lists alone and reports what is broken (HA406)", None)


def _capacity(cluster: Cluster) -> Iterator[Diagnostic]:
    attributes = utilization_attributes(cluster)
    if not attributes:
        return
    rounded = []
    for node in cluster.nodes:
        for attribute in attributes:
            value = getattr(node.capacity, attribute) if node.capacity is not None else None
            if value is not None and capacity_units(attribute, value, False)[1]:
                rounded.append(f"{node.name} {attribute}")
    for group in cluster.groups:
        for attribute in attributes:
            value = getattr(group.requires, attribute)
            if value and capacity_units(attribute, value, True)[1]:
                rounded.append(f"{group.name} {attribute}")
    where = next((group.requires.span() for group in cluster.groups if group.requires.cpu or group.requires.memory),
                 None) or next(node.capacity.span() for node in cluster.nodes if node.capacity is not None)
    note = (f"; rounded to whole units (thousandths of a core, MiB), capacities down and requirements up: "
            f"{', '.join(rounded)}") if rounded else ""
    yield warning("HA811", where,
                  "Pacemaker treats capacity as a limit: a group that does not fit on a node is not started there "
                  f"(it stays stopped if it fits nowhere), where halang places it and reports the overload "
                  f"(HA501, HA502){note}", None)


def _storage(cluster: Cluster) -> Iterator[Diagnostic]:
    for group in cluster.groups:
        for filesystem in group.filesystems:
            if filesystem.device is None:
                yield warning("HA812", filesystem.span(),
                              f"filesystem {filesystem.mount_point} names no device, which the Filesystem agent "
                              "needs: the export mounts it by its /etc/fstab entry with the halang:fstab agent",
                              "the entry needs noauto; or write a filesystem block with device and fstype")
        if group.concurrent and group.volume_groups:
            yield warning("HA814", group.span("volume_groups"),
                          f"the volume groups of concurrent group {group.name} are activated shared "
                          "(LVM-activate vg_access_mode=lvmlockd), which needs dlm and lvmlockd clones the export "
                          "does not write", "add the dlm and lvmlockd clones and order them before the group")
