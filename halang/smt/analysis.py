"""`analyse(cluster, faults)`: the failure analysis, from the resolved model to findings.

Pipeline: static structure (`topology.py`) -> the startup placement, computed
directly -> HA604 (no solver) -> the z3 encoding (`encode.py`) -> for sizes
0, 1, ..., K, every property family (`properties.py`) searched for minimal
scenarios (`search.py`).

Where the solver is slower than enumeration: for K = 1 there are only as many
scenarios as components, and evaluating each directly costs one pass over
the cluster; the solver instead pays for building the whole encoding (most
of the time at 512 nodes is spent in z3's Python-facing term construction)
before its first answer, and then answers the level with a handful of calls.
Measured on the benchmark clusters (bench/smt_bench.py), the solver still
wins at K = 1 once clusters have more than a few dozen nodes, because direct
evaluation has to recompute placement for every one of thousands of
components, so the solver answers every K. For K >= 2 enumeration grows as
C(components, K) and is out of the question beyond toy sizes.
"""

from __future__ import annotations

import time

from halang.model.cluster import Cluster
from halang.smt import properties
from halang.smt.encode import Encoding
from halang.smt.evaluate import evaluate, place, startup_placement
from halang.smt.result import AnalysisResult, Finding
from halang.smt.search import Search
from halang.smt.timing import takeover_findings
from halang.smt.topology import Topology

DEFAULT_BUDGET_MS = 120_000
CODE_ORDER = ("HA213", "HA301", "HA302", "HA306", "HA406", "HA502", "HA604")


def analyse(cluster: Cluster, faults: int, budget_ms: int = DEFAULT_BUDGET_MS, *, max_listed: int = 50,
            max_counted: int = 500, connectivity: str = "auto") -> AnalysisResult:
    """Every minimal scenario of at most `faults` failures that breaks a property, as findings.

    `budget_ms` bounds the whole analysis (wall clock); what is not settled
    within it is returned as `inconclusive`. `max_listed` scenarios per
    subject (group, node, node and network, dependency, cluster) become
    findings; up to `max_counted` are counted for "and N more".
    `connectivity` picks the encoding of partitions ("closure",
    "certificate", or "auto" by the number of buses; see encode.py).
    """
    began = time.monotonic()
    deadline = began + budget_ms / 1000
    stats: dict = {}

    topology = Topology(cluster)
    empty = evaluate(topology, ())
    start = startup_placement(topology, empty)
    empty.placement = place(topology, empty, start)

    findings: list[Finding] = list(takeover_findings(cluster))
    inconclusive, truncated = [], []
    if faults >= 1 and cluster.nodes:
        # Stage 1: where quorum can be lost, over the connectivity encoding.
        connected = Encoding(topology, start, connectivity=connectivity, faults=faults)
        quorum = properties.quorum_loss(topology, connected, empty)
        stage1 = Search(topology, connected, start, faults, deadline, max_listed, max_counted=10**9)
        stage1.start_family(quorum, empty)
        settled = faults
        for k in range(1, faults + 1):
            stage1.run_level(quorum, k)
            if stage1.inconclusive:
                settled = k - 1
                break
        quorum_sets = {subject.key.split(":", 1)[1]: stage1.progress[subject.key].found for subject in quorum.subjects}
        stats["connectivity"] = connected.connectivity
        stats["quorum"] = {key: round(value, 1) if isinstance(value, float) else value
                           for key, value in stage1.stats.items()}
        stats["quorum"]["scenarios"] = len({s for found in quorum_sets.values() for s in found})

        # Stage 2: every property, with quorum loss as the exact sets found above.
        encoding = Encoding(topology, start, faults=faults, quorum_sets=quorum_sets)
        families = [properties.hosting(topology, encoding, empty), properties.split_brain(topology, encoding),
                    properties.replace_capacity(topology, encoding), properties.capacity(topology, encoding, empty),
                    properties.dependencies(topology, encoding)]
        searches = []
        for family in families:
            search = Search(topology, encoding, start, faults, deadline, max_listed, max_counted)
            search.start_family(family, empty)
            searches.append((family, search))
        stats["setup_ms"] = round((time.monotonic() - began) * 1000, 1)
        for k in range(1, faults + 1):
            for family, search in searches:
                if k <= settled:
                    search.run_level(family, k)
                else:
                    search.give_up_level(family, k, "the quorum analysis it relies on was inconclusive")
        totals: dict = {}
        for family, search in searches:
            findings.extend(search.findings)
            inconclusive.extend(search.inconclusive)
            truncated.extend(search.truncations([family]))
            for key, value in search.stats.items():
                totals[key] = totals.get(key, 0) + value
        stats.update({key: round(value, 1) if isinstance(value, float) else value for key, value in totals.items()})
    stats["components"] = len(topology.components)
    stats["buses"] = len(topology.buses)
    stats["total_ms"] = round((time.monotonic() - began) * 1000, 1)

    order = {code: i for i, code in enumerate(CODE_ORDER)}
    findings.sort(key=lambda f: (order[f.code], f.group or "", f.node or "", f.network or "", len(f.scenario),
                                 f.scenario, f.message))
    return AnalysisResult(faults, tuple(findings), tuple(inconclusive), tuple(truncated), stats)
