"""Building clusters for the analysis tests from .ha text."""

from __future__ import annotations

from pathlib import Path

from halang.diagnostics import SourceText
from halang.verify import load

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
EXAMPLES = ROOT / "examples"
CLUSTERS = HERE / "clusters"


def cluster_of(text: str, path: str = "<test>"):
    """The resolved model of a .ha text; the text must build without errors."""
    cluster, _, findings = load(SourceText(text, path))
    errors = [f for f in findings if f.is_error]
    assert cluster is not None and not errors, [f"{f.code} {f.message}" for f in errors]
    return cluster


def cluster_file(path: Path):
    return cluster_of(path.read_text(), str(path))


def scenarios(result, code: str, **subject) -> set[tuple[str, ...]]:
    """The scenarios of one code's findings, optionally for one group, node or network."""
    return {f.scenario for f in result.findings if f.code == code
            and all(getattr(f, key) == value for key, value in subject.items())}


def codes(result) -> set[str]:
    return {f.code for f in result.findings}
