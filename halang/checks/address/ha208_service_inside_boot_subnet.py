from halang.checks.address._subnets import Entry, contains, earliest_overlaps, endpoints_by_network
from halang.checks.registry import Check
from halang.diagnostics import Related, Severity


class ServiceInsideBootSubnet(Check):
    """`alias`: a service address inside a boot subnet.

    With IP address takeover by aliasing, a service address is added beside
    an adapter's own address on any healthy adapter, and it must lie on a
    subnet of its own, routed to the cluster. A service address on a boot
    subnet is reachable only through the adapters on that subnet: added to
    an adapter on another boot subnet it is unreachable, and added to one on
    its own subnet it makes a second route to the boot subnet that steals
    the heartbeats of the adapter it sits beside.

    A service's subnet is its address with the prefix written, or the
    network's boot prefix. It is reported when it overlaps the subnet of any
    boot adapter of its network (equal, or one inside the other), pointing
    at the first such adapter. Several services may share one service
    subnet. (A service on another network's subnet is HA204.)

    Bad:
        network net_ether_01 {
          ipat = alias
          adapter alpha en0 boot 10.10.1.11/24
          adapter alpha en1 boot 10.10.2.11/24
          service app_svc 10.10.2.100
        }

    Good:
        network net_ether_01 {
          ipat = alias
          adapter alpha en0 boot 10.10.1.11/24
          adapter alpha en1 boot 10.10.2.11/24
          service app_svc 10.10.20.100
        }
    """

    code = "HA208"
    name = "address.service-inside-boot-subnet"
    severity = Severity.ERROR

    def run(self, context):
        for network in context.cluster.networks:
            if network.ipat != "alias" or not network.services or not network.adapters:
                continue
            endpoints = [e for e in endpoints_by_network(context)[network.name]
                         if e.prefix is not None and (not e.is_adapter or e.item.role == "boot")]
            entries = [Entry(e.version, e.value, e.prefix, e.order, "boot" if e.is_adapter else "service")
                       for e in endpoints]
            for endpoint, boot_index in zip(endpoints, earliest_overlaps(entries)):
                if endpoint.is_adapter or boot_index is None:
                    continue
                boot = endpoints[boot_index]
                inside = contains(boot.version, boot.value, boot.prefix, endpoint.value)
                where = "inside" if inside else f"on subnet {endpoint.subnet}, which overlaps"
                yield self.finding(
                    endpoint.span,
                    f"service {endpoint.item.name} {endpoint.written} on network {network.name} (ipat = alias) is "
                    f"{where} the boot subnet {boot.subnet} of {boot.label}",
                    "under ipat = alias give service addresses a subnet of their own, outside every boot subnet, "
                    "and route it to the cluster",
                    related=(Related(boot.span, f"boot subnet {boot.subnet}"),))
