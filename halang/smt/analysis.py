"""`analyse(cluster, faults)`: the failure analysis, from the resolved model to findings.

Pipeline: static structure (`topology.py`) -> the startup placement, by the
runtime (`runtime.core.placement.startup_placement`) -> HA604 (no solver) -> the
properties (`properties.py`), searched level by level for minimal scenarios
(`search.py`), every scenario decided by the runtime (`scenario.py`):

- K = 1, by default, by direct enumeration: every component's failure is
  handed to the runtime once and checked against every property.
- K >= 2 (and K = 1 with `method="solver"`), by z3, in two stages. Stage 1
  asks, over the connectivity encoding (`encode.py`), for every minimal
  scenario in which an up node loses quorum. Stage 2 asks for each property
  over an encoding where quorum is that exact list of scenarios, so every
  term is local to the nodes it concerns, and each few neighbouring subjects
  share a small solver (`search.py`, shards).

Where the solver is slower than enumeration, and why. At K = 1 there are
only as many scenarios as components, and evaluating one touches a few
nodes; the solver must first build terms for the whole cluster and preprocess
them (z3's QF_FD pipeline compiles every cardinality constraint), which costs
more than the whole enumeration: on bench/smt_bench.py's 512-node cluster,
3.2 s by enumeration against 8 s by the solver (16 s with a least_loaded
group on every node, whose file-order cascade z3 has to reason through), and
on bench/generate.py's 512-node cluster of 64 pods (194 heartbeat buses,
certificate connectivity) 4.7 s against 109 s. Enumeration also wins for
clusters whose connectivity is the hard part: a 26-node ring of serial
links at K = 2 has 2 208 minimal scenarios, which brute force over its 52
components finds in 0.4 s and the solver in 10 s. From K = 2 on the number
of scenarios grows as C(components, K) (320 000 pairs at 128 nodes), while
the solver's cost grows with the number of minimal scenarios it finds (one
answer each, a few milliseconds) and with the size of the connectivity
encoding; so z3 answers every K >= 2.
"""

from __future__ import annotations

import time
from dataclasses import replace
from itertools import combinations

from halang.model.cluster import Cluster
from halang.smt import properties
from halang.smt.encode import Encoding
from halang.smt.reachable import MAX_STATES, explore
from halang.smt.result import AnalysisResult, Finding, Inconclusive
from halang.smt.scenario import Scenario, detection_orders
from halang.smt.search import Search
from halang.smt.timing import takeover_findings
from halang.smt.topology import Topology
from runtime.core.placement import Placement, startup_placement
from runtime.core.snapshot import ClusterSpec

DEFAULT_BUDGET_MS = 120_000
CODE_ORDER = ("HA213", "HA301", "HA302", "HA306", "HA309", "HA406", "HA502", "HA604")


def analyse(cluster: Cluster, faults: int, budget_ms: int = DEFAULT_BUDGET_MS, *, max_listed: int = 50,
            max_counted: int = 500, connectivity: str = "auto", method: str = "auto",
            spec: ClusterSpec | None = None, reachable: bool = False) -> AnalysisResult:
    """Every minimal scenario of at most `faults` failures that breaks a property, as findings.

    `budget_ms` bounds the whole analysis (wall clock); what is not settled
    within it is returned as `inconclusive`. `max_listed` scenarios per
    subject (group, node, node and network, dependency, cluster) become
    findings; up to `max_counted` are counted for "and N more".
    `connectivity` picks the encoding of partitions ("closure",
    "certificate", or "auto" by the number of buses; see encode.py).
    `method`: "solver" asks z3 at every K; "enumerate" evaluates every single
    failure directly (K = 1 only); "auto" enumerates at K = 1 and asks z3
    from K = 2 (see the module docstring). `spec`: the cluster's runtime spec
    when the caller has built it (`halang.model.spec.cluster_spec`).
    """
    if method not in ("auto", "solver", "enumerate"):
        raise ValueError(f"method is auto, solver or enumerate, not {method!r}")
    if method == "enumerate" and faults > 1:
        raise ValueError("enumeration is for one failure (faults = 1); two or more need the solver")
    began = time.monotonic()
    deadline = began + budget_ms / 1000
    stats: dict = {}

    topology = Topology(cluster, spec)
    start = startup_placement(topology.spec)
    empty = Scenario(topology, (), start)

    findings: list[Finding] = list(takeover_findings(cluster))
    inconclusive, truncated = [], []
    if faults >= 1 and cluster.nodes:
        if method == "enumerate" or (method == "auto" and faults == 1):
            stats["method"] = "enumerate"
            settled, quorum_sets = faults, None
        else:
            stats["method"] = "solver"
            settled, quorum_sets = _quorum_stage(topology, start, empty, faults, deadline, connectivity, stats)
        run = _Run(topology, empty, faults, deadline, max_listed, max_counted, settled, quorum_sets, stats)
        run.search(start, FAMILIES)
        stats["setup_ms"] = round((time.monotonic() - began) * 1000, 1)
        if reachable:
            _reachable(run, start)
        findings.extend(run.findings)
        inconclusive, truncated = run.inconclusive, run.truncated
        stats.update({key: round(value, 1) if isinstance(value, float) else value for key, value in run.totals.items()})
    stats["components"] = len(topology.components)
    stats["buses"] = len(topology.buses)
    stats["total_ms"] = round((time.monotonic() - began) * 1000, 1)

    order = {code: i for i, code in enumerate(CODE_ORDER)}
    findings.sort(key=lambda f: (order[f.code], f.group or "", f.node or "", f.network or "", len(f.scenario),
                                 f.scenario, f.message))
    return AnalysisResult(faults, tuple(findings), tuple(inconclusive), tuple(truncated), stats)


