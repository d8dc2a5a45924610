"""`halang verify` as a function: text in, findings and what was (not) checked out."""

from __future__ import annotations

from dataclasses import dataclass, field

from halang.checks.context import CheckContext
from halang.checks.registry import all_checks, static_checks
from halang.diagnostics import Diagnostic, DiagnosticSink, SourceText
from halang.memory import paused_gc
from halang.model import Cluster, build_model
from halang.syntax import parse

ANALYSIS_CODES = ("HA213", "HA301", "HA302", "HA306", "HA406", "HA502", "HA604")
# Codes that can never be accepted: the file is not understood until they are fixed.
UNACCEPTABLE_PREFIXES = ("HA0", "HA1")


@dataclass
class FileReport:
    source: SourceText
    findings: list[Diagnostic]
    cluster: Cluster | None
    analysis: str  # "ran", "skipped" or "not built"
    analysis_note: str
    faults: int = 1
    notes: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[Diagnostic]:
        return [f for f in self.findings if f.is_error and not f.accepted]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [f for f in self.findings if not f.is_error and not f.accepted]


def load(source: SourceText) -> tuple[Cluster | None, object, list[Diagnostic]]:
    """Parse and resolve: the model (None if the file has no usable cluster block), tree, findings."""
    tree, findings = parse(source.text)
    if tree is None:
        return None, None, findings
    sink = DiagnosticSink(findings)
    cluster = build_model(tree, sink)
    return cluster, tree, sink.items


def verify_source(source: SourceText, faults: int = 1) -> FileReport:
    with paused_gc():
        cluster, tree, findings = load(source)
        if cluster is not None:
            context = CheckContext(cluster, tree, faults)
            for check in static_checks():
                findings.extend(check.run(context))
            findings = _apply_accepts(cluster, findings)
    findings = sorted((finding.in_file(source.path) for finding in findings), key=Diagnostic.sort_key)
    report = FileReport(source, findings, cluster, "skipped", "", faults)
    blocking = [f for f in findings if f.is_error and not f.accepted and f.code not in ANALYSIS_CODES]
    if faults == 0:
        report.analysis_note = "failure analysis not requested (--faults 0): static checks only"
    elif blocking:
        codes = ", ".join(sorted({f.code for f in blocking}))
        report.analysis_note = f"failure analysis skipped: the file has errors the analysis needs fixed first ({codes})"
    else:
        report.analysis = "not built"
        report.analysis_note = ("failure analysis (HA213, HA301, HA302, HA306, HA406, HA502, HA604) is not built yet: "
                                "this run checked the static rules only and does NOT show that the cluster survives "
                                f"{faults} failure{'s' if faults != 1 else ''}")
    return report


def _apply_accepts(cluster: Cluster, findings: list[Diagnostic]) -> list[Diagnostic]:
    accepted = {accept.code for accept in cluster.accepts
                if accept.code in all_checks() and not accept.code.startswith(UNACCEPTABLE_PREFIXES)}
    if not accepted:
        return findings
    return [f.as_accepted() if f.code in accepted else f for f in findings]
