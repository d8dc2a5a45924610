"""Findings as a compiler prints them: location, code, the source line, a caret, a hint."""

from __future__ import annotations

from collections import Counter

from halang.diagnostics import Diagnostic, SourceText, visible
from halang.verify import FileReport

SHOWN_PER_CODE = 20
# A source line longer than this is shown cut around the caret, CONTEXT characters before it kept.
LINE_WIDTH, CONTEXT = 120, 40

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
    text = source.line_text(location.line) if source.text else ""
    if text:
        end = location.end_column if location.end_line == location.line else len(text) + 1
        shown, caret, width = excerpt(text, location.column - 1, max(end - location.column, 1))
        lines.append(bar)
        lines.append(style("blue", f"{location.line} |") + " " + shown)
        lines.append(bar + " " + " " * caret + style(kind, "^" * width))
    for related in finding.related:
        where = source.locate(related[0])
        lines.append(style("blue", " " * gutter + " =") + f" note: {related[1]} at line {where.line}, column {where.column}")
    if finding.scenario:
        lines.append(style("blue", " " * gutter + " =") + " scenario: " + ", ".join(finding.scenario))
    if finding.hint:
        lines.append(style("blue", " " * gutter + " =") + f" help: {finding.hint}")
    return "\n".join(lines)


def excerpt(line: str, start: int, width: int) -> tuple[str, int, int]:
    """A source line as shown under a finding, with where its caret goes (column, width).

    Tabs show as one blank and characters that do not print escaped (\\x00), so the caret stays
    under its text; a line longer than LINE_WIDTH is cut around the caret, with "…" where it is cut."""
    if not line.isprintable():
        pieces = [" " if char == "\t" else visible(char) for char in line]
        offsets = [0]
        for piece in pieces:
            offsets.append(offsets[-1] + len(piece))
        line = "".join(pieces)
        end = offsets[min(start + width, len(pieces))]
        start = offsets[min(start, len(pieces))]
        width = max(end - start, 1)
    if len(line) <= LINE_WIDTH:
        return line, start, width
    left = max(0, min(start - CONTEXT, len(line) - LINE_WIDTH))
    right = min(len(line), left + LINE_WIDTH)
    shown = ("…" if left else "") + line[left:right] + ("…" if right < len(line) else "")
    caret = start - left + (1 if left else 0)
    return shown, caret, max(1, min(width, right - start))


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
