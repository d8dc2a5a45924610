"""What a set of failed components cuts in the lab: pure, from the runtime's own failure model.

`wiring(plan, spec, failed)` expands the component names exactly as `halang
simulate` does (`runtime.core.failures.expand`: a domain is its nodes, a node
takes its adapters and its disk connections down) and says what must be cut.
A port is the switch end of an adapter's veth, in the switch namespace:

| component | what the lab does | why |
|---|---|---|
| `adapter:N/IF` | the adapter's port goes down | the node's interface keeps its addresses and its admin state (an engine's own configuration is left alone), and it sees its carrier go, as with a pulled cable |
| `node:N` | every adapter of the node as above; its serial links stop forwarding; its paths to disk links are cut | the node is cut off on every path at once; its processes (the engine) are the test's to kill, not the lab's |
| `switch:S` | the port of every adapter on the switch goes down | a dead switch: every adapter on it sees its carrier go |
| `port:N/IF` | the adapter's port leaves its bridge (`nomaster`) and stays up | a bad cable or switch port: no frame either way, and the carrier stays |
| `deaf:N/IF` | an nftables rule of the switch namespace's bridge family drops the frames the bridge forwards out of the port | the adapter's frames go on; none reach it; the carrier stays |
| `mute:N/IF` | the same drops the frames the bridge forwards in from the port | what it sends reaches nobody; what others send reaches it; the carrier stays |
| `hung:S` | the switch's bridge goes down (its ports, the uplink to the core included, stop forwarding) | every port keeps its carrier, and nothing passes |
| `link:L`, serial | the relay drops every byte both ways (the ptys stay) | a pulled cable: nothing arrives late when it is plugged back |
| `link:L`, disk | every node's path to the disk points at a file that does not exist | an open fails as on a lost path; chmod would not stop root, which the engine runs as |
| `linkend:N/L` | that node's path points at a file that does not exist | only that node loses the disk |
| `domain:D` | every node of the domain, as `node:N` | |

An element is cut while any failed component cuts it, so healing one of
two overlapping failures (`node:alpha`, then `adapter:alpha/en0`) leaves
what the other still cuts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields

from halang.lab.plan import LabError, LabPlan
from runtime.core.failures import ComponentError, Down, expand, parse_component
from runtime.core.snapshot import ClusterSpec


@dataclass(frozen=True)
class Wiring:
    """What is cut, each a set of the lab's names (ports are adapters' switch ends)."""

    ports_down: frozenset[str]  # carrier gone: adapter, node, switch
    ports_detached: frozenset[str]  # out of their bridge, carrier up: port
    deaf_ports: frozenset[str]  # frames forwarded out of the port (to the node) dropped
    mute_ports: frozenset[str]  # frames forwarded in from the port (from the node) dropped
    bridges_down: frozenset[str]  # hung switches
    serials_cut: frozenset[str]
    disk_paths_cut: frozenset[tuple[str, str]]  # (link, node)

    def empty(self) -> bool:
        return not any(getattr(self, item.name) for item in fields(self))

    def covers(self, other: Wiring) -> bool:
        """Everything `other` cuts, this cuts too."""
        return all(getattr(other, item.name) <= getattr(self, item.name) for item in fields(self))


def canonical(spec: ClusterSpec, text: str) -> str:
    """The component's canonical name (`adapter:alpha/en0`); LabError, as simulate words it, if there is none."""
    try:
        return parse_component(text, spec).text
    except ComponentError as exc:
        raise LabError(str(exc)) from None


def wiring(plan: LabPlan, spec: ClusterSpec, failed: Iterable[str]) -> Wiring:
    try:
        down: Down = expand(spec, list(failed))
    except ComponentError as exc:
        raise LabError(str(exc)) from None

    def ports(keys: Iterable[tuple[str, str]]) -> frozenset[str]:
        keys = set(keys)
        return frozenset(adapter.port for adapter in plan.adapters if (adapter.node, adapter.ifname) in keys)

    dead = ports(down.adapters) | frozenset(adapter.port for adapter in plan.adapters
                                            if adapter.switch in down.switches)
    bridges = frozenset(switch.bridge for switch in plan.switches if switch.name in down.hung)
    serials = frozenset(serial.link for serial in plan.serials
                        if not down.link_up(serial.link) or not all(down.node_up(node) for node in serial.nodes))
    disks = frozenset((disk.link, node) for disk in plan.disks for node in disk.paths
                      if not down.link_up(disk.link) or not down.connected(node, disk.link))
    return Wiring(dead, ports(down.ports), ports(down.deaf), ports(down.mute), bridges, serials, disks)
