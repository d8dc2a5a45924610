"""Findings as data: every check yields Diagnostic values, never raises them."""

from __future__ import annotations

import re
from bisect import bisect_right
from pathlib import Path
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import NamedTuple


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"


class Span(NamedTuple):
    """A region of a source file as character offsets, end exclusive.

    Offsets are cheap to record for every token of a large file; lines and
    columns are worked out only for the spans a finding reports.
    """

    start: int
    end: int


NO_SPAN = Span(0, 0)


class Location(NamedTuple):
    line: int
    column: int
    end_line: int
    end_column: int


class SourceText:
    """A file's text with the offsets of its line starts, for locating spans."""

    def __init__(self, text: str, path: str = "<input>"):
        self.text = text
        self.path = path
        self._line_starts: list[int] | None = None

    @property
    def line_starts(self) -> list[int]:
        if self._line_starts is None:
            starts = [0]
            find = self.text.find
            position = find("\n")
            while position >= 0:
                starts.append(position + 1)
                position = find("\n", position + 1)
            self._line_starts = starts
        return self._line_starts

    def position(self, offset: int) -> tuple[int, int]:
        """1-based line and column of a character offset."""
        line_index = bisect_right(self.line_starts, offset) - 1
        return line_index + 1, offset - self.line_starts[line_index] + 1

    def locate(self, span: Span) -> Location:
        line, column = self.position(span.start)
        end_line, end_column = self.position(max(span.start, span.end))
        return Location(line, column, end_line, end_column)

    def line_text(self, line: int) -> str:
        starts = self.line_starts
        start = starts[line - 1]
        end = starts[line] - 1 if line < len(starts) else len(self.text)
        return self.text[start:end]


class SourceError(Exception):
    """A file that cannot be read as halang text; the message says why, naming the file."""


_BOM = b"\xef\xbb\xbf"


def read_source(path: str) -> SourceText:
    """The text of a .ha file: UTF-8, a byte-order mark at its start dropped (editors on Windows write one)."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise SourceError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise SourceError(f"{path}: is a directory, not a .ha file") from None
    except OSError as exc:
        raise SourceError(f"{path}: cannot read: {exc.strerror}") from None
    bom = len(_BOM) if data.startswith(_BOM) else 0
    try:
        return SourceText(data[bom:].decode("utf-8"), path)
    except UnicodeDecodeError as exc:
        start = bom + exc.start
        line_start = max(data.rfind(b"\n", 0, start) + 1, bom)
        line = data.count(b"\n", 0, start) + 1
        column = len(data[line_start:start].decode("utf-8")) + 1
        raise SourceError(f"{path}: not UTF-8 text: line {line}, column {column} (byte {start}) "
                          f"is {data[start:bom + exc.end].hex(' ')}") from None


LONGEST_WORD = 80
_LONG_WORD = re.compile(r"\S{%d,}" % (LONGEST_WORD + 1))


def visible(text: str) -> str:
    """The text with each character that does not print (NUL, controls, a byte-order mark) escaped: \\x00."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else ascii(char)[1:-1] for char in text)


def tidy(text: str) -> str:
    """Text for a message: characters that do not print escaped, words over LONGEST_WORD cut in the middle."""
    text = visible(text)
    if len(text) <= LONGEST_WORD:
        return text
    return _LONG_WORD.sub(lambda word: word.group()[:48] + "…" + word.group()[-24:], text)


class Related(NamedTuple):
    """Another place that explains a finding ("first defined here")."""

    span: Span
    message: str


@dataclass(frozen=True, slots=True)
class Diagnostic:
    code: str
    severity: Severity
    span: Span
    message: str
    hint: str | None = None
    scenario: tuple[str, ...] = ()
    related: tuple[Related, ...] = ()
    accepted: bool = False
    file: str = ""

    def __post_init__(self):
        # Every message and hint is one printable line of bounded words, whatever the file holds.
        object.__setattr__(self, "message", tidy(self.message))
        if self.hint is not None:
            object.__setattr__(self, "hint", tidy(self.hint))

    def sort_key(self) -> tuple:
        return (self.file, self.span.start, self.code, self.message)

    def in_file(self, file: str) -> "Diagnostic":
        return replace(self, file=file)

    def as_accepted(self) -> "Diagnostic":
        return replace(self, accepted=True)

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR


def error(code: str, span: Span, message: str, hint: str | None = None, **extra) -> Diagnostic:
    return Diagnostic(code, Severity.ERROR, span, message, hint, **extra)


def warning(code: str, span: Span, message: str, hint: str | None = None, **extra) -> Diagnostic:
    return Diagnostic(code, Severity.WARNING, span, message, hint, **extra)


@dataclass
class DiagnosticSink:
    """Collects findings while a pass walks the file."""

    items: list[Diagnostic] = field(default_factory=list)

    def error(self, code: str, span: Span, message: str, hint: str | None = None, **extra) -> None:
        self.items.append(error(code, span, message, hint, **extra))

    def warning(self, code: str, span: Span, message: str, hint: str | None = None, **extra) -> None:
        self.items.append(warning(code, span, message, hint, **extra))
