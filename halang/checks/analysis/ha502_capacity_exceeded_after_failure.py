from halang.checks.registry import Check
from halang.diagnostics import Severity


class CapacityExceededAfterFailure(Check):
    """Capacity exceeded after failures: after some failures, fallover puts more on a node than its capacity.

    A node's `capacity` is what it can give resource groups, and a group's
    `requires` what it takes. Capacity does not stop a group from falling over
    onto a node: placement follows the `nodes` lists (`least_loaded` picks the
    node with most free capacity, but takes it even when it is too small). A
    survivor that takes over more than it can carry runs everything slowly, or
    is killed by the OOM killer, and the outage spreads to groups that did not
    fail.

    The analysis reports one finding per node, naming a scenario (of at most
    `--faults` failures) whose fallover overloads it, with the cpu or memory
    needed beside what the node has. An overload with nothing failed is HA501.
    A missing capacity is unlimited and a missing requirement is zero.

    Fixes: size each node for the groups it may have to carry after the
    failures you plan for; spread fallover across more nodes (different second
    nodes in the `nodes` lists, or `fallover = least_loaded`); or let a less
    important group go: `fallover = bring_offline`, or leave the smaller node
    out of its list.

    Bad:
        cluster payments {
          node alpha { capacity { cpu = 4  memory = 16G } }
          node bravo { capacity { cpu = 4  memory = 16G } }
          network net_ether_01 {
            adapter alpha en0 boot 10.10.1.11/24
            adapter bravo en0 boot 10.10.1.12/24
          }
          link hb_serial { type = rs232  alpha = "/dev/ttyS1"  bravo = "/dev/ttyS1" }
          resource_group app_a { nodes = [alpha, bravo]  requires { cpu = 3  memory = 12G } }
          resource_group app_b { nodes = [bravo, alpha]  requires { cpu = 3  memory = 12G } }
        }

    Good:
        cluster payments {
          node alpha { capacity { cpu = 8  memory = 32G } }
          node bravo { capacity { cpu = 8  memory = 32G } }
          network net_ether_01 {
            adapter alpha en0 boot 10.10.1.11/24
            adapter bravo en0 boot 10.10.1.12/24
          }
          link hb_serial { type = rs232  alpha = "/dev/ttyS1"  bravo = "/dev/ttyS1" }
          resource_group app_a { nodes = [alpha, bravo]  requires { cpu = 3  memory = 12G } }
          resource_group app_b { nodes = [bravo, alpha]  requires { cpu = 3  memory = 12G } }
        }
    """

    code = "HA502"
    name = "analysis.capacity-exceeded-after-failure"
    severity = Severity.ERROR
    phase = "analysis"
