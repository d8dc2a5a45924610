"""A brute-force oracle for the failure analysis, built on the runtime alone.

Every failure set of up to K components is applied with the runtime's own
functions, in every order in which the nodes could detect its failures
(every ordered partition of the set into events: for two failures, both at
once, one then the other, the other then the one), each event with
`runtime.core.placement.transition` from the startup placement. A subject's
problem shows in a scenario when it shows after some order; the findings are
the scenarios no proper subset of which shows the same problem for the same
subject. Independent of the solver and of `halang.smt`: only usable on small
clusters (C(components, K) x orders). `BruteForce` keeps every order's
outcome, for tests that want to know where the order mattered.
"""

from __future__ import annotations

from itertools import combinations

from halang.model.spec import cluster_spec
from runtime.core.failures import all_components
from runtime.core.placement import address_overloads, dependency_violations, overloaded_nodes, startup_placement, transition
from runtime.core.topology import assess, hosts


def orders(failed: tuple[str, ...]) -> list[tuple[tuple[str, ...], ...]]:
    """Every ordered partition of the failures into events (each event: components failing at once)."""
    if not failed:
        return [()]
    first, rest = failed[0], failed[1:]
    found = []
    for tail in orders(rest):
        for position in range(len(tail)):  # `first` joins an event of the tail
            found.append(tail[:position] + (tail[position] + (first,),) + tail[position + 1:])
        for position in range(len(tail) + 1):  # or is an event of its own
            found.append(tail[:position] + ((first,),) + tail[position:])
    return found


def placements(spec, start, failed: tuple[str, ...]):
    """The final placement after each order of the failures."""
    return [final for final, _ in _histories(spec, start, failed)]


def _histories(spec, start, failed: tuple[str, ...]):
    """(the final placement, the placement before the last event) after each order of the failures."""
    results = []
    for events in orders(failed):
        current, before, previous = start, (), start
        for event in events:
            after = tuple(before) + event
            previous = current
            current = transition(spec, current, before, after).placement
            before = after
        results.append((current, previous))
    return results


def problems(spec, status, placement, hostable: set[str], previous=None) -> set[tuple]:
    """(code family, subject...) for every problem of one placement under one failure set; `previous`: where the
    groups ran before the last event (their holders keep them on an adapter in doubt)."""
    found = set()
    previous = placement if previous is None else previous
    for group in spec.groups:
        if group.name in hostable and not hosts(spec, status, group, previous.nodes(group.name)):
            found.add(("hosting", group.name))
        for node in placement.nodes(group.name):
            for network in spec.group_networks[group.name]:
                for label, ifname in placement.held(node, network):
                    adapter = spec.adapter_by_key.get((node, ifname or ""))
                    if label in group.service_ips and adapter is not None \
                            and not (status.down.sends(adapter) and status.down.receives(adapter)):
                        found.add(("HA309", group.name))
    if spec.heartbeat.quorum == "none" and len(status.runnable) > 1:
        found.add(("HA302",))
    for node, network in address_overloads(spec, placement, status):
        found.add(("HA213", node, network))
    for node in overloaded_nodes(spec, placement):
        found.add(("HA502", node))
    for violation in dependency_violations(spec, placement):
        if violation.other != violation.group:
            found.add(("HA406", violation.group, violation.kind, violation.other))
    return found


def minimal_findings(cluster, faults: int, start=None) -> set[tuple]:
    """{(code, subject, scenario)} as the analysis must report them (HA604 aside), from the startup placement
    or from `start`, a placement with nothing failed."""
    return BruteForce(cluster, faults, start).findings()


class BruteForce:
    """Every failure set of up to `faults` components, in every order, from the startup placement or `start`.

    `outcomes[failed]` holds, for each order of the failures (`orders`), the events, the final placement and
    its problems (`problems`); `findings(k)` are the minimal ones of at most k failures.
    """

    def __init__(self, cluster, faults: int, start=None):
        spec = self.spec = cluster_spec(cluster)
        self.faults = faults
        self.from_startup = start is None
        startup = startup_placement(spec)
        start = startup if self.from_startup else start
        self.overloaded_at_startup = set(overloaded_nodes(spec, startup))  # HA501, never HA502
        empty = assess(spec, ())
        hostable = {group.name for group in spec.groups if hosts(spec, empty, group)}
        self.outcomes: dict[frozenset, list[tuple]] = {}
        for size in range(0, faults + 1):
            for failed in combinations(all_components(spec), size):
                status = assess(spec, failed)
                self.outcomes[frozenset(failed)] = [
                    (events, placement, problems(spec, status, placement, hostable, previous))
                    for events, (placement, previous) in zip(orders(failed), _histories(spec, start, failed))]

    def problems(self, failed: frozenset) -> set[tuple]:
        """The problems a failure set shows after some order of its failures."""
        return set().union(*(found for _, _, found in self.outcomes[failed]))

    def order_effects(self) -> tuple[set[frozenset], set[tuple]]:
        """The failure sets whose orders put some group on different nodes, and the findings that the failures
        all at once do not show (only some order of their events does)."""
        moved = {failed for failed, outcomes in self.outcomes.items()
                 if len({placement.groups for _, placement, _ in outcomes}) > 1}
        ordered = set()
        for finding in self.findings():
            code, subject, scenario = finding
            at_once = next(found for events, _, found in self.outcomes[frozenset(scenario)] if len(events) <= 1)
            if ("hosting" if code in ("HA301", "HA306") else code, *subject) not in at_once:
                ordered.add(finding)
        return moved, ordered

    def findings(self, faults: int | None = None) -> set[tuple]:
        """The minimal findings of at most `faults` (default: all the brute force ran) failures."""
        faults = self.faults if faults is None else faults
        results = {failed: self.problems(failed) for failed in self.outcomes if len(failed) <= faults}
        at_start = results[frozenset()]
        out = set()
        for scenario, found in results.items():
            for problem in found:
                kind = problem[0]
                if kind == "hosting" and (problem in at_start or not scenario):
                    continue  # HA304/HA305
                if kind == "HA502" and (problem[1] in self.overloaded_at_startup or
                                        (self.from_startup and not scenario)):
                    continue  # HA501
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
        if f.code in ("HA301", "HA306", "HA309"):
            subject = (f.group,)
        elif f.code == "HA302":
            subject = ()
        elif f.code == "HA213":
            subject = (f.node, f.network)
        elif f.code == "HA502":
            subject = (f.node,)
        else:
            relation = next(r for r in ("same_node_as", "different_node_from", "after") if f"({r})" in f.message)
            subject = (f.group, relation, _other(f))
        out.add((f.code, subject, f.scenario))
    return out


def _other(finding) -> str:
    return finding.related[0].message.removeprefix("group ")
