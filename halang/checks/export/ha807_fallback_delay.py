from halang.checks.registry import Check
from halang.diagnostics import Severity


class FallbackDelay(Check):
    """Pacemaker has no fallback delay: a `higher_priority` group moves back as soon as the node rejoins.

    `fallback = higher_priority` is exported as no stickiness, so Pacemaker
    returns the group to the best node of its list whenever that node can
    run it. `fallback_delay` has no counterpart: the move happens at once,
    not after the delay, so a node that rejoins and fails again soon after
    takes the group twice.

    Fix: leave the delay out, or use `fallback = never` and move the group
    back by hand (`pcs resource move`) when the node has proved stable.

    Bad:
        cluster shop {
          node alpha { }
          node bravo { }
          network net_ether_01 {
            adapter alpha en0 boot 10.10.1.11/24
            adapter bravo en0 boot 10.10.1.12/24
          }
          resource_group web { nodes = [alpha, bravo]  fallback = higher_priority  fallback_delay = 10m }
        }

    Good:
        cluster shop {
          node alpha { }
          node bravo { }
          network net_ether_01 {
            adapter alpha en0 boot 10.10.1.11/24
            adapter bravo en0 boot 10.10.1.12/24
          }
          resource_group web { nodes = [alpha, bravo]  fallback = higher_priority }
        }
    """

    code = "HA807"
    name = "export.fallback-delay"
    severity = Severity.WARNING
    phase = "export"
