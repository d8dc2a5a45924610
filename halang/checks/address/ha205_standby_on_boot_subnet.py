from halang.checks.address._subnets import Entry, contains, earliest_overlaps, subnet_text
from halang.checks.registry import Check
from halang.diagnostics import Related, Severity


class StandbyOnBootSubnet(Check):
    """`replace`: a standby adapter on the boot subnet.

    With IP address takeover by replacement, a service address takes the
    place of a boot adapter's address, and when that adapter fails the
    cluster manager swaps the service address over to a standby adapter of
    the same node. That only works while the standby sits on a subnet of its
    own: a standby on the boot subnet gives the node two routes to one
    subnet, so the kernel sends heartbeats and client traffic out of
    whichever interface it picked first, the standby's failure goes
    unnoticed and the swap lands on an adapter that may not be routed at
    all.

    A standby adapter is reported when its subnet (its address and prefix)
    overlaps the subnet of any boot adapter of the same network: equal, or
    one inside the other. The finding points at the first such boot adapter.

    Bad:
        network net_ether_01 {
          ipat = replace
          adapter alpha en0 boot    10.10.1.11/24
          adapter alpha en1 standby 10.10.1.21/24
        }

    Good:
        network net_ether_01 {
          ipat = replace
          adapter alpha en0 boot    10.10.1.11/24
          adapter alpha en1 standby 10.10.2.11/24
        }
    """

    code = "HA205"
    name = "address.standby-on-boot-subnet"
    severity = Severity.ERROR

    def run(self, context):
        for network in context.cluster.networks:
            if network.ipat != "replace":
                continue
            adapters = list(network.adapters)
            entries = [Entry(a.version, a.value, a.prefix, a.span().start, a.role) for a in adapters]
            for adapter, boot_index in zip(adapters, earliest_overlaps(entries)):
                if adapter.role != "standby" or boot_index is None:
                    continue
                boot = adapters[boot_index]
                boot_subnet = subnet_text(boot.version, boot.value, boot.prefix)
                if contains(boot.version, boot.value, boot.prefix, adapter.value):
                    where = f"is on the boot subnet {boot_subnet}"
                else:
                    own = subnet_text(adapter.version, adapter.value, adapter.prefix)
                    where = f"is on subnet {own}, which contains the boot subnet {boot_subnet}"
                yield self.finding(
                    adapter.span("address"),
                    f"standby adapter {adapter.node}/{adapter.ifname} {adapter.address}/{adapter.prefix} on network "
                    f"{network.name} {where} (boot adapter {boot.node}/{boot.ifname})",
                    "under ipat = replace put the standby adapters on a subnet of their own, apart from the boot "
                    "subnet",
                    related=(Related(boot.span("address"), f"boot subnet {boot_subnet}"),))
