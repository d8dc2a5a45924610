"""The properties the analysis asks about, each as a family of subjects.

A subject is one thing a finding is about (a group, a node, a node on a
network, a dependency, or the cluster for HA302). For each subject a family
gives:

- `violation()`: a z3 term, true in the scenarios that break the property;
- `check(state)`: the same question put to the runtime's own functions on
  one scenario (`scenario.Scenario`): `hosts`, the partitions of `assess`,
  `address_overloads`, `overloaded_nodes`, `dependency_violations`;
- `report(state)`: the findings for a scenario that breaks it.

The search (`search.py`) asks z3 for scenarios, and `check` decides which
subjects a scenario found by z3 actually breaks: a finding is reported only
when the runtime agrees, and is worded from what the runtime computed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from halang.diagnostics import Related
from halang.smt.encode import Encoding
from halang.smt.result import Finding
from halang.smt.scenario import Scenario as State
from halang.smt.topology import GroupInfo, Topology, describe_component, describe_scenario
from runtime.core.paths import paths_by_id
from runtime.core.topology import DOUBT, observe_failures
from runtime.core.placement import Violation, address_overloads, dependency_violations, overloaded_nodes, placed_services


def names(items, limit: int = 6) -> str:
    """'a', 'a and b', 'a, b and c', 'a, b, c, d, e, f and 3 more'."""
    items = list(items)
    if len(items) > limit:
        return f"{', '.join(items[:limit])} and {len(items) - limit} more"
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


@dataclass
class Subject:
    key: str
    label: str  # "group app_a", for notes
    violation: Callable[[], object]
    check: Callable[[State], bool]
    report: Callable[[State], list[Finding]]
    groups: tuple[str, ...] = ()
    # Nodes a scenario must change (degrade, or move groups onto or off) to break this subject;
    # None: any scenario may. Lets the search skip subjects a scenario cannot concern.
    nodes: frozenset[str] | None = None


@dataclass
class Family:
    name: str
    codes: tuple[str, ...]
    min_level: int  # 0: the empty scenario counts (HA213, HA302, HA406); 1: it is another code's finding
    placement: bool  # the check needs the placement after failures
    subjects: list[Subject] = field(default_factory=list)
    inferred: bool = False  # only faults that keep the carrier up break it: the runtime is asked, not z3
    # The keys of the subjects a scenario can concern, where nodes degraded or moved do not say it (see Search).
    concerned: Callable[[State], list[str]] | None = None

    def code(self, size: int) -> str:
        if self.name == "hosting":
            return "HA301" if size == 1 else "HA306"
        return self.codes[0] if self.codes else self.name


# ---------------------------------------------------------------- HA301 / HA306


def hosting(topology: Topology, encoding: Encoding, state0: State) -> Family:
    """HA301 (one failure) and HA306 (two to K): no node can host a group.

    Groups that every order of failures treats alike share one subject, so
    the solver is asked once for all of them: the same node list, service
    networks, policies and start (who holds a group decides whether an
    adapter in doubt keeps it there). A `least_loaded` group has a subject of
    its own (the loads decide where it goes). A group that no node can host
    with nothing failed is HA304/HA305, not analysed here.
    """
    family = Family("hosting", ("HA301", "HA306"), 1, False)
    start = state0.start
    by_signature: dict = {}
    for group in topology.groups.values():
        if group.nodes:
            model = group.group
            alike = (group.nodes, group.networks, start.nodes(group.name), model.startup, model.fallover,
                     model.fallback, group.name if group.fallover == "least_loaded" else "")
            by_signature.setdefault(alike, []).append(group)
    for i, (signature, groups) in enumerate(by_signature.items()):
        first = groups[0]
        if not state0.hosts(first):
            continue

        def check(state: State, first=first) -> bool:
            return not state.hosts(first)

        def report(state: State, groups=groups) -> list[Finding]:
            size = len(state.failed)
            code = "HA301" if size == 1 else "HA306"
            scenario = tuple(sorted(state.failed))
            return [Finding(code, f"{describe_scenario(scenario)}, no node can host group {group.name} "
                                  f"({_why_no_host(state, group)})",
                            scenario, group=group.name, span=group.group.span(), hint=_hosting_hint(state, group))
                    for group in groups]

        family.subjects.append(Subject(
            f"hosting:{i}", "group " + names((g.name for g in groups), 3),
            lambda first=first: encoding.dead(first), check, report, tuple(g.name for g in groups),
            first.node_set))
    return family


def _possible_groups(topology: Topology, start: dict, node: str) -> list[str]:
    """Groups that some scenario could place on the node (the placement rules, read statically)."""
    found = []
    for group in topology.groups.values():
        nodes = start[group.name]
        if node in nodes or (nodes and not group.concurrent and group.fallover != "bring_offline"
                             and node in group.node_set):
            found.append(group.name)
    return found


def _possible_services(topology: Topology, start: dict, node: str, network: str) -> set[str]:
    """Distinct service addresses of a network that some scenario could place on the node."""
    return {topology.service_address[label] for g in _possible_groups(topology, start, node)
            for net, labels in topology.groups[g].needs if net == network for label in labels}


def when(state: State) -> str:
    """The scenario in words, in the order of its events when that is what shows the problem."""
    if not state.ordered:
        return describe_scenario(tuple(sorted(state.failed)))
    return "if " + ", then ".join(" and ".join(describe_component(name) for name in sorted(step)) + " fail" +
                                  ("s" if len(step) == 1 else "") for step in state.steps)


def _why_no_host(state: State, group: GroupInfo) -> str:
    """Why no node of the group's list can host it, in the runtime's words (`runtime.core.topology.why_not`)."""
    reasons: dict[tuple[str, str], list[str]] = {}
    total = state.topology.node_count
    for node in group.nodes:
        kind, words = state.why_not(group, node)
        if kind == "quorum":
            words = f"{len(state.status.partition_of(node) or (node,))} of {total} nodes"
        reasons.setdefault((kind, "" if kind == "down" else words), []).append(node)
    parts = []
    for (kind, detail), nodes in reasons.items():
        many = len(nodes) > 1
        if kind == "down":
            parts.append(f"{names(nodes)} {'are' if many else 'is'} down")
        elif kind == "quorum":
            parts.append(f"{names(nodes)} {'have' if many else 'has'} no quorum "
                         f"({'their partitions hold' if many else 'its partition holds'} {detail})")
        elif len(reasons) == 1:
            parts.append(detail)
        else:
            parts.append(f"on {names(nodes)}, {detail}")
    return "; ".join(parts)


def _hosting_hint(state: State, group: GroupInfo) -> str:
    topology = state.topology
    quorum_lost = any(state.why_not(group, node)[0] == "quorum" for node in group.nodes)
    if quorum_lost and topology.quorum == "majority" and topology.tie_breaker_bus is None \
            and topology.node_count % 2 == 0:
        return ("with quorum = majority and no tie_breaker, the half of the nodes that survives stops its groups: "
                "add a disk link and name it as tie_breaker, or, on two nodes with a non-IP link, set quorum = none")
    return "give the group a node, adapter or switch that this failure does not take down"


# ---------------------------------------------------------------- HA309


def silent_adapter(topology: Topology) -> Family:
    """HA309: a group stays held on an adapter that passes no traffic, because the nodes cannot tell which side
    failed. Only faults that keep the carrier up do that (every other failure takes the carrier down, and the
    address moves), so the runtime decides it scenario by scenario (`inferred`): no z3 term."""
    family = Family("silent", ("HA309",), 1, True, inferred=True,
                    concerned=lambda state: [f"silent:{group}" for group in state.stranded_groups])
    spec = topology.spec
    for group in topology.groups.values():
        if not group.needs:
            continue

        def stranded(state: State, group=group) -> list[tuple[str, str, str]]:
            """(node, label, ifname) of the group's addresses held on an adapter that passes no frames."""
            labels = {label for _, group_labels in group.needs for label in group_labels}
            return [item for item in state.stranded if item[1] in labels]

        def report(state: State, group=group, stranded=stranded) -> list[Finding]:
            scenario = tuple(sorted(state.failed))
            places = names(f"{label} on {node}/{ifname}" for node, label, ifname in stranded(state))
            held = [spec.adapter_by_key[(node, ifname)] for node, _, ifname in stranded(state)]
            doubtful = [f"{a.node}/{a.ifname}" for a in held if state.status.adapter_state(a) == DOUBT]
            if doubtful:
                why = (f"{names(doubtful)} {'is' if len(doubtful) == 1 else 'are'} in doubt: silent with carrier up, "
                       "and nothing tells the nodes which end failed")
            elif any(_hears_a_peer(spec, state, adapter) for adapter in held):
                why = "the adapter still hears its peers, so the nodes count it as working"
            else:
                why = "no peer is left in its partition to hear, so the nodes count the adapter as working"
            return [Finding("HA309", f"{when(state)}, group {group.name} stays where no frame passes ({places}): "
                                     f"{why}", scenario, group=group.name, span=group.group.span(),
                            hint="add ping_targets to the network (a router or gateway on each subnet, outside "
                                 "the cluster): an adapter that reaches none while a peer does is failed, and the "
                                 "group moves")]

        family.subjects.append(Subject(f"silent:{group.name}", f"group {group.name}", lambda: False,
                                       lambda state, stranded=stranded: bool(stranded(state)), report,
                                       (group.name,)))
    return family


