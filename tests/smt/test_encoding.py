"""The z3 terms against the runtime, term for term, one fixed failure set at a time.

For a failure set of at most K components, asserting exactly those
failures must leave the encoding's quorum (`runs`), hosting, split and
placement terms with the values the runtime's own functions compute
(`assess`, `can_host`, `place`). The quorum terms are exact only within K
failures (see encode.py), so sets stay within K.
"""

from __future__ import annotations

import random

import pytest
import z3

from halang.smt.encode import Encoding
from halang.smt.topology import Topology
from runtime.core.placement import place, startup_placement
from runtime.core.topology import assess, can_host
from tests.smt.helpers import CLUSTERS, EXAMPLES, cluster_file

FILES = sorted(EXAMPLES.glob("*.ha")) + sorted(CLUSTERS.glob("*.ha"))


def _value(model, term) -> bool:
    return term if isinstance(term, bool) else z3.is_true(model.eval(term, model_completion=True))


def _cases():
    for path in FILES:
        for connectivity in ("closure", "certificate"):
            # 26 buses, one node class each: the closure is slow there (which is why it is not the default)
            slow = path.name == "ring_of_serial_links.ha" and connectivity == "closure"
            yield pytest.param(path, connectivity, id=f"{path.stem}-{connectivity}",
                               marks=[pytest.mark.slow] if slow else [])


@pytest.mark.parametrize("path, connectivity", list(_cases()))
def test_connectivity_terms_agree_with_evaluation(path, connectivity):
    topology = Topology(cluster_file(path))
    start = startup_placement(topology.spec).as_dict()
    faults = 2
    encoding = Encoding(topology, start, connectivity=connectivity, faults=faults)
    runs = encoding.runs
    split = encoding.split if topology.quorum == "none" else None
    solver = z3.SolverFor("QF_FD", ctx=encoding.ctx)
    for constraint in encoding.constraints:
        solver.add(constraint)
    rng = random.Random(path.name)
    for _ in range(25):
        failed = set(rng.sample(topology.components, rng.randint(0, faults)))
        state = assess(topology.spec, failed)
        solver.push()
        for name, var in encoding.f.items():
            solver.add(var if name in failed else z3.Not(var))
        for node in topology.node_names:  # the certificate terms are existential: ask for the wrong answer
            solver.push()
            solver.add(z3.Not(runs[node]) if node in state.runnable_nodes else runs[node])
            assert solver.check() == z3.unsat, (sorted(failed), node)
            solver.pop()
        if split is not None and len(state.runnable) < 2:
            solver.push()
            solver.add(split)
            assert solver.check() == z3.unsat, sorted(failed)
            solver.pop()
        if split is not None and len(state.runnable) > 1:
            solver.push()
            solver.add(split)
            assert solver.check() == z3.sat, sorted(failed)
            solver.pop()
        solver.pop()


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_placement_terms_agree_with_evaluation(path):
    """Hosting and placement terms are z3's for the failures the carrier shows; a failure that keeps the carrier up
    is judged by the runtime alone (halang/smt/analysis.py, `_enumerate_inferred`)."""
    topology = Topology(cluster_file(path))
    spec = topology.spec
    start = startup_placement(spec)
    faults = 3
    encoding = Encoding(topology, start.as_dict(), faults=faults)
    on = encoding.on
    solver = z3.SolverFor("QF_FD", ctx=encoding.ctx)
    for constraint in encoding.constraints:
        solver.add(constraint)
    rng = random.Random(path.name)
    shown = [name for name in topology.components if name not in topology.inferred]
    for _ in range(25):
        failed = set(rng.sample(shown, rng.randint(0, faults)))
        status = assess(spec, failed)
        placement = place(spec, status, start)
        solver.push()
        for name, var in encoding.f.items():
            solver.add(var if name in failed else z3.Not(var))
        assert solver.check() == z3.sat
        model = solver.model()
        for group in topology.groups.values():
            placed = {node for node in topology.node_names if _value(model, on.get((group.name, node), False))}
            assert placed == set(placement.nodes(group.name)), (sorted(failed), group.name)
            for node in group.nodes:
                assert _value(model, encoding.host(group, node)) == can_host(spec, status, group.name, node)
        solver.pop()
