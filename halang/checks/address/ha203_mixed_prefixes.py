from halang.checks.registry import Check
from halang.diagnostics import Related, Severity


class MixedPrefixes(Check):
    """Adapters of one role on one network with different prefixes.

    On one network all boot adapters share one netmask, and so do all
    standby adapters: that is how every node works out the same subnets, and
    so which adapters hear each other's heartbeats and where a service
    address can go. A node whose boot adapter says /25 where its peers say
    /24 sees half of them as off-link, routes its heartbeats to them through
    the gateway (or not at all), and after a takeover brings the service
    address up with a netmask the clients' routers do not expect.

    The first adapter of each role on the network sets the prefix for that
    role; every later adapter of the role with another prefix is reported,
    pointing back at the first. Adapters of the other IP version are
    compared among themselves (mixing versions is HA210), and boot and
    standby adapters may have different prefixes from each other.

    Bad:
        network net_ether_01 {
          adapter alpha en0 boot 10.10.1.11/24
          adapter bravo en0 boot 10.10.1.12/25
        }

    Good:
        network net_ether_01 {
          adapter alpha en0 boot 10.10.1.11/24
          adapter bravo en0 boot 10.10.1.12/24
        }
    """

    code = "HA203"
    name = "address.mixed-prefixes"
    severity = Severity.ERROR

    def run(self, context):
        for network in context.cluster.networks:
            first_of_role = {}
            for adapter in network.adapters:
                first = first_of_role.setdefault((adapter.role, adapter.version), adapter)
                if first.prefix == adapter.prefix:
                    continue
                yield self.finding(
                    adapter.span("address"),
                    f"{adapter.role} adapter {adapter.node}/{adapter.ifname} on network {network.name} has prefix "
                    f"/{adapter.prefix}, but the first {adapter.role} adapter {first.node}/{first.ifname} "
                    f"has /{first.prefix}",
                    f"give every {adapter.role} adapter on {network.name} the same prefix, "
                    f"for example {adapter.address}/{first.prefix}",
                    related=(Related(first.span("address"), f"first {adapter.role} adapter, /{first.prefix}"),))
