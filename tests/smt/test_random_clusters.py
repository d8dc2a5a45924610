"""Random small clusters: the solver, direct enumeration and brute force agree."""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings

from halang.smt import analyse
from halang.smt.evaluate import Evaluator, evaluate, evaluate_placed, startup_placement
from halang.smt.topology import Topology
from tests.smt.generate import cluster_texts
from tests.smt.helpers import cluster_of
from tests.smt.oracle import minimal_findings, reported

UNLIMITED = {"max_listed": 10**6, "max_counted": 10**6}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cluster_texts())
def test_two_failures_match_brute_force(text):
    cluster = cluster_of(text)
    result = analyse(cluster, 2, method="solver", **UNLIMITED)
    assert not result.inconclusive, [item.message for item in result.inconclusive]
    assert reported(result) == minimal_findings(cluster, 2)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cluster_texts(max_nodes=3))
def test_three_failures_match_brute_force_with_certificates(text):
    cluster = cluster_of(text)
    result = analyse(cluster, 3, method="solver", connectivity="certificate", **UNLIMITED)
    assert not result.inconclusive, [item.message for item in result.inconclusive]
    assert reported(result) == minimal_findings(cluster, 3)


@settings(max_examples=40, deadline=None)
@given(cluster_texts())
def test_one_failure_enumeration_matches_the_solver(text):
    cluster = cluster_of(text)
    assert reported(analyse(cluster, 1, method="enumerate", **UNLIMITED)) == \
        reported(analyse(cluster, 1, method="solver", **UNLIMITED))


@settings(max_examples=40, deadline=None)
@given(cluster_texts())
def test_incremental_evaluator_matches_the_reference(text):
    topology = Topology(cluster_of(text))
    start = startup_placement(topology, evaluate(topology, ()))
    fast = Evaluator(topology, start)
    rng = random.Random(text)
    for _ in range(30):
        failed = rng.sample(topology.components, rng.randint(0, min(4, len(topology.components))))
        want, got = evaluate_placed(topology, failed, start), fast.evaluate(failed)
        assert (got.up, got.usable, got.runs, got.degraded, got.placement, got.partitions) == \
            (want.up, want.usable, want.runs, want.degraded, want.placement, want.partitions), failed
        assert {n: got.attached[n] for n in got.up} == {n: want.attached[n] for n in want.up}
        assert got.moved == type(want).moved.func(want)
