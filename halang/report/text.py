"""Findings as a compiler prints them: location, code, the source line, a caret, a hint."""

from __future__ import annotations

from collections import Counter

from halang.diagnostics import Diagnostic, SourceText
from halang.verify import FileReport

SHOWN_PER_CODE = 20

_COLORS = {"error": "1;31", "warning": "1;33", "accepted": "1;36", "bold": "1", "dim": "2", "blue": "1;34"}


class Style:
    def __init__(self, color: bool):
        self.color = color

    def __call__(self, kind: str, text: str) -> str:
        return f"\x1b[{_COLORS[kind]}m{text}\x1b[0m" if self.color else text


def render_finding(finding: Diagnostic, source: SourceText, style: Style) -> str:
    location = source.locate(finding.span)
    label = "accepted" if finding.accepted else finding.severity.value
    kind = "accepted" if finding.accepted else finding.severity.value
    head = (f"{style('bold', f'{source.path}:{location.line}:{location.column}:')} "
            f"{style(kind, f'{label}[{finding.code}]')}: {style('bold', finding.message)}")
    lines = [head]
    gutter = len(str(location.line))
    bar = style("blue", " " * gutter + " |")
    text = source.line_text(location.line).expandtabs(1) if source.text else ""
    if text:
        width = (location.end_column - location.column) if location.end_line == location.line else len(text) - location.column + 1
        lines.append(bar)
        lines.append(style("blue", f"{location.line} |") + " " + text)
        lines.append(bar + " " + " " * (location.column - 1) + style(kind, "^" * max(1, width)))
    for related in finding.related:
        where = source.locate(related[0])
        lines.append(style("blue", " " * gutter + " =") + f" note: {related[1]} at line {where.line}, column {where.column}")
    if finding.scenario:
        lines.append(style("blue", " " * gutter + " =") + " scenario: " + ", ".join(finding.scenario))
    if finding.hint:
        lines.append(style("blue", " " * gutter + " =") + f" help: {finding.hint}")
    return "\n".join(lines)


def render_report(report: FileReport, style: Style, shown_per_code: int = SHOWN_PER_CODE) -> str:
    blocks = []
    shown: Counter[str] = Counter()
    hidden: Counter[str] = Counter()
    for finding in report.findings:
        if shown[finding.code] >= shown_per_code:
            hidden[finding.code] += 1
            continue
        shown[finding.code] += 1
        blocks.append(render_finding(finding, report.source, style))
    for code, count in sorted(hidden.items()):
        blocks.append(f"... and {count} more {code} finding{'s' if count != 1 else ''} "
                      f"(--format json lists every one)")
    accepted = sum(1 for f in report.findings if f.accepted)
    summary = (f"{report.source.path}: {_count(len(report.errors), 'error')}, "
               f"{_count(len(report.warnings), 'warning')}")
    if accepted:
        summary += f", {accepted} accepted"
    kind = "error" if report.errors else ("warning" if report.warnings else "bold")
    blocks.append(style(kind, summary))
    if report.analysis_note:
        blocks.append(f"{style('bold', 'note')}: {report.analysis_note}")
    return "\n\n".join(blocks[:-2] + ["\n".join(blocks[-2:])]) if len(blocks) >= 2 else "\n".join(blocks)


def _count(number: int, word: str) -> str:
    return f"{number} {word}{'s' if number != 1 else ''}"
