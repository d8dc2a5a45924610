"""verify_source as a whole: what it says about the failure analysis."""

from pathlib import Path

import halang.verify as verify
from halang.diagnostics import SourceText

ROOT = Path(__file__).resolve().parents[1]



def test_analysis_is_skipped_with_the_reason_when_static_errors_remain():
    report = verify.verify_source(SourceText("cluster c {\n  node a { }\n  node a { }\n}\n"), faults=1)
    assert report.analysis == "skipped"
    assert "HA101" in report.analysis_note
