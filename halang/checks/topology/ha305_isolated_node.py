from __future__ import annotations

from halang.checks.registry import Check
from halang.diagnostics import Severity
from runtime.core.paths import media


class IsolatedNode(Check):
    """A node with no heartbeat path to any other node.

    A node hears another over IP when both have an adapter on the same network
    and the same subnet (address/prefix gives the same network for both), and
    over a non-IP link when the link names both. A node with neither is cut
    off from the cluster with nothing failed: the other nodes count it as down
    from the start, it counts every other node as down, and under
    `quorum = majority` it costs the cluster a vote; under `quorum = none` it
    runs its groups alongside the rest, a split brain before anything has gone
    wrong. HACMP calls this a node with no communication path; Pacemaker a node
    that never joins the membership.

    Only the adapters' own boot and standby addresses make paths; service
    addresses add none. A cluster of a single node has no other node to hear
    and is not reported.

    Bad:
        network net_ether_01 {
          adapter alpha en0 boot 10.10.1.11/24
          adapter bravo en0 boot 10.10.2.12/24    # another subnet: alpha and bravo never hear each other
        }

    Good:
        network net_ether_01 {
          adapter alpha en0 boot 10.10.1.11/24
          adapter bravo en0 boot 10.10.1.12/24
        }
    """

    code = "HA305"
    name = "topology.isolated-node"
    severity = Severity.ERROR

    def run(self, context):
        cluster, spec = context.cluster, context.spec
        if len(cluster.nodes) < 2 or spec is None:
            return
        heard: set[str] = set()  # nodes that share a heartbeat medium with another node (runtime.core.paths)
        for medium in media(spec):
            nodes = {end.node for end in medium.ends}
            if len(nodes) > 1:
                heard.update(nodes)
        for node in cluster.nodes:
            if node.name in heard:
                continue
            adapters = context.adapters_by_node.get(node.name, [])
            if adapters:
                listed = ", ".join(f"{adapter.ifname} {adapter.address}/{adapter.prefix} on '{network.name}'"
                                   for network, adapter in adapters)
                why = (f"no other node has an adapter on the network and subnet of its adapters ({listed}), "
                       "and no link joins it to another node")
            else:
                why = "it has no adapter and no link joins it to another node"
            yield self.finding(
                node.span(),
                f"node '{node.name}' has no heartbeat path to any other node: {why}",
                f"give '{node.name}' an adapter on the subnet of another node's adapter, or name it with another "
                "node in a link; until then the cluster counts it as down from the start")
