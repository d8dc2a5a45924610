"""Findings as JUnit XML: per file, one test case per check and one per resource group.

A check's case fails with every unaccepted error it found; a group's case
fails with every unaccepted error found inside the group's block. Warnings
and accepted findings are listed in the case's output without failing it.
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


def _case(suite: ET.Element, classname: str, name: str, findings: list[Diagnostic], report: FileReport) -> bool:
    case = ET.SubElement(suite, "testcase", classname=classname, name=name)
    failing = [f for f in findings if f.is_error and not f.accepted]
    if failing:
        failure = ET.SubElement(case, "failure", message=failing[0].message, type=failing[0].code)
        failure.text = "\n".join(_line(f, report) for f in failing)
    others = [f for f in findings if f not in failing]
    if others:
        ET.SubElement(case, "system-out").text = "\n".join(_line(f, report) for f in others)
    return bool(failing)


def render_junit(reports: list[FileReport]) -> str:
    root = ET.Element("testsuites", name="halang verify")
    total = failures = 0
    for report in reports:
        by_code: dict[str, list[Diagnostic]] = {}
        for finding in report.findings:
            by_code.setdefault(finding.code, []).append(finding)
        suite = ET.SubElement(root, "testsuite", name=f"{report.source.path}: checks")
        count = failed = 0
        for code, check in all_checks().items():
            if check.phase == "deploy":
                continue
            count += 1
            failed += _case(suite, "halang.checks", f"{code} {check.name}", by_code.get(code, []), report)
        suite.set("tests", str(count))
        suite.set("failures", str(failed))
        total, failures = total + count, failures + failed
        if report.cluster is None or report.tree is None:
            continue
        groups = ET.SubElement(root, "testsuite", name=f"{report.source.path}: resource groups")
        count = failed = 0
        for block in report.tree.blocks_of("resource_group"):
            inside = [f for f in report.findings if block.span.start <= f.span.start < block.span.end]
            count += 1
            failed += _case(groups, "halang.groups", block.name.text, inside, report)
        groups.set("tests", str(count))
        groups.set("failures", str(failed))
        total, failures = total + count, failures + failed
    root.set("tests", str(total))
    root.set("failures", str(failures))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
