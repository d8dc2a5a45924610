"""`halang fmt FILE [--check]` as a function: the CLI prints the output and exits with the code."""

from __future__ import annotations

from pathlib import Path

from halang.diagnostics import SourceError, SourceText, read_source
from halang.fmt.layout import FormatError, format_source
from halang.outcome import EXIT_FINDINGS, EXIT_OK, Outcome, refused, trouble


def render_syntax_errors(error: FormatError, source: SourceText) -> str:
    from halang.report.text import Style, render_finding

    findings = [finding.in_file(source.path) for finding in error.diagnostics]
    blocks = [render_finding(finding, source, Style(False)) for finding in findings]
    blocks.append(f"{source.path}: not formatted: fix the syntax errors first")
    return "\n\n".join(blocks)


def fmt_command(path: str, check: bool = False) -> Outcome:
    """Format one file in place, or with `check` only say whether it would change.

    Exit codes: 0 already formatted (or rewritten); 1 with `check` the file
    would change, or the file has syntax errors (the findings, for stderr);
    2 the file cannot be read or written.
    """
    try:
        source = read_source(path)
    except SourceError as exc:
        return trouble(str(exc))
    try:
        formatted = format_source(source.text)
    except FormatError as exc:
        return refused(render_syntax_errors(exc, source))
    if formatted == source.text:
        return Outcome(EXIT_OK, f"{path}: already formatted")
    if check:
        return Outcome(EXIT_FINDINGS, f"{path}: would reformat")
    try:
        Path(path).write_text(formatted, encoding="utf-8")
    except OSError as exc:
        return trouble(f"{path}: cannot write: {exc.strerror}")
    return Outcome(EXIT_OK, f"{path}: reformatted")