FAMILIES = ("hosting", "split", "replace", "capacity", "dependencies", "silent")
PLACEMENT_FAMILIES = ("replace", "capacity", "dependencies", "silent")  # those whose answer depends on the start


class _Run:
    """The property searches of one analysis, from one start placement or several (`--reachable`)."""

    def __init__(self, topology: Topology, empty: Scenario, faults: int, deadline: float, max_listed: int,
                 max_counted: int, settled: int, quorum_sets: dict | None, stats: dict):
        self.topology, self.empty, self.faults, self.deadline = topology, empty, faults, deadline
        self.max_listed, self.max_counted = max_listed, max_counted
        self.settled, self.quorum_sets, self.stats = settled, quorum_sets, stats
        self.findings: list[Finding] = []
        self.inconclusive: list = []
        self.truncated: list = []
        self.totals: dict = {}

    def search(self, start: Placement, names: tuple[str, ...], history: str | None = None) -> list[Finding]:
        """Every minimal scenario from `start` for the named families; the findings are returned and kept."""
        topology, faults = self.topology, self.faults
        placed = start.as_dict()
        enumerate_ = self.quorum_sets is None
        if enumerate_:
            encoding = Encoding(topology, placed, faults=faults, quorum_sets={})  # terms are never built
        else:
            # Every property, with quorum loss as the exact sets found in stage 1. z3 asks only about the failures
            # the carrier shows; those that keep it up are the runtime's to judge (`_enumerate_inferred`), so
            # their quorum sets are left out here (HA302 rests on connectivity, which covers them exactly).
            shown = {node: [found for found in sets if not found & topology.inferred]
                     for node, sets in self.quorum_sets.items()}
            encoding = Encoding(topology, placed, faults=faults, quorum_sets=shown, ordered=True)
        from_startup = history is None
        builders = {
            "hosting": lambda: properties.hosting(topology, encoding, self.empty),
            "split": lambda: properties.split_brain(topology, encoding),
            "replace": lambda: properties.replace_capacity(topology, encoding),
            "capacity": lambda: properties.capacity(topology, encoding, self.empty, from_startup),
            "dependencies": lambda: properties.dependencies(topology, encoding),
            "silent": lambda: properties.silent_adapter(topology),
        }
        empty = self.empty if from_startup else Scenario(topology, (), start)
        searches = []
        for name in names:
            family = builders[name]()
            # HA302 asks one question of the whole cluster, whose term may rest on certificates
            # (side constraints): it keeps the family solver. Everything else is local: shards.
            search = Search(topology, encoding, start, faults, self.deadline, self.max_listed, self.max_counted,
                            per_subject=family.name != "split")
            search.start_family(family, empty)
            searches.append((family, search))
        if enumerate_:
            _enumerate_single(topology, start, searches, self.deadline)
        else:
            for k in range(1, faults + 1):
                for family, search in searches:
                    if k > self.settled:
                        search.give_up_level(family, k, "the quorum analysis it relies on was inconclusive")
                    elif not family.inferred:
                        search.run_level(family, k)
                if k <= self.settled:
                    _enumerate_inferred(topology, start, [(family, search) for family, search in searches
                                                          if family.name != "split"], k, self.deadline)
        found = []
        for family, search in searches:
            found.extend(search.findings)
            self.inconclusive.extend(search.merge_inconclusive())
            self.truncated.extend(search.truncations([family]))
            for key, value in search.stats.items():
                self.totals[key] = self.totals.get(key, 0) + value
        self.findings.extend(found)
        return found


