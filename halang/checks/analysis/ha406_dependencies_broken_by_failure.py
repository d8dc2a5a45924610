from halang.checks.registry import Check
from halang.diagnostics import Severity


class DependenciesBrokenByFailure(Check):
    """Dependencies broken by failures: fallover places groups where `same_node_as`, `different_node_from` or `after` forbids.

    `same_node_as` and `different_node_from` say which groups may run
    together, but unlike Pacemaker's colocation constraints they do not steer
    placement: fallover follows each group's `nodes` list, the same on the
    nodes as in `verify`. So a rule can hold at startup and break on the first
    fallover, for example when a production group falls over onto the node
    where a test group runs. The analysis reports each minimal scenario (of at
    most `--faults` failures) after which a dependency is not met, and names
    it. What counts as broken, for a group `a` that is online (an offline `a`
    breaks nothing: that is its outage, HA301/HA306):

    - `a same_node_as b`: `a` runs on a node where `b` does not run, and that
      includes `b` being offline. This is the meaning of a mandatory
      colocation in Pacemaker (`a` may only run where `b` runs) and of
      PowerHA's "online on the same node" set: `a` online without `b` beside
      it is not what the file asks for.
    - `a different_node_from b`: both run on one node.
    - `a after b`: `a` runs while its parent `b` is offline.

    The same function decides it in `verify`, `simulate` and on the nodes
    (`runtime.core.placement.dependency_violations`).

    Fixes: order the `nodes` lists so that the groups fall over the way the
    dependency wants, for example give two groups that must stay apart
    different home nodes and a common spare; or, if a degraded cluster may
    break the rule, accept it with `accept HA406 "why"`.

    Bad:
        cluster shop {
          node alpha { }
          node bravo { }
          node charlie { }
          network net_ether_01 {
            adapter alpha   en0 boot 10.10.1.11/24
            adapter bravo   en0 boot 10.10.1.12/24
            adapter charlie en0 boot 10.10.1.13/24
          }
          link hb_disk { type = disk  device = "/dev/mapper/hb"  nodes = [alpha, bravo, charlie] }
          resource_group prod { nodes = [alpha, bravo] }
          resource_group test { nodes = [bravo, charlie]  different_node_from = [prod] }
        }

    Good:
        cluster shop {
          node alpha { }
          node bravo { }
          node charlie { }
          network net_ether_01 {
            adapter alpha   en0 boot 10.10.1.11/24
            adapter bravo   en0 boot 10.10.1.12/24
            adapter charlie en0 boot 10.10.1.13/24
          }
          link hb_disk { type = disk  device = "/dev/mapper/hb"  nodes = [alpha, bravo, charlie] }
          resource_group prod { nodes = [alpha, bravo] }
          resource_group test { nodes = [charlie, bravo]  different_node_from = [prod] }
        }
    """

    code = "HA406"
    name = "analysis.dependencies-broken-by-failure"
    severity = Severity.WARNING
    phase = "analysis"
