from halang.checks.address._subnets import effective_prefix, first_boot_of, network_of, subnet_text
from halang.checks.registry import Check
from halang.diagnostics import Related, Severity


class ServiceOutsideBootSubnet(Check):
    """`replace`: a service address outside the boot subnet.

    With IP address takeover by replacement, a service address is brought
    up in place of a boot (or standby) adapter's own address. Clients and
    routers reach it through the boot subnet, so it must be an address of
    that subnet with the boot prefix: a service address elsewhere is
    unreachable once it is up, and one written with another prefix changes
    the interface's netmask and routes every time the group moves.

    A service is accepted when its address lies in the subnet of a boot
    adapter of its network and its prefix (as written, else the network's
    boot prefix) is that adapter's prefix. A `replace` network with service
    addresses but no boot adapter of their IP version has no boot subnet,
    and each of its services is reported.

    Bad:
        network net_ether_01 {
          ipat = replace
          adapter alpha en0 boot    10.10.1.11/24
          adapter alpha en1 standby 10.10.2.11/24
          service app_svc 10.10.2.100
        }

    Good:
        network net_ether_01 {
          ipat = replace
          adapter alpha en0 boot    10.10.1.11/24
          adapter alpha en1 standby 10.10.2.11/24
          service app_svc 10.10.1.100
        }
    """

    code = "HA206"
    name = "address.service-outside-boot-subnet"
    severity = Severity.ERROR

    def run(self, context):
        for network in context.cluster.networks:
            if network.ipat != "replace" or not network.services:
                continue
            boot_subnets = {}  # (version, prefix, first address) -> the first boot adapter on that subnet
            for adapter in network.adapters:
                if adapter.role == "boot":
                    key = (adapter.version, adapter.prefix, network_of(adapter.version, adapter.value, adapter.prefix))
                    boot_subnets.setdefault(key, adapter)
            prefixes = {}  # version -> the distinct boot prefixes
            first_boot = {}  # version -> the network's first boot adapter of that version
            for (version, prefix, _), adapter in boot_subnets.items():
                prefixes.setdefault(version, set()).add(prefix)
                first_boot.setdefault(version, adapter)
            prefixes = {version: sorted(found) for version, found in prefixes.items()}
            network_first_boot = first_boot_of(network)
            for service in network.services:
                prefix = effective_prefix(network, service, network_first_boot)
                yield from self._judge(network, service, prefix, boot_subnets,
                                       prefixes.get(service.version, ()), first_boot.get(service.version))

    def _judge(self, network, service, prefix, boot_subnets, prefixes, first):
        version, value = service.version, service.value
        if first is None:
            yield self.finding(
                service.span("address"),
                f"service {service.name} {service.address} is on network {network.name} (ipat = replace), which has "
                f"no IPv{version} boot adapter: there is no boot subnet for it to take over",
                f"add the boot adapters of {network.name}, or move {service.name} to the network whose boot subnet "
                "holds it")
            return
        home = next((boot_subnets[key] for key in ((version, p, network_of(version, value, p)) for p in prefixes)
                     if key in boot_subnets), None)
        if home is None:
            boot_subnet = subnet_text(version, first.value, first.prefix)
            yield self.finding(
                service.span("address"),
                f"service {service.name} {service.address} is outside the boot subnet {boot_subnet} of network "
                f"{network.name} (ipat = replace)",
                "under ipat = replace a service address takes the place of a boot address: "
                f"pick it from {boot_subnet}",
                related=(Related(first.span("address"), f"boot subnet {boot_subnet}"),))
            return
        if prefix is not None and prefix != home.prefix:
            boot_subnet = subnet_text(version, home.value, home.prefix)
            yield self.finding(
                service.span("address"),
                f"service {service.name} {service.address}/{prefix} is on subnet "
                f"{subnet_text(version, value, prefix)}, not on the boot subnet {boot_subnet} of network "
                f"{network.name} (ipat = replace)",
                f"write it as {service.address}/{home.prefix}, or leave the prefix out to take the boot prefix",
                related=(Related(home.span("address"), f"boot subnet {boot_subnet}"),))
