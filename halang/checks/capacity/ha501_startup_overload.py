from __future__ import annotations

from decimal import Decimal

from halang.checks.registry import Check
from halang.diagnostics import Severity
from halang.model.literals import format_size
from runtime.core.placement import node_load, overloaded_nodes, startup_placement

SHOWN = 10  # groups named in one finding


class StartupOverload(Check):
    """The startup placement puts more on a node than its capacity.

    When the cluster starts with nothing failed, each group comes online where
    its startup policy says (the runtime's own startup placement, the one the
    nodes compute): a `home_node` group on the first node of its list, a
    `first_available` group on the first node of its list that can host it,
    an `all_available` group on every node of its list that can. A node can
    host a group when it may run groups (quorum) and has an adapter on the
    network of each of the group's service addresses (under `replace` a boot
    or a standby adapter, under `alias` any adapter); a `home_node` group
    whose home node cannot is left offline. Dependencies do not move groups
    at startup.

    The check adds up the `requires` of the groups placed on each node and
    compares the sums with the node's `capacity`: if the cpu or the memory is
    more than the node gives, the applications start on an overcommitted
    machine on a normal day, before any takeover has added to it, which is
    what a capacity plan (or Pacemaker's utilization attributes) is there to
    prevent. A missing capacity is unlimited and a missing requirement zero.
    One finding per overloaded node, at its capacity, naming the groups and
    the totals. Overloads after failures are HA502.

    Bad:
        node alpha { capacity { cpu = 8  memory = 32G } }
        resource_group db  { nodes = [alpha, bravo]  requires { cpu = 6  memory = 24G } }
        resource_group app { nodes = [alpha, bravo]  requires { cpu = 4  memory = 16G } }

    Good:
        node alpha { capacity { cpu = 8  memory = 32G } }
        resource_group db  { nodes = [alpha, bravo]  requires { cpu = 6  memory = 24G } }
        resource_group app { nodes = [bravo, alpha]  requires { cpu = 4  memory = 16G } }
    """

    code = "HA501"
    name = "capacity.startup-overload"
    severity = Severity.ERROR

    def run(self, context):
        spec = context.spec
        if spec is None or not any(node.capacity is not None for node in spec.nodes):
            return
        placement = startup_placement(spec)
        over = overloaded_nodes(spec, placement)
        if not over:
            return
        load = node_load(spec, placement, over)
        for name in over:
            capacity = spec.node(name).capacity
            cpu, memory = load[name]
            groups = [group for group in spec.groups_by_node[name] if name in placement.nodes(group)]
            parts = []
            if capacity.cpu is not None and cpu > capacity.cpu:
                parts.append(f"cpu {_number(cpu)} of its {_number(capacity.cpu)}")
            if capacity.memory is not None and memory > capacity.memory:
                parts.append(f"memory {format_size(memory)} of its {format_size(capacity.memory)}")
            shown = ", ".join(f"'{group}'" for group in groups[:SHOWN])
            more = f" and {len(groups) - SHOWN} more" if len(groups) > SHOWN else ""
            yield self.finding(
                context.nodes[name].capacity.span(),
                f"at startup node '{name}' runs {shown}{more}, "
                f"which {'together need' if len(groups) > 1 else 'needs'} {' and '.join(parts)}",
                f"raise the capacity of '{name}', lower what the groups require, or give some of them "
                "another home node")


def _number(value: Decimal) -> str:
    return format(value.normalize(), "f") if value else "0"
