from halang.checks.registry import Check
from halang.diagnostics import Severity


class EventScripts(Check):
    """Pacemaker runs no event scripts: an `event` block is not carried over.

    halang's nodes run an event's `pre`, `post`, `notify` and `recovery`
    scripts around node_down, rg_move and the other events. Pacemaker has
    no such hooks; its alert agents are told of node, fencing and resource
    changes afterwards, with other arguments, and cannot delay or replace
    what the cluster does. A `recovery` script that decides something, or a
    `pre` script the site relies on, has no effect after the export.

    Fix: rewrite a `notify` script as a Pacemaker alert agent (`pcs alert
    create path=...`); move what a `pre` or `post` script does into the
    application's start and stop scripts.

    Bad:
        cluster shop {
          node alpha { }
          node bravo { }
          network net_ether_01 {
            adapter alpha en0 boot 10.10.1.11/24
            adapter bravo en0 boot 10.10.1.12/24
          }
          resource_group web { nodes = [alpha, bravo] }
          event node_down { notify = "/usr/local/sbin/page" }
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

    code = "HA813"
    name = "export.event-scripts"
    severity = Severity.WARNING
    phase = "export"
