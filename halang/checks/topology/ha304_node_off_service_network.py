from __future__ import annotations

from halang.checks.registry import Check
from halang.checks.topology.tree import blocks_by_name, item_spans
from halang.diagnostics import Severity


class NodeOffServiceNetwork(Check):
    """A node in a group's list has no adapter on the network of one of the group's service addresses.

    A service address is raised on an adapter of the node that runs the group:
    under `replace` it takes the place of a boot or standby address, under
    `alias` it is added beside an adapter's own address. A node with no adapter
    on the service address's network has nowhere to put it, so it can never
    host the group, however healthy it is. In HACMP terms the node is in the
    resource group's node list but not on the network of its service IP label:
    the group cannot be acquired there, and a fallover to that node fails.

    The finding points at the node's entry in the group's `nodes` list and
    names the service addresses and networks it cannot reach; one finding per
    node of a group.

    Bad:
        network net_ether_01 {
          adapter alpha en0 boot 10.10.1.11/24
          service app_svc 10.10.1.100
        }
        resource_group app {
          nodes       = [alpha, bravo]    # bravo has no adapter on net_ether_01
          service_ips = [app_svc]
        }

    Good:
        network net_ether_01 {
          adapter alpha en0 boot 10.10.1.11/24
          adapter bravo en0 boot 10.10.1.12/24
          service app_svc 10.10.1.100
        }
        resource_group app {
          nodes       = [alpha, bravo]
          service_ips = [app_svc]
        }
    """

    code = "HA304"
    name = "topology.node-off-service-network"
    severity = Severity.ERROR

    def run(self, context):
        spec = context.spec
        if spec is None:
            return
        networks_of = {node: {network.name for network, _ in adapters}
                       for node, adapters in context.adapters_by_node.items()}
        services = context.services
        blocks = None
        for group in context.cluster.groups:
            if not group.service_ips or not group.nodes or group.name not in spec.static_hosts:
                continue
            hosts = spec.static_hosts[group.name]  # who the runtime lets host it with nothing failed
            needed: dict[str, list[str]] = {}  # network -> the group's labels on it
            for label in group.service_ips:
                if label in services:
                    needed.setdefault(services[label][0].name, []).append(label)
            spans = None
            for node in group.nodes:
                if node in hosts:
                    continue
                reachable = networks_of.get(node, set())
                missing = [(network, labels) for network, labels in needed.items() if network not in reachable]
                if not missing:
                    continue
                if spans is None:
                    if blocks is None:
                        blocks = blocks_by_name(context.tree, "resource_group")
                    spans = item_spans(blocks.get(group.name), "nodes")
                what = "; ".join(
                    f"network '{network}', which carries {_labels(labels)}" for network, labels in missing)
                networks = ", ".join(f"'{network}'" for network, _ in missing)
                yield self.finding(
                    spans.get(node) or group.span("nodes"),
                    f"node '{node}' is in resource group '{group.name}' but has no adapter on {what}: "
                    "it can never host the group",
                    f"add an adapter line for '{node}' to {networks}, or take '{node}' out of the group's nodes")


def _labels(labels: list[str]) -> str:
    names = ", ".join(f"'{label}'" for label in labels)
    return f"its service address{'es' if len(labels) > 1 else ''} {names}"
