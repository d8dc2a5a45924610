"""The node side of halang, shipped inside the bundle.

Everything here runs on the cluster nodes, on Python 3.9 and newer, with the
standard library only, and never imports `halang`. The decision modules are
pure (no I/O, no clock): `snapshot` reads the cluster the compiler froze into
the bundle, `failures` names what can fail and what a set of failures takes
down, `topology` says who hears whom and who may run groups, and `placement`
is the one placement function the verifier, the simulator and the daemon
share.
"""

from runtime.core.failures import Component, ComponentError, Down, all_components, expand, parse_component
from runtime.core.placement import (
    Event,
    Holding,
    Move,
    Placement,
    PlacementError,
    Violation,
    address_overloads,
    dependency_violations,
    events,
    fallback_moves,
    make_placement,
    node_load,
    overloaded_nodes,
    place,
    placement_from_json,
    placement_to_json,
    service_address_load,
    startup_placement,
)
from runtime.core.snapshot import ClusterSpec, SnapshotError, load_snapshot
from runtime.core.topology import Status, assess, can_host, hosts, partitions, quorum_partitions

__all__ = [
    "ClusterSpec", "Component", "ComponentError", "Down", "Event", "Holding", "Move", "Placement", "PlacementError",
    "SnapshotError", "Status", "Violation", "address_overloads", "all_components", "assess", "can_host",
    "dependency_violations", "events", "expand", "fallback_moves", "hosts", "load_snapshot", "make_placement",
    "node_load", "overloaded_nodes",
    "parse_component", "partitions", "place", "placement_from_json", "placement_to_json", "quorum_partitions",
    "service_address_load", "startup_placement",
]
