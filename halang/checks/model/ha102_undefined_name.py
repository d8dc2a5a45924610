from halang.checks.registry import Check
from halang.diagnostics import Severity


class UndefinedName(Check):
    """Undefined name: a reference to a node, service label, resource group or link that is not defined.

    Names are references wherever the file points at something defined
    elsewhere: the node of an `adapter` line, a group's `nodes`, a link's node
    keys and `nodes`, a group's `service_ips`, `after`, `same_node_as` and
    `different_node_from`, and the heartbeat's `tie_breaker`. Names are
    case-sensitive, and the order of blocks does not matter: a group may name a
    node or a group defined further down.

    A reference to nothing is reported with the closest defined name, if any,
    and dropped from its list, so a typo in a priority list cannot quietly move
    a group to a node nobody meant. Switch names and failure domains are not
    references: naming one defines it.

    Bad:
        cluster payments {
          node alpha { }
          node bravo { }
          network net_ether_01 {
            adapter alpha en0 boot 10.10.1.11/24
            adapter bravo en0 boot 10.10.1.12/24
          }
          resource_group app_a { nodes = [alpha, bravp] }
        }

    Good:
        cluster payments {
          node alpha { }
          node bravo { }
          network net_ether_01 {
            adapter alpha en0 boot 10.10.1.11/24
            adapter bravo en0 boot 10.10.1.12/24
          }
          resource_group app_a { nodes = [alpha, bravo] }
        }
    """

    code = "HA102"
    name = "model.undefined-name"
    severity = Severity.ERROR
    phase = "model"
