"""What the search promises beyond exact answers: never a silent pass, honest counts, minimality."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from halang.smt import analyse
from tests.smt.helpers import CLUSTERS, EXAMPLES, ROOT, cluster_file


def test_no_budget_is_inconclusive_not_clean():
    cluster = cluster_file(EXAMPLES / "two_node_replace.ha")
    result = analyse(cluster, 2, budget_ms=0, method="solver")
    assert not result.complete
    assert result.inconclusive
    item = result.inconclusive[0]
    assert item.checked_up_to == 0 and item.faults == 2
    assert "time budget" in item.reason
    assert any("inconclusive" in note for note in result.notes())


def test_no_budget_at_one_failure_by_enumeration_is_inconclusive_too():
    cluster = cluster_file(EXAMPLES / "two_node_replace.ha")
    result = analyse(cluster, 1, budget_ms=0)
    assert result.inconclusive and "single failures" in result.inconclusive[0].reason


def test_listing_cap_counts_the_rest():
    cluster = cluster_file(EXAMPLES / "three_node_quorum.ha")
    full = analyse(cluster, 2, method="solver")
    capped = analyse(cluster, 2, method="solver", max_listed=3, max_counted=1000)
    erp_db = [f for f in full.findings if f.group == "erp_db" and f.code == "HA306"]
    assert len([f for f in capped.findings if f.group == "erp_db"]) == 3
    [cut] = [t for t in capped.truncated if t.subject == "group erp_db"]
    assert (cut.shown, cut.more, cut.exact) == (3, len(erp_db) - 3, True)
    assert cut.message == f"HA306 for group erp_db: 3 scenarios listed, and {len(erp_db) - 3} more"


def test_counting_cap_gives_a_lower_bound():
    cluster = cluster_file(EXAMPLES / "three_node_quorum.ha")
    capped = analyse(cluster, 2, method="solver", max_listed=2, max_counted=4)
    [cut] = [t for t in capped.truncated if t.subject == "group erp_db"]
    assert (cut.shown, cut.more, cut.exact) == (2, 2, False)
    assert "at least 2 more" in cut.message


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.ha")) + sorted(CLUSTERS.glob("[!r]*.ha")),
                         ids=lambda p: p.stem)
def test_every_scenario_is_minimal_and_reported_once(path):
    result = analyse(cluster_file(path), 3, method="solver")
    seen: dict[tuple, list[frozenset]] = {}
    for finding in result.findings:
        if finding.code == "HA604":
            continue
        code = "hosting" if finding.code in ("HA301", "HA306") else finding.code
        key = (code, finding.group, finding.node, finding.network, finding.message.split(", ", 1)[-1]
               if code == "HA406" else None)
        seen.setdefault(key, []).append(frozenset(finding.scenario))
        assert finding.scenario == tuple(sorted(finding.scenario))
        assert (finding.code == "HA301") == (len(finding.scenario) == 1) or finding.code not in ("HA301", "HA306")
    for key, found in seen.items():
        assert len(found) == len(set(found)), key
        assert not [a for a in found for b in found if b < a], key


def test_component_names_are_written_as_in_the_language():
    result = analyse(cluster_file(EXAMPLES / "capacity_dependencies.ha"), 3, method="solver")
    pattern = re.compile(r"(node|domain|switch|link|hung):[A-Za-z_][\w-]*|(adapter|port|deaf|mute):[\w-]+/[\w.:-]+"
                         r"|linkend:[\w-]+/[\w-]+")
    names = {name for finding in result.findings for name in finding.scenario}
    assert names and all(pattern.fullmatch(name) for name in names)
    assert {"linkend:b1/hb_disk", "domain:rack_a", "link:hb_disk"} <= names


def test_only_the_smt_package_imports_z3():
    offenders = []
    for path in list((ROOT / "halang").rglob("*.py")) + list((ROOT / "runtime").rglob("*.py")):
        if Path("halang", "smt") in path.relative_to(ROOT).parents:
            continue
        if re.search(r"^\s*(import z3|from z3\b)", path.read_text(), re.MULTILINE):
            offenders.append(str(path.relative_to(ROOT)))
    assert not offenders


def test_results_do_not_depend_on_the_state_cache(monkeypatch):
    from halang.smt.search import Search

    cluster = cluster_file(EXAMPLES / "three_node_quorum.ha")
    want = analyse(cluster, 2, method="solver").findings
    monkeypatch.setattr(Search, "STATE_CACHE", 1)
    assert analyse(cluster, 2, method="solver").findings == want
