"""The table driver parses exactly as lark's own parser of grammars/halang.lark does, and reports well."""

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from lark import Token, Tree
from lark.exceptions import UnexpectedInput

from halang.diagnostics import SourceText
from halang.syntax.parser import SyntaxFailure, TreeBuilder, parse, reference_parser, table_parser
from tests.syntax.test_robustness import mutated_example

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted((ROOT / "examples").glob("*.ha")) + sorted((ROOT / "tests").glob("**/*.ha"))


def reference_tree(text: str):
    """lark's own parse, turned into our AST with the same builder."""
    builder = TreeBuilder()

    def convert(node):
        if isinstance(node, Token):
            return (node.type, str(node), node.start_pos, node.end_pos)
        children = [convert(child) for child in node.children]
        if node.data in ("cluster", "heartbeat", "node", "capacity", "network", "link", "resource_group",
                         "filesystem", "application", "monitor", "requires", "event"):
            return builder.block(children)
        return getattr(builder, str(node.data))(children)

    tree = reference_parser().parse(text)
    assert isinstance(tree, Tree)
    return convert(tree)


def driver_tree(text: str):
    return table_parser().parse(text, TreeBuilder())


@pytest.mark.parametrize("path", [p for p in FILES if "HA001" not in str(p)], ids=lambda p: p.name)
def test_driver_builds_the_reference_tree(path):
    text = path.read_text()
    try:
        expected = reference_tree(text)
    except UnexpectedInput:
        with pytest.raises(SyntaxFailure):
            driver_tree(text)
        return
    assert driver_tree(text) == expected


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_example())
def test_whatever_the_driver_accepts_lark_accepts_with_the_same_tree(text):
    try:
        ours = driver_tree(text)
    except SyntaxFailure:
        return
    assert ours == reference_tree(text)


def messages(text: str) -> list[tuple[int, int, str]]:
    source = SourceText(text)
    _, findings = parse(text)
    return [(*source.locate(f.span)[:2], f.message) for f in findings if f.code == "HA001"]


@pytest.mark.parametrize("text, line, column, words", [
    ("cluster c {\n  node a {\n", 2, 11, "the file ends before '}' closes 'node a' opened at line 2"),
    ("cluster c {\n  nod a { }\n}\n", 2, 3, "found 'nod'"),
    ("cluster c {\n  node a { x 1 }\n}\n", 2, 14, "expected '=' after 'x'"),
    ("cluster c {\n  node a { w = [1 2] }\n}\n", 2, 19, "expected ',' or ']'"),
    ("cluster c {\n  node a {\n  node b { }\n}\n", 3, 3, "expected '}' to close 'node a' opened at line 2"),
    ('cluster c {\n  heartbeat { key_file = "/etc/k }\n}\n', 2, 26, "a string that is not closed on its line"),
    ("cluster c {\n  node a { } @\n}\n", 2, 14, "found '@'"),
])
def test_syntax_errors_say_what_was_found_and_expected(text, line, column, words):
    [(found_line, found_column, message)] = messages(text)[:1]
    assert (found_line, found_column) == (line, column)
    assert words in message


def test_every_syntax_error_is_reported_in_one_run():
    text = "cluster c {\n  node a { x 1 }\n  node b { }\n  node c { y 2 }\n}\n"
    assert [m[0] for m in messages(text)] == [2, 4]


def test_misspelt_keyword_gets_a_suggestion():
    _, findings = parse("cluster c {\n  resource_grup g { }\n}\n")
    assert findings[0].hint == "did you mean 'resource_group'?"


TWO_NODE = (ROOT / "examples" / "two_node_replace.ha").read_text()


def findings_of(text: str):
    from halang.verify import verify_source

    report = verify_source(SourceText(text, "c.ha"), faults=0)
    return [(f.code, *report.source.locate(f.span)[:2], f.message, f.hint) for f in report.findings]


def line_of(text: str, words: str) -> int:
    return text[:text.index(words)].count("\n") + 1


KEYED = 'cluster c {{\n  heartbeat {{ key_file = "/etc/halang/c.key" }}\n  node a {{ }}\n{}}}\n'


def test_a_stray_brace_is_one_error_at_the_brace_and_the_rest_is_checked():
    text = TWO_NODE.replace("  node bravo { }", "  node bravo { } }")
    [(code, line, column, message, hint)] = findings_of(text)
    assert (code, line, column) == ("HA001", line_of(text, "node bravo"), 18)
    assert "an extra '}'" in message and "remove this '}'" in hint
    # what follows is checked as if the brace were not there
    broken = text.replace("service_ips   = [ledger_svc]", "service_ips   = [nope]")
    assert [f[0] for f in findings_of(broken)] == ["HA001", "HA211", "HA102"]


def test_an_extra_brace_after_the_cluster_is_one_error():
    [(code, line, column, message, _)] = findings_of(KEYED.format("") + "}\n")
    assert (code, line, column) == ("HA001", 5, 1) and "an extra '}'" in message


def test_a_misspelt_keyword_is_one_error_with_the_right_suggestion_and_read_as_repaired():
    text = TWO_NODE.replace("resource_group gateway {", "resource_grp gateway {")
    [(code, line, column, _, hint)] = findings_of(text)
    assert (code, line, column, hint) == ("HA001", line_of(text, "resource_grp"), 3, "did you mean 'resource_group'?")
    text = TWO_NODE.replace("    application gateway {", "    aplication gateway {")
    [(code, line, column, message, hint)] = findings_of(text)
    assert (code, line, column, hint) == ("HA001", line_of(text, "aplication"), 5, "did you mean 'application'?")
    assert "'aplication'" in message


def test_a_key_in_the_cluster_is_not_taken_for_a_misspelt_keyword():
    [(code, _, _, message, hint)] = findings_of(KEYED.format("  nodes = [a]\n"))
    assert code == "HA001" and "found 'nodes'" in message and hint is None


def test_an_unclosed_string_is_one_error_at_its_start():
    text = TWO_NODE.replace('start   = "/opt/ledger/bin/start"', 'start   = "/opt/ledger/bin/start')
    [(code, line, column, message, _)] = findings_of(text)
    assert (code, line, column) == ("HA001", line_of(text, 'start   = "'), 17)
    assert "not closed on its line" in message
    text = TWO_NODE.replace('start = "/opt/gateway/bin/start"\n      stop  = "/opt/gateway/bin/stop"',
                            'start = "/opt/gateway/bin/start  stop = "/opt/gateway/bin/stop"')
    [(code, line, column, message, hint)] = findings_of(text)
    assert (code, line, column) == ("HA001", line_of(text, 'start = "/opt/gateway'), 15)
    assert "'stop ='" in message and hint == "close the string before 'stop'"


def test_a_second_cluster_block_is_said_to_be_one_too_many():
    text = TWO_NODE + "\ncluster other {\n  node x { }\n}\n"
    [(code, line, column, message, hint)] = findings_of(text)
    assert (code, line, column) == ("HA001", line_of(text, "cluster other"), 1)
    assert "a file holds one cluster" in message and hint == "put each cluster in a file of its own"
