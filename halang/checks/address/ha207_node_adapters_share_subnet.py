from halang.checks.address._subnets import Entry, earliest_overlaps, subnet_text
from halang.checks.registry import Check
from halang.diagnostics import Related, Severity


class NodeAdaptersShareSubnet(Check):
    """`alias`: two adapters of one node on one network share a subnet.

    With IP address takeover by aliasing, each of a node's adapters on the
    network sits on a subnet of its own. Two adapters of one node on one
    subnet give the kernel two routes to it: it sends everything for that
    subnet out of one interface, so heartbeats meant for the other adapter
    never leave through it, its failure goes unseen, and the cluster manager
    cannot tell which adapter is healthy when it picks one to carry a
    service alias.

    Two subnets are shared when they are equal or one contains the other.
    Each adapter whose subnet overlaps that of an earlier adapter of the
    same node on the same network is reported, pointing at the first one.

    Bad:
        network net_ether_01 {
          ipat = alias
          adapter alpha en0 boot 10.10.1.11/24
          adapter alpha en1 boot 10.10.1.21/24
        }

    Good:
        network net_ether_01 {
          ipat = alias
          adapter alpha en0 boot 10.10.1.11/24
          adapter alpha en1 boot 10.10.2.11/24
        }
    """

    code = "HA207"
    name = "address.node-adapters-share-subnet"
    severity = Severity.ERROR

    def run(self, context):
        for network in context.cluster.networks:
            if network.ipat != "alias":
                continue
            by_node = {}
            for adapter in network.adapters:
                by_node.setdefault(adapter.node, []).append(adapter)
            for adapters in by_node.values():
                if len(adapters) < 2:
                    continue
                entries = [Entry(a.version, a.value, a.prefix, a.span().start, index)
                           for index, a in enumerate(adapters)]
                for index, other_index in enumerate(earliest_overlaps(entries)):
                    if other_index is None or other_index > index:
                        continue
                    adapter, other = adapters[index], adapters[other_index]
                    subnet = subnet_text(adapter.version, adapter.value, adapter.prefix)
                    other_subnet = subnet_text(other.version, other.value, other.prefix)
                    shared = subnet if subnet == other_subnet else f"{subnet} (overlapping {other_subnet})"
                    yield self.finding(
                        adapter.span("address"),
                        f"adapters {other.ifname} and {adapter.ifname} of node {adapter.node} on network "
                        f"{network.name} share the subnet {shared}",
                        "under ipat = alias put each of a node's adapters on a network on a different subnet",
                        related=(Related(other.span("address"), f"{other.node}/{other.ifname} on {other_subnet}"),))
