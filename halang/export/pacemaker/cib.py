"""The CIB (`cib.xml`) of a cluster: nodes, one Pacemaker group per resource group, constraints, options.

Pure: `render_cib(cluster) -> str`. The XML is built with ElementTree rather
than a template so that every value from the .ha file is escaped and every
`id` is checked unique where it is made. Ids are the halang names, and
`GROUP.KIND.NAME` for what a group holds: halang names have no dot, so a
primitive's id never equals a group's.

Scores: a group's node list in priority order scores 100 × (n − i) for the
i-th of n nodes (least_loaded: the home node 200, every other 100, so that
Pacemaker's `balanced` strategy picks among them by free capacity; a
concurrent group's clone 100 on every node).
`fallback = never` is a stickiness of 100 × n on each primitive, more than
any two scores of the list differ by, so a running group never moves back.

A network's `ping_targets` become Pacemaker's documented connectivity
pattern: an `ocf:pacemaker:ping` clone on every node (`NETWORK.ping.clone`)
that writes the node attribute `pingd-NETWORK` (the multiplier times the
targets it reaches, settled for the heartbeat's detection time), and a
-INFINITY location rule (`GROUP.connected.NETWORK`) that keeps each group
holding a service address on that network off a node where the attribute
is not defined or is 0.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from decimal import Decimal

from halang.model.cluster import Cluster, Group, Network

SCHEMA = "pacemaker-3.9"  # the newest schema Pacemaker 2.1.5 (Debian 12) knows; later releases read it too
STEP = 100
MEBIBYTE = 1024 * 1024
UNLIMITED = 1_000_000_000  # a capacity the file leaves out; Pacemaker reads utilization as a C int
PROVIDER = "halang"
APPLICATION_AGENT = "application"
FSTAB_AGENT = "fstab"
# Monitor intervals and timeouts the resource-agents package recommends in each agent's meta-data.
AGENT_MONITORS = {"IPaddr2": ("10s", "20s"), "LVM-activate": ("30s", "90s"), "Filesystem": ("20s", "40s"),
                  FSTAB_AGENT: ("20s", "40s"), "ping": ("10s", "60s")}
AGENT_TIMEOUTS = {"IPaddr2": "20s", "LVM-activate": "90s", "Filesystem": "60s", FSTAB_AGENT: "60s", "ping": "60s"}
# pingd is this times the number of targets a node reaches; any node reaching one scores above 0.
PING_MULTIPLIER = 1000


def resource_id(group: Group) -> str:
    """The id constraints name: the group, or its clone for a concurrent group."""
    return f"{group.name}.clone" if group.concurrent else group.name


def id_part(text: str) -> str:
    """A name from the file (volume group, mount point) as part of an XML id."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", text.strip("/")) or "root"


def duration(ms: int) -> str:
    return f"{ms // 1000}s" if ms % 1000 == 0 else f"{ms}ms"


def scores(group: Group) -> list[tuple[str, int]]:
    count = len(group.nodes)
    if group.concurrent:
        # Every listed node runs an instance, so order means nothing; and Pacemaker 2.1.5 puts several
        # instances of a cloned group on one node when the clone's locations differ (ClusterLabs PR 3143).
        return [(node, STEP) for node in group.nodes]
    if group.fallover == "least_loaded":
        return [(node, 2 * STEP if index == 0 else STEP) for index, node in enumerate(group.nodes)]
    return [(node, STEP * (count - index)) for index, node in enumerate(group.nodes)]


def ping_attribute(network: Network) -> str:
    """The node attribute the network's ping clone writes: one a network, so that two never overwrite each other."""
    return f"pingd-{network.name}"


def stickiness(group: Group) -> int | None:
    """Per primitive; a group's stickiness is the sum over its running primitives."""
    if group.concurrent or group.fallback == "higher_priority":
        return None
    return STEP * len(group.nodes)


def utilization_attributes(cluster: Cluster) -> tuple[str, ...]:
    """The utilization attributes the file gives a meaning: cpu, memory, both or none."""
    used = []
    for attribute in ("cpu", "memory"):
        if any(node.capacity is not None and getattr(node.capacity, attribute) is not None for node in cluster.nodes) \
                or any(getattr(group.requires, attribute) for group in cluster.groups):
            used.append(attribute)
    return tuple(used)


