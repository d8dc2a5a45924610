from halang.checks.registry import Check
from halang.diagnostics import Severity


class BringOffline(Check):
    """Pacemaker has no `bring_offline` for a group on one node: it falls over in list order.

    `fallover = bring_offline` on a group that is not concurrent leaves it
    offline when its node fails, until a node of its list comes back.
    Pacemaker recovers a group wherever its location constraints allow, so
    the export lets it fall over like `next_priority`: it runs on a node the
    file meant to keep it off.

    Fix: list only the nodes the group may run on (the home node alone, if
    it must never move), or use `next_priority`.

    Bad:
        cluster shop {
          node alpha { }
          node bravo { }
          network net_ether_01 {
            adapter alpha en0 boot 10.10.1.11/24
            adapter bravo en0 boot 10.10.1.12/24
          }
          resource_group report { nodes = [alpha, bravo]  fallover = bring_offline }
        }

    Good:
        cluster shop {
          node alpha { }
          node bravo { }
          network net_ether_01 {
            adapter alpha en0 boot 10.10.1.11/24
            adapter bravo en0 boot 10.10.1.12/24
          }
          resource_group report { nodes = [alpha] }
        }
    """

    code = "HA809"
    name = "export.bring-offline"
    severity = Severity.WARNING
    phase = "export"