def _hears_a_peer(spec, state: State, adapter) -> bool:
    """Whether beats reach the adapter from some peer under the scenario's failures."""
    heard = observe_failures(spec, state.status.down)[adapter.node].heard
    return any(path.end_of(adapter.node).adapter == adapter for path_id, path in paths_by_id(spec).items()
               if path_id in heard and path.medium.kind == "subnet")


# ---------------------------------------------------------------- HA302


def split_brain(topology: Topology, encoding: Encoding) -> Family:
    """HA302, quorum = none only: the live nodes fall into two or more partitions."""
    family = Family("split", ("HA302",), 0, False)
    if topology.quorum != "none" or topology.node_count < 2:
        return family
    heartbeat = topology.cluster.heartbeat
    span = heartbeat.spans.get("quorum") or heartbeat.spans.get("") or topology.cluster.span()

    def report(state: State) -> list[Finding]:
        scenario = tuple(sorted(state.failed))
        partitions = state.status.runnable
        parts = " and ".join(_braced(p) for p in partitions[:6])
        if len(partitions) > 6:
            parts += f" and {len(partitions) - 6} more"
        return [Finding("HA302", f"{describe_scenario(scenario)}, the live nodes split into {len(partitions)} "
                                 f"partitions that cannot hear each other ({parts}); with quorum = none each "
                                 "one runs groups",
                        scenario, span=span,
                        hint="add a heartbeat path these failures do not cut (a disk or serial link), or set "
                             "quorum = majority with a tie_breaker disk")]

    family.subjects.append(Subject("split", "the cluster", lambda: encoding.split,
                                   lambda state: len(state.status.runnable) > 1, report))
    return family


