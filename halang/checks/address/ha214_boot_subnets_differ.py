from halang.checks.address._subnets import contains, subnet_text
from halang.checks.registry import Check
from halang.diagnostics import Related, Severity


class BootSubnetsDiffer(Check):
    """`replace`: boot adapters of one network on different subnets.

    With IP address takeover by replacement, every service address of the
    network lies in the one boot subnet and takes the place of a boot
    address on whichever node holds it. A node whose boot adapter sits on
    another subnet can take none of the network's service addresses: at
    fallover the address comes up on an interface whose subnet the routers
    do not send it to, and the group is online but unreachable.

    The first boot adapter of the network (per IP version) sets the boot
    subnet; every later boot adapter whose address lies outside that subnet
    is reported, pointing at the first. A boot adapter inside the subnet but
    with another prefix is HA203, not this.

    Bad:
        network net_ether_01 {
          ipat = replace
          adapter alpha en0 boot 10.10.1.11/24
          adapter bravo en0 boot 10.10.3.12/24
        }

    Good:
        network net_ether_01 {
          ipat = replace
          adapter alpha en0 boot 10.10.1.11/24
          adapter bravo en0 boot 10.10.1.12/24
        }
    """

    code = "HA214"
    name = "address.boot-subnets-differ"
    severity = Severity.ERROR

    def run(self, context):
        for network in context.cluster.networks:
            if network.ipat != "replace":
                continue
            first_boot = {}
            for adapter in network.adapters:
                if adapter.role != "boot":
                    continue
                first = first_boot.setdefault(adapter.version, adapter)
                if contains(first.version, first.value, first.prefix, adapter.value):
                    continue
                boot_subnet = subnet_text(first.version, first.value, first.prefix)
                yield self.finding(
                    adapter.span("address"),
                    f"boot adapter {adapter.node}/{adapter.ifname} {adapter.address}/{adapter.prefix} is on subnet "
                    f"{subnet_text(adapter.version, adapter.value, adapter.prefix)}, not on the boot subnet "
                    f"{boot_subnet} of network {network.name} (ipat = replace)",
                    f"under ipat = replace every boot adapter of a network is on one subnet: "
                    f"move {adapter.node}/{adapter.ifname} into {boot_subnet}, or put it on another network",
                    related=(Related(first.span("address"),
                                     f"boot subnet {boot_subnet}, set by {first.node}/{first.ifname}"),))
