from halang.checks.registry import Check
from halang.diagnostics import Severity


class DependenciesEnforced(Check):
    """Pacemaker enforces dependencies: `after`, `same_node_as` and `different_node_from` move and stop groups.

    In halang dependencies do not move groups: each group goes by its own
    `nodes` list, and a dependency the placement breaks is a finding
    (HA406). The export writes them as constraints, which Pacemaker obeys
    when it places groups: `after` is a mandatory order (the group stops
    while a parent is stopped and starts only after it), `same_node_as` a
    colocation of INFINITY (the group runs only where the other runs, and
    follows it), `different_node_from` a colocation of -INFINITY (the group
    runs only where the other does not, and stops when no such node is
    left). So after a failure a group can run elsewhere than halang
    predicts, or not at all. `after` is no colocation: a parent may run on
    another node, as in halang.

    Fix: none needed if the constraint is what the site wants; run
    `crm_simulate` on the exported CIB to see where groups go.

    Bad:
        cluster shop {
          node alpha { }
          node bravo { }
          network net_ether_01 {
            adapter alpha en0 boot 10.10.1.11/24
            adapter bravo en0 boot 10.10.1.12/24
          }
          resource_group db { nodes = [alpha, bravo] }
          resource_group cache { nodes = [bravo, alpha]  same_node_as = [db] }
        }

    Good:
        cluster shop {
          node alpha { }
          node bravo { }
          network net_ether_01 {
            adapter alpha en0 boot 10.10.1.11/24
            adapter bravo en0 boot 10.10.1.12/24
          }
          resource_group db { nodes = [alpha, bravo] }
          resource_group cache { nodes = [alpha, bravo] }
        }
    """

    code = "HA810"
    name = "export.dependencies-enforced"
    severity = Severity.WARNING
    phase = "export"
