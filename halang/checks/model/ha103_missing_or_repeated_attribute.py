from halang.checks.registry import Check
from halang.diagnostics import Severity


class MissingOrRepeatedAttribute(Check):
    """Missing or repeated attribute: a required attribute left out, or an attribute given twice.

    Some things have no sensible default: a resource group's `nodes` (its
    priority list), a link's `type`, an application's `start` and `stop`
    scripts, and a monitor's `command` or `process`. A cluster needs at least
    one node, and a link that lists `nodes` needs a `device` for them (or a
    per-node line for each).

    A key may appear once in its block, and `heartbeat`, `capacity`, `monitor`
    and `requires` once in theirs. Where another tool would let the last value
    win, halang asks which one was meant: the first is kept, the second
    reported.

    Bad:
        cluster payments {
          node alpha { }
          node bravo { }
          network net_ether_01 {
            adapter alpha en0 boot 10.10.1.11/24
            adapter bravo en0 boot 10.10.1.12/24
          }
          resource_group app_a {
            nodes = [alpha, bravo]
            nodes = [bravo, alpha]
            application app_a { start = "/opt/app_a/bin/start" }
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
          resource_group app_a {
            nodes = [alpha, bravo]
            application app_a { start = "/opt/app_a/bin/start"  stop = "/opt/app_a/bin/stop" }
          }
        }
    """

    code = "HA103"
    name = "model.missing-or-repeated-attribute"
    severity = Severity.ERROR
    phase = "model"
