from halang.checks.registry import Check
from halang.diagnostics import Severity


class SinglePointOfFailure(Check):
    """Single point of failure: one failure leaves a group with no node able to host it.

    The failure analysis fails each component in turn: every node, adapter,
    switch, link, node's connection to a disk link, and failure domain. After
    each, it works out who still hears whom, which partition may run groups,
    and where each group goes, with the same placement function the nodes run.
    A node can host a group when it is in the group's `nodes`, up, in a
    partition that may run groups, and has an up adapter on an up switch on the
    network of each of the group's service addresses. When one failure leaves
    no such node, the group stays down until someone repairs it, and the
    finding names that component.

    The usual causes, and their fixes:

    - one switch: every adapter that could carry the service address hangs off
      one switch. An adapter with no `switch` hangs off its network's implicit
      switch, so a network that names no switch is one failure from being
      cut. Put a standby adapter (`replace`) or a second boot adapter (`alias`)
      of each node on a second switch.
    - one node: the group's `nodes` lists a single node. Add a second node,
      with an adapter on the network of each of the group's service addresses.
    - one failure domain: all the nodes of the list share a rack, a power feed
      or a site (`domains`). Spread the list across domains.
    - quorum: with `quorum = majority`, the loss of a node or of the last
      heartbeat path can leave no partition with more than half the nodes, and
      then nothing runs. Two nodes need `quorum = none` with a non-IP link, or
      a `tie_breaker` disk.

    Only minimal scenarios are reported, and a group that no node can host
    even with nothing failed is HA304 or HA305 instead. Two or more failures
    at once are HA306, with `--faults`.

    Bad:
        cluster payments {
          node alpha { }
          node bravo { }
          network net_ether_01 {
            ipat = replace
            adapter alpha en0 boot    10.10.1.11/24 switch sw1
            adapter alpha en1 standby 10.10.2.11/24 switch sw1
            adapter bravo en0 boot    10.10.1.12/24 switch sw1
            adapter bravo en1 standby 10.10.2.12/24 switch sw1
            service app_a_svc 10.10.1.100
          }
          link hb_serial { type = rs232  alpha = "/dev/ttyS1"  bravo = "/dev/ttyS1" }
          resource_group app_a { nodes = [alpha, bravo]  service_ips = [app_a_svc] }
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
          }
          link hb_serial { type = rs232  alpha = "/dev/ttyS1"  bravo = "/dev/ttyS1" }
          resource_group app_a { nodes = [alpha, bravo]  service_ips = [app_a_svc] }
        }
    """

    code = "HA301"
    name = "analysis.single-point-of-failure"
    severity = Severity.ERROR
    phase = "analysis"
