from __future__ import annotations

from collections import Counter, defaultdict

from halang.checks.registry import Check
from halang.diagnostics import Severity


class NoNonIpLink(Check):
    """Two nodes that can take over from each other share no non-IP link.

    When the only heartbeat paths between two nodes are IP, one failure of the
    IP network (a switch, a cable, a firewall rule, a broadcast storm) looks
    exactly like the death of the other node: each side declares the other
    down and takes over its groups, and two nodes mount the same volume groups
    and raise the same addresses. HACMP has asked for a non-IP network (a
    serial cable, target-mode SCSI or SSA, or a heartbeat disk) between nodes
    for this reason; Pacemaker sites get the same effect with a second ring or
    SBD. A non-IP link keeps the nodes hearing each other while the LAN is
    gone, so they see a network failure for what it is.

    The check looks at the pairs of nodes that appear together in some
    resource group's `nodes` list (the nodes that could take over from each
    other) and reports each pair that no link names both of: an `rs232`,
    `tmscsi` or `tmssa` link between the two, or a `disk` link whose nodes
    include both. Each pair is reported once, at the first group (in file
    order) that puts them together. Nodes that never share a group are not
    compared, so a large cluster built of pods needs links only within pods.

    Bad:
        node alpha { }
        node bravo { }
        resource_group app {
          nodes = [alpha, bravo]
        }

    Good:
        node alpha { }
        node bravo { }
        link hb_serial {
          type  = rs232
          alpha = "/dev/ttyS1"
          bravo = "/dev/ttyS1"
        }
        resource_group app {
          nodes = [alpha, bravo]
        }
    """

    code = "HA303"
    name = "topology.no-non-ip-link"
    severity = Severity.WARNING

    def run(self, context):
        links_of: dict[str, list[int]] = defaultdict(list)
        for index, link in enumerate(context.cluster.links):
            for node in link.devices:
                links_of[node].append(index)
        signature_of = {node: frozenset(links) for node, links in links_of.items()}
        no_links: frozenset[int] = frozenset()
        reported: set[tuple[str, str]] = set()
        for group in context.cluster.groups:
            nodes = group.nodes
            if len(nodes) < 2:
                continue
            # Nodes with the same links are alike: compare classes of nodes, not every pair, so a
            # concurrent group on thousands of nodes that all share one disk link costs a pass.
            classes: dict[frozenset[int], list[str]] = {}
            members: Counter[int] = Counter()
            for node in nodes:
                links = signature_of.get(node, no_links)
                classes.setdefault(links, []).append(node)
                members.update(links)
            everyone = {link for link, count in members.items() if count == len(nodes)}
            signatures = list(classes.items())
            position: dict[str, int] = {}
            for first, (links_a, nodes_a) in enumerate(signatures):
                if not links_a.isdisjoint(everyone):
                    continue  # a link joins these nodes to every node of the list
                for links_b, nodes_b in signatures[first:]:
                    if not links_a.isdisjoint(links_b):
                        continue
                    for node_a in nodes_a:
                        for node_b in nodes_b:
                            if node_a == node_b:
                                continue
                            pair = (node_a, node_b) if node_a < node_b else (node_b, node_a)
                            if pair in reported:
                                continue
                            reported.add(pair)
                            if not position:
                                position = {node: index for index, node in enumerate(nodes)}
                            earlier, later = ((node_a, node_b) if position[node_a] < position[node_b]
                                              else (node_b, node_a))
                            yield self._pair_finding(group, earlier, later)

    def _pair_finding(self, group, node_a, node_b):
        return self.finding(
            group.span("nodes"),
            f"nodes '{node_a}' and '{node_b}' can take over from each other (resource group '{group.name}') "
            "but share no non-IP link: their only heartbeat paths are IP",
            "an IP network failure would look to each like the other's death; add a link naming both: "
            f"an rs232 cable or tmscsi/tmssa bus between '{node_a}' and '{node_b}', or a disk link on a LUN "
            "both can reach")
