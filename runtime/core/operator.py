"""The operator's requests, decided: whether the cluster can do what `halang move`, `online`, `offline` and
`stop` ask, and the plan that does it.

A request is data (`Request`): it comes in on one node's control socket,
travels in that node's signed reports until the node that decides it has
answered in its own reports, and is answered once (ids are unique:
ORIGIN/INCARNATION/N). The partition's leader decides `move`, `online` and
`offline` against the plan in force and the agreed view, with the decision
core's own functions (`why_not`, `hosts`, `dependency_violations`,
`overloaded_nodes`, `address_overloads`): a request is refused with the
reason before anything moves. `stop` is decided by the node it names.

Groups the operator took offline stay offline (`offline`, carried in the
leader's reports) across failures and views until `online` or `move` brings
them back, as a group brought offline with clRGmove does in PowerHA.

Pure: no I/O, no clock.
"""

from __future__ import annotations

from typing import AbstractSet, Any, FrozenSet, List, NamedTuple, Tuple

from runtime.core.placement import Placement, PlacementError, address_overloads, dependency_violations, make_placement, \
    overloaded_nodes
from runtime.core.snapshot import ClusterSpec
from runtime.core.topology import Status, hosts, why_not

VERBS = ("move", "online", "offline", "stop")
STOP_MODES = ("takeover", "offline")
MAX_ID = 80


class Request(NamedTuple):
    id: str
    verb: str  # move, online, offline, stop
    group: str = ""  # move, online, offline
    target: str = ""  # move: the node to move to; online: a node, or "" for the first that can host; stop: the node
    mode: str = ""  # stop: takeover (its groups move) or offline (its groups go offline)

    def describe(self) -> str:
        if self.verb == "stop":
            return f"stop {self.target} ({self.mode})"
        return f"{self.verb} {self.group}" + (f" to {self.target}" if self.target else "")


class Answer(NamedTuple):
    """A verdict on a request: `ok` and one sentence (what was done, or why not)."""

    id: str
    ok: bool
    text: str


class Outcome(NamedTuple):
    """A request carried out: the new plan and the groups held offline by the operator."""

    placement: Placement
    offline: FrozenSet[str]
    text: str


class Refused(Exception):
    """The request cannot be carried out; the message says why."""


def request_from_data(spec: ClusterSpec, data: Any) -> Request:
    """A request from its JSON form ([id, verb, group, target, mode]); ValueError if it does not fit the cluster."""
    if not (isinstance(data, list) and len(data) == 5 and all(isinstance(item, str) for item in data)):
        raise ValueError("a request is [id, verb, group, target, mode], all strings")
    request = Request(*data)
    problem = request_problem(spec, request)
    if problem:
        raise ValueError(problem)
    return request


def request_problem(spec: ClusterSpec, request: Request) -> str:
    """Why a request is not well formed for this cluster ("" when it is): names, not the cluster's state."""
    if not request.id or len(request.id) > MAX_ID:
        return "a request needs an id of at most 80 characters"
    if request.verb not in VERBS:
        return f"unknown request {request.verb!r} (one of {', '.join(VERBS)})"
    if request.verb == "stop":
        if request.target not in spec.node_by_name:
            return f"no node named {request.target!r} (the nodes: {', '.join(spec.node_names)})"
        if request.mode not in STOP_MODES:
            return f"stop needs a mode: {' or '.join(STOP_MODES)}"
        return ""
    if request.group not in spec.group_by_name:
        return f"no group named {request.group!r} (the groups: {', '.join(group.name for group in spec.groups)})"
    if request.verb == "move" and not request.target:
        return "move needs a node to move to"
    if request.target and request.target not in spec.node_by_name:
        return f"no node named {request.target!r} (the nodes: {', '.join(spec.node_names)})"
    return ""


