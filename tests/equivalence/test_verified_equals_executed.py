"""What `halang verify` proves is what the runtime's functions decide: the solver against brute force.

For a cluster and K, the analysis (`halang.smt.analyse` with
`method="solver"`, so z3 answers at K = 1 as well as K = 2, every scenario
listed) must report exactly the set of (code, subject, scenario) that the
oracle (`tests/smt/oracle.py`) finds with the runtime alone: every failure
set of up to K components applied with `runtime.core.placement.transition`, in
every order in which its failures can be detected, and of the problems
shown the minimal scenarios, for HA213, HA301, HA302, HA306, HA406 and
HA502. At K = 1 direct enumeration (`method="enumerate"`, what `verify`
runs by default) must agree too, and the analysis must be complete (an
inconclusive one fails). A difference is a bug in the encoding, the search
or the runtime; HA604 (no solver, no runtime) is left out.

Two sources of clusters:
- hypothesis draws (`generate.clusters`: every construct placement and the
  findings read), in two shards that xdist runs side by side. Each shard
  then checks that its own draws, the explicit examples aside, reached
  every construct and every outcome of `REQUIRED` (each code, a group moved
  by the order of events, a finding that only some order shows, an even
  split the tie-breaker decides): a generator that drifted away from them
  would prove nothing, and fails instead. `--hypothesis-show-statistics`
  shows the share of draws reaching each (`event`).
- `cases/*.ha`: the clusters the comparison caught or that came close,
  replayed at K = 1, 2 and 3. A file with a line `# xfail: why` is a known
  disagreement, expected to fail (strictly) until it is fixed.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import assume, event, example, given, settings

from halang.diagnostics import SourceText
from halang.smt import analyse
from halang.verify import verify_source
from runtime.core.failures import all_components
from runtime.core.topology import assess
from tests.equivalence.generate import clusters
from tests.smt.oracle import BruteForce, reported

CASES = Path(__file__).parent / "cases"
UNLIMITED = {"max_listed": 10**6, "max_counted": 10**6}
CODES = ("HA213", "HA301", "HA302", "HA306", "HA406", "HA502")


def built(text: str):
    """The resolved model of a text with no static error, else None (the analysis would not run)."""
    report = verify_source(SourceText(text, "drawn.ha"), faults=0)
    return report.cluster if report.cluster is not None and not report.errors else None


def compare(cluster, faults: tuple[int, ...]) -> BruteForce:
    """Assert the analysis equals the brute force at each K of `faults`; the brute force, for statistics."""
    brute = BruteForce(cluster, max(faults))
    for k in faults:
        result = analyse(cluster, k, method="solver", **UNLIMITED)
        assert not result.inconclusive, result.notes()
        assert result.stats["method"] == "solver"
        _same(reported(result), brute.findings(k), f"K = {k}, solver")
    if 1 in faults:
        _same(reported(analyse(cluster, 1, method="enumerate", **UNLIMITED)), brute.findings(1), "K = 1, enumeration")
    return brute


def _same(got: set, expected: set, how: str) -> None:
    def by_code(items):
        found: dict = {}
        for code, *rest in sorted(items):
            found.setdefault(code, []).append(tuple(rest))
        return found
    extra, missing = by_code(got - expected), by_code(expected - got)
    assert not extra and not missing, (f"{how}: reported but not in the brute force {extra}; "
                                       f"in the brute force but not reported {missing}")


# ------------------------------------------------------------------ what the draws reach


def constructs(cluster, text: str) -> set[str]:
    """The constructs of the language a cluster uses, as the model resolved them."""
    found = {f"{len(cluster.nodes)} nodes", f"quorum {cluster.heartbeat.quorum}"}
    if not re.search(r"\bquorum\s*=", text):
        found.add("quorum by default")
    if cluster.heartbeat.tie_breaker:
        found.add("tie_breaker")
    capacities = [node.capacity for node in cluster.nodes]
    found |= {f"capacity {what}" for capacity in capacities if capacity
              for what in ("cpu", "memory") if getattr(capacity, what) is not None}
    if any(capacities) and not all(capacities):
        found.add("node without capacity beside one with")
    if any(node.domains for node in cluster.nodes):
        found.add("domains")
    for network in cluster.networks:
        found.add(f"ipat {network.ipat}")
        for adapter in network.adapters:
            found.add(f"{adapter.role} adapter")
            found.add("implicit switch" if adapter.switch == network.name else "named switch")
    switches = [{adapter.switch for adapter in network.adapters} for network in cluster.networks]
    if len(switches) == 2 and switches[0] & switches[1]:
        found.add("switch in two networks")
    found |= {f"link {link.type}" for link in cluster.links}
    for group in cluster.groups:
        found.add(f"startup {group.startup}")
        if not group.concurrent:
            found.add(f"fallover {group.fallover}")
            found.add(f"fallback {group.fallback}")
        if group.fallback_delay_ms:
            found.add("fallback_delay")
        found |= {f"requires {what}" for what in ("cpu", "memory") if getattr(group.requires, what)}
        if group.service_ips:
            found.add("service address")
        found |= {relation for relation in ("after", "same_node_as", "different_node_from")
                  if getattr(group, relation)}
    return found


def outcomes(brute: BruteForce) -> set[str]:
    """What the runtime did on the draw: the codes found, where the order of events mattered, even splits
    the tie-breaker decided."""
    found = {f"finding {code}" for code, _, _ in brute.findings()}
    moved, ordered = brute.order_effects()
    if moved:
        found.add("order of events moves a group")
    if ordered:
        found.add("finding only an order of events shows")
    spec = brute.spec
    for component in all_components(spec):
        status = assess(spec, (component,))
        holder = status.tie_breaker
        if holder and 2 * len(holder) == len(spec.node_names) and holder in status.runnable:
            found.add("tie-breaker decides an even split")
            break
    return found


REQUIRED = {
    "2 nodes", "3 nodes", "4 nodes", "quorum majority", "quorum none", "quorum by default", "tie_breaker",
    "capacity cpu", "capacity memory", "node without capacity beside one with", "domains",
    "ipat alias", "ipat replace", "boot adapter", "standby adapter", "implicit switch", "named switch",
    "switch in two networks", "link rs232", "link tmscsi", "link tmssa", "link disk",
    "startup home_node", "startup first_available", "startup all_available",
    "fallover next_priority", "fallover least_loaded", "fallover bring_offline",
    "fallback never", "fallback higher_priority", "fallback_delay", "requires cpu", "requires memory",
    "service address", "after", "same_node_as", "different_node_from",
    *(f"finding {code}" for code in CODES),
    "order of events moves a group", "finding only an order of events shows", "tie-breaker decides an even split",
}

CASE_FILES = sorted(CASES.glob("*.ha"))
EXAMPLES = {path.stem: path.read_text() for path in CASE_FILES}
SEEN: Counter = Counter()  # what the drawn clusters (not the explicit examples) reached, in this run of a shard


def reaching_every_construct(test):
    """Run the property, then fail if its draws missed something of `REQUIRED`. The wrapper keeps the
    hypothesis attributes (functools.wraps copies __dict__), so pytest's hypothesis plugin still runs it
    as a property: per-shard database keys and statistics."""
    @functools.wraps(test)
    def run(*args, **kwargs):
        SEEN.clear()
        test(*args, **kwargs)
        missing = sorted(REQUIRED - set(SEEN))
        assert not missing, f"the draws never reached: {', '.join(missing)}"
    return run


SHARDS = 2  # independent runs of the property, for xdist to run side by side
DRAWS = 250  # per shard


@pytest.mark.parametrize("shard", range(SHARDS))
@reaching_every_construct
@settings(max_examples=DRAWS, deadline=None)
@given(text=clusters())
@example(text=EXAMPLES["least_loaded_order_of_two_failures"])
@example(text=EXAMPLES["same_node_as_a_group_brought_offline"])
@example(text=EXAMPLES["tie_breaker_even_split"])
def test_drawn_clusters_agree(shard, text):
    cluster = built(text)
    assume(cluster is not None)
    reached = constructs(cluster, text) | outcomes(compare(cluster, (1, 2)))
    for item in sorted(reached):
        event(item)  # --hypothesis-show-statistics: the share of draws reaching each
    if text not in EXAMPLES.values():
        SEEN.update(reached)


# ------------------------------------------------------------------ the case directory


def _cases():
    for path in CASE_FILES:
        known = re.search(r"^# xfail: (.+)$", path.read_text(), re.M)
        marks = [pytest.mark.xfail(strict=True, reason=known.group(1))] if known else []
        for faults in (1, 2, 3):
            yield pytest.param(path, faults, id=f"{path.stem}-K{faults}", marks=marks)


@pytest.mark.parametrize("path, faults", list(_cases()))
def test_case_agrees(path, faults):
    cluster = built(path.read_text())
    assert cluster is not None, f"{path.name} has a static error"
    compare(cluster, (faults,))
