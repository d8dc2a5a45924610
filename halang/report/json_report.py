"""Findings as one JSON object: {"findings": [...], "summary": {...}}."""

from __future__ import annotations

import json

from halang.diagnostics import Diagnostic, SourceText
from halang.verify import FileReport


def finding_json(finding: Diagnostic, source: SourceText) -> dict:
    location = source.locate(finding.span)
    return {
        "code": finding.code,
        "severity": finding.severity.value,
        "message": finding.message,
        "file": source.path,
        "line": location.line,
        "column": location.column,
        "end_line": location.end_line,
        "end_column": location.end_column,
        "hint": finding.hint,
        "scenario": list(finding.scenario),
        "accepted": finding.accepted,
        "related": [
            {"message": message, "line": where.line, "column": where.column}
            for span, message in finding.related for where in [source.locate(span)]
        ],
    }


def render_json(reports: list[FileReport]) -> str:
    findings = [finding_json(f, report.source) for report in reports for f in report.findings]
    summary = {
        "files": len(reports),
        "errors": sum(len(report.errors) for report in reports),
        "warnings": sum(len(report.warnings) for report in reports),
        "accepted": sum(1 for report in reports for f in report.findings if f.accepted),
        "analysis": [
            {"file": report.source.path, "status": report.analysis, "faults": report.faults,
             "note": report.analysis_note}
            for report in reports
        ],
    }
    return json.dumps({"findings": findings, "summary": summary}, indent=2) + "\n"