def _braced(nodes, limit: int = 8) -> str:
    """'{alpha, bravo}', '{n0, n1, ..., n7 and 120 more}'."""
    shown = ", ".join(nodes[:limit])
    return "{" + shown + (f" and {len(nodes) - limit} more" if len(nodes) > limit else "") + "}"


# ---------------------------------------------------------------- HA213


def replace_capacity(topology: Topology, encoding: Encoding) -> Family:
    """HA213: on a `replace` network, more distinct service addresses placed on a node than usable adapters."""
    family = Family("replace", ("HA213",), 0, True)
    for network in topology.cluster.networks:
        if network.ipat != "replace":
            continue
        for node in topology.node_names:
            adapters = topology.adapters_of.get((node, network.name), [])
            if not adapters:
                continue
            if len(_possible_services(topology, encoding.start, node, network.name)) < 2:
                continue  # one address always has the adapter that lets its group be hosted

            def violation(node=node, network=network.name, adapters=adapters):
                b = encoding.b
                terms = [(s, 1) for s in encoding.service_terms(node, network)]
                terms += [(encoding.usable[a.component], -1) for a in adapters]
                return b.at_least(terms, 1)

            def check(state: State, node=node, network=network.name) -> bool:
                return bool(address_overloads(state.spec, state.placement, state.status, [(node, network)]))

            def report(state: State, node=node, network=network) -> list[Finding]:
                scenario = tuple(sorted(state.failed))
                labels = placed_services(state.spec, state.placement, node, network.name)
                usable = state.usable_adapters(node, network.name)
                have = f"{len(usable)} usable adapter{'s' if len(usable) != 1 else ''} there"
                if usable:
                    have += f" ({names(usable)})"
                return [Finding("HA213", f"{when(state)}, {node} must hold {len(labels)} service "
                                         f"addresses on {network.name} ({names(labels)}) but has {have}; "
                                         "under ipat = replace an adapter holds one service address",
                                scenario, node=node, network=network.name, span=network.span(),
                                hint=f"give {node} another standby adapter on {network.name} (on another switch), "
                                     "or use ipat = alias")]

            family.subjects.append(Subject(f"replace:{node}:{network.name}", f"node {node} on {network.name}",
                                           violation, check, report, nodes=frozenset((node,))))
    return family


