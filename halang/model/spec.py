"""The runtime's `ClusterSpec`, built straight from the resolved model.

The decision core (`runtime/`) works on a `ClusterSpec`. The nodes read
theirs from the bundle's `snapshot.json` (`runtime.core.snapshot.load_snapshot`);
on the workstation the verifier, `simulate` and the compiler build the same
value from the model here, without writing and parsing JSON, which costs
seconds on a 5,000-node file. A test holds both ways equal on every example
and fixture.
"""

from __future__ import annotations

from decimal import Decimal

from halang.model.cluster import Cluster
from runtime.core.snapshot import (
    AcceptSpec,
    AdapterSpec,
    ApplicationSpec,
    CapacitySpec,
    ClusterSpec,
    EventSpec,
    FilesystemSpec,
    GroupSpec,
    HeartbeatSpec,
    LinkSpec,
    MonitorSpec,
    NetworkSpec,
    NodeSpec,
    RequirementsSpec,
    ServiceSpec,
    SshSpec,
    make_spec,
)


def _decimal(value: float) -> Decimal:
    # The snapshot reader reads a JSON number from its shortest text; repr gives the same text.
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


def _subnet(version: int, value: int, prefix: int | None) -> tuple[int, int, int] | None:
    if prefix is None:
        return None
    host_bits = (32 if version == 4 else 128) - prefix
    return (version, value >> host_bits << host_bits, prefix)


def cluster_spec(cluster: Cluster) -> ClusterSpec:
    """The cluster as the runtime sees it; `runtime.core.snapshot.SnapshotError` if the model does not resolve."""
    beat = cluster.heartbeat
    heartbeat = HeartbeatSpec(interval_ms=beat.interval_ms, miss_limit=beat.miss_limit, port=beat.port,
                              key_file=beat.key_file, quorum=beat.quorum, tie_breaker=beat.tie_breaker)
    nodes = tuple(
        NodeSpec(name=node.name,
                 capacity=None if node.capacity is None else CapacitySpec(
                     cpu=None if node.capacity.cpu is None else _decimal(node.capacity.cpu),
                     memory=node.capacity.memory),
                 domains=tuple(node.domains),
                 ssh=None if node.ssh is None else SshSpec(user=node.ssh.user, host=node.ssh.host, port=node.ssh.port))
        for node in cluster.nodes)
    networks = tuple(
        NetworkSpec(name=network.name, type=network.type, ipat=network.ipat,
                    adapters=tuple(AdapterSpec(network=network.name, node=a.node, ifname=a.ifname, role=a.role,
                                               address=a.address, prefix=a.prefix, switch=a.switch,
                                               version=a.version, value=a.value,
                                               subnet=_subnet(a.version, a.value, a.prefix))
                                   for a in network.adapters),
                    services=tuple(ServiceSpec(network=network.name, name=s.name, address=s.address, prefix=s.prefix,
                                               version=s.version, value=s.value,
                                               subnet=_subnet(s.version, s.value, s.prefix))
                                   for s in network.services),
                    ping_targets=tuple(network.ping_targets))
        for network in cluster.networks)
    order = {node.name: index for index, node in enumerate(cluster.nodes)}
    links = []
    for link in cluster.links:
        devices = tuple(sorted(((node, device) for node, device in link.devices.items() if node in order),
                               key=lambda item: order[item[0]]))
        links.append(LinkSpec(name=link.name, type=link.type, devices=devices,
                              nodes=tuple(node for node, _ in devices)))
    groups = tuple(
        GroupSpec(name=group.name, nodes=tuple(group.nodes), startup=group.startup, fallover=group.fallover,
                  fallback=group.fallback, fallback_delay_ms=group.fallback_delay_ms,
                  service_ips=tuple(group.service_ips), volume_groups=tuple(group.volume_groups),
                  filesystems=tuple(FilesystemSpec(mount_point=f.mount_point, device=f.device, fstype=f.fstype,
                                                   options=f.options) for f in group.filesystems),
                  applications=tuple(
                      ApplicationSpec(name=app.name, start=app.start, stop=app.stop, timeout_ms=app.timeout_ms,
                                      monitor=None if app.monitor is None else MonitorSpec(
                                          command=app.monitor.command, process=app.monitor.process,
                                          interval_ms=app.monitor.interval_ms, timeout_ms=app.monitor.timeout_ms,
                                          restarts=app.monitor.restarts,
                                          stabilization_ms=app.monitor.stabilization_ms))
                      for app in group.applications),
                  requires=RequirementsSpec(cpu=_decimal(group.requires.cpu), memory=group.requires.memory),
                  rto_ms=group.rto_ms, after=tuple(group.after), same_node_as=tuple(group.same_node_as),
                  different_node_from=tuple(group.different_node_from))
        for group in cluster.groups)
    events = tuple(EventSpec(kind=event.kind, pre=event.pre, post=event.post, notify=event.notify,
                             recovery=event.recovery) for event in cluster.events)
    accepts = tuple(AcceptSpec(code=accept.code, reason=accept.reason) for accept in cluster.accepts)
    return make_spec(cluster.name, heartbeat, nodes, networks, tuple(links), groups, events, accepts)
