"""Every check's cases, found by listing tests/checks/<CODE>/.

`bad_*.ha` files mark each expected finding with a caret line under it:

    adapter bravo en0 boot 10.10.1.11/24
#                          ^ HA201

The finding must be on the line above, at the caret's column. `good_*.ha`
files are near misses: they must give no finding of their folder's code.
A `# faults: K` line sets the failure-analysis depth (default 0), a
`# budget: DURATION` line its time budget (default verify's).
"""

import re
from pathlib import Path

import pytest

from halang.diagnostics import SourceText
from halang.model.literals import parse_duration
from halang.verify import verify_source

HERE = Path(__file__).parent
CARET = re.compile(r"^#\s*(\^)\s+(HA\d{3})\s*$")
FAULTS = re.compile(r"^#\s*faults:\s*(\d+)", re.MULTILINE)
BUDGET = re.compile(r"^#\s*budget:\s*(\S+)", re.MULTILINE)
CASES = sorted(HERE.glob("HA*/*.ha"))


def expected_findings(text: str) -> set[tuple[str, int, int]]:
    expected = set()
    target_line = 0
    for number, line in enumerate(text.splitlines(), start=1):
        match = CARET.match(line)
        if match:
            expected.add((match.group(2), target_line, match.start(1) + 1))
        else:
            target_line = number
    return expected


def run_case(path: Path):
    text = path.read_text()
    faults, budget = FAULTS.search(text), BUDGET.search(text)
    report = verify_source(SourceText(text, str(path)), faults=int(faults.group(1)) if faults else 0,
                           budget_ms=parse_duration(budget.group(1)) if budget else None)
    return text, report


@pytest.mark.parametrize("path", CASES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_check_case(path: Path):
    code = path.parent.name
    text, report = run_case(path)
    found = set()
    for finding in report.findings:
        if finding.code == code:
            location = report.source.locate(finding.span)
            found.add((finding.code, location.line, location.column))
    if path.name.startswith("bad_"):
        expected = expected_findings(text)
        assert expected, f"{path.name} marks no expected finding"
        assert {e[0] for e in expected} == {code}, "a bad case marks findings of its own code only"
        assert found == expected, "\n".join(f.message for f in report.findings)
        if code != "HA001":
            assert not [f for f in report.findings if f.code == "HA001"], "a bad case must parse"
    else:
        assert path.name.startswith("good_"), "cases are named bad_* or good_*"
        assert not found, "\n".join(f"{f.code} {f.message}" for f in report.findings)


def test_every_code_has_cases():
    from halang.checks.registry import all_checks

    testable = [code for code, check in all_checks().items() if check.phase in ("parse", "model", "static", "analysis")]
    missing = [code for code in testable
               if not list((HERE / code).glob("bad_*.ha")) or not list((HERE / code).glob("good_*.ha"))]
    assert not missing, f"codes without a bad and a good case: {missing}"