def _reachable(run: _Run, start: Placement) -> None:
    """The placement findings from every placement the nodes can reach, each new one named with its history."""
    began = time.monotonic()
    exploration = explore(run.topology.spec, start, run.faults, run.deadline)
    known = {_identity(finding) for finding in run.findings}
    kept = list(run.findings)
    for item in exploration.reached:
        if time.monotonic() > run.deadline:
            exploration.complete = False
            break
        history = item.describe(start)
        for finding in run.search(item.placement, PLACEMENT_FAMILIES, history):
            if _identity(finding) not in known:
                known.add(_identity(finding))
                kept.append(replace(finding, message=f"{history}: {finding.message}", history=history))
    run.findings = kept
    run.stats["reachable"] = {"states": exploration.states, "placements": len(exploration.reached) + 1,
                              "complete": exploration.complete, "ms": round((time.monotonic() - began) * 1000, 1)}
    if not exploration.complete:
        run.inconclusive.append(Inconclusive(
            ("HA213", "HA309", "HA406", "HA502"), ("the placements reachable through earlier failures",), 0, run.faults,
            ("the time budget ran out" if exploration.stopped_by != "states" else
             f"the walk reached its limit of {MAX_STATES:,} states") +
            f" after {exploration.states:,} states of the cluster and {len(exploration.reached):,} reachable "
            "placements"))


def _identity(finding: Finding) -> tuple:
    return (finding.code, finding.group, finding.node, finding.network, finding.scenario,
            tuple(item.message for item in finding.related))


def _quorum_stage(topology: Topology, start: Placement, empty: Scenario, faults: int, deadline: float,
                  connectivity: str, stats: dict) -> tuple[int, dict]:
    """Stage 1: every minimal scenario in which an up node loses quorum, over the connectivity encoding.

    Returns the number of failures up to which that list is complete, and the list per node.
    """
    connected = Encoding(topology, start.as_dict(), connectivity=connectivity, faults=faults)
    quorum = properties.quorum_loss(topology, connected, empty)
    # Every scenario counts here (they become the exact quorum condition of stage 2): no listing cap.
    stage = Search(topology, connected, start, faults, deadline, max_listed=10**9, max_counted=10**9)
    stage.start_family(quorum, empty)
    settled = faults
    for k in range(1, faults + 1):
        stage.run_level(quorum, k)
        if stage.inconclusive:
            settled = k - 1
            break
    stats["connectivity"] = connected.connectivity
    stats["quorum"] = {key: round(value, 1) if isinstance(value, float) else value
                       for key, value in stage.stats.items()}
    quorum_sets = {subject.key.split(":", 1)[1]: stage.progress[subject.key].found for subject in quorum.subjects}
    for node in topology.node_names:  # a node without quorum with nothing failed never has it (the empty set)
        quorum_sets.setdefault(node, [frozenset()] if topology.quorum == "majority" else [])
    stats["quorum"]["scenarios"] = len({s for found in quorum_sets.values() for s in found})
    return settled, quorum_sets


def _enumerate_inferred(topology: Topology, start: Placement, searches: list, k: int, deadline: float) -> None:
    """Level k for the scenarios with a failure that keeps the carrier up: what the nodes infer from silence
    (adapters in doubt keep and take nothing) is not a term of z3's encoding, so each such set of k failures is
    handed to the runtime, in every order the nodes may detect its failures (a group kept through doubt after
    one order may have nowhere to go after another)."""
    inferred = [name for name in topology.components if name in topology.inferred]
    others = [name for name in topology.components if name not in topology.inferred]
    count = 0
    for shown in range(k):  # how many of the k failures the carrier shows
        for plain in combinations(others, shown):
            for silent in combinations(inferred, k - shown):
                count += 1
                if count % 64 == 0 and time.monotonic() > deadline:
                    for family, search in searches:
                        search.give_up_level(family, k, "the time budget ran out among the scenarios with a "
                                                        "failure that keeps the carrier up")
                    return
                states, seen = [], set()
                for steps in detection_orders(plain + silent):
                    state = Scenario(topology, steps, start)
                    # Orders that end alike, from alike, show the same problems: the first one is enough.
                    outcome = (state.placement, state.before_last)
                    if outcome not in seen:
                        seen.add(outcome)
                        states.append(state)
                for family, search in searches:
                    for state in states:
                        search.spread_single(family, state, k)


def _enumerate_single(topology: Topology, start: Placement, searches: list, deadline: float) -> None:
    """K = 1: hand each component's failure to the runtime and the result to every family."""
    for position, component in enumerate(topology.components):
        if position % 64 == 0 and time.monotonic() > deadline:
            for family, search in searches:
                search.give_up_level(family, 1, f"the time budget ran out after {position} of "
                                                f"{len(topology.components)} single failures")
            return
        state = Scenario(topology, (frozenset((component,)),), start)
        for family, search in searches:
            search.spread_single(family, state)
