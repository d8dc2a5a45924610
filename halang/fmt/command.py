"""`halang fmt FILE [--check]` as a function: the CLI prints the output and exits with the code."""

from __future__ import annotations

from pathlib import Path

from halang.diagnostics import SourceText
from halang.fmt.layout import FormatError, format_source

EXIT_OK, EXIT_CHANGED, EXIT_TROUBLE = 0, 1, 2


def render_syntax_errors(error: FormatError, source: SourceText) -> str:
    from halang.report.text import Style, render_finding

    findings = [finding.in_file(source.path) for finding in error.diagnostics]
    blocks = [render_finding(finding, source, Style(False)) for finding in findings]
    blocks.append(f"{source.path}: not formatted: fix the syntax errors first")
    return "\n\n".join(blocks)


def fmt_command(path: str, check: bool = False) -> tuple[int, str]:
    """Format one file in place, or with `check` only say whether it would change.

    Exit codes: 0 already formatted (or rewritten), 1 with `check`: the file
    would change, 2 the file cannot be read or has syntax errors (the output
    then holds the findings, for stderr).
    """
    file = Path(path)
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        return EXIT_TROUBLE, f"{path}: no such file"
    except IsADirectoryError:
        return EXIT_TROUBLE, f"{path}: is a directory, not a .ha file"
    except OSError as exc:
        return EXIT_TROUBLE, f"{path}: cannot read: {exc.strerror}"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return EXIT_TROUBLE, f"{path}: not UTF-8 text (byte {exc.start})"
    try:
        formatted = format_source(text)
    except FormatError as exc:
        return EXIT_TROUBLE, render_syntax_errors(exc, SourceText(text, path))
    if formatted == text:
        return EXIT_OK, f"{path}: already formatted"
    if check:
        return EXIT_CHANGED, f"{path}: would reformat"
    try:
        file.write_text(formatted, encoding="utf-8")
    except OSError as exc:
        return EXIT_TROUBLE, f"{path}: cannot write: {exc.strerror}"
    return EXIT_OK, f"{path}: reformatted"