# ---------------------------------------------------------------- HA502


def capacity(topology: Topology, encoding: Encoding, state0: State, from_startup: bool = True) -> Family:
    """HA502: after a scenario, fallover puts more on a node than its capacity (the empty scenario is HA501).

    From a placement reached through earlier failures (`from_startup` False), an overload with nothing
    failed is a finding too: the history is what put it there. `state0` is the startup state either way.
    """
    family = Family("capacity", ("HA502",), 1 if from_startup else 0, True)
    for name, info in topology.nodes.items():
        limits = [(resource, limit) for resource, limit in (("cpu", info.cpu), ("memory", info.memory))
                  if limit is not None]
        if not limits:
            continue
        possible = [topology.groups[g] for g in _possible_groups(topology, encoding.start, name)]
        if not any(sum(getattr(g, r) for g in possible) > limit for r, limit in limits):
            continue  # even every group that could ever land here fits
        if _overloaded(state0, name):
            continue  # HA501

        def violation(name=name, limits=limits):
            b = encoding.b
            return b.or_(b.at_least(encoding.load_terms(name, r), limit + 1) for r, limit in limits)

        def check(state: State, name=name) -> bool:
            return bool(overloaded_nodes(state.spec, state.placement, (name,)))

        def report(state: State, name=name) -> list[Finding]:
            scenario = tuple(sorted(state.failed))
            over = _overloaded(state, name)
            on_node = state.groups_on(name)
            node = topology.cluster.node(name)
            span = node.span("capacity") if node.capacity is not None else node.span()
            return [Finding("HA502", f"{when(state)}, fallover puts more on {name} than its "
                                     f"capacity: {', '.join(over)} (groups {names(on_node, 8)})",
                            scenario, node=name, span=span,
                            hint=f"give {name} more capacity, lower the groups' requires, or change their node lists "
                                 "so the load spreads")]

        family.subjects.append(Subject(f"capacity:{name}", f"node {name}", violation, check, report,
                                       nodes=frozenset((name,))))
    return family


def _overloaded(state: State, name: str) -> list[str]:
    topology = state.topology
    info = topology.nodes[name]
    cpu, memory = state.load(name)
    over = []
    if info.cpu is not None and cpu > info.cpu:
        over.append(f"cpu {topology.cpu_text(cpu)} > {topology.cpu_text(info.cpu)}")
    if info.memory is not None and memory > info.memory:
        over.append(f"memory {topology.memory_text(memory)} > {topology.memory_text(info.memory)}")
    return over


