"""Minimal failure scenarios, enumerated level by level with one incremental z3 solver.

For a family of subjects (see `properties.py`) and each size k = 1 .. K in
turn, the solver is asked: is there a set of at most k failures that breaks
some subject, and is not a superset of a scenario already found for that
subject? Every answer is minimal without any shrinking step: all minimal
scenarios smaller than k were found (and blocked) on earlier levels, so if a
proper subset of the answer broke the subject, it would contain one of them,
and the answer would have been blocked. This holds whether or not the
property is monotone (HA302's is not: failing a node can heal a split), and
the model's failure set is exactly the scenario (no don't-care components can
be in it, by the same argument). When the solver says unsat, level k is
complete for every subject still searched.

One answer can break many subjects (two switches that take down a network
break every group on it): the scenario is evaluated directly
(`evaluate.py`) and recorded for every subject it breaks and for which it
is not a superset of a known scenario, which is again minimal by the same
argument. Each recorded pair adds the clause "subject s is not broken by a
superset of S" through an indicator literal per subject, so the families
share one solver and its learnt clauses.

Per subject the first `max_listed` scenarios become findings; the search
goes on counting up to `max_counted` and then stops for that subject, so the
"and N more" is exact when the count stopped on its own and a lower bound
otherwise. If z3 answers unknown, or the time budget runs out, the subjects
still being searched are reported inconclusive with the size up to which
they were complete; nothing passes silently.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import z3
from z3 import z3core

from halang.smt.encode import Encoding
from halang.smt.evaluate import State, evaluate, place
from halang.smt.properties import Family, Subject
from halang.smt.result import Finding, Inconclusive, Truncation
from halang.smt.topology import Topology


def _raw(function):
    """The bare ctypes function behind a z3core wrapper (skips the per-call error check)."""
    return function.__defaults__[0].f


@dataclass
class _Progress:
    found: list[frozenset[str]] = field(default_factory=list)
    indicator: object = None
    active: bool = True
    exact: bool = True
    first_hidden_code: str | None = None


class Search:
    def __init__(self, topology: Topology, encoding: Encoding, start: dict, faults: int, deadline: float,
                 max_listed: int = 50, max_counted: int = 500):
        self.topology = topology
        self.encoding = encoding
        self.start = start
        self.faults = faults
        self.deadline = deadline
        self.max_listed = max_listed
        self.max_counted = max(max_counted, max_listed)
        self.solver = z3.SolverFor("QF_FD", ctx=encoding.ctx)
        self.findings: list[Finding] = []
        self.inconclusive: list[Inconclusive] = []
        self.progress: dict[str, _Progress] = {}
        self.stats = {"solver_calls": 0, "sat": 0, "solver_ms": 0.0, "evaluate_ms": 0.0, "encode_ms": 0.0}
        self._asserted = 0
        self._states: dict[tuple[frozenset[str], bool], State] = {}
        self._selectors: dict[str, object] = {}
        b = encoding.b
        failures = [(encoding.f[name], 1) for name in topology.components]
        self.level = {}
        for k in range(1, faults + 1):
            selector = b.fresh(f"level{k}")
            self.solver.add(b.implies(selector, b.at_most(failures, k)))
            self.level[k] = selector
        ref = encoding.ctx.ref()
        self._decls = [(name, z3core.Z3_get_app_decl(ref, encoding.f[name].as_ast())) for name in topology.components]
        self._by_node: dict | None = None

    def _failed_in(self, model: z3.ModelRef) -> frozenset[str]:
        """The failed components of a model, through the raw C API (z3's Python eval is ~50 us a call)."""
        ref, handle = self.encoding.ctx.ref(), model.model
        interp, truth = _raw(z3core.Z3_model_get_const_interp), _raw(z3core.Z3_get_bool_value)
        failed = []
        for name, decl in self._decls:
            value = interp(ref, handle, decl)
            if value and truth(ref, value) == 1:  # Z3_L_TRUE; no value: either works, take up
                failed.append(name)
        return frozenset(failed)

    def _candidates(self, family: Family, state: State) -> list[Subject]:
        """Active subjects the scenario can concern (see Subject.nodes)."""
        if self._by_node is None:
            self._by_node = {}
            self._always = []
            for subject in family.subjects:
                if subject.nodes is None:
                    self._always.append(subject)
                else:
                    for node in subject.nodes:
                        self._by_node.setdefault(node, []).append(subject)
        touched = state.degraded | state.moved if family.placement else state.degraded
        seen, result = set(), []
        for subject in self._always + [s for node in touched for s in self._by_node.get(node, ())]:
            if subject.key not in seen and self.progress[subject.key].active:
                seen.add(subject.key)
                result.append(subject)
        return result

    # ---------------------------------------------------------------- helpers

    def state(self, failed: frozenset[str], placement: bool) -> State:
        key = (failed, placement)
        if key not in self._states:
            began = time.perf_counter()
            state = evaluate(self.topology, failed)
            if placement:
                state.placement = place(self.topology, state, self.start)
                state.start = self.start
            self._states[key] = state
            self.stats["evaluate_ms"] += (time.perf_counter() - began) * 1000
            if len(self._states) > 4096:
                self._states.clear()
        return self._states[key]

    def _flush(self) -> None:
        constraints = self.encoding.constraints
        while self._asserted < len(constraints):
            self.solver.add(constraints[self._asserted])
            self._asserted += 1

    def _record(self, family: Family, subject: Subject, progress: _Progress, state: State) -> None:
        scenario = frozenset(state.failed)
        progress.found.append(scenario)
        count = len(progress.found)
        if count <= self.max_listed:
            self.findings.extend(subject.report(state))
        elif progress.first_hidden_code is None:
            progress.first_hidden_code = family.code(len(scenario))

    def _stop(self, progress: _Progress) -> None:
        progress.active = False
        if progress.indicator is not None:
            self.solver.add(self.encoding.b.not_(progress.indicator))

    # ---------------------------------------------------------------- the search

    def start_family(self, family: Family, empty: State) -> None:
        """Level 0: the empty scenario, decided directly."""
        for subject in family.subjects:
            progress = self.progress.setdefault(subject.key, _Progress())
            if family.min_level == 0 and subject.check(empty):
                self._record(family, subject, progress, empty)
                progress.active = False  # every scenario is a superset of the empty one

    def _prepare(self, family: Family) -> object | None:
        if family.name in self._selectors:
            return self._selectors[family.name]
        began = time.perf_counter()
        b = self.encoding.b
        indicators = []
        for subject in family.subjects:
            progress = self.progress[subject.key]
            if not progress.active:
                continue
            term = subject.violation()
            if term is False:
                progress.active = False  # no scenario breaks it: decided while building the terms
                continue
            progress.indicator = b.fresh("broken")
            self.solver.add(b.implies(progress.indicator, term))
            indicators.append(progress.indicator)
        selector = None
        if indicators:
            selector = b.fresh(f"family_{family.name}")
            self.solver.add(b.implies(selector, b.or_(indicators)))
        self._flush()
        self._selectors[family.name] = selector
        self.stats["encode_ms"] += (time.perf_counter() - began) * 1000
        return selector

    def run_level(self, family: Family, k: int) -> None:
        active = [s for s in family.subjects if self.progress[s.key].active]
        if not active:
            return
        selector = self._prepare(family)
        if selector is None:
            return
        b = self.encoding.b
        while True:
            active = [s for s in family.subjects if self.progress[s.key].active]
            if not active:
                return
            remaining = self.deadline - time.monotonic()
            if remaining <= 0.001:
                self._give_up(family, active, k, "the time budget ran out")
                return
            self.solver.set("timeout", max(1, int(remaining * 1000)))
            began = time.perf_counter()
            answer = self.solver.check(selector, self.level[k])
            self.stats["solver_ms"] += (time.perf_counter() - began) * 1000
            self.stats["solver_calls"] += 1
            if answer == z3.unsat:
                return
            if answer == z3.unknown:
                reason = self.solver.reason_unknown()
                if reason in ("timeout", "canceled"):
                    reason = "z3 gave no answer within the time budget"
                else:
                    reason = f"z3 answered unknown: {reason}"
                self._give_up(family, active, k, reason)
                return
            self.stats["sat"] += 1
            model = self.solver.model()
            failed = self._failed_in(model)
            state = self.state(failed, family.placement)
            recorded = False
            for subject in self._candidates(family, state):
                progress = self.progress[subject.key]
                if not subject.check(state) or any(known <= failed for known in progress.found):
                    continue
                self._record(family, subject, progress, state)
                self.solver.add(b.or_([b.not_(progress.indicator)] + [b.not_(self.encoding.f[n]) for n in failed]))
                recorded = True
                if len(progress.found) >= self.max_counted:
                    progress.exact = False
                    self._stop(progress)
            if not recorded:
                # The encoding and the evaluator disagree: a bug, reported rather than looped on.
                self._give_up(family, active, k,
                              f"internal error: the solver's scenario {sorted(failed)} breaks nothing when evaluated")
                return

    def give_up_level(self, family: Family, k: int, reason: str) -> None:
        """Declare level k unexplored for every subject still searched (something it relies on was not settled)."""
        active = [s for s in family.subjects if self.progress[s.key].active]
        if active:
            self._give_up(family, active, k, reason)

    def _give_up(self, family: Family, active: list[Subject], k: int, reason: str) -> None:
        for subject in active:
            progress = self.progress[subject.key]
            progress.exact = False
            self._stop(progress)
        self.inconclusive.append(Inconclusive(family.codes, tuple(s.label for s in active), k - 1, self.faults,
                                              reason))

    def truncations(self, families: list[Family]) -> list[Truncation]:
        result = []
        for family in families:
            for subject in family.subjects:
                progress = self.progress.get(subject.key)
                if progress and len(progress.found) > self.max_listed:
                    result.append(Truncation(progress.first_hidden_code or family.codes[-1], subject.label,
                                             self.max_listed, len(progress.found) - self.max_listed, progress.exact))
        return result
