from halang.checks.address._subnets import endpoints_by_network
from halang.checks.registry import Check
from halang.diagnostics import Related, Severity


class MixedIpVersions(Check):
    """A network mixing IPv4 and IPv6 adapters or services.

    A `network` is one IP network, and the cluster manager works out its
    subnets, heartbeat paths and where each service address may go from
    addresses of one kind. IPv4 and IPv6 addresses never share a subnet, so
    in a mixed network an IPv6 service can never be brought up on an IPv4
    adapter, IPv4 and IPv6 adapters never hear each other, and a service
    without a prefix borrows a boot prefix that means nothing for it.
    Dual-stack hosts describe their IPv4 and IPv6 sides as two networks.

    The first address of the network (adapter or service, in file order)
    sets its IP version; every adapter or service of the other version is
    reported, pointing at that first address.

    Bad:
        network net_ether_01 {
          adapter alpha en0 boot 10.10.1.11/24
          adapter bravo en0 boot fd00:10::12/64
        }

    Good:
        network net_ether_01 {
          adapter alpha en0 boot 10.10.1.11/24
          adapter bravo en0 boot 10.10.1.12/24
        }
        network net_ether_06 {
          adapter alpha en1 boot fd00:10::11/64
          adapter bravo en1 boot fd00:10::12/64
        }
    """

    code = "HA210"
    name = "address.mixed-ip-versions"
    severity = Severity.ERROR

    def run(self, context):
        for network in context.cluster.networks:
            endpoints = endpoints_by_network(context)[network.name]
            if not endpoints:
                continue
            first = endpoints[0]
            for endpoint in endpoints[1:]:
                if endpoint.version == first.version:
                    continue
                yield self.finding(
                    endpoint.span,
                    f"network {network.name} mixes IPv4 and IPv6: {endpoint.label} has the IPv{endpoint.version} "
                    f"address {endpoint.address}, but the network's first address {first.address} "
                    f"({first.label}) is IPv{first.version}",
                    f"put the IPv{endpoint.version} addresses on a network of their own",
                    related=(Related(first.span, f"first address of {network.name}, IPv{first.version}"),))
