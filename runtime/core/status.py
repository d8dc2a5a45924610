"""What `halang status` shows, from one node: every node, path and group, where each group runs and why there.

`cluster_status(spec, state, reports)` is pure: the node's engine state
and the fresh reports it holds (its own among them) are all it reads, so
any node answers for the whole partition it belongs to; nodes it does not
hear are shown down, as its engine counts them. The reasons come from the
decision core (`why_not`), the same words the verifier and `simulate` use.
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping

from runtime.core.engine import EngineState, leader_of
from runtime.core.membership import Report, observe, plan_text
from runtime.core.paths import paths_by_id
from runtime.core.snapshot import ClusterSpec
from runtime.core.topology import Status, can_host_now, why_not


def cluster_status(spec: ClusterSpec, state: EngineState, reports: Mapping[str, Report]) -> Dict[str, Any]:
    me = state.node
    seen = observe(spec, reports)
    status = seen.status
    partition = seen.view.partition_of(me) or (me,)
    members = {node: reports[node] for node in partition if node in reports}
    nodes = []
    for node in spec.node_names:
        report = reports.get(node)
        if report is None:
            nodes.append({"name": node, "state": "down", "why": "not heard on any path" if node != me else ""})
            continue
        nodes.append({"name": node, "state": _node_state(status, node, report),
                      "partition": list(seen.view.partition_of(node) or (node,)),
                      "holds": list(report.holds), "online": list(report.online),
                      "refused": [] if report.stopping else list(report.failed)})
    paths = []
    for path_id, path in sorted(paths_by_id(spec).items()):
        ends = [path.first.node, path.second.node]
        heard = all(end in reports for end in ends) and any(path_id in reports[end].heard for end in ends)
        paths.append({"id": path_id, "medium": path.medium.label, "between": ends, "heard": heard})
    adapters = [{"node": adapter.node, "ifname": adapter.ifname, "network": adapter.network,
                 "role": adapter.role,
                 "carrier": adapter.node in reports and adapter.ifname in reports[adapter.node].carriers,
                 "reaches_target": adapter.node in reports and adapter.ifname in reports[adapter.node].reach,
                 "state": status.adapter_state(adapter)}
                for adapter in spec.adapters if adapter.node in reports]
    plan = state.plan
    phases = dict(state.phases)
    groups = []
    for group in spec.groups:
        placed = list(plan.nodes(group.name)) if plan is not None else []
        holders = {node: ("online" if group.name in report.online else "acquiring" if node in placed else "releasing")
                   for node, report in members.items() if group.name in report.holds}
        if group.name in phases:
            holders[me] = phases[group.name]
        groups.append({"name": group.name, "nodes": list(group.nodes), "placed": placed, "holders": holders,
                       "state": _group_state(placed, holders),
                       "why": _why(spec, status, state, group.name, placed)})
    leader = leader_of(spec, members, me if state.agreed_hash else None) if members else me
    return {"cluster": spec.name, "node": me, "view": seen.hash, "agreed": state.agreed_hash == seen.hash,
            "plan": plan_text(state.plan_id), "leader": leader, "stopping": state.stopping,
            "offline": sorted(state.offline, key=spec.group_index.__getitem__),
            "nodes": nodes, "paths": paths, "adapters": adapters, "groups": groups,
            "requests": [request.describe() for _, request in state.requests]}


def _node_state(status: Status, node: str, report: Report) -> str:
    if report.stopping:
        return f"stopping ({report.stopping})"
    if not report.settled:
        return "joining"
    return "up" if node in status.runnable_nodes else "up, no quorum"


def _group_state(placed: List[str], holders: Mapping[str, str]) -> str:
    if placed and all(holders.get(node) == "online" for node in placed) and set(holders) == set(placed):
        return "online"
    if not placed and not holders:
        return "offline"
    return "moving"


def _why(spec: ClusterSpec, status: Status, state: EngineState, name: str, placed: List[str]) -> str:
    """Why the group is where it is, in words: the nodes before its place in its list and why they do not
    host it, or that it was taken offline."""
    group = spec.group(name)
    if state.plan is None:
        return "no plan yet: the nodes have not agreed on a view"
    if name in state.offline:
        return "taken offline by the operator (halang online or move brings it back)"
    if not placed:
        reasons = [why_not(spec, status, name, node)[1] for node in group.nodes]
        return "offline: " + ("; ".join(reason for reason in reasons if reason) or
                              f"fallover = {group.fallover}")
    if group.concurrent:
        left_out = [why_not(spec, status, name, node)[1] for node in group.nodes if node not in placed]
        return "on every node of its list that can host it" + (": " + "; ".join(r for r in left_out if r)
                                                                if any(left_out) else "")
    where = placed[0]
    earlier = group.nodes[:group.nodes.index(where)]
    if not earlier:
        return f"{where} is first in its list"
    able = [node for node in earlier if can_host_now(spec, status, group, node)]
    if able:
        policy = "fallback = never" if group.fallback == "never" else \
            f"fallback = higher_priority, after {group.fallback_delay_ms // 1000} s" if group.fallback_delay_ms else \
            "moved here by the operator"
        return f"{', '.join(able)} could host it; it stays on {where} ({policy})"
    return "; ".join(why_not(spec, status, name, node)[1] for node in earlier)
