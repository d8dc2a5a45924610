"""Findings as JUnit XML: per file, one test case per check and one per resource group.

A check's case fails with every finding it made that fails the run (an
unaccepted error, or with `--strict` an unaccepted warning); a group's case
fails with those found inside the group's block. Other findings (warnings
without `--strict`, accepted ones) are listed in the case's output without
failing it. A check that did not run is a skipped case saying why: the
failure analysis's checks when the analysis was skipped, and every check but
the parser's when no cluster block could be read. So the XML fails exactly
when `verify` exits 1.
"""

from __future__ import annotations

from xml.etree import ElementTree as ET

from halang.checks.registry import all_checks
from halang.diagnostics import Diagnostic
from halang.verify import FileReport


def _line(finding: Diagnostic, report: FileReport) -> str:
    where = report.source.locate(finding.span)
    state = "accepted " if finding.accepted else ""
    scenario = f" [scenario: {', '.join(finding.scenario)}]" if finding.scenario else ""
    return (f"{report.source.path}:{where.line}:{where.column}: {state}{finding.severity.value}[{finding.code}]: "
            f"{finding.message}{scenario}")


def _case(suite: ET.Element, classname: str, name: str, findings: list[Diagnostic], report: FileReport,
          failing: set[Diagnostic]) -> bool:
    case = ET.SubElement(suite, "testcase", classname=classname, name=name)
    fails = [f for f in findings if f in failing]
    if fails:
        failure = ET.SubElement(case, "failure", message=fails[0].message, type=fails[0].code)
        failure.text = "\n".join(_line(f, report) for f in fails)
    others = [f for f in findings if f not in failing]
    if others:
        ET.SubElement(case, "system-out").text = "\n".join(_line(f, report) for f in others)
    return bool(fails)


def _not_run(report: FileReport, phase: str) -> str | None:
    """Why a check of `phase` did not run on this file, or None if it ran."""
    if report.cluster is None and phase != "parse":
        return "not run: no cluster block could be read, so only the syntax was checked"
    if phase == "analysis" and report.analysis == "skipped":
        return report.analysis_note
    return None


def render_junit(reports: list[FileReport], strict: bool = False) -> str:
    root = ET.Element("testsuites", name="halang verify")
    total = failures = skipped = 0
    for report in reports:
        failing = set(report.failing(strict))
        by_code: dict[str, list[Diagnostic]] = {}
        for finding in report.findings:
            by_code.setdefault(finding.code, []).append(finding)
        suite = ET.SubElement(root, "testsuite", name=f"{report.source.path}: checks")
        count = failed = not_run = 0
        for code, check in all_checks().items():
            if check.phase == "deploy":
                continue
            count += 1
            reason = _not_run(report, check.phase)
            if reason is not None:
                case = ET.SubElement(suite, "testcase", classname="halang.checks", name=f"{code} {check.name}")
                ET.SubElement(case, "skipped", message=reason)
                not_run += 1
                continue
            failed += _case(suite, "halang.checks", f"{code} {check.name}", by_code.get(code, []), report, failing)
        suite.set("tests", str(count))
        suite.set("failures", str(failed))
        suite.set("skipped", str(not_run))
        total, failures, skipped = total + count, failures + failed, skipped + not_run
        if report.cluster is None or report.tree is None:
            continue
        groups = ET.SubElement(root, "testsuite", name=f"{report.source.path}: resource groups")
        count = failed = 0
        for block in report.tree.blocks_of("resource_group"):
            inside = [f for f in report.findings if block.span.start <= f.span.start < block.span.end]
            count += 1
            failed += _case(groups, "halang.groups", block.name.text, inside, report, failing)
        groups.set("tests", str(count))
        groups.set("failures", str(failed))
        total, failures = total + count, failures + failed
    root.set("tests", str(total))
    root.set("failures", str(failures))
    root.set("skipped", str(skipped))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
