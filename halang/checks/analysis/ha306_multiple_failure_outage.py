from halang.checks.registry import Check
from halang.diagnostics import Severity


class MultipleFailureOutage(Check):
    """Outage after several failures: a minimal set of two to K failures leaves a group with nowhere to run.

    HA301 finds single points of failure. A site that must survive a second
    failure before the first is repaired (a node out for maintenance, a switch
    awaiting a part) asks `halang verify --faults 2` or more: every set of up to
    K failures at once is tried, with the same rules as HA301 for who can host
    a group. Each minimal set (no smaller subset leaves the same group with
    nowhere to run) is one finding, and names the failures.

    Surviving K failures takes at least K+1 nodes in a group's `nodes`, and a
    quorum that survives them too: under `quorum = majority`, the nodes left
    after K node failures may run groups only in a cluster of at least 2K+1
    nodes, or 2K with a `tie_breaker` disk (exactly half the nodes and the
    tie-breaker run groups). Heartbeat paths and switches need K+1 independent
    copies as well, or K failures that spare the nodes cut them off from each
    other.

    Where the site accepts a double failure as an outage, say so in the file:
    `accept HA306 "why"`.

    Bad:
        cluster batch {    # halang verify --faults 2
          heartbeat { tie_breaker = hb_disk }
          node alpha { }
          node bravo { }
          node charlie { }
          node delta { }
          network net_ether_01 {
            adapter alpha   en0 boot 10.10.1.11/24 switch sw1
            adapter alpha   en1 boot 10.10.2.11/24 switch sw2
            adapter bravo   en0 boot 10.10.1.12/24 switch sw1
            adapter bravo   en1 boot 10.10.2.12/24 switch sw2
            adapter charlie en0 boot 10.10.1.13/24 switch sw1
            adapter charlie en1 boot 10.10.2.13/24 switch sw2
            adapter delta   en0 boot 10.10.1.14/24 switch sw1
            adapter delta   en1 boot 10.10.2.14/24 switch sw2
          }
          link hb_disk { type = disk  device = "/dev/mapper/hb"  nodes = [alpha, bravo, charlie, delta] }
          resource_group nightly { nodes = [alpha, bravo] }
        }

    Good:
        cluster batch {    # halang verify --faults 2
          heartbeat { tie_breaker = hb_disk }
          node alpha { }
          node bravo { }
          node charlie { }
          node delta { }
          network net_ether_01 {
            adapter alpha   en0 boot 10.10.1.11/24 switch sw1
            adapter alpha   en1 boot 10.10.2.11/24 switch sw2
            adapter bravo   en0 boot 10.10.1.12/24 switch sw1
            adapter bravo   en1 boot 10.10.2.12/24 switch sw2
            adapter charlie en0 boot 10.10.1.13/24 switch sw1
            adapter charlie en1 boot 10.10.2.13/24 switch sw2
            adapter delta   en0 boot 10.10.1.14/24 switch sw1
            adapter delta   en1 boot 10.10.2.14/24 switch sw2
          }
          link hb_disk { type = disk  device = "/dev/mapper/hb"  nodes = [alpha, bravo, charlie, delta] }
          resource_group nightly { nodes = [alpha, bravo, charlie, delta] }
        }
    """

    code = "HA306"
    name = "analysis.multiple-failure-outage"
    severity = Severity.ERROR
    phase = "analysis"
