"""`crm_simulate` on the exported CIB places every group where `halang simulate` does, within the shared subset.

Startup, every node failing and coming back, pairs failing one after the other
and at once (tests/export/compare.py): on every example, with every sequence,
and on 50 seeded random clusters, with three of their ordered pairs each
(seeds 50 to 249 were replayed by hand too, with HALANG_EXPORT_SEEDS_FROM).
Each difference that remains has a rule (compare.RULES); a case in
tests/export/differences/ shows each one really differs, and
docs/pacemaker.md explains it.
"""

import os
import re
from pathlib import Path

import pytest

from halang.diagnostics import SourceText
from halang.verify import verify_source
from tests.export.compare import RULES, compare, replay, static_exclusions
from tests.export.crm import needs_pacemaker
from tests.export.random_clusters import random_cluster

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.ha"))
DIFFERENCES = sorted((Path(__file__).parent / "differences").glob("*.ha"))
RANDOM_CLUSTERS = 50
# Seeds 0 to 49 by default; HALANG_EXPORT_SEEDS_FROM=N replays the 50 from N on (a longer hunt, by hand).
FIRST_SEED = int(os.environ.get("HALANG_EXPORT_SEEDS_FROM", "0"))


def cluster_of(text: str, name: str):
    source = SourceText(text, name)
    report = verify_source(source, faults=0)
    assert not report.errors, [f.message for f in report.errors]
    return report.cluster, source


@needs_pacemaker
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_is_placed_alike(path, tmp_path):
    cluster, source = cluster_of(path.read_text(), str(path))
    result = compare(cluster, source, tmp_path)
    # capacity_dependencies.ha: every group has a dependency, so only its startup is simulated
    assert result.compared or set(static_exclusions(cluster)) == {group.name for group in cluster.groups}
    assert not result.differences, "\n".join(result.differences)


@needs_pacemaker
@pytest.mark.parametrize("seed", range(FIRST_SEED, FIRST_SEED + RANDOM_CLUSTERS))
def test_random_clusters_are_placed_alike(seed, tmp_path):
    text = random_cluster(seed)
    cluster, source = cluster_of(text, f"random-{seed}.ha")
    result = compare(cluster, source, tmp_path, ordered_pairs=3, seed=seed)
    assert not result.differences, text + "\n".join(result.differences)


def header(text: str, key: str) -> str:
    return re.search(rf"^# {key}:(.*)$", text, flags=re.MULTILINE).group(1).strip()


def steps_of(text: str):
    written = header(text, "steps")
    return [(step.split()[0], tuple(step.split()[1].split("+"))) for step in written.split(",") if step.strip()]


def nodes_of(text: str, key: str) -> tuple[str, ...]:
    value = header(text, key)
    return () if value == "-" else tuple(sorted(node.strip() for node in value.split(",")))


@needs_pacemaker
@pytest.mark.parametrize("path", DIFFERENCES, ids=lambda p: p.stem)
def test_each_rule_stands_for_a_real_difference(path, tmp_path):
    text = path.read_text()
    cluster, source = cluster_of(text, str(path))
    group, rule = header(text, "group"), header(text, "rule")
    (tmp_path / "replay").mkdir()
    halang, pacemaker = replay(cluster, source, tmp_path / "replay", steps_of(text))
    assert (halang[group], pacemaker[group]) == (nodes_of(text, "halang"), nodes_of(text, "pacemaker"))
    (tmp_path / "all").mkdir()
    result = compare(cluster, source, tmp_path / "all")
    assert result.excluded[rule] > 0 and not result.differences, result


def test_every_rule_has_a_case():
    assert {header(path.read_text(), "rule") for path in DIFFERENCES} == set(RULES)
