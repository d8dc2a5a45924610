"""Findings as SARIF 2.1.0, so code-scanning tools show them on the `.ha` line.

One run, the check registry as the tool's rules (with each check's own
documentation as help), one result per finding. Accepted findings carry an
in-source suppression with the file's reason; the failure scenario and the
hint travel as result properties. With `--strict` an unaccepted warning fails
the run, so its result's level is `error`: the unsuppressed `error` results
are exactly what makes `verify` exit 1, and the invocation says so.
"""

from __future__ import annotations

import json
from pathlib import Path

from halang import __version__
from halang.checks.registry import PHASES, all_checks
from halang.explain import render_explanation
from halang.acceptance import Acceptances
from halang.verify import FileReport

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {"error": "error", "warning": "warning"}


def _rules() -> tuple[list[dict], dict[str, int]]:
    rules, index = [], {}
    for position, (code, check) in enumerate(all_checks().items()):
        doc = check.doc()
        index[code] = position
        rules.append({
            "id": code,
            "name": doc.name,
            "shortDescription": {"text": doc.title},
            "fullDescription": {"text": doc.explanation or doc.title},
            "help": {"text": render_explanation(doc)},
            "defaultConfiguration": {"level": LEVELS[doc.severity.value]},
            "properties": {"tags": sorted({doc.name.split(".")[0], doc.phase}), "reportedBy": PHASES[doc.phase]},
        })
    return rules, index


def _uri(path: str) -> str:
    return Path(path).as_posix()


def render_sarif(reports: list[FileReport], strict: bool = False) -> str:
    rules, index = _rules()
    results = []
    for report in reports:
        acceptances = Acceptances(report.cluster)
        failing = set(report.failing(strict))
        for finding in report.findings:
            where = report.source.locate(finding.span)
            result = {
                "ruleId": finding.code,
                "ruleIndex": index[finding.code],
                "level": "error" if finding in failing else LEVELS[finding.severity.value],
                "message": {"text": finding.message + (f" (help: {finding.hint})" if finding.hint else "")},
                "locations": [{"physicalLocation": {
                    "artifactLocation": {"uri": _uri(report.source.path)},
                    "region": {"startLine": where.line, "startColumn": where.column,
                               "endLine": where.end_line, "endColumn": max(where.end_column, where.column + 1)},
                }}],
                "properties": {"scenario": list(finding.scenario), "hint": finding.hint},
            }
            if finding.related:
                result["relatedLocations"] = [
                    {"id": number, "message": {"text": message}, "physicalLocation": {
                        "artifactLocation": {"uri": _uri(report.source.path)},
                        "region": {"startLine": loc.line, "startColumn": loc.column}}}
                    for number, (span, message) in enumerate(finding.related)
                    for loc in [report.source.locate(span)]
                ]
            if finding.accepted:
                result["suppressions"] = [{"kind": "inSource", "justification": acceptances.covering(finding).reason}]
            results.append(result)
    run = {
        "tool": {"driver": {"name": "halang", "version": __version__, "semanticVersion": __version__,
                            "rules": rules}},
        "results": results,
        "invocations": [{
            "executionSuccessful": True,
            "exitCode": 1 if any(report.failing(strict) for report in reports) else 0,
            "properties": {"strict": strict},
            "toolExecutionNotifications": [
                {"level": "note", "message": {"text": f"{report.source.path}: {report.analysis_note}"}}
                for report in reports if report.analysis_note
            ],
        }],
    }
    return json.dumps({"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}, indent=2) + "\n"
