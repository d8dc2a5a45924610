from halang.checks.registry import Check
from halang.diagnostics import Related, Severity


class SharedService(Check):
    """A service label used by two groups.

    A service address is held by one resource group: it comes up when the
    group comes online on a node and moves with it at fallover. Two groups
    naming one label move independently, so either both try to bring the
    address up on different nodes (a duplicate address on the wire, and
    clients split between them) or the group that is released second takes
    the address away from the one still running.

    Each group after the first (in file order) that names the label in its
    `service_ips` is reported, at the label in its list, pointing at the
    first group's use. To keep two groups together, give each its own label
    and tie them with `same_node_as`, or merge them into one group.

    Bad:
        network net_ether_01 {
          ipat = replace
          adapter alpha en0 boot 10.10.1.11/24
          adapter bravo en0 boot 10.10.1.12/24
          service app_svc 10.10.1.100
        }
        resource_group app {
          nodes       = [alpha, bravo]
          service_ips = [app_svc]
        }
        resource_group report {
          nodes       = [bravo, alpha]
          service_ips = [app_svc]
        }

    Good:
        network net_ether_01 {
          ipat = replace
          adapter alpha en0 boot 10.10.1.11/24
          adapter bravo en0 boot 10.10.1.12/24
          service app_svc    10.10.1.100
          service report_svc 10.10.1.101
        }
        resource_group app {
          nodes       = [alpha, bravo]
          service_ips = [app_svc]
        }
        resource_group report {
          nodes       = [bravo, alpha]
          service_ips = [report_svc]
        }
    """

    code = "HA212"
    name = "address.shared-service"
    severity = Severity.ERROR

    def run(self, context):
        shared = {label: groups for label, groups in context.groups_using_service.items() if len(groups) > 1}
        if not shared:
            return
        items = context.group_list_items("service_ips")
        for label, groups in shared.items():
            first = groups[0]
            first_span = items.get((first.name, label), first.span("service_ips"))
            for group in groups[1:]:
                yield self.finding(
                    items.get((group.name, label), group.span("service_ips")),
                    f"service label {label} is used by resource group {group.name} and already by "
                    f"resource group {first.name}",
                    f"a service address belongs to one group: give {group.name} a service label of its own "
                    f"(and same_node_as = [{first.name}] if the two must stay together), or merge the groups",
                    related=(Related(first_span, f"first used here, by {first.name}"),))

