from halang.checks.registry import Check
from halang.diagnostics import Severity


class InterfaceMissing(Check):
    """Interface missing on a node: an adapter line names an interface the node does not have.

    The node daemon brings service addresses up on the interfaces the
    `adapter` lines name, and heartbeats on their boot and standby addresses.
    An interface that does not exist on the node is an adapter that is down
    from the start: the path it should carry is missing, and the redundancy
    the file promises is not there. A frequent cause when a cluster moves from
    AIX: interfaces there are `en0`, `en1`; on Linux they are `eth0`, `ens192`,
    `enp3s0` or a bond such as `bond0`, as `ip link` lists them.

    `halang deploy` reads the interfaces of every node (`/sys/class/net`)
    before it changes anything (and `halang deploy --check` only reads them).

    Fixes: name the interface as the node's `ip link` shows it, or create it
    (a VLAN, a bond) before deploying.

    Bad:
        cluster payments {
          node alpha { }    # ip link on alpha: lo, ens192, ens224
          network net_ether_01 {
            adapter alpha en0 boot 10.10.1.11/24
          }
        }

    Good:
        cluster payments {
          node alpha { }    # ip link on alpha: lo, ens192, ens224
          network net_ether_01 {
            adapter alpha ens192 boot 10.10.1.11/24
          }
        }
    """

    code = "HA702"
    name = "node.interface-missing"
    severity = Severity.ERROR
    phase = "deploy"