# ---------------------------------------------------------------- HA406


RELATIONS = ("same_node_as", "different_node_from", "after")


def dependencies(topology: Topology, encoding: Encoding) -> Family:
    """HA406: a location dependency (or an `after`) that the placement breaks in some scenario.

    Placement ignores dependencies (LANGUAGE.md: they do not decide who can
    host), so this asks whether the placement it computes meets them:

    - `A same_node_as B`: wherever A runs, B runs on that node too (A offline breaks nothing here; that is HA301's).
    - `A different_node_from B`: A and B never run on one node.
    - `A after B`: while A runs, B runs somewhere.

    The empty scenario counts: a startup placement that already breaks a dependency is reported with it.
    """
    family = Family("dependencies", ("HA406",), 0, True)
    groups = topology.groups
    for name, info in groups.items():
        group = info.group
        for relation in RELATIONS:
            for other in getattr(group, relation):
                if other not in groups or other == name:
                    continue
                a, b_info = info, groups[other]

                def violation(a=a, other=b_info, relation=relation):
                    b = encoding.b
                    if relation == "after":
                        return b.and_((encoding.online(a), b.not_(encoding.online(other))))
                    if relation == "same_node_as":
                        return b.or_(b.and_((encoding.on_node(a, n), b.not_(encoding.on_node(other, n))))
                                     for n in a.nodes)
                    return b.or_(b.and_((encoding.on_node(a, n), encoding.on_node(other, n))) for n in a.nodes)

                def check(state: State, a=name, other=other, relation=relation) -> bool:
                    return Violation(relation, a, other) in dependency_violations(state.spec, state.placement, (a,))

                def report(state: State, a=name, other=other, relation=relation, group=group) -> list[Finding]:
                    scenario = tuple(sorted(state.failed))
                    mine, theirs = state.placement.nodes(a), state.placement.nodes(other)
                    where = names(theirs) if theirs else None
                    if relation == "after":
                        text = f"group {a} runs on {names(mine)} but its parent {other} is offline (after)"
                        hint = f"let {other} run on every node that can host {a}, or accept that {a} waits for it"
                    elif relation == "same_node_as":
                        text = (f"group {a} runs on {names(mine)} but {other}, which it must share a node with "
                                f"(same_node_as), " + (f"runs on {where}" if where else "is offline"))
                        hint = f"give {a} and {other} the same nodes in the same order and the same fallover"
                    else:
                        both = [n for n in mine if n in theirs]
                        text = f"groups {a} and {other} both run on {names(both)} (different_node_from)"
                        hint = f"give {a} and {other} node lists that do not meet after a failure"
                    span = group.spans.get(relation) or group.span()
                    return [Finding("HA406", f"{when(state)}, {text}", scenario, group=a,
                                    span=span, hint=hint,
                                    related=(Related(groups[other].group.span(), f"group {other}"),))]

                family.subjects.append(Subject(f"dependency:{name}:{relation}:{other}",
                                               f"group {name} {relation} {other}", violation, check, report, (name,),
                                               a.node_set | b_info.node_set))
    return family


# ---------------------------------------------------------------- quorum loss (internal)


def quorum_loss(topology: Topology, encoding: Encoding, state0: State) -> Family:
    """Internal: minimal scenarios in which an up node may not run groups (its partition lost quorum)."""
    family = Family("quorum", (), 1, False)
    if topology.quorum == "none":
        return family
    for name in topology.node_names:
        if name not in state0.status.runnable_nodes:
            continue

        def check(state: State, name=name) -> bool:
            status = state.status
            return name not in status.down.nodes and name not in status.runnable_nodes

        family.subjects.append(Subject(
            f"quorum:{name}", f"node {name}",
            lambda name=name: encoding.b.and_((encoding.up[name], encoding.b.not_(encoding.runs[name]))),
            check, lambda state: [], nodes=None))
    return family
