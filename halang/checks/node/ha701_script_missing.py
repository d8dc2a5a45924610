from halang.checks.registry import Check
from halang.diagnostics import Severity


class ScriptMissing(Check):
    """Script missing on a node: a script the file names is not there, or root cannot execute it.

    Every script the file names (an application's `start` and `stop`, a
    monitor's `command`, an event's `pre`, `post`, `notify` and `recovery`)
    runs as root on whichever node holds the group when the event happens.
    A script that is missing, not a regular file or not executable on one of
    the group's nodes works in every test on the home node and fails at the
    first fallover, when it matters most. `halang deploy` looks on every
    node of the group before it changes anything (and `halang deploy
    --check` only looks), naming the node; a script line's program is its
    first word.

    Fixes: install the script on every node of the group's `nodes` list, the
    same path everywhere, owned by root and executable (`chmod 0755`); or
    correct the path in the file.

    Bad:
        cluster payments {
          node alpha { }
          node bravo { }    # bravo has no /opt/app_a/bin/start
          network net_ether_01 {
            adapter alpha en0 boot 10.10.1.11/24
            adapter bravo en0 boot 10.10.1.12/24
          }
          link hb_serial { type = rs232  alpha = "/dev/ttyS1"  bravo = "/dev/ttyS1" }
          resource_group app_a {
            nodes = [alpha, bravo]
            application app_a { start = "/opt/app_a/bin/start"  stop = "/opt/app_a/bin/stop" }
          }
        }

    Good:
        cluster payments {
          node alpha { }
          node bravo { }    # /opt/app_a/bin/start and stop installed, mode 0755
          network net_ether_01 {
            adapter alpha en0 boot 10.10.1.11/24
            adapter bravo en0 boot 10.10.1.12/24
          }
          link hb_serial { type = rs232  alpha = "/dev/ttyS1"  bravo = "/dev/ttyS1" }
          resource_group app_a {
            nodes = [alpha, bravo]
            application app_a { start = "/opt/app_a/bin/start"  stop = "/opt/app_a/bin/stop" }
          }
        }
    """

    code = "HA701"
    name = "node.script-missing"
    severity = Severity.ERROR
    phase = "deploy"
