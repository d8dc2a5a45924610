"""No input whatsoever produces a traceback: every mutation of the examples gets findings, never a crash."""

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from halang.diagnostics import SourceText
from halang.report.json_report import render_json
from halang.report.text import Style, render_report
from halang.verify import verify_source

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.ha"))
TEXTS = [path.read_text() for path in EXAMPLES]
# Pieces of the language worth splicing in: they reach deeper than random bytes.
FRAGMENTS = ["{", "}", "[", "]", "=", ",", '"', "#", "\\", "\n", "node", "network", "adapter", "service", "link",
             "resource_group", "accept HA301 \"x\"", "10.0.0.1/33", "fd00::1/64", "1.5", "500ms", "5min", "4G",
             "boot", "standby", "replace", "alias", "nodes = [a, b]", "switch", "::", "/srv", "\x00", "é", "\t"]


def check_no_crash(text: str) -> None:
    report = verify_source(SourceText(text, "fuzz.ha"), faults=0)
    render_report(report, Style(color=True))
    render_json([report])
    for finding in report.findings:
        assert finding.code.startswith("HA") and finding.message
        location = report.source.locate(finding.span)
        assert 1 <= location.line <= text.count("\n") + 1


@st.composite
def mutated_example(draw):
    text = draw(st.sampled_from(TEXTS))
    for _ in range(draw(st.integers(1, 6))):
        position = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["delete", "insert", "replace", "duplicate"]))
        length = draw(st.integers(1, 40))
        if action == "delete":
            text = text[:position] + text[position + length:]
        elif action == "insert":
            piece = draw(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=8)))
            text = text[:position] + piece + text[position:]
        elif action == "replace":
            piece = draw(st.sampled_from(FRAGMENTS))
            text = text[:position] + piece + text[position + length:]
        else:
            text = text[:position] + text[position:position + length] + text[position:]
    return text


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_example())
def test_mutated_examples_never_crash(text):
    check_no_crash(text)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_never_crashes(text):
    check_no_crash(text)


def test_every_example_line_removed_never_crashes():
    for text in TEXTS:
        lines = text.splitlines()
        for index in range(len(lines)):
            check_no_crash("\n".join(lines[:index] + lines[index + 1:]))
