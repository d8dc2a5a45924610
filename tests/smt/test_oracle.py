"""The analysis against brute force: every failure set up to K, evaluated directly (tests/smt/oracle.py).

Each case compares the exact set of (code, subject, scenario) the analysis
reports with the minimal scenarios the oracle finds, for the examples and
the clusters in tests/smt/clusters/, at K = 1, 2 and 3, with the solver and
(K = 1) with direct enumeration, and with both connectivity encodings.
"""

from __future__ import annotations

import pytest

from halang.smt import analyse
from tests.smt.helpers import CLUSTERS, EXAMPLES, cluster_file
from tests.smt.oracle import minimal_findings, reported

FILES = sorted(EXAMPLES.glob("*.ha")) + sorted(CLUSTERS.glob("*.ha"))
SLOW = {("ring_of_serial_links.ha", 2), ("ring_of_serial_links.ha", 3)}
UNLIMITED = {"max_listed": 10**6, "max_counted": 10**6}


def cases():
    for path in FILES:
        for faults in (1, 2, 3):
            marks = [pytest.mark.slow] if (path.name, faults) in SLOW else []
            yield pytest.param(path, faults, id=f"{path.stem}-K{faults}", marks=marks)


@pytest.mark.parametrize("path, faults", list(cases()))
def test_solver_finds_exactly_the_minimal_scenarios(path, faults):
    cluster = cluster_file(path)
    result = analyse(cluster, faults, method="solver", **UNLIMITED)
    assert not result.inconclusive, [item.message for item in result.inconclusive]
    assert reported(result) == minimal_findings(cluster, faults)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_enumeration_at_one_failure_matches(path):
    cluster = cluster_file(path)
    result = analyse(cluster, 1, method="enumerate", **UNLIMITED)
    assert reported(result) == minimal_findings(cluster, 1)
    assert reported(analyse(cluster, 1, **UNLIMITED)) == reported(result)  # auto enumerates at K = 1


@pytest.mark.parametrize("path", [p for p in FILES if p.name != "ring_of_serial_links.ha"], ids=lambda p: p.stem)
def test_certificate_connectivity_matches(path):
    cluster = cluster_file(path)
    result = analyse(cluster, 2, method="solver", connectivity="certificate", **UNLIMITED)
    assert not result.inconclusive
    assert reported(result) == minimal_findings(cluster, 2)
