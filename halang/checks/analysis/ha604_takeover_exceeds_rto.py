from halang.checks.registry import Check
from halang.diagnostics import Severity


class TakeoverExceedsRto(Check):
    """Takeover slower than the RTO: a group's worst-case takeover time exceeds its `rto`.

    `rto` is the longest outage the site accepts for a group. The worst case
    of a takeover is the time to notice the failure, the detection time
    (`interval` x `miss_limit` of the heartbeat), then the start of everything
    the group waits for: the start timeouts of its parents along the longest
    `after` chain, then the start timeouts of its own resources (for an
    application, its `timeout`: 60s unless set). Scripts may finish sooner, but a script
    that hangs runs to its timeout, and the site cannot rely on less. The
    message shows the sum, part by part.

    Fixes: shorten what dominates the sum: give each application a `timeout`
    close to what its start really needs, detect sooner (a shorter `interval`
    or a lower `miss_limit`, within what HA603 allows), shorten the `after`
    chain; or, if the target cannot be met, agree a longer `rto`.

    Bad:
        cluster payments {
          heartbeat { interval = 1s  miss_limit = 5 }
          node alpha { }
          node bravo { }
          network net_ether_01 {
            adapter alpha en0 boot 10.10.1.11/24
            adapter bravo en0 boot 10.10.1.12/24
          }
          link hb_serial { type = rs232  alpha = "/dev/ttyS1"  bravo = "/dev/ttyS1" }
          resource_group app_a {
            nodes = [alpha, bravo]
            rto   = 30s
            application app_a { start = "/opt/app_a/bin/start"  stop = "/opt/app_a/bin/stop" }
          }
        }

    Good:
        cluster payments {
          heartbeat { interval = 1s  miss_limit = 5 }
          node alpha { }
          node bravo { }
          network net_ether_01 {
            adapter alpha en0 boot 10.10.1.11/24
            adapter bravo en0 boot 10.10.1.12/24
          }
          link hb_serial { type = rs232  alpha = "/dev/ttyS1"  bravo = "/dev/ttyS1" }
          resource_group app_a {
            nodes = [alpha, bravo]
            rto   = 30s
            application app_a {
              start   = "/opt/app_a/bin/start"
              stop    = "/opt/app_a/bin/stop"
              timeout = 20s
            }
          }
        }
    """

    code = "HA604"
    name = "analysis.takeover-exceeds-rto"
    severity = Severity.ERROR
    phase = "analysis"
