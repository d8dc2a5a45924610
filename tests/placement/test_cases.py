"""Placement cases in the style of Pacemaker's scheduler tests, found by listing tests/placement/cases/.

Each folder is one situation, named for it:

    cluster.ha     the cluster
    steps.txt      one step per line, applied in order, as `--fail` and
                   `--recover` give them: `fail node:alpha` or
                   `recover node:alpha`; a line with no verb fails
                   (`node:alpha`); several components at once are separated
                   by commas; blank lines and `#` comments are skipped
    start.json     optional: where to start (what `--from` reads), else startup
    expected.txt   the reviewed output, byte for byte what `halang simulate` prints

Adding a case is adding a folder. `HALANG_UPDATE_GOLDENS=1` rewrites every
expected.txt from the current output; review the diff before committing it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from halang.diagnostics import SourceText
from halang.model.spec import cluster_spec
from halang.simulate import VERBS, Action, read_start, render_json, render_text, simulate, split_components
from halang.verify import load
from runtime.core.snapshot import ClusterSpec

CASES_DIR = Path(__file__).parent / "cases"
CASES = sorted(path for path in CASES_DIR.iterdir() if path.is_dir())
UPDATE = os.environ.get("HALANG_UPDATE_GOLDENS") == "1"


def spec_of(path: Path) -> ClusterSpec:
    cluster, _, findings = load(SourceText(path.read_text(), str(path)))
    errors = [finding for finding in findings if finding.is_error]
    assert cluster is not None and not errors, "\n".join(f"{f.code} {f.message}" for f in errors)
    return cluster_spec(cluster)


def read_steps(text: str) -> list[Action]:
    """The steps of a steps.txt (see the module docstring)."""
    steps = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        verb, _, rest = line.partition(" ")
        if verb in VERBS:
            steps.append(Action(verb, split_components(rest)))
        else:
            steps.append(Action("fail", split_components(line)))
    return steps


def run_case(case: Path):
    spec = spec_of(case / "cluster.ha")
    start_file = case / "start.json"
    start = read_start(spec, json.loads(start_file.read_text())) if start_file.exists() else None
    return simulate(spec, read_steps((case / "steps.txt").read_text()), start)


def test_there_are_cases():
    assert len(CASES) >= 15


@pytest.mark.parametrize("case", CASES, ids=lambda path: path.name)
def test_case(case: Path):
    for name in ("cluster.ha", "steps.txt"):
        assert (case / name).is_file(), f"{case.name} has no {name}"
    result = run_case(case)
    actual = render_text(result)
    expected_file = case / "expected.txt"
    if UPDATE:
        expected_file.write_text(actual)
        return
    assert expected_file.is_file(), f"{case.name}: no expected.txt; write it with HALANG_UPDATE_GOLDENS=1 and review it"
    assert actual == expected_file.read_text()


@pytest.mark.parametrize("case", CASES, ids=lambda path: path.name)
def test_case_json_agrees_with_text(case: Path):
    result = run_case(case)
    data = json.loads(json.dumps(render_json(result)))
    assert len(data["steps"]) == len(result.steps)
    for state, step in zip(result.steps, data["steps"]):
        assert step["placement"]["groups"] == {name: list(nodes) for name, nodes in state.placement.groups}
        assert [event["kind"] for event in step["events"]] == [event.kind for event in state.events]
        assert [(move["group"], move["delay_ms"]) for move in step["pending"]] == \
            [(move.group, move.delay_ms) for move in state.pending]
        assert [(later["delay_ms"], [event["kind"] for event in later["events"]]) for later in step["after_delay"]] == \
            [(delay, [event.kind for event in happened]) for delay, happened in state.delayed]
