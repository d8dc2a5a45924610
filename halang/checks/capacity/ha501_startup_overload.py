from __future__ import annotations

from decimal import Decimal

from halang.checks.registry import Check
from halang.diagnostics import Severity
from halang.model.literals import format_size

SHOWN = 10  # groups named in one finding


class StartupOverload(Check):
    """The startup placement puts more on a node than its capacity.

    When the cluster starts with nothing failed, each group comes online where
    its startup policy says: a `home_node` group on the first node of its list,
    a `first_available` group on the first node of its list that can host it,
    an `all_available` group on every node of its list that can. A node can
    host a group when it has an adapter on the network of each of the group's
    service addresses (under `replace` a boot or a standby adapter, under
    `alias` any adapter); a `home_node` group whose home node cannot is left
    offline. Dependencies do not move groups at startup.

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
        limited = {node.name: node for node in context.cluster.nodes if node.capacity is not None
                   and (node.capacity.cpu is not None or node.capacity.memory is not None)}
        if not limited:
            return
        placed: dict[str, list] = {}
        for group, node in place_at_startup(context):
            if node in limited and (group.requires.cpu or group.requires.memory):
                placed.setdefault(node, []).append(group)
        for name, groups in placed.items():
            node = limited[name]
            capacity = node.capacity
            cpu = sum(_exact(group.requires.cpu) for group in groups)  # exact: 0.1 x 3 is 0.3
            memory = sum(group.requires.memory for group in groups)
            over = []
            if capacity.cpu is not None and cpu > _exact(capacity.cpu):
                over.append(f"cpu {_number(cpu)} of its {_number(_exact(capacity.cpu))}")
            if capacity.memory is not None and memory > capacity.memory:
                over.append(f"memory {format_size(memory)} of its {format_size(capacity.memory)}")
            if not over:
                continue
            shown = ", ".join(f"'{group.name}'" for group in groups[:SHOWN])
            more = f" and {len(groups) - SHOWN} more" if len(groups) > SHOWN else ""
            yield self.finding(
                capacity.span(),
                f"at startup node '{name}' runs {shown}{more}, "
                f"which {'together need' if len(groups) > 1 else 'needs'} {' and '.join(over)}",
                f"raise the capacity of '{name}', lower what the groups require, or give some of them "
                "another home node")


def place_at_startup(context):
    """(group, node) for every group instance the startup placement puts online, nothing failed.

    The static view of LANGUAGE.md's placement: every node is up and in a
    partition that may run groups, so a node can host a group when it is in
    the group's list and has an adapter on the network of each of the group's
    service addresses.
    """
    networks_of = {node: {network.name for network, _ in adapters}
                   for node, adapters in context.adapters_by_node.items()}
    services = context.services
    for group in context.cluster.groups:
        needed = {services[label][0].name for label in group.service_ips if label in services}

        def can_host(node, needed=needed):
            return needed <= networks_of.get(node, set()) if needed else True

        if group.startup == "home_node":
            if group.nodes and can_host(group.nodes[0]):
                yield group, group.nodes[0]
        elif group.startup == "first_available":
            node = next((node for node in group.nodes if can_host(node)), None)
            if node is not None:
                yield group, node
        else:
            for node in group.nodes:
                if can_host(node):
                    yield group, node


def _exact(value: float) -> Decimal:
    """A cpu amount as the decimal written in the file (the model keeps a float)."""
    return Decimal(repr(value))


def _number(value: Decimal) -> str:
    return format(value.normalize(), "f") if value else "0"