def capacity_units(attribute: str, value: float | int, requirement: bool) -> tuple[int, bool]:
    """cpu in thousandths of a core, memory in MiB (Pacemaker's utilization is whole numbers): rounded up for
    a requirement and down for a capacity, so rounding never lets Pacemaker place more than the file allows.
    Also whether it had to round."""
    exact = Decimal(repr(value)) * 1000 if attribute == "cpu" else Decimal(value) / MEBIBYTE
    rounded = math.ceil(exact) if requirement else math.floor(exact)
    return int(rounded), rounded != exact


def placement_strategy(cluster: Cluster) -> str:
    if not utilization_attributes(cluster):
        return "default"
    return "balanced" if any(group.fallover == "least_loaded" for group in cluster.groups) else "utilization"


class _Ids:
    """Every id of the document, each made once."""

    def __init__(self):
        self.seen: set[str] = set()

    def __call__(self, text: str) -> str:
        if text in self.seen:
            raise AssertionError(f"CIB id {text!r} made twice")
        self.seen.add(text)
        return text


class CibBuilder:
    def __init__(self, cluster: Cluster):
        self.cluster = cluster
        self.ids = _Ids()
        self.utilization = utilization_attributes(cluster)

    def element(self, parent: ET.Element, tag: str, ident: str | None = None, **attributes: str) -> ET.Element:
        if ident is not None:
            attributes = {"id": self.ids(ident), **attributes}
        return ET.SubElement(parent, tag, attributes)

    def nvset(self, parent: ET.Element, tag: str, ident: str, pairs: list[tuple[str, str]], **attributes: str):
        if not pairs:
            return None
        block = self.element(parent, tag, ident, **attributes)
        for name, value in pairs:
            self.element(block, "nvpair", f"{ident}.{name}", name=name, value=value)
        return block

    def build(self) -> ET.Element:
        cluster = self.cluster
        cib = ET.Element("cib", {"validate-with": SCHEMA, "epoch": "1", "num_updates": "0", "admin_epoch": "0"})
        configuration = ET.SubElement(cib, "configuration")
        options = ET.SubElement(configuration, "crm_config")
        self.nvset(options, "cluster_property_set", "halang-options", [
            ("cluster-name", cluster.name),
            ("stonith-enabled", "true"),  # fencing is the site's to add (HA801): never exported off
            ("symmetric-cluster", "false"),  # a group runs only on the nodes of its list
            ("no-quorum-policy", "stop" if cluster.heartbeat.quorum == "majority" else "ignore"),
            ("placement-strategy", placement_strategy(cluster)),
        ])
        nodes = ET.SubElement(configuration, "nodes")
        for number, node in enumerate(cluster.nodes, start=1):
            element = self.element(nodes, "node", None, id=str(number), uname=node.name)
            self.nvset(element, "utilization", f"{node.name}.utilization", self.node_capacity(node))
        resources = ET.SubElement(configuration, "resources")
        for group in cluster.groups:
            self.group(resources, group)
        pinged = [network for network in cluster.networks if network.ping_targets]
        for network in pinged:
            self.ping(resources, network)
        constraints = ET.SubElement(configuration, "constraints")
        for group in cluster.groups:
            self.constraints(constraints, group)
        for network in pinged:
            self.connectivity(constraints, network)
        ET.SubElement(cib, "status")
        return cib

    def node_capacity(self, node) -> list[tuple[str, str]]:
        pairs = []
        for attribute in self.utilization:
            value = getattr(node.capacity, attribute) if node.capacity is not None else None
            pairs.append((attribute, str(UNLIMITED if value is None else capacity_units(attribute, value, False)[0])))
        return pairs

    def group(self, parent: ET.Element, group: Group) -> None:
        if group.concurrent:
            clone = self.element(parent, "clone", resource_id(group))
            self.nvset(clone, "meta_attributes", f"{group.name}.clone.meta",
                       [("clone-max", str(len(group.nodes))), ("clone-node-max", "1"), ("interleave", "true")])
            parent = clone
        element = self.element(parent, "group", group.name)
        primitives = list(self.primitives(element, group))
        if not primitives:  # a group with nothing in it still has a place; Pacemaker needs a member
            primitives.append(self.primitive(element, f"{group.name}.placeholder", "ocf", "pacemaker", "Dummy"))
        requires = [(attribute, str(capacity_units(attribute, getattr(group.requires, attribute), True)[0]))
                    for attribute in self.utilization if getattr(group.requires, attribute)]
        # Pacemaker adds up a group's members, so the whole requirement sits on the first one.
        self.nvset(primitives[0], "utilization", f"{primitives[0].get('id')}.utilization", requires)
        sticky = stickiness(group)
        if sticky is not None:
            self.nvset(element, "meta_attributes", f"{group.name}.meta", [("resource-stickiness", str(sticky))])

    def primitive(self, parent: ET.Element, ident: str, klass: str, provider: str, kind: str,
                  params: list[tuple[str, str]] = (), monitor: tuple[str, str] | None = None,
                  timeout: str | None = None) -> ET.Element:
        element = self.element(parent, "primitive", ident, **{"class": klass, "provider": provider, "type": kind})
        self.nvset(element, "instance_attributes", f"{ident}.params", list(params))
        operations = []
        if timeout is not None:
            operations += [("start", "0s", timeout), ("stop", "0s", timeout)]
        if monitor is not None:
            operations.append(("monitor", *monitor))
        if operations:
            ops = self.element(element, "operations")
            for name, interval, limit in operations:
                self.element(ops, "op", f"{ident}.{name}", name=name, interval=interval, timeout=limit)
        return element

    def primitives(self, element: ET.Element, group: Group):
        cluster = self.cluster
        for label in group.service_ips:
            network, service = _service(cluster, label)
            ident = f"{group.name}.ip.{label}"
            primitive = self.primitive(element, ident, "ocf", "heartbeat", "IPaddr2",
                                       [("ip", service.address), ("cidr_netmask", str(service.prefix))],
                                       AGENT_MONITORS["IPaddr2"], AGENT_TIMEOUTS["IPaddr2"])
            self.nics(primitive, ident, group, network)
            yield primitive
        for volume_group in group.volume_groups:
            access = [("vgname", volume_group), ("vg_access_mode", "lvmlockd" if group.concurrent else "system_id")]
            if group.concurrent:
                access.append(("activation_mode", "shared"))
            yield self.primitive(element, self.unique(f"{group.name}.vg.{id_part(volume_group)}"), "ocf", "heartbeat",
                                 "LVM-activate", access, AGENT_MONITORS["LVM-activate"], AGENT_TIMEOUTS["LVM-activate"])
        for filesystem in group.filesystems:
            ident = self.unique(f"{group.name}.fs.{id_part(filesystem.mount_point)}")
            if filesystem.device is None:
                yield self.primitive(element, ident, "ocf", PROVIDER, FSTAB_AGENT,
                                     [("directory", filesystem.mount_point)], AGENT_MONITORS[FSTAB_AGENT],
                                     AGENT_TIMEOUTS[FSTAB_AGENT])
                continue
            params = [("device", filesystem.device), ("directory", filesystem.mount_point),
                      ("fstype", filesystem.fstype or "auto")]
            if filesystem.options:
                params.append(("options", filesystem.options))
            yield self.primitive(element, ident, "ocf", "heartbeat", "Filesystem", params,
                                 AGENT_MONITORS["Filesystem"], AGENT_TIMEOUTS["Filesystem"])
        for application in group.applications:
            monitor = application.monitor
            params = [("start", application.start), ("stop", application.stop)]
            if monitor is not None:
                params.append(("monitor_command", monitor.command) if monitor.command else
                              ("monitor_process", monitor.process or ""))
                if monitor.stabilization_ms:
                    params.append(("stabilization", str(math.ceil(monitor.stabilization_ms / 1000))))
            ident = f"{group.name}.app.{application.name}"
            primitive = self.primitive(
                element, ident, "ocf", PROVIDER, APPLICATION_AGENT, params,
                (duration(monitor.interval_ms), duration(monitor.timeout_ms)) if monitor else None,
                duration(application.timeout_ms))
            if monitor is not None:  # after `restarts` local restarts the next failure moves the group
                self.nvset(primitive, "meta_attributes", f"{ident}.meta",
                           [("migration-threshold", str(monitor.restarts + 1))])
            yield primitive

    def ping(self, parent: ET.Element, network: Network) -> None:
        """A clone of ocf:pacemaker:ping on every node, probing the network's targets."""
        clone = self.element(parent, "clone", f"{network.name}.ping.clone")
        self.nvset(clone, "meta_attributes", f"{network.name}.ping.clone.meta", [("interleave", "true")])
        self.primitive(clone, f"{network.name}.ping", "ocf", "pacemaker", "ping",
                       [("host_list", " ".join(network.ping_targets)), ("name", ping_attribute(network)),
                        ("multiplier", str(PING_MULTIPLIER)),
                        # A target lost for less than the heartbeat's detection time moves nothing, as in halang.
                        ("dampen", duration(self.cluster.heartbeat.detection_ms))],
                       AGENT_MONITORS["ping"], AGENT_TIMEOUTS["ping"])

    def connectivity(self, parent: ET.Element, network: Network) -> None:
        """Each group with a service address on the network stays off nodes that reach none of its targets."""
        labels = {service.name for service in network.services}
        attribute = ping_attribute(network)
        for group in self.cluster.groups:
            if not labels.intersection(group.service_ips):
                continue
            ident = f"{group.name}.connected.{network.name}"  # "connected" is the second part of no other id
            location = self.element(parent, "rsc_location", ident, rsc=resource_id(group))
            rule = self.element(location, "rule", f"{ident}.rule", score="-INFINITY", **{"boolean-op": "or"})
            self.element(rule, "expression", f"{ident}.rule.undefined", attribute=attribute,
                         operation="not_defined")
            self.element(rule, "expression", f"{ident}.rule.zero", attribute=attribute, operation="lte",
                         value="0", type="number")

    def unique(self, ident: str) -> str:
        """Two names that differ only in characters an id cannot hold get a number."""
        candidate, number = ident, 2
        while candidate in self.ids.seen:
            candidate, number = f"{ident}.{number}", number + 1
        return candidate

    def nics(self, primitive: ET.Element, ident: str, group: Group, network: Network) -> None:
        """IPaddr2's `nic` is the node's first adapter on the network (its boot adapter); one value if every node
        of the group names it alike, else one rule-based set per node."""
        nics = {node: _first_adapter(network, node) for node in group.nodes}
        names = {nic for nic in nics.values() if nic is not None}
        if len(names) == 1:
            params = primitive.find("instance_attributes")
            self.element(params, "nvpair", f"{ident}.params.nic", name="nic", value=names.pop())
            return
        for node, nic in nics.items():
            if nic is None:
                continue
            block = self.element(primitive, "instance_attributes", f"{ident}.nic.{node}", score="1")
            rule = self.element(block, "rule", f"{ident}.nic.{node}.rule", score="0")
            self.element(rule, "expression", f"{ident}.nic.{node}.rule.uname", attribute="#uname",
                         operation="eq", value=node)
            self.element(block, "nvpair", f"{ident}.nic.{node}.nic", name="nic", value=nic)

    def constraints(self, parent: ET.Element, group: Group) -> None:
        target = resource_id(group)
        for node, score in scores(group):
            self.element(parent, "rsc_location", f"{group.name}.on.{node}", rsc=target, node=node, score=str(score))
        by_name = {other.name: other for other in self.cluster.groups}
        for other in group.after:
            self.element(parent, "rsc_order", f"{group.name}.after.{other}", first=resource_id(by_name[other]),
                         then=target, kind="Mandatory")
        for other in group.same_node_as:
            self.element(parent, "rsc_colocation", f"{group.name}.with.{other}", rsc=target,
                         **{"with-rsc": resource_id(by_name[other])}, score="INFINITY")
        for other in group.different_node_from:
            self.element(parent, "rsc_colocation", f"{group.name}.apart.{other}", rsc=target,
                         **{"with-rsc": resource_id(by_name[other])}, score="-INFINITY")


def _service(cluster: Cluster, label: str):
    for network in cluster.networks:
        for service in network.services:
            if service.name == label:
                return network, service
    raise KeyError(label)


def _first_adapter(network: Network, node: str) -> str | None:
    adapters = [adapter for adapter in network.adapters if adapter.node == node]
    boots = [adapter for adapter in adapters if adapter.role == "boot"]
    return (boots or adapters)[0].ifname if adapters else None


def render_cib(cluster: Cluster) -> str:
    cib = CibBuilder(cluster).build()
    ET.indent(cib)
    return ET.tostring(cib, encoding="unicode") + "\n"
