"""`halang verify` as a function: text in, findings and what was (not) checked out."""

from __future__ import annotations

from dataclasses import dataclass

from halang.checks.context import CheckContext
from halang.checks.registry import all_checks, static_checks
from halang.diagnostics import Diagnostic, DiagnosticSink, SourceText, warning
from halang.memory import paused_gc
from halang.model import Cluster, build_model
from halang.model.cluster import Accept
from halang.syntax import parse
from halang.syntax.ast import Block

# Codes that can never be accepted: the file is not understood until they are fixed.
UNACCEPTABLE_PREFIXES = ("HA0", "HA1")


@dataclass
class FileReport:
    source: SourceText
    findings: list[Diagnostic]
    cluster: Cluster | None
    analysis: str  # "ran", "inconclusive" or "skipped"
    analysis_note: str
    faults: int = 1
    tree: Block | None = None

    @property
    def errors(self) -> list[Diagnostic]:
        return [f for f in self.findings if f.is_error and not f.accepted]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [f for f in self.findings if not f.is_error and not f.accepted]

    def failing(self, strict: bool = False) -> list[Diagnostic]:
        """What fails the run: unaccepted errors, and with `strict` unaccepted warnings too."""
        return [f for f in self.findings if not f.accepted and (strict or f.is_error)]


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
            findings.extend(run_static_checks(CheckContext(cluster, tree, faults)))
    report = FileReport(source, [], cluster, "skipped", "", faults, tree)
    acceptances = Acceptances(cluster)
    blocking = [f for f in acceptances.mark(findings) if f.is_error and not f.accepted]
    if faults == 0:
        report.analysis_note = "failure analysis not requested (--faults 0): static checks only"
    elif cluster is None or blocking:
        codes = ", ".join(sorted({f.code for f in blocking}))
        report.analysis_note = f"failure analysis skipped: the file has errors the analysis needs fixed first ({codes})"
    else:
        findings.extend(_analyse(report, cluster, faults))
    findings = acceptances.mark(findings)
    findings += acceptances.stale(report, findings)
    report.findings = sorted((finding.in_file(source.path) for finding in findings), key=Diagnostic.sort_key)
    return report


def _analyse(report: FileReport, cluster: Cluster, faults: int) -> list[Diagnostic]:
    from halang.smt import analyse  # z3 loads only when the analysis runs

    result = analyse(cluster, faults)
    scope = f"every set of up to {faults} simultaneous failure{'s' if faults != 1 else ''}"
    if result.complete:
        report.analysis = "ran"
        report.analysis_note = f"failure analysis ran: {scope} was checked"
    else:
        report.analysis = "inconclusive"
        report.analysis_note = f"failure analysis INCONCLUSIVE: not all of {scope} could be checked"
    notes = result.notes()
    if notes:
        report.analysis_note += "; " + "; ".join(notes)
    return result.diagnostics()


def run_static_checks(context: CheckContext) -> list[Diagnostic]:
    return [finding for check in static_checks() for finding in check.run(context)]


class Acceptances:
    """The file's accept lines that can accept: which one covers a finding, and which covered none.

    `accept CODE "why"` covers every finding of CODE; with `when [...]`, only those whose scenario is
    exactly that set of components.
    """

    def __init__(self, cluster: Cluster | None):
        self.by_code: dict[str, list[tuple[int, Accept]]] = {}
        for number, accept in enumerate(cluster.accepts if cluster is not None else ()):
            if accept.code in all_checks() and not accept.code.startswith(UNACCEPTABLE_PREFIXES):
                self.by_code.setdefault(accept.code, []).append((number, accept))
        self.matched: set[int] = set()

    def covering(self, finding: Diagnostic) -> Accept | None:
        """The accept line covering the finding (one naming its scenario first), None if none does."""
        found = None
        for number, accept in self.by_code.get(finding.code, ()):
            if accept.when is None:
                found = found or accept
            elif frozenset(accept.when) == frozenset(finding.scenario):
                self.matched.add(number)
                found = accept
        return found

    def mark(self, findings: list[Diagnostic]) -> list[Diagnostic]:
        """Findings with those the file accepts marked so."""
        if not self.by_code:
            return findings
        return [f.as_accepted() if self.covering(f) is not None else f for f in findings]

    def stale(self, report: FileReport, findings: list[Diagnostic]) -> list[Diagnostic]:
        """A warning (HA104) for each `accept ... when` that covered no finding, where that is certain:
        a static code (its findings have no scenario), or an analysis code whose analysis ran to the end
        for scenarios of that size. An accept line with an error of its own gets no more."""
        faulty = [f.span.start for f in findings if f.code == "HA104" and f.is_error]
        found = []
        for number, accept in (item for accepts in self.by_code.values() for item in accepts):
            line = accept.span()
            if accept.when is None or number in self.matched or any(line.start <= at < line.end for at in faulty):
                continue
            phase = all_checks()[accept.code].phase
            if phase == "static":
                why = f"{accept.code} is a static finding, with no scenario"
            elif phase == "analysis" and report.analysis == "ran" and len(accept.when) <= report.faults:
                why = (f"the failure analysis (--faults {report.faults}) found no {accept.code} with exactly "
                       "this scenario")
            else:
                continue
            found.append(warning(
                "HA104", accept.span("when"),
                f"accept {accept.code} when [{', '.join(accept.when)}] matches no finding: {why}",
                "remove the accept line, or name the scenario exactly as verify lists the finding's"))
        return found
