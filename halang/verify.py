"""`halang verify` as a function: text in, findings and what was (not) checked out."""

from __future__ import annotations

from dataclasses import dataclass

from halang.acceptance import Acceptances
from halang.checks.context import CheckContext
from halang.checks.registry import static_checks
from halang.diagnostics import Diagnostic, DiagnosticSink, SourceText, error
from halang.model.literals import format_duration
from halang.memory import paused_gc
from halang.model import Cluster, build_model
from halang.syntax import parse
from halang.syntax.ast import Block



@dataclass
class FileReport:
    source: SourceText
    findings: list[Diagnostic]
    cluster: Cluster | None
    analysis: str  # "ran", "inconclusive" or "skipped"
    analysis_note: str
    faults: int = 1
    tree: Block | None = None
    reachable: bool = False
    result: object = None  # the failure analysis's AnalysisResult, when it ran

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


def verify_source(source: SourceText, faults: int = 1, budget_ms: int | None = None,
                  reachable: bool = False) -> FileReport:
    """Every finding of the file: static checks, then (K >= 1, no blocking error) the failure analysis within
    `budget_ms` (None: the default budget), from every reachable placement with `reachable`."""
    context = None
    with paused_gc():
        cluster, tree, findings = load(source)
        if cluster is not None:
            context = CheckContext(cluster, tree, faults)
            findings.extend(run_static_checks(context))
    report = FileReport(source, [], cluster, "skipped", "", faults, tree)
    report.reachable = reachable
    acceptances = Acceptances(cluster)
    blocking = [f for f in acceptances.mark(findings) if f.is_error and not f.accepted]
    if faults == 0:
        report.analysis_note = "failure analysis not requested (--faults 0): static checks only"
    elif cluster is None or blocking:
        codes = ", ".join(sorted({f.code for f in blocking}))
        report.analysis_note = f"failure analysis skipped: the file has errors the analysis needs fixed first ({codes})"
    else:
        findings.extend(_analyse(report, cluster, context.spec, faults, budget_ms, reachable))
    findings = acceptances.mark(findings)
    findings += acceptances.stale(report.analysis, faults, findings)
    report.findings = sorted((finding.in_file(source.path) for finding in findings), key=Diagnostic.sort_key)
    return report


def _analyse(report: FileReport, cluster: Cluster, spec, faults: int, budget_ms: int | None,
             reachable: bool) -> list[Diagnostic]:
    from halang.smt import DEFAULT_BUDGET_MS, analyse  # z3 loads only when the analysis runs

    budget = DEFAULT_BUDGET_MS if budget_ms is None else budget_ms
    result = analyse(cluster, faults, budget, spec=spec, reachable=reachable)
    report.result = result
    scope = f"every set of up to {faults} simultaneous failure{'s' if faults != 1 else ''}"
    if reachable:
        scope += " from every reachable placement"
    findings = result.diagnostics()
    if result.complete:
        report.analysis = "ran"
        report.analysis_note = f"failure analysis ran: {scope} was checked"
    else:
        report.analysis = "inconclusive"
        report.analysis_note = f"failure analysis INCONCLUSIVE: not all of {scope} could be checked"
        how_far = "; ".join(item.message for item in result.inconclusive)
        findings.append(error(
            "HA300", cluster.span("name"),
            f"the failure analysis was inconclusive within its budget of {format_duration(budget)}: {how_far}",
            "raise the budget (--budget, on verify and compile), analyse fewer failures at once (--faults), "
            'or accept it: accept HA300 "why"'))
    notes = result.notes()
    if notes:
        report.analysis_note += "; " + "; ".join(notes)
    return findings


def run_static_checks(context: CheckContext) -> list[Diagnostic]:
    return [finding for check in static_checks() for finding in check.run(context)]
