from halang.checks.registry import Check
from halang.diagnostics import Severity


class LeastLoaded(Check):
    """Pacemaker has no `least_loaded` fallover; its `balanced` strategy compares free capacity another way.

    The export scores a `least_loaded` group's home node above its other
    nodes, which all score alike, and sets `placement-strategy=balanced`, so
    Pacemaker sends the group to the node with most free capacity. But it
    counts that attribute by attribute (a node with more free cpu and
    another with more free memory are equal), then prefers the node running
    fewest resources, then the first in the CIB; halang takes the most free
    cpu, then the most free memory, then list order. A node with no
    capacity is unlimited in halang and gets a very large capacity in the
    export. Where the two readings disagree, the group lands elsewhere.

    Fix: give the candidate nodes capacities that leave one clear choice,
    or use `next_priority`.

    Bad:
        cluster shop {
          node alpha { capacity { cpu = 8 } }
          node bravo { capacity { cpu = 8 } }
          node charlie { capacity { cpu = 8 } }
          network net_ether_01 {
            adapter alpha   en0 boot 10.10.1.11/24
            adapter bravo   en0 boot 10.10.1.12/24
            adapter charlie en0 boot 10.10.1.13/24
          }
          resource_group batch { nodes = [alpha, bravo, charlie]  fallover = least_loaded  requires { cpu = 2 } }
        }

    Good:
        cluster shop {
          node alpha { capacity { cpu = 8 } }
          node bravo { capacity { cpu = 8 } }
          node charlie { capacity { cpu = 8 } }
          network net_ether_01 {
            adapter alpha   en0 boot 10.10.1.11/24
            adapter bravo   en0 boot 10.10.1.12/24
            adapter charlie en0 boot 10.10.1.13/24
          }
          resource_group batch { nodes = [alpha, bravo, charlie]  fallover = next_priority  requires { cpu = 2 } }
        }
    """

    code = "HA808"
    name = "export.least-loaded"
    severity = Severity.WARNING
    phase = "export"
