from halang.checks.registry import Check
from halang.diagnostics import Severity


class TooFewAdaptersForServices(Check):
    """Too few adapters: failures leave a node more service addresses on a `replace` network than healthy adapters.

    Under IP address takeover by replacement, a service address takes the
    place of an adapter's own address, so an adapter holds one service address
    at a time. When groups fall over onto a node, every distinct service
    address of that network placed on the node needs an up adapter (boot or
    standby) on an up switch. The classic case is a mutual takeover with one
    boot adapter and no standby per node: when one node fails, the survivor
    takes over the second group and has nowhere to put its address.

    The analysis reports one finding per node and `replace` network, naming a
    scenario (of at most `--faults` failures) that shows it; an empty scenario
    means it happens with nothing failed.

    Fixes: give each node a standby adapter for every service address it may
    have to carry at once, ideally on a second switch; or use `ipat = alias`,
    where one adapter can carry several service addresses beside its own.

    Bad:
        cluster payments {
          node alpha { }
          node bravo { }
          network net_ether_01 {
            ipat = replace
            adapter alpha en0 boot 10.10.1.11/24
            adapter bravo en0 boot 10.10.1.12/24
            service app_a_svc 10.10.1.100
            service app_b_svc 10.10.1.101
          }
          resource_group app_a { nodes = [alpha, bravo]  service_ips = [app_a_svc] }
          resource_group app_b { nodes = [bravo, alpha]  service_ips = [app_b_svc] }
        }

    Good:
        cluster payments {
          node alpha { }
          node bravo { }
          network net_ether_01 {
            ipat = replace
            adapter alpha en0 boot    10.10.1.11/24 switch sw1
            adapter alpha en1 standby 10.10.2.11/24 switch sw2
            adapter bravo en0 boot    10.10.1.12/24 switch sw1
            adapter bravo en1 standby 10.10.2.12/24 switch sw2
            service app_a_svc 10.10.1.100
            service app_b_svc 10.10.1.101
          }
          resource_group app_a { nodes = [alpha, bravo]  service_ips = [app_a_svc] }
          resource_group app_b { nodes = [bravo, alpha]  service_ips = [app_b_svc] }
        }
    """

    code = "HA213"
    name = "analysis.too-few-adapters-for-services"
    severity = Severity.ERROR
    phase = "analysis"
