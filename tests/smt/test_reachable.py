"""`--reachable` against brute force: placements reached through failures that have since recovered.

The oracle walks histories of single failures and their repair with the runtime's own `transition`
(fail one component, let every waiting fallback run or not, recover it), to a fixpoint, and for every
placement reached computes the minimal scenarios from there by brute force (tests/smt/oracle.py). At
K = 1 no other history can reach another placement: one component is down at a time, and it comes back
alone. The analysis must report exactly the findings from the startup placement and from each reached
one, each reached one named with its history.
"""

from __future__ import annotations

import pytest

from halang.model.spec import cluster_spec
from halang.smt import analyse
from runtime.core.failures import all_components
from runtime.core.placement import apply_moves, fallback_moves, startup_placement, transition
from tests.smt.helpers import CLUSTERS, EXAMPLES, cluster_file, cluster_of
from tests.smt.oracle import minimal_findings, reported

FILES = sorted(EXAMPLES.glob("*.ha")) + sorted(p for p in CLUSTERS.glob("*.ha") if p.name != "ring_of_serial_links.ha")
UNLIMITED = {"max_listed": 10**6, "max_counted": 10**6}
PLACEMENT_CODES = {"HA213", "HA309", "HA406", "HA502"}


def reachable_placements(spec) -> list:
    start = startup_placement(spec)
    seen = {start.groups: start}
    todo = [start]
    while todo:
        placement = todo.pop()
        for component in all_components(spec):
            down = transition(spec, placement, (), (component,))
            variants = [down.placement]
            if down.pending:  # the delay may run out while the component is down, or not
                variants.append(apply_moves(spec, down.placement, fallback_moves(spec, down.placement, (component,))
                                            , (component,)))
            for during in variants:
                back = transition(spec, during, (component,), ())
                for after in [back.placement] + ([apply_moves(spec, back.placement,
                                                              fallback_moves(spec, back.placement, ()), ())]
                                                 if back.pending else []):
                    if after.groups not in seen:
                        seen[after.groups] = after
                        todo.append(after)
    return list(seen.values())


def expected(cluster) -> set[tuple]:
    spec = cluster_spec(cluster)
    found = set(minimal_findings(cluster, 1))
    for placement in reachable_placements(spec):
        found |= {item for item in minimal_findings(cluster, 1, start=placement) if item[0] in PLACEMENT_CODES}
    return found


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_reachable_analysis_finds_what_brute_force_finds(path):
    cluster = cluster_file(path)
    result = analyse(cluster, 1, reachable=True, **UNLIMITED)
    assert result.complete, result.notes()
    assert reported(result) == expected(cluster)
    for finding in result.findings:
        if finding.history is not None:
            assert finding.message.startswith(finding.history + ": ")


def test_the_two_node_history_case():
    """After alpha fails and rejoins, its group stays on bravo; one of bravo's adapters then fails."""
    cluster = cluster_file(EXAMPLES / "two_node_replace.ha")
    assert not [f for f in analyse(cluster, 1).findings if f.code == "HA213"]
    found = [f for f in analyse(cluster, 1, reachable=True).findings
             if f.code == "HA213" and f.scenario == ("adapter:bravo/en1",)]
    assert len(found) == 1
    assert found[0].history == "after node:alpha fails, then node:alpha recovers, ledger runs on bravo instead of alpha"
    spec = cluster_spec(cluster)
    start = startup_placement(spec)
    after = transition(spec, transition(spec, start, (), ("node:alpha",)).placement, ("node:alpha",), ()).placement
    assert after.nodes("ledger") == after.nodes("gateway") == ("bravo",)


def test_a_budget_too_small_for_the_walk_is_inconclusive():
    cluster = cluster_of((EXAMPLES / "two_node_replace.ha").read_text())
    result = analyse(cluster, 1, budget_ms=0, reachable=True)
    assert not result.complete
