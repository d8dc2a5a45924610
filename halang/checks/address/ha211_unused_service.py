from halang.checks.registry import Check
from halang.diagnostics import Severity


class UnusedService(Check):
    """A service label no group uses.

    A service address is brought up only as part of a resource group: it is
    acquired first when the group comes online and moved with the group at
    fallover. A label that no group's `service_ips` names is never brought
    up anywhere, so clients pointed at it get nothing, usually because the
    group that should carry it names another label or the label was left
    behind when a group was removed.

    It is a warning, not an error: the address is reserved and harms no
    other group. Remove the label, or add it to the group that should carry
    it.

    Bad:
        network net_ether_01 {
          adapter alpha en0 boot 10.10.1.11/24
          service app_svc 10.10.20.100
        }

    Good:
        network net_ether_01 {
          adapter alpha en0 boot 10.10.1.11/24
          service app_svc 10.10.20.100
        }
        resource_group app {
          nodes       = [alpha]
          service_ips = [app_svc]
        }
    """

    code = "HA211"
    name = "address.unused-service"
    severity = Severity.WARNING

    def run(self, context):
        used = context.groups_using_service
        for network in context.cluster.networks:
            for service in network.services:
                if service.name in used:
                    continue
                yield self.finding(
                    service.span("name"),
                    f"service label {service.name} ({service.address}) on network {network.name} "
                    "is not used by any resource group: it is never brought up",
                    f"add {service.name} to the service_ips of the group that should carry it, or remove it")
