from halang.checks.registry import Check
from halang.diagnostics import Severity


class SplitBrain(Check):
    """Split-brain risk: with `quorum = none`, a failure can split the live nodes into partitions that each run groups.

    With `quorum = none`, the default for two nodes without a `tie_breaker`,
    every partition runs groups. When a failure cuts every heartbeat path
    between nodes that are still up, each side takes the other for dead and
    takes over its groups: both bring up the same service address, vary on the
    same volume groups and mount the same filesystems. That is HACMP's
    partitioned cluster, or Pacemaker without fencing or quorum, and it
    corrupts shared data.

    The analysis reports each minimal scenario (of at most `--faults`
    failures) that splits the live nodes, naming the partitions. An empty
    scenario means the nodes cannot hear each other even with nothing failed.
    Under `quorum = majority` an even split without a tie-breaker is not a
    split brain but an outage, reported as HA301 or HA306.

    Fixes: give the heartbeats a path that does not share the failure, such
    as a non-IP link (`rs232`, or a `disk` heartbeat) or adapters on a second
    switch; or set a `tie_breaker` disk, so that only the side that reaches it
    runs groups; with three or more nodes, keep the default `quorum = majority`.

    Bad:
        cluster payments {
          node alpha { }
          node bravo { }
          network net_ether_01 {
            adapter alpha en0 boot 10.10.1.11/24
            adapter bravo en0 boot 10.10.1.12/24
          }
        }

    Good:
        cluster payments {
          node alpha { }
          node bravo { }
          network net_ether_01 {
            adapter alpha en0 boot 10.10.1.11/24
            adapter bravo en0 boot 10.10.1.12/24
          }
          link hb_serial { type = rs232  alpha = "/dev/ttyS1"  bravo = "/dev/ttyS1" }
        }
    """

    code = "HA302"
    name = "analysis.split-brain"
    severity = Severity.ERROR
    phase = "analysis"
