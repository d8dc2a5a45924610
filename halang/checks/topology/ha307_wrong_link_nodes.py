from __future__ import annotations

from halang.checks.registry import Check
from halang.checks.topology.tree import blocks_by_name
from halang.diagnostics import Related, Severity, Span
from halang.syntax.ast import ListValue, Scalar

LINK_KEYS = ("type", "device", "nodes")


class WrongLinkNodes(Check):
    """A link that joins the wrong number of nodes, or names one node twice.

    A serial cable (`rs232`) and a target-mode SCSI or SSA bus (`tmscsi`,
    `tmssa`) have two ends: a point-to-point link joins exactly two nodes. A
    `disk` link is a shared LUN on which each node writes its own slot and
    reads the others', so it joins two or more. A link with one node gives no
    path at all, and a point-to-point link with three nodes describes no cable
    that exists; in both cases the heartbeat the site counts on is not there.
    HACMP's non-IP networks have the same shape: one serial or target-mode
    network per pair of nodes, one heartbeat-on-disk network per shared disk.

    A link that names one node twice is reported too: twice in `nodes`, or
    two per-node device lines for one node. A node both in `nodes` and on a
    line of its own is not a repeat: the line overrides the shared `device`.

    Bad:
        link hb_serial {
          type    = rs232
          alpha   = "/dev/ttyS1"
          bravo   = "/dev/ttyS1"
          charlie = "/dev/ttyS1"
        }

    Good:
        link hb_disk {
          type    = disk
          device  = "/dev/hdisk9"
          nodes   = [alpha, bravo, charlie]
          charlie = "/dev/hdisk12"           # overrides the shared device on charlie
        }
    """

    code = "HA307"
    name = "topology.wrong-link-nodes"
    severity = Severity.ERROR

    def run(self, context):
        links = {link.name: link for link in context.cluster.links}
        if not links:
            return
        for name, block in blocks_by_name(context.tree, "link").items():
            link = links.get(name)
            if link is None:
                continue  # no type, or a second link of the name: reported by the builder
            named: dict[str, Span] = {}
            listed: dict[str, Span] = {}  # in `nodes`
            keyed: dict[str, Span] = {}  # on a line of their own
            nodes_seen = False
            for attribute in block.attributes:
                if attribute.key == "nodes":
                    if nodes_seen or not isinstance(attribute.value, ListValue):
                        continue
                    nodes_seen = True
                    for item in attribute.value.items:
                        if not isinstance(item, Scalar):
                            continue
                        if item.text in listed:
                            yield self._twice(link, item.text, item.span, listed[item.text], "in its nodes list")
                            continue
                        listed[item.text] = item.span
                        named.setdefault(item.text, item.span)
                elif attribute.key not in LINK_KEYS:
                    if attribute.key in keyed:
                        yield self._twice(link, attribute.key, attribute.key_span, keyed[attribute.key],
                                          "on two device lines")
                        continue
                    keyed[attribute.key] = attribute.key_span
                    named.setdefault(attribute.key, attribute.key_span)
            count = len(named)
            if link.point_to_point and count != 2:
                yield self.finding(
                    link.span(),
                    f"{link.type} link '{link.name}' {_joins(named)}: a point-to-point link joins exactly two nodes",
                    "name the node at the other end of the cable or bus" if count < 2 else
                    "write one link per pair of nodes, or make it a disk link if it is a shared disk")
            elif not link.point_to_point and count < 2:
                yield self.finding(
                    link.span(),
                    f"disk link '{link.name}' {_joins(named)}: a heartbeat disk joins two or more nodes",
                    "name every node that reaches the shared disk, with nodes = [..] and device, "
                    "or one line per node")

    def _twice(self, link, node, span, first, where):
        return self.finding(
            span, f"link '{link.name}' names node '{node}' twice, {where}",
            "name each node once; a line of its own next to nodes = [..] overrides the shared device",
            related=(Related(first, "first named here"),))


def _joins(named: dict[str, Span]) -> str:
    if not named:
        return "names no node"
    names = ", ".join(f"'{node}'" for node in named)
    if len(named) == 1:
        return f"names only one node ({names})"
    return f"joins {len(named)} nodes ({names})"
