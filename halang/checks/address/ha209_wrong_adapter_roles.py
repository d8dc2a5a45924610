from halang.checks.registry import Check
from halang.diagnostics import Related, Severity


class WrongAdapterRoles(Check):
    """`replace`: two boot adapters of one node on a network; `alias`: a standby adapter.

    The two ways of taking over an IP address want different adapters.
    Under `replace` a service address takes the place of a node's one boot
    address, and the node's standby adapters are spares it swaps to when
    the boot adapter fails: a second boot adapter of the node on the same
    network is a second interface on the boot subnet, which the kernel
    routes around, so its failures go unseen and a swap cannot be planned.
    Under `alias` there are no spares: every adapter carries its own boot
    address and may take service aliases, so a `standby` line says
    something the cluster manager cannot do.

    Under `replace`, each boot adapter of a node after its first on the
    network is reported, pointing at the first. Under `alias`, every
    `standby` adapter is reported. The finding points at the role.

    Bad:
        network net_ether_01 {
          ipat = replace
          adapter alpha en0 boot 10.10.1.11/24
          adapter alpha en1 boot 10.10.1.21/24
        }

    Good:
        network net_ether_01 {
          ipat = replace
          adapter alpha en0 boot    10.10.1.11/24
          adapter alpha en1 standby 10.10.2.11/24
        }
    """

    code = "HA209"
    name = "address.wrong-adapter-roles"
    severity = Severity.ERROR

    def run(self, context):
        for network in context.cluster.networks:
            if network.ipat == "replace":
                first_boot = {}
                for adapter in network.adapters:
                    if adapter.role != "boot":
                        continue
                    first = first_boot.setdefault(adapter.node, adapter)
                    if first is adapter:
                        continue
                    yield self.finding(
                        adapter.span("role"),
                        f"node {adapter.node} has a second boot adapter {adapter.ifname} on network {network.name} "
                        f"(ipat = replace); its boot adapter is {first.ifname}",
                        f"under ipat = replace a node has one boot adapter per network: make {adapter.ifname} a "
                        "standby on a subnet of its own, or use ipat = alias",
                        related=(Related(first.span("role"), f"boot adapter {first.node}/{first.ifname}"),))
            else:
                for adapter in network.adapters:
                    if adapter.role == "standby":
                        yield self.finding(
                            adapter.span("role"),
                            f"adapter {adapter.node}/{adapter.ifname} on network {network.name} is a standby, "
                            "but under ipat = alias every adapter is boot",
                            f"make {adapter.ifname} a boot adapter on a subnet of its own, "
                            "or use ipat = replace for standby adapters")