def carry_out(spec: ClusterSpec, plan: Placement, status: Status, request: Request, offline: AbstractSet[str],
              stopping: AbstractSet[str] = frozenset()) -> Outcome:
    """The plan once `request` (move, online or offline) is done; `Refused` with the reason if the cluster
    cannot do it as it stands: the target cannot host the group (down, no quorum, its network, refused after
    a failure, stopping), a dependency would break, or a node would be overloaded."""
    group = spec.group(request.group)
    name = group.name
    placed = plan.nodes(name)
    if request.verb == "offline":
        if not placed:
            raise Refused(f"{name} is already offline")
        taken = _with_dependents(spec, plan, name)
        groups = {**plan.as_dict(), **{item: () for item in taken}}
        others = [item for item in taken if item != name]
        text = f"{name} goes offline" + (f", with {', '.join(others)} that depend on it" if others else "") + \
            "; it stays offline until halang online or move"
        return Outcome(_placement(spec, groups, status, plan), frozenset(offline) | frozenset(taken), text)
    if request.verb == "move":
        if group.concurrent:
            raise Refused(f"{name} is concurrent (startup = all_available): it runs on every node that can host "
                          "it; use offline and online")
        if placed == (request.target,):
            raise Refused(f"{name} is already on {request.target}")
        targets: List[Tuple[str, ...]] = [(request.target,)]
    else:
        if placed:
            raise Refused(f"{name} is already online on {', '.join(placed)}")
        if request.target:
            targets = [(request.target,)]
        elif group.concurrent:
            targets = [tuple(node for node in hosts(spec, status, group) if node not in stopping)]
        else:
            targets = [(node,) for node in group.nodes]
    reasons = []
    for target in targets:
        try:
            after = _try(spec, plan, status, name, target, stopping)
        except Refused as exc:
            reasons.append(str(exc))
            continue
        where = ", ".join(target)
        text = f"{name} moves from {', '.join(placed)} to {where}" if placed else f"{name} comes online on {where}"
        return Outcome(after, frozenset(offline) - {name}, text)
    if not reasons:
        reasons.append("no node of its list can host it now")
    if request.verb == "online" and len(targets) > 1:
        raise Refused(f"{name} cannot come online: " + "; ".join(reasons))
    raise Refused(reasons[0])


def _try(spec: ClusterSpec, plan: Placement, status: Status, name: str, target: Tuple[str, ...],
         stopping: AbstractSet[str]) -> Placement:
    if not target:
        raise Refused("no node of its list can host it now")
    for node in target:
        if node in stopping:
            raise Refused(f"{node} is stopping")
        kind, words = why_not(spec, status, name, node)
        if kind:
            raise Refused(f"{node} cannot host {name}: {words}")
    after = _placement(spec, {**plan.as_dict(), name: target}, status, plan)
    broken = set(dependency_violations(spec, after)) - set(dependency_violations(spec, plan))
    if broken:
        raise Refused(f"{name} on {', '.join(target)} would break a dependency: " +
                      "; ".join(violation.describe(after) for violation in sorted(broken)))
    over = [node for node in overloaded_nodes(spec, after, target) if node not in overloaded_nodes(spec, plan, target)]
    if over:
        raise Refused(f"{', '.join(over)} would be overloaded: its capacity is less than what its groups require")
    crowded = [pair for pair in address_overloads(spec, after, status) if pair not in address_overloads(spec, plan,
                                                                                                        status)]
    if crowded:
        raise Refused("; ".join(f"{node} has too few usable adapters on {network} for the service addresses it "
                                f"would hold (ipat = replace)" for node, network in crowded))
    return after


def _with_dependents(spec: ClusterSpec, plan: Placement, name: str) -> List[str]:
    """The group and every online group that cannot stay up without it (`after` children, `same_node_as`
    partners), transitively, file order."""
    taken = {name}
    grown = True
    while grown:
        grown = False
        for group in spec.groups:
            if group.name in taken or not plan.nodes(group.name):
                continue
            if any(parent in taken for parent in group.after + group.same_node_as):
                taken.add(group.name)
                grown = True
    return sorted(taken, key=spec.group_index.__getitem__)


def hold_offline(spec: ClusterSpec, plan: Placement, status: Status, offline: AbstractSet[str]) -> Placement:
    """The plan with the groups the operator holds offline taken out (after a transition brought one up)."""
    if not any(plan.nodes(name) for name in offline):
        return plan
    return make_placement(spec, {**plan.as_dict(), **{name: () for name in offline}}, status, plan)


def _placement(spec: ClusterSpec, groups: dict, status: Status, previous: Placement) -> Placement:
    """A request's plan; a placement that does not fit (only a bug: the names were checked) is its refusal, never
    an exception out of the decision."""
    try:
        return make_placement(spec, groups, status, previous)
    except PlacementError as exc:
        raise Refused(str(exc)) from None

