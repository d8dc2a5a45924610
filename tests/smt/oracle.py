"""A brute-force oracle for the failure analysis: every failure set up to K, evaluated directly.

Independent of the solver and of `halang.smt.properties`: it defines each
code's problem from the evaluated state and keeps the scenarios no proper
subset of which shows the same problem for the same subject. Only usable
on small clusters (C(components, K) evaluations).
"""

from __future__ import annotations

from itertools import combinations

from halang.smt.evaluate import evaluate, place, startup_placement
from halang.smt.topology import Topology


def problems(topology: Topology, state, empty) -> set[tuple]:
    """(code-family, subject...) for every problem `state` shows."""
    found = set()
    for group in topology.groups.values():
        if group.nodes and empty.hosts(group) and not state.hosts(group):
            found.add(("hosting", group.name))
    if topology.quorum == "none" and len(state.partitions) > 1:
        found.add(("HA302",))
    for network in topology.cluster.networks:
        if network.ipat != "replace":
            continue
        for node in topology.node_names:
            if not topology.adapters_of.get((node, network.name)):
                continue
            if len(state.placed_services(node, network.name)) > len(state.usable_adapters(node, network.name)):
                found.add(("HA213", node, network.name))
    for name, info in topology.nodes.items():
        cpu, memory = state.load(name)
        if (info.cpu is not None and cpu > info.cpu) or (info.memory is not None and memory > info.memory):
            found.add(("HA502", name))
    for a, info in topology.groups.items():
        mine = state.placement[a]
        for relation in ("same_node_as", "different_node_from", "after"):
            for b in getattr(info.group, relation):
                if b not in topology.groups or b == a:
                    continue
                theirs = state.placement[b]
                if relation == "after":
                    broken = bool(mine) and not theirs
                elif relation == "same_node_as":
                    broken = any(n not in theirs for n in mine)
                else:
                    broken = any(n in theirs for n in mine)
                if broken:
                    found.add(("HA406", a, relation, b))
    return found


def minimal_findings(cluster, faults: int) -> set[tuple]:
    """{(code, subject, scenario)} as the analysis must report them (HA604 aside)."""
    topology = Topology(cluster)
    empty = evaluate(topology, ())
    start = startup_placement(topology, empty)
    empty.placement = place(topology, empty, start)
    results: dict[frozenset, set] = {}
    components = topology.components
    for size in range(0, faults + 1):
        for failed in combinations(components, size):
            state = evaluate(topology, failed)
            state.placement = place(topology, state, start)
            results[frozenset(failed)] = problems(topology, state, empty)
    at_start = results[frozenset()]
    out = set()
    for scenario, found in results.items():
        for problem in found:
            kind = problem[0]
            if kind in ("hosting", "HA502") and problem in at_start:
                continue  # HA304/HA305, HA501
            if not scenario and kind in ("hosting", "HA502"):
                continue
            if any(problem in results[frozenset(sub)] for k in range(len(scenario))
                   for sub in combinations(sorted(scenario), k)):
                continue
            code = kind if kind != "hosting" else ("HA301" if len(scenario) == 1 else "HA306")
            out.add((code, problem[1:], tuple(sorted(scenario))))
    return out


def reported(result) -> set[tuple]:
    """The same shape from an AnalysisResult."""
    out = set()
    for f in result.findings:
        if f.code == "HA604":
            continue
        if f.code in ("HA301", "HA306"):
            subject = (f.group,)
        elif f.code == "HA302":
            subject = ()
        elif f.code == "HA213":
            subject = (f.node, f.network)
        elif f.code == "HA502":
            subject = (f.node,)
        else:
            relation = next(r for r in ("same_node_as", "different_node_from", "after") if f"({r})" in f.message)
            other = f.message.split("(")[0]
            subject = (f.group, relation, _other(f))
        out.add((f.code, subject, f.scenario))
    return out


def _other(finding) -> str:
    return finding.related[0].message.removeprefix("group ")
