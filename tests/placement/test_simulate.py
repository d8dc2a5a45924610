"""halang.simulate beyond the golden cases: refusals, and a step's placement fed back as a start."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from halang.simulate import SimulationError, render_json, render_text, simulate
from tests.placement.test_cases import snapshot

CASES_DIR = Path(__file__).parent / "cases"
TWO_NODE = snapshot(CASES_DIR / "two_node_mutual_takeover_node_down" / "cluster.ha")

# given steps (and a start placement), then simulate refuses saying this
REFUSALS = [
    ("unknown node", ["node:charlie"], None, "step 1: 'node:charlie': no node named 'charlie'"),
    ("failed twice", ["node:alpha", "node:alpha"], None, "step 2: node:alpha has already failed (step 1)"),
    ("named twice in one step", ["adapter:alpha/en0, adapter:alpha/en0"], None,
     "step 1: adapter:alpha/en0 is named twice"),
    ("empty step", [" , "], None, "step 1: no component to fail"),
    ("linkend of a serial link", ["linkend:alpha/hb_serial"], None, "write link:hb_serial"),
    ("start with an unknown group", [], {"groups": {"web": ["alpha"]}}, "start placement does not fit the cluster"),
    ("start that is not a placement", [], {"app_a": ["alpha"]}, "a placement is an object"),
]


@pytest.mark.parametrize("steps, start, message", [row[1:] for row in REFUSALS], ids=[row[0] for row in REFUSALS])
def test_refusals(steps, start, message):
    with pytest.raises(SimulationError) as caught:
        simulate(TWO_NODE, steps, start)
    assert message in str(caught.value)


def test_a_bad_snapshot_is_refused():
    data = dict(TWO_NODE, format=9)
    with pytest.raises(SimulationError, match="the cluster snapshot cannot be read: format"):
        simulate(data, [])


def test_an_adapter_of_a_down_node_may_still_fail():
    result = simulate(TWO_NODE, ["node:alpha", "adapter:alpha/en0"])
    assert result.steps[1].events == ()


def test_a_step_placement_feeds_the_next_run():
    """Steps 1 then 2 in one run equal step 2 run from step 1's JSON placement (as `--from` reads it)."""
    whole = simulate(TWO_NODE, ["adapter:alpha/en0", "node:bravo"])
    first = render_json(simulate(TWO_NODE, ["adapter:alpha/en0"]))["steps"][0]["placement"]
    resumed = simulate(TWO_NODE, ["node:bravo"], json.loads(json.dumps(first)))
    assert resumed.start.placement == whole.steps[0].placement
    # The resumed run does not know adapter:alpha/en0 failed, so only the group placement is compared.
    assert resumed.steps[0].placement.groups == whole.steps[1].placement.groups


def test_text_ends_with_one_newline():
    text = render_text(simulate(TWO_NODE, []))
    assert text.endswith("\n") and not text.endswith("\n\n")
