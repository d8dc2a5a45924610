from halang.checks.registry import Check
from halang.diagnostics import Severity


class NoAdapterSwap(Check):
    """No adapter swap: IPaddr2 holds a service address on one interface of each node.

    halang moves a service address to another usable adapter of the same
    node when its adapter or switch fails (adapter_down), and the group stays
    where it runs. `IPaddr2` is given one interface per node (`nic`, the
    node's boot adapter on the network); when that interface fails, its
    monitor fails and Pacemaker moves the whole group to another node. The
    second adapter still carries Corosync heartbeats (a knet link), but no
    service address.

    Fix: bond the node's adapters on the network into one interface and
    name the bond in the file, or accept that an adapter failure moves the
    group.

    Bad:
        cluster shop {
          node alpha { }
          node bravo { }
          network net_ether_01 {
            adapter alpha en0 boot 10.10.1.11/24
            adapter alpha en1 boot 10.10.2.11/24
            adapter bravo en0 boot 10.10.1.12/24
            adapter bravo en1 boot 10.10.2.12/24
            service web_svc 10.10.9.100/24
          }
          resource_group web { nodes = [alpha, bravo]  service_ips = [web_svc] }
        }

    Good:
        cluster shop {
          node alpha { }
          node bravo { }
          network net_ether_01 {
            adapter alpha bond0 boot 10.10.1.11/24
            adapter bravo bond0 boot 10.10.1.12/24
            service web_svc 10.10.9.100/24
          }
          resource_group web { nodes = [alpha, bravo]  service_ips = [web_svc] }
        }
    """

    code = "HA804"
    name = "export.no-adapter-swap"
    severity = Severity.WARNING
    phase = "export"
