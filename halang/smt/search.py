"""Minimal failure scenarios, enumerated level by level with incremental z3 solvers.

For a family of subjects (see `properties.py`) and each size k = 1 .. K in
turn, z3 is asked: is there a set of at most k failures that breaks the
subject and is not a superset of a scenario already found for it? Every
answer is minimal without any shrinking step: all minimal scenarios smaller
than k were found (and blocked) on earlier levels, so if a proper subset of
the answer broke the subject, it would contain one of them, and the answer
would have been blocked. This holds whether or not the property is monotone
(HA302's is not: failing a node can heal a split; nor are HA213's, HA502's and
HA406's, where the failure of the overloaded node itself ends the overload),
and the model's failure set is exactly the scenario (no don't-care component
can be in it, by the same argument). When z3 says unsat, level k is complete
for that subject.

The same argument makes any set of exactly k failures that breaks a subject
and is not a superset of a known scenario minimal, whoever proposes it: one
answer often breaks many subjects (two switches that take down a network
break every group on it), so each answer is evaluated directly
(`evaluate.Evaluator`) and recorded, and blocked, for every subject it breaks
(for which levels below k are complete, as they are when levels are run in
order for all subjects). z3 still has the last word on each subject and
level: its unsat is what says nothing was missed. Every answer is decided
by the runtime (`scenario.Scenario`): a scenario z3 proposes that the
runtime says breaks nothing is an internal error, reported as
inconclusive, never a finding.

Two ways to hold the solvers:

- `Search(..., per_subject=False)`: one solver for the family, an indicator
  literal per subject ("this subject is broken"), the query being "some
  indicator". For families whose subjects share one big term (quorum, over
  the whole connectivity encoding).
- `per_subject=True`: small solvers, each for a *shard* of `shard_size`
  neighbouring subjects (in family order, which follows the file, so their
  terms overlap), over their *cone of influence*: only the components their
  terms mention, with the level constraint "at most k of these". A minimal
  scenario only holds components the term depends on (dropping any other
  keeps it broken), so this is exact; and z3's cost per answer (model
  construction, the cardinality constraint) grows with the number of
  variables in the solver: a few hundred here against thousands
  cluster-wide. Shards of 16 measured best on the benchmark (one subject per
  solver pays z3's per-solver setup hundreds of times over; 64 slows every
  answer down).

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
from itertools import combinations
from functools import cached_property

import z3
from z3 import z3core as C

from halang.smt.build import Builder
from halang.smt.encode import Encoding
from halang.smt.scenario import Scenario as State
from halang.smt.properties import Family, Subject
from halang.smt.result import Finding, Inconclusive, Truncation
from halang.smt.topology import Topology
from runtime.core.placement import Placement


@dataclass
class _Shard:
    """A few neighbouring subjects sharing one small solver (see the module docstring)."""

    subjects: list
    solver: object = None
    support: tuple[str, ...] = ()  # the components their terms mention
    bits: object = None  # the support as one bit-vector, to read models
    levels: dict = field(default_factory=dict)  # k -> selector of "at most k of the support"
    selector: object = None  # "some subject of the shard is broken"
    ordered: bool = False  # its terms place a group event by event (see Encoding.ordered_groups)


@dataclass
class _Progress:
    found: list[frozenset[str]] = field(default_factory=list)
    known: set[frozenset[str]] = field(default_factory=set)  # `found`, to look a scenario's subsets up in
    indicator: object = None  # the subject's "broken" literal, in its family's or its shard's solver
    shard: _Shard | None = None
    active: bool = True
    exact: bool = True
    first_hidden_code: str | None = None


def _covered(progress: _Progress, failed: frozenset[str]) -> bool:
    """Some scenario already found for the subject is a subset of `failed` (it is not minimal). A scenario has at
    most K failures, so its subsets are fewer to look up than the scenarios found can be."""
    if len(progress.found) < 1 << len(failed):
        return any(known <= failed for known in progress.found)
    names = sorted(failed)
    return any(frozenset(subset) in progress.known
               for size in range(len(names) + 1) for subset in combinations(names, size))


def _raw(function):
    """The ctypes function behind a z3core wrapper, without the per-call error check (hot loops only)."""
    return function.__defaults__[0].f


_AST_ID, _AST_KIND = _raw(C.Z3_get_ast_id), _raw(C.Z3_get_ast_kind)
_NUM_ARGS, _ARG = _raw(C.Z3_get_app_num_args), _raw(C.Z3_get_app_arg)
_INC_REF = _raw(C.Z3_inc_ref)


class Supports:
    """The failure components each z3 term mentions, remembered per sub-term (terms share a lot).

    z3 reuses the id of a term it has freed, so every term remembered here
    gets a reference that keeps it (and its id) alive with the context.
    """

    def __init__(self, encoding: Encoding):
        self.ref = encoding.ctx.ref()
        self.memo: dict[int, frozenset[str]] = {
            _AST_ID(self.ref, var.as_ast()): frozenset((name,)) for name, var in encoding.f.items()}
        if encoding.ordered_groups:  # "c fails at event i" is about c too
            for step in encoding.steps:
                for name, var in step.items():
                    self.memo[_AST_ID(self.ref, var.as_ast())] = frozenset((name,))

    def of(self, term) -> tuple[str, ...]:
        if isinstance(term, bool):
            return ()
        ref, memo = self.ref, self.memo
        empty = frozenset()
        stack = [(term.as_ast(), False)]
        while stack:
            ast, expanded = stack.pop()
            key = _AST_ID(ref, ast)
            if key in memo:
                continue
            if _AST_KIND(ref, ast) != C.Z3_APP_AST:
                _INC_REF(ref, ast)
                memo[key] = empty
                continue
            args = [_ARG(ref, ast, i) for i in range(_NUM_ARGS(ref, ast))]
            if expanded:
                found = set()
                for arg in args:
                    found |= memo[_AST_ID(ref, arg)]
                _INC_REF(ref, ast)
                memo[key] = frozenset(found) if found else empty
            else:
                stack.append((ast, True))
                stack.extend((arg, False) for arg in args if _AST_ID(ref, arg) not in memo)
        return tuple(sorted(memo[_AST_ID(ref, term.as_ast())]))


class Search:
    STATE_CACHE = 4096  # evaluated scenarios kept (one answer is often checked by several families)
    def __init__(self, topology: Topology, encoding: Encoding, start: Placement, faults: int, deadline: float,
                 max_listed: int = 50, max_counted: int = 500,
                 per_subject: bool = False, shard_size: int = 16):
        self.topology = topology
        self.encoding = encoding
        self.start = start
        self.faults = faults
        self.deadline = deadline
        self.max_listed = max_listed
        self.max_counted = max(max_counted, max_listed)
        self.per_subject = per_subject
        self.findings: list[Finding] = []
        self.inconclusive: list[Inconclusive] = []
        self.progress: dict[str, _Progress] = {}
        self.stats = {"solver_calls": 0, "sat": 0, "solver_ms": 0.0, "evaluate_ms": 0.0, "encode_ms": 0.0}
        self._states: dict[tuple[frozenset[str], ...], State] = {}
        self._by_node: dict | None = None
        self._always: list[Subject] = []
        self._by_key: dict | None = None
        self.shard_size = shard_size
        self._shard_cache: dict[str, list[_Shard]] = {}
        self.solver = None  # family mode: built on first use (`_prepare_family`)
        self._selector = None
        self._prepared = False

    # Shard solvers live in a context of their own: a z3 solver's memory grows with the size of its
    # context (1.5 MB each beside a 512-node encoding, 0.15 MB here), and there are hundreds.
    @cached_property
    def small(self) -> z3.Context:
        return z3.Context()

    @cached_property
    def sb(self) -> Builder:
        return Builder(self.small)

    @cached_property
    def sf(self) -> dict[str, z3.BoolRef]:
        return {name: z3.Bool(name, self.small) for name in self.topology.components}

    @cached_property
    def supports(self) -> Supports:
        return Supports(self.encoding)

    def _new_solver(self) -> z3.Solver:
        return z3.SolverFor("QF_FD", ctx=self.small if self.per_subject else self.encoding.ctx)

    # ---------------------------------------------------------------- helpers

    def state(self, failed: frozenset[str], placement: bool, steps: tuple[frozenset[str], ...] | None = None) -> State:
        """The scenario, decided by the runtime (what it computes is kept for the other families); `steps`:
        the order of its events, when it matters (default: all at once)."""
        steps = steps if steps is not None and len(steps) > 1 else (failed,)
        state = self._states.get(steps)
        if state is None:
            if len(self._states) >= self.STATE_CACHE:
                self._states.clear()
            state = self._states[steps] = State(self.topology, steps, self.start)
        began = time.perf_counter()
        state.status  # noqa: B018 - computed here so that its time is counted
        if placement:
            state.placement  # noqa: B018
        self.stats["evaluate_ms"] += (time.perf_counter() - began) * 1000
        return state

    def _failed_in(self, model: z3.ModelRef, names, bits=None) -> frozenset[str]:
        """The failed components among `names`; `bits` (see `_bits`) reads them all with one evaluation."""
        if bits is None:
            f = self.sf if self.per_subject else self.encoding.f
            return frozenset(name for name in names if z3.is_true(model.eval(f[name], model_completion=True)))
        value = model.eval(bits, model_completion=True).as_long()
        failed = []
        while value:
            low = value & -value
            failed.append(names[low.bit_length() - 1])
            value ^= low
        return frozenset(failed)

    def _mentions_order(self, subjects) -> bool:
        """Whether the subjects' terms place a group event by event: one that can be on a node they concern."""
        ordered = self.encoding.ordered_groups
        if not ordered:
            return False
        groups = self.topology.groups
        nodes = {node for name in ordered for node in groups[name].nodes}
        return any(subject.nodes is None or subject.nodes & nodes for subject in subjects)

    def _steps_in(self, model: z3.ModelRef, failed: frozenset[str]) -> tuple[frozenset[str], ...]:
        """The order of events of an answer of an ordered shard."""
        steps = []
        for number in range(1, self.faults + 1):
            step = frozenset(name for name in failed
                             if z3.is_true(model.eval(z3.Bool(f"step{number}|{name}", self.small),
                                                      model_completion=True)))
            if step:
                steps.append(step)
        return tuple(steps)

    def _bits(self, names):
        """The failure variables of `names` as one bit-vector, bit i for names[i] (built through the C API)."""
        if not names:
            return None
        ctx, ref = self.small, self.small.ref()
        one, zero = z3.BitVecVal(1, 1, ctx), z3.BitVecVal(0, 1, ctx)
        terms = [z3.BitVecRef(C.Z3_mk_ite(ref, self.sf[name].as_ast(), one.as_ast(), zero.as_ast()), ctx)
                 for name in names]
        terms.reverse()  # Concat puts its first argument in the high bits
        while len(terms) > 1:
            terms = [z3.BitVecRef(C.Z3_mk_concat(ref, terms[i].as_ast(), terms[i + 1].as_ast()), ctx)
                     if i + 1 < len(terms) else terms[i] for i in range(0, len(terms), 2)]
        return terms[0]

    def _candidates(self, family: Family, state: State) -> list[Subject]:
        """Active subjects the scenario can concern (see Subject.nodes; a family that names them itself, by
        `Family.concerned`, is asked)."""
        if family.concerned is not None:
            return [subject for subject in (self._subjects(family).get(key) for key in family.concerned(state))
                    if subject is not None and self.progress[subject.key].active]
        if self._by_node is None:
            self._by_node = {}
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

    def _subjects(self, family: Family) -> dict[str, Subject]:
        if self._by_key is None:
            self._by_key = {subject.key: subject for subject in family.subjects}
        return self._by_key

    def _block(self, progress: _Progress, scenario: frozenset[str]) -> None:
        b, f = self.encoding.b, self.encoding.f
        if self.per_subject:
            if progress.shard is not None and progress.shard.solver is not None and progress.indicator is not None:
                sb = self.sb
                progress.shard.solver.add(sb.or_([sb.not_(progress.indicator)] + [sb.not_(self.sf[n])
                                                                                  for n in scenario]))
        elif progress.indicator is not None and self.solver is not None:
            self.solver.add(b.or_([b.not_(progress.indicator)] + [b.not_(f[n]) for n in scenario]))

    def _record(self, family: Family, subject: Subject, progress: _Progress, state: State) -> None:
        scenario = frozenset(state.failed)
        progress.found.append(scenario)
        progress.known.add(scenario)
        count = len(progress.found)
        if count <= self.max_listed:
            if state.ordered:  # worded for all at once when that shows it too; else for the order that does
                at_once = self.state(scenario, family.placement)
                state = at_once if subject.check(at_once) else state
            self.findings.extend(subject.report(state))
        elif progress.first_hidden_code is None:
            progress.first_hidden_code = family.code(len(scenario))
        self._block(progress, scenario)
        if count >= self.max_counted:
            progress.exact = False
            self._stop(progress)

    def _stop(self, progress: _Progress) -> None:
        progress.active = False
        if progress.indicator is None:
            return
        if not self.per_subject and self.solver is not None:
            self.solver.add(self.encoding.b.not_(progress.indicator))
        elif progress.shard is not None and progress.shard.solver is not None:
            progress.shard.solver.add(self.sb.not_(progress.indicator))

    def _spread(self, family: Family, state: State, k: int) -> bool:
        """Record the scenario for every subject it newly breaks; True if it broke any."""
        failed = state.failed
        recorded = False
        for subject in self._candidates(family, state):
            progress = self.progress[subject.key]
            if not progress.active or _covered(progress, failed):
                continue
            if subject.check(state):
                self._record(family, subject, progress, state)
                recorded = True
        return recorded

    def _ask(self, solver: z3.Solver, assumptions) -> z3.CheckSatResult | str:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0.001:
            return "budget"
        solver.set("timeout", max(1, int(remaining * 1000)))
        began = time.perf_counter()
        answer = solver.check(*assumptions)
        self.stats["solver_ms"] += (time.perf_counter() - began) * 1000
        self.stats["solver_calls"] += 1
        return answer

    @staticmethod
    def _unknown_reason(solver: z3.Solver, answer) -> str:
        if answer == "budget":
            return "the time budget ran out"
        reason = solver.reason_unknown()
        if reason in ("timeout", "canceled"):
            return "z3 gave no answer within the time budget"
        return f"z3 answered unknown: {reason}"

    # ---------------------------------------------------------------- the search

    def start_family(self, family: Family, empty: State) -> None:
        """Level 0: the empty scenario, decided directly."""
        for subject in family.subjects:
            progress = self.progress.setdefault(subject.key, _Progress())
            if family.min_level == 0 and subject.check(empty):
                progress.found.append(frozenset())
                progress.known.add(frozenset())
                self.findings.extend(subject.report(empty))
                progress.active = False  # every scenario is a superset of the empty one

    def run_level(self, family: Family, k: int) -> None:
        if self.per_subject:
            for shard in self._shards(family):
                self._run_shard(family, shard, k)
        else:
            self._run_family(family, k)

    def _shards(self, family: Family) -> list[_Shard]:
        if family.name not in self._shard_cache:
            active = [s for s in family.subjects if self.progress[s.key].active]
            shards = [_Shard(active[i:i + self.shard_size]) for i in range(0, len(active), self.shard_size)]
            for shard in shards:
                for subject in shard.subjects:
                    self.progress[subject.key].shard = shard
            self._shard_cache[family.name] = shards
        return self._shard_cache[family.name]

    def _prepare_shard(self, shard: _Shard) -> None:
        """One small solver for a few neighbouring subjects: their terms behind indicators, "at most k" over
        the union of their supports."""
        began = time.perf_counter()
        if self.encoding.constraints:
            raise RuntimeError("shard solvers need terms over failure variables only (no named cells)")
        b, f = self.sb, self.sf
        solver = self._new_solver()
        support: set[str] = set()
        indicators = []
        for subject in shard.subjects:
            progress = self.progress[subject.key]
            if not progress.active:
                continue
            term = subject.violation()
            if term is False:
                progress.active = False  # no scenario breaks it: decided while building the terms
                continue
            support.update(self.supports.of(term))
            progress.indicator = b.fresh("broken")
            solver.add(b.implies(progress.indicator, term.translate(self.small) if not isinstance(term, bool)
                                 else term))
            for scenario in progress.found:
                solver.add(b.or_([b.not_(progress.indicator)] + [b.not_(f[n]) for n in scenario]))
            indicators.append(progress.indicator)
        shard.support = tuple(sorted(support))
        shard.ordered = self._mentions_order(shard.subjects)
        if shard.ordered:
            for link in self.encoding.step_links(shard.support):
                if not isinstance(link, bool):
                    solver.add(link.translate(self.small))
        failures = [(f[name], 1) for name in shard.support]
        for level in range(1, self.faults + 1):
            if level < len(failures):
                selector = b.fresh(f"level{level}")
                solver.add(b.implies(selector, b.at_most(failures, level)))
                shard.levels[level] = selector
        shard.selector = b.fresh("shard")
        solver.add(b.implies(shard.selector, b.or_(indicators)))
        shard.solver = solver
        shard.bits = self._bits(shard.support)
        self.stats["encode_ms"] += (time.perf_counter() - began) * 1000

    def _run_shard(self, family: Family, shard: _Shard, k: int) -> None:
        if shard.solver is None:
            self._prepare_shard(shard)
        while True:
            active = [s for s in shard.subjects if self.progress[s.key].active]
            if not active:
                shard.solver = None
                return
            level = shard.levels.get(k)
            answer = self._ask(shard.solver, [shard.selector] + ([level] if level is not None else []))
            if answer == z3.unsat:
                if k == self.faults:
                    shard.solver = None  # done: free it
                return
            if answer != z3.sat:
                self._give_up(family, active, k, self._unknown_reason(shard.solver, answer))
                shard.solver = None
                return
            self.stats["sat"] += 1
            model = shard.solver.model()
            failed = self._failed_in(model, shard.support, shard.bits)
            state = self.state(failed, family.placement, self._steps_in(model, failed) if shard.ordered else None)
            if not self._spread(family, state, k):
                self._give_up(family, active, k, "internal error: the solver's scenario "
                              f"{sorted(failed)} breaks nothing when evaluated")
                shard.solver = None
                return

    def _run_family(self, family: Family, k: int) -> None:
        active = [s for s in family.subjects if self.progress[s.key].active]
        if not active:
            return
        if not self._prepared:
            self._prepare_family(family)
        if self._selector is None:
            return
        components = self.topology.components
        while True:
            active = [s for s in family.subjects if self.progress[s.key].active]
            if not active:
                return
            answer = self._ask(self.solver, [self._selector, self.level[k]])
            if answer == z3.unsat:
                return
            if answer != z3.sat:
                self._give_up(family, active, k, self._unknown_reason(self.solver, answer))
                return
            self.stats["sat"] += 1
            failed = self._failed_in(self.solver.model(), components)
            state = self.state(failed, family.placement)
            if not self._spread(family, state, k):
                # The encoding and the evaluator disagree: a bug, reported rather than looped on.
                self._give_up(family, active, k, "internal error: the solver's scenario "
                              f"{sorted(failed)} breaks nothing when evaluated")
                return

    def _prepare_family(self, family: Family) -> None:
        began = time.perf_counter()
        b = self.encoding.b
        self.solver = self._new_solver()
        self._asserted = 0
        failures = [(self.encoding.f[name], 1) for name in self.topology.components]
        self.level = {}
        for k in range(1, self.faults + 1):
            selector = b.fresh(f"level{k}")
            self.solver.add(b.implies(selector, b.at_most(failures, k)))
            self.level[k] = selector
        indicators = []
        for subject in family.subjects:
            progress = self.progress[subject.key]
            if not progress.active:
                continue
            term = subject.violation()
            if term is False:
                progress.active = False
                continue
            progress.indicator = b.fresh("broken")
            self.solver.add(b.implies(progress.indicator, term))
            indicators.append(progress.indicator)
        if indicators:
            self._selector = b.fresh(f"family_{family.name}")
            self.solver.add(b.implies(self._selector, b.or_(indicators)))
        constraints = self.encoding.constraints
        while self._asserted < len(constraints):
            self.solver.add(constraints[self._asserted])
            self._asserted += 1
        self._prepared = True
        self.stats["encode_ms"] += (time.perf_counter() - began) * 1000

    def spread_single(self, family: Family, state: State, k: int = 1) -> bool:
        """By enumeration: record the scenario `state` of k failures for every subject it newly breaks (levels
        below k complete); True if it broke any."""
        return self._spread(family, state, k)

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
        if active:
            self.inconclusive.append(Inconclusive(family.codes, tuple(s.label for s in active), k - 1, self.faults,
                                                  reason))

    def merge_inconclusive(self) -> list[Inconclusive]:
        """One entry per family, level and reason (subject mode gives up subject by subject)."""
        merged: dict[tuple, list[str]] = {}
        for item in self.inconclusive:
            merged.setdefault((item.codes, item.checked_up_to, item.reason), []).extend(item.subjects)
        return [Inconclusive(codes, tuple(subjects), level, self.faults, reason)
                for (codes, level, reason), subjects in merged.items()]

    def truncations(self, families: list[Family]) -> list[Truncation]:
        """One per subject whose scenarios were not all listed (per group, where a subject covers several)."""
        result = []
        for family in families:
            for subject in family.subjects:
                progress = self.progress.get(subject.key)
                if progress and len(progress.found) > self.max_listed:
                    labels = [f"group {g}" for g in subject.groups] if family.name == "hosting" else [subject.label]
                    for label in labels:
                        result.append(Truncation(progress.first_hidden_code or family.codes[-1], label,
                                                 self.max_listed, len(progress.found) - self.max_listed,
                                                 progress.exact))
        return result
