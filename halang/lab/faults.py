"""What a set of failed components cuts in the lab: pure, from the runtime's own failure model.

`wiring(plan, spec, failed)` expands the component names exactly as `halang
simulate` does (`runtime.failures.expand`: a domain is its nodes, a node
takes its adapters and its disk connections down) and says what must be cut:

| component | what the lab does | why |
|---|---|---|
| `adapter:N/IF` | the switch end of the adapter's veth goes down | the node's interface keeps its addresses and its admin state (an engine's own configuration is left alone), and it sees its carrier go, as with a pulled cable |
| `node:N` | every adapter of the node as above; its serial links stop forwarding; its paths to disk links are cut | the node is cut off on every path at once; its processes (the engine) are the test's to kill, not the lab's |
| `switch:S` | the switch's bridge goes down (its ports, the uplink to the core included, stop forwarding) | adapters keep their carrier, as behind a switch that stopped forwarding |
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
from dataclasses import dataclass

from halang.lab.plan import LabError, LabPlan
from runtime.failures import ComponentError, Down, expand, parse_component
from runtime.snapshot import ClusterSpec


@dataclass(frozen=True)
class Wiring:
    """What is cut: adapter switch ports, switch bridges, serial links, and (link, node) disk paths."""

    ports_down: frozenset[str]
    bridges_down: frozenset[str]
    serials_cut: frozenset[str]
    disk_paths_cut: frozenset[tuple[str, str]]


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
    ports = frozenset(adapter.port for adapter in plan.adapters if (adapter.node, adapter.ifname) in down.adapters)
    bridges = frozenset(switch.bridge for switch in plan.switches if switch.name in down.switches)
    serials = frozenset(serial.link for serial in plan.serials
                        if not down.link_up(serial.link) or not all(down.node_up(node) for node in serial.nodes))
    disks = frozenset((disk.link, node) for disk in plan.disks for node in disk.paths
                      if not down.link_up(disk.link) or not down.connected(node, disk.link))
    return Wiring(ports, bridges, serials, disks)
