from halang.checks.registry import Check
from halang.diagnostics import Severity


class CapacityEnforced(Check):
    """Pacemaker treats capacity as a limit: a group that does not fit on a node is not started there.

    Capacities and requirements become utilization attributes (`cpu` in
    thousandths of a core, `memory` in MiB, Pacemaker's being whole numbers)
    with `placement-strategy=utilization` (`balanced` with a `least_loaded`
    group). halang places a group by its list whatever the load, and reports
    the overload (HA501, HA502); Pacemaker skips a node without room, and
    leaves the group stopped if no node has room. A node with no capacity is
    unlimited in halang and gets a capacity of 1,000,000,000 in the export.
    A value that is no whole number of those units is rounded, capacities
    down and requirements up, and the finding names it.

    Fix: none needed if a limit is what the site wants; verify with
    `--faults 2` to see the overloads Pacemaker would prevent by stopping
    groups.

    Bad:
        cluster shop {
          node alpha { capacity { cpu = 8 } }
          node bravo { capacity { cpu = 8 } }
          network net_ether_01 {
            adapter alpha en0 boot 10.10.1.11/24
            adapter bravo en0 boot 10.10.1.12/24
          }
          resource_group web { nodes = [alpha, bravo]  requires { cpu = 2 } }
        }

    Good:
        cluster shop {
          node alpha { }
          node bravo { }
          network net_ether_01 {
            adapter alpha en0 boot 10.10.1.11/24
            adapter bravo en0 boot 10.10.1.12/24
          }
          resource_group web { nodes = [alpha, bravo] }
        }
    """

    code = "HA811"
    name = "export.capacity-enforced"
    severity = Severity.WARNING
    phase = "export"
