"""verify_source as a whole: parallel checks agree with sequential ones; accepts; analysis notes."""

from pathlib import Path

import halang.verify as verify
from halang.diagnostics import SourceText

ROOT = Path(__file__).resolve().parents[1]


def test_checks_in_a_forked_child_find_the_same(monkeypatch):
    texts = [path.read_text() for path in sorted((ROOT / "tests" / "checks").glob("HA2*/bad_*.ha"))]
    assert texts
    for text in texts:
        sequential = verify.verify_source(SourceText(text, "x.ha"), faults=0).findings
        monkeypatch.setattr(verify, "PARALLEL_CHECKS_FROM", 0)
        parallel = verify.verify_source(SourceText(text, "x.ha"), faults=0).findings
        monkeypatch.setattr(verify, "PARALLEL_CHECKS_FROM", 20_000)
        assert parallel == sequential


def test_analysis_is_skipped_with_the_reason_when_static_errors_remain():
    report = verify.verify_source(SourceText("cluster c {\n  node a { }\n  node a { }\n}\n"), faults=1)
    assert report.analysis == "skipped"
    assert "HA101" in report.analysis_note
