from halang.checks.registry import Check
from halang.diagnostics import Severity


class ReplacementAsAlias(Check):
    """IPAT by replacement has no Pacemaker agent: the export adds service addresses as aliases.

    Under `ipat = replace` a service address takes the place of the adapter's
    boot address while it is held. Pacemaker's `IPaddr2` agent only adds an
    address beside the ones an interface has, so the export brings each
    service address up beside the boot address of the node's boot adapter.
    Both addresses are then up at once, on the boot subnet: anything on the
    network that relied on the boot address going away (ARP caches, a
    firewall that allows one address per port) sees two.

    Fix: check that the boot subnet works with both addresses up, or move
    the network to `ipat = alias` with the service addresses on a subnet of
    their own.

    Bad:
        cluster shop {
          node alpha { }
          node bravo { }
          network net_ether_01 {
            ipat = replace
            adapter alpha en0 boot 10.10.1.11/24
            adapter bravo en0 boot 10.10.1.12/24
            service web_svc 10.10.1.100
          }
          resource_group web { nodes = [alpha, bravo]  service_ips = [web_svc] }
        }

    Good:
        cluster shop {
          node alpha { }
          node bravo { }
          network net_ether_01 {
            ipat = alias
            adapter alpha en0 boot 10.10.1.11/24
            adapter bravo en0 boot 10.10.1.12/24
            service web_svc 10.10.9.100/24
          }
          resource_group web { nodes = [alpha, bravo]  service_ips = [web_svc] }
        }
    """

    code = "HA803"
    name = "export.replacement-as-alias"
    severity = Severity.WARNING
    phase = "export"
