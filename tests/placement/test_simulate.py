"""halang.simulate beyond the golden cases: refusals, and a simulation resumed where it stopped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from halang.simulate import SimulationError, read_start, render_json, render_text, run_sequence, simulate
from tests.placement.test_cases import read_steps, spec_of

ROOT = Path(__file__).resolve().parents[2]
CASES_DIR = Path(__file__).parent / "cases"
TWO_NODE = spec_of(CASES_DIR / "two_node_mutual_takeover_node_down" / "cluster.ha")
EXAMPLE = spec_of(ROOT / "examples" / "two_node_replace.ha")

# given steps (as in a steps.txt), then simulate refuses saying this
REFUSALS = [
    ("unknown node", "node:charlie", "step 1: 'node:charlie': no node named 'charlie'"),
    ("failed twice", "node:alpha\nnode:alpha", "step 2: node:alpha has already failed at step 1"),
    ("named twice in one step", "adapter:alpha/en0, adapter:alpha/en0", "step 1: adapter:alpha/en0 is named twice"),
    ("empty step", " , ", "step 1: no component to fail"),
    ("empty recovery", "recover ,", "step 1: no component to recover"),
    ("linkend of a serial link", "linkend:alpha/hb_serial", "write link:hb_serial"),
    ("recover what never failed", "recover node:alpha", "step 1: node:alpha has not failed, so it cannot recover"),
    ("recover twice", "node:alpha\nrecover node:alpha\nrecover node:alpha",
     "step 3: node:alpha has not failed, so it cannot recover (it recovered at step 2)"),
    ("recover an adapter down with its node", "node:alpha\nrecover adapter:alpha/en0",
     ("step 2: adapter:alpha/en0 has not failed, so it cannot recover: it is down because node:alpha failed; "
      "recover node:alpha")),
    ("recover an unknown component", "node:alpha\nrecover node:charlie", "step 2: 'node:charlie': no node named"),
]


@pytest.mark.parametrize("text, message", [row[1:] for row in REFUSALS], ids=[row[0] for row in REFUSALS])
def test_refusals(text, message):
    with pytest.raises(SimulationError) as caught:
        simulate(TWO_NODE, read_steps(text))
    assert message in str(caught.value)


# given a start (what --from reads), then read_start refuses saying this
BAD_STARTS = [
    ("unknown group", {"groups": {"web": ["alpha"]}}, "start placement does not fit the cluster: no group named 'web'"),
    ("neither placement nor simulation", {"app_a": ["alpha"]}, "expected a placement"),
    ("not an object", ["alpha"], "expected a placement"),
    ("failed is not a list", {"groups": {}, "failed": "node:alpha"}, '"failed" is a list of component names'),
    ("unknown failed component", {"groups": {}, "failed": ["node:charlie"]}, "failed: 'node:charlie': no node"),
    ("failed twice", {"groups": {}, "failed": ["node:alpha", "node:alpha"]}, "failed: node:alpha is named twice"),
    ("group on a failed node", {"groups": {"app_a": ["alpha"]}, "failed": ["node:alpha"]},
     "the start placement puts app_a on alpha, which cannot host it: alpha is down"),
    ("another cluster's simulation", {"cluster": "shop", "start": {}, "steps": []},
     "it is a simulation of cluster 'shop', not of 'payments'"),
    ("simulation without states", {"cluster": "payments", "start": {}, "steps": [1]},
     'a simulation\'s "steps" is a list of states'),
    ("simulation state without a placement", {"cluster": "payments", "start": {"title": "Startup"}, "steps": []},
     'a simulation state is an object with a "title", "failed" and "placement"'),
]


@pytest.mark.parametrize("data, message", [row[1:] for row in BAD_STARTS], ids=[row[0] for row in BAD_STARTS])
def test_bad_starts(data, message):
    with pytest.raises(SimulationError) as caught:
        read_start(TWO_NODE, data)
    assert message in str(caught.value)


def test_an_adapter_of_a_down_node_may_still_fail():
    result = simulate(TWO_NODE, read_steps("node:alpha\nadapter:alpha/en0"))
    assert result.steps[1].events == ()


def test_a_component_fails_recovers_and_fails_again():
    result = simulate(TWO_NODE, read_steps("node:alpha\nrecover node:alpha\nnode:alpha"))
    assert [state.failed for state in result.steps] == [("node:alpha",), (), ("node:alpha",)]
    assert [[event.describe() for event in state.events] for state in result.steps][2] == ["node_down alpha"]


HISTORY = "fail node:alpha\nrecover node:alpha\nfail adapter:bravo/en1"


@pytest.mark.parametrize("done", [0, 1, 2, 3])
def test_resuming_from_the_json_of_a_step_ends_where_the_whole_sequence_does(done):
    """The history of the two-node example, stopped after `done` steps, written as JSON and resumed with the
    rest: the same final placement (service addresses included), failures and findings."""
    actions = read_steps(HISTORY)
    whole = simulate(EXAMPLE, actions)
    printed = json.loads(json.dumps(render_json(simulate(EXAMPLE, actions[:done]))))
    resumed = simulate(EXAMPLE, actions[done:], read_start(EXAMPLE, printed))
    last, again = whole.steps[-1], (resumed.steps or (resumed.start,))[-1]
    assert again.placement == last.placement
    assert again.failed == last.failed == ("adapter:bravo/en1",)
    assert again.findings == last.findings
    assert [finding.code for finding in last.findings] == ["HA213"]


def test_a_resumed_start_knows_what_had_failed():
    printed = render_json(simulate(EXAMPLE, read_steps("node:alpha")))
    resumed = simulate(EXAMPLE, read_steps("recover node:alpha"), read_start(EXAMPLE, printed))
    assert resumed.start.title == "Start (resumed after Step 1: fail node:alpha)"
    assert resumed.start.failed == ("node:alpha",)
    assert [event.describe() for event in resumed.steps[0].events] == ["node_up alpha"]
    with pytest.raises(SimulationError, match="node:alpha has already failed in the start state"):
        simulate(EXAMPLE, read_steps("node:alpha"), read_start(EXAMPLE, printed))


def test_a_bare_placement_may_name_what_has_failed():
    start = read_start(EXAMPLE, {"groups": {"ledger": ["bravo"], "gateway": ["bravo"]}, "failed": ["node:alpha"]})
    result = simulate(EXAMPLE, read_steps("recover node:alpha"), start)
    assert result.start.title == "Start (given placement)"
    assert "Failed so far: node:alpha" in render_text(result)
    assert result.steps[0].placement.as_dict() == {"ledger": ("bravo",), "gateway": ("bravo",)}


BATCH_LINES = [
    ('{"steps": [{"fail": ["node:alpha"]}, {"recover": ["node:alpha"]}]}', None),
    ('{"steps": []}', None),
    ('{"steps": [{"recover": ["node:alpha"]}]}', "step 1: node:alpha has not failed, so it cannot recover"),
    ('{"steps": [{"fail": "node:alpha"}]}', "step 1: fail: expected a list of component names"),
    ('{"steps": [{"fail": ["node:alpha"], "recover": ["node:alpha"]}]}', 'step 1: expected {"fail": [COMPONENT, ...]}'),
    ('{"steps": [{"repair": ["node:alpha"]}]}', 'step 1: expected {"fail": [COMPONENT, ...]}'),
    ('{"step": []}', "a sequence is an object"),
    ('{"steps": [], "form": {}}', "unknown key 'form'"),
    ('{"steps": [], "from": {"groups": {"web": []}}}', "from: the start placement does not fit the cluster"),
    ("[1, 2", "not JSON"),
]


@pytest.mark.parametrize("line, error", BATCH_LINES, ids=[line for line, _ in BATCH_LINES])
def test_a_batch_line_is_answered_with_its_number(line, error):
    answer = run_sequence(EXAMPLE, line, 7)
    assert answer["line"] == 7
    if error is None:
        assert set(answer) == {"line", "cluster", "quorum", "tie_breaker", "start", "steps"}
    else:
        assert set(answer) == {"line", "error"} and error in answer["error"]


def test_a_batch_line_may_start_from_a_state():
    first = render_json(simulate(EXAMPLE, read_steps("node:alpha")))
    line = json.dumps({"steps": [{"recover": ["node:alpha"]}], "from": first})
    answer = run_sequence(EXAMPLE, line, 1)
    assert answer["start"]["failed"] == ["node:alpha"] and answer["steps"][0]["failed"] == []


def test_text_ends_with_one_newline():
    text = render_text(simulate(TWO_NODE, []))
    assert text.endswith("\n") and not text.endswith("\n\n")
