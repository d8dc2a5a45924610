from halang.checks.address._subnets import Entry, all_endpoints, earliest_overlaps
from halang.checks.registry import Check
from halang.diagnostics import Related, Severity


class OverlappingNetworks(Check):
    """Subnets of two different networks overlap.

    Each `network` block is one IP network: the cluster manager decides
    which adapters hear each other, and on which interface a service address
    comes up, from the subnets of the network's addresses. When a subnet of
    one network is also (or contains, or lies inside) a subnet of another,
    a node has two routes to the same addresses: heartbeats meant for one
    network leave through the other's interface, a failed network can look
    alive, and after a takeover the service address answers on the wrong
    wire.

    The subnets considered are those of every adapter (its address and
    prefix) and of every service (its address with the prefix written, or
    its network's boot prefix). Two subnets overlap when they are equal or
    one contains the other. Networks are taken in file order: each address
    of a later network whose subnet overlaps a subnet of an earlier network
    is reported, pointing at the first address of another network that it
    overlaps. Subnets are sorted and swept once, so this stays fast on
    files with tens of thousands of addresses.

    Bad:
        network net_public {
          adapter alpha en0 boot 10.10.0.11/16
          adapter bravo en0 boot 10.10.0.12/16
        }
        network net_backup {
          adapter alpha en1 boot 10.10.8.11/24
          adapter bravo en1 boot 10.10.8.12/24
        }

    Good:
        network net_public {
          adapter alpha en0 boot 10.10.0.11/24
          adapter bravo en0 boot 10.10.0.12/24
        }
        network net_backup {
          adapter alpha en1 boot 10.10.8.11/24
          adapter bravo en1 boot 10.10.8.12/24
        }
    """

    code = "HA204"
    name = "address.overlapping-networks"
    severity = Severity.ERROR

    def run(self, context):
        endpoints = [e for e in all_endpoints(context) if e.prefix is not None]
        entries = [Entry(e.version, e.value, e.prefix, e.order, e.network.name) for e in endpoints]
        for endpoint, other_index in zip(endpoints, earliest_overlaps(entries)):
            if other_index is None:
                continue
            other = endpoints[other_index]
            if other.order > endpoint.order:
                continue  # every overlap it has is with later networks, whose addresses are reported
            how = "is also" if other.subnet == endpoint.subnet else "overlaps"
            yield self.finding(
                endpoint.span,
                f"subnet {endpoint.subnet} of {endpoint.label} on network {endpoint.network.name} {how} "
                f"subnet {other.subnet} of network {other.network.name} ({other.label})",
                f"give {endpoint.network.name} subnets of its own, apart from those of {other.network.name}; "
                "two networks on one subnet route heartbeats and service addresses over the wrong interface",
                related=(Related(other.span, f"subnet {other.subnet} of network {other.network.name}"),))
