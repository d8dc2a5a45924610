from halang.checks.registry import Check
from halang.diagnostics import Severity


class ScriptDiffersBetweenNodes(Check):
    """Script differs between nodes: a script the file names has different content on the nodes of a group.

    A group runs its scripts on whichever node holds it, so the nodes of its
    `nodes` list should run the same scripts. A start script edited on the
    home node and never copied to the others is the kind of drift that only
    shows at the first fallover, often months later. `halang deploy`
    compares the sha256 of each script across the nodes of the groups that
    use it (every node, for event scripts) and names the nodes that differ.

    It is a warning: a script may differ on purpose (a node-specific path
    inside it). Where it does, keep the difference out of the script (read
    it from the environment or the event's arguments), or accept the finding
    with `accept HA705 "why"`.

    Fixes: copy the script from the node that is right to the others, or
    better, keep the scripts in version control and install them everywhere
    from there.

    Bad:
        cluster payments {
          node alpha { }    # sha256 of /opt/app_a/bin/start: 3f2a...
          node bravo { }    # sha256 of /opt/app_a/bin/start: 9c41...
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
          node alpha { }    # sha256 of /opt/app_a/bin/start: 3f2a...
          node bravo { }    # sha256 of /opt/app_a/bin/start: 3f2a...
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

    code = "HA705"
    name = "node.script-differs-between-nodes"
    severity = Severity.WARNING
    phase = "deploy"
