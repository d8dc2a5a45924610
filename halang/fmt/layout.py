"""The canonical layout of a .ha file, comments kept (`halang fmt`).

The syntax tree has no comments (the lexer skips them), so the formatter
reads them back from the text between the tokens. Every output row is a run
of consecutive tokens of the file, so each comment is put back beside the
tokens it stood beside:

- an end-of-line comment (code before it on its line) goes at the end of the
  row holding the token just before it;
- a full-line comment goes on its own line before the row holding the token
  just after it, indented like that row (one step deeper when that row is a
  closing `}` or `]`: the comment was inside the block), or at the end of the
  file.

The layout (this docstring is its documentation):

- two spaces of indentation per level, one item per line;
- `key = value` with the `=` of one block's attributes lined up;
- lists `[a, b]` on one line, no trailing comma; a list holding a comment is
  written one item per line, each with a trailing comma, so the comment keeps
  its place;
- `adapter` lines of one network lined up in columns, `service` lines too,
  and `accept` lines of the cluster;
- an empty block is `kind name { }`; a block other than `cluster` whose
  body is exactly one attribute, or exactly one block that itself fits on
  one line, and holds no comment, is written on one line:
  `node wh1 { domains = [rack_a] }`; consecutive one-line blocks of one kind
  line up their `{`;
- a blank line around every top-level block written on several lines;
  elsewhere a blank line is kept where the file had one or more, except
  right after a `{`, right before a `}` and inside a list;
- end-of-line comments on consecutive rows of one block line up two spaces
  past the longest of those rows; a blank line, a full-line comment or a
  nested block starts a new run;
- a construct written over several lines with a comment on more than one of
  them (an adapter line broken after its node, say) keeps the last comment
  at its end and puts the others on their own lines above it;
- values are written exactly as in the file (strings keep their escapes,
  numbers their units), so the resolved model never changes.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field

from halang.diagnostics import Diagnostic
from halang.syntax import parse
from halang.syntax.ast import AcceptLine, AdapterLine, Attribute, Block, ListValue, Scalar, ServiceLine

INDENT = "  "

# Strings and comments, the only places a '#' or a '"' can stand in a well-formed file.
_PIECES = re.compile(r'"(?:[^"\\\n]|\\.)*"|#[^\n]*|[^"#]+')
_SKIP = re.compile(r"(?:[ \t\f\r\n]+|#[^\n]*)*")
_BLANK_LINE = re.compile(r"\n[ \t\f\r]*\n")


class FormatError(ValueError):
    """The text has syntax errors; `diagnostics` holds them (HA001)."""

    def __init__(self, diagnostics: list[Diagnostic]):
        super().__init__(f"{len(diagnostics)} syntax error{'s' if len(diagnostics) != 1 else ''}")
        self.diagnostics = diagnostics


@dataclass
class Comment:
    start: int
    end: int
    text: str
    end_of_line: bool
    blank_before: bool = False


@dataclass
class Row:
    """One output line of code: cells joined by spaces, the first cell padded within its alignment group."""

    indent: int
    cells: list[str]
    first: int  # offset of the row's first token
    last: int  # end offset of its last token
    role: str = "item"  # "item", "open", "close"
    in_list: bool = False
    align: object = None  # rows sharing this key pad their cells to common widths
    group: object = None  # the block body (or list) the row belongs to, for end-of-line comments
    force_blank: bool = False
    compact: str | None = None  # the kind of a block written on one line
    blank_before: bool = False
    leading: list[Comment] = field(default_factory=list)
    trailing: list[Comment] = field(default_factory=list)
    text: str = ""


def find_comments(text: str) -> list[Comment]:
    """Every comment of a well-formed file, in order."""
    comments = []
    for match in _PIECES.finditer(text):
        piece = match.group()
        if piece[0] == "#":
            start = match.start()
            line_start = text.rfind("\n", 0, start) + 1
            comments.append(Comment(start, match.end(), piece.rstrip(), bool(text[line_start:start].strip())))
    return comments


class _Layout:
    def __init__(self, text: str, comments: list[Comment]):
        self.text = text
        self.rows: list[Row] = []
        self.comment_starts = [comment.start for comment in comments]

    # ------------------------------------------------------------------ helpers

    def raw(self, scalar: Scalar) -> str:
        return self.text[scalar.start:scalar.end]

    def has_comment(self, start: int, end: int) -> bool:
        index = bisect_right(self.comment_starts, start)
        return index < len(self.comment_starts) and self.comment_starts[index] < end

    def next_token(self, offset: int) -> int:
        return _SKIP.match(self.text, offset).end()

    def inline_value(self, value) -> str | None:
        """The value on one line, or None when a comment inside a list needs it spread out."""
        if isinstance(value, Scalar):
            return self.raw(value)
        if self.has_comment(value.span.start, value.span.end):
            return None
        return "[" + ", ".join(self.inline_value(item) for item in value.items) + "]"

    @staticmethod
    def items_of(block: Block) -> list:
        items = [*block.attributes, *block.blocks, *block.lines]
        return sorted(items, key=_start_of)

    def head(self, block: Block) -> str:
        return f"{block.kind} {self.raw(block.name)}" if block.name is not None else block.kind

    def one_line(self, block: Block) -> str | None:
        """The block's body on one line (`{ key = value }`), if the layout allows it (see the module docstring)."""
        if block.kind == "cluster" or block.lines or self.has_comment(block.span.start, block.span.end):
            return None
        items = self.items_of(block)
        if not items:
            return "{ }"
        if len(items) != 1:
            return None
        item = items[0]
        if isinstance(item, Attribute):
            value = self.inline_value(item.value)
            inner = None if value is None else f"{item.key} = {value}"
        else:
            inner = self.one_line(item)
        if inner is None:
            return None
        return f"{{ {inner} }}" if isinstance(item, Attribute) else f"{{ {self.head(item)} {inner} }}"

    # ------------------------------------------------------------------ rows

    def add(self, row: Row) -> Row:
        self.rows.append(row)
        return row

    def block(self, block: Block, indent: int, group: object) -> tuple[int, int]:
        """Rows of a block; returns (index of its first row, number of rows)."""
        first_index = len(self.rows)
        compact = self.one_line(block)
        if compact is not None:
            self.add(Row(indent, [self.head(block), compact], block.span.start, block.span.end, group=group,
                         compact=block.kind))
            return first_index, 1
        brace = self.next_token(block.name.end if block.name is not None else block.head_span.end)
        self.add(Row(indent, [self.head(block) + " {"], block.span.start, brace + 1, role="open", group=group))
        body = ("body", block.span.start)
        top_level = block.kind == "cluster"
        previous_multi = False
        for number, item in enumerate(self.items_of(block)):
            if isinstance(item, Block):
                start_row, count = self.block(item, indent + 1, body)
                multi = count > 1
                if top_level and number and (multi or previous_multi):
                    self.rows[start_row].force_blank = True
                previous_multi = multi
                continue
            start_row = len(self.rows)
            if isinstance(item, Attribute):
                self.attribute(item, indent + 1, body)
            else:
                self.line(item, indent + 1, body, block)
            if top_level and number and previous_multi:
                self.rows[start_row].force_blank = True
            previous_multi = False
        self.add(Row(indent, ["}"], block.span.end - 1, block.span.end, role="close", group=group))
        return first_index, len(self.rows) - first_index

    def attribute(self, attribute: Attribute, indent: int, group: object) -> None:
        align = ("attributes", group)
        value = self.inline_value(attribute.value)
        if value is not None:
            self.add(Row(indent, [attribute.key, "=", value], attribute.key_span.start, attribute.value.span.end,
                         align=align, group=group))
            return
        self.add(Row(indent, [attribute.key, "=", "["], attribute.key_span.start, attribute.value.span.start + 1,
                     role="open", align=align, group=group))
        self.list_items(attribute.value, indent + 1)

    def list_items(self, value: ListValue, indent: int) -> None:
        group = ("list", value.span.start)
        for item in value.items:
            inline = self.inline_value(item)
            if inline is not None:
                self.add(Row(indent, [inline + ","], _start_of(item), _end_of(item), in_list=True, group=group))
            else:
                self.add(Row(indent, ["["], item.span.start, item.span.start + 1, role="open", in_list=True,
                             group=group))
                self.list_items(item, indent + 1)
                self.rows[-1].cells[-1] += ","
        self.add(Row(indent - 1, ["]"], value.span.end - 1, value.span.end, role="close", in_list=True))

    def line(self, line, indent: int, group: object, block: Block) -> None:
        if isinstance(line, AdapterLine):
            cells = ["adapter", self.raw(line.node), self.raw(line.ifname), self.raw(line.role), self.raw(line.address)]
            if line.switch is not None:
                cells.append(f"switch {self.raw(line.switch)}")
            kind = "adapters"
        elif isinstance(line, ServiceLine):
            cells = ["service", self.raw(line.label), self.raw(line.address)]
            kind = "services"
        else:
            assert isinstance(line, AcceptLine)
            cells = ["accept", self.raw(line.code), self.raw(line.reason)]
            kind = "accepts"
            if line.when is not None:
                when = self.inline_value(line.when)
                if when is None:  # a comment inside the list spreads it out, one item a row
                    self.add(Row(indent, [*cells, "when ["], line.span.start, line.when.span.start + 1,
                                 role="open", group=group))
                    self.list_items(line.when, indent + 1)
                    return
                cells.append(f"when {when}")
        self.add(Row(indent, cells, line.span.start, line.span.end, align=(kind, group), group=group))


def _start_of(item) -> int:
    if isinstance(item, Attribute):
        return item.key_span.start
    if isinstance(item, Scalar):
        return item.start
    return item.span.start


def _end_of(item) -> int:
    return item.end if isinstance(item, Scalar) else item.span.end


def _place_comments(rows: list[Row], comments: list[Comment], text: str) -> list[Comment]:
    """Attach each comment to its row; returns the comments after the last row."""
    firsts = [row.first for row in rows]
    tail: list[Comment] = []
    for comment in comments:
        index = bisect_right(firsts, comment.start) - 1
        if comment.end_of_line and index >= 0:
            rows[index].trailing.append(comment)
        elif index >= 0 and comment.start < rows[index].last:
            rows[index].leading.append(comment)
        elif index + 1 < len(rows):
            rows[index + 1].leading.append(comment)
        else:
            tail.append(comment)
    # Blank lines of the file: between each row or comment and whatever came just before it.
    things = sorted([(row.first, row.last, row) for row in rows] + [(c.start, c.end, c) for c in comments],
                    key=lambda thing: thing[0])
    previous_end = 0
    for start, end, thing in things:
        thing.blank_before = previous_end > 0 and bool(_BLANK_LINE.search(text, previous_end, start)) \
            if previous_end < start else False
        previous_end = max(previous_end, end)
    for row in rows:
        # More than one end-of-line comment for one row (a construct written over several
        # lines): all but the last go above it.
        while len(row.trailing) > 1:
            moved = row.trailing.pop(0)
            moved.blank_before = False
            row.leading.append(moved)
    return tail


def _align_compact(rows: list[Row]) -> None:
    """Consecutive one-line blocks of one kind (no blank line or comment between) line up their braces."""
    previous = None
    for row in rows:
        if row.compact is None:
            previous = None
            continue
        if (previous is not None and previous.compact == row.compact and previous.group == row.group
                and not row.leading and not row.blank_before and not row.force_blank):
            row.align = previous.align
        else:
            row.align = ("compact", row.first)
        previous = row


def _align(rows: list[Row]) -> None:
    _align_compact(rows)
    groups: dict[object, list[Row]] = {}
    for row in rows:
        if row.align is not None:
            groups.setdefault(row.align, []).append(row)
    for members in groups.values():
        widths: list[int] = []
        for row in members:
            for column, cell in enumerate(row.cells[:-1]):
                if column == len(widths):
                    widths.append(0)
                widths[column] = max(widths[column], len(cell))
        for row in members:
            cells = [cell.ljust(widths[column]) if column < len(row.cells) - 1 else cell
                     for column, cell in enumerate(row.cells)]
            row.text = " ".join(cells)
    for row in rows:
        if row.align is None:
            row.text = " ".join(row.cells)


@dataclass
class _Line:
    text: str
    blank: bool
    row: Row | None = None


def _emit(rows: list[Row], tail: list[Comment]) -> str:
    lines: list[_Line] = []
    previous_role = None
    for row in rows:
        comment_indent = row.indent + (1 if row.role == "close" else 0)
        block_start = len(lines)
        for comment in row.leading:
            allowed = bool(lines) and previous_role != "open" and not row.in_list
            lines.append(_Line(INDENT * comment_indent + comment.text, comment.blank_before and allowed))
            previous_role = "comment"
        allowed = bool(lines) and previous_role != "open" and row.role != "close" and not row.in_list
        lines.append(_Line(INDENT * row.indent + row.text, row.blank_before and allowed, row))
        if row.force_blank:
            # The blank goes above the comments written right above the row.
            at = len(lines) - 1
            while at > block_start and not lines[at].blank:
                at -= 1
            lines[at].blank = True
        previous_role = row.role
    for comment in tail:
        lines.append(_Line(comment.text, comment.blank_before and bool(lines)))
    _align_trailing(lines)
    out = []
    for line in lines:
        if line.blank:
            out.append("")
        out.append(line.text)
    return "\n".join(out) + "\n"


def _align_trailing(lines: list[_Line]) -> None:
    """End-of-line comments of consecutive rows of one block line up (see the module docstring)."""
    run: list[_Line] = []

    def flush():
        commented = [line for line in run if line.row.trailing]
        if commented:
            column = max(len(line.text) for line in commented) + 2
            for line in commented:
                line.text = line.text.ljust(column) + line.row.trailing[0].text
        run.clear()

    for line in lines:
        row = line.row
        if row is None or line.blank or (run and run[-1].row.group != row.group):
            flush()
        if row is not None:
            run.append(line)
    flush()


def format_source(text: str) -> str:
    """The canonical layout of a .ha file's text; FormatError if it has syntax errors."""
    tree, diagnostics = parse(text)
    syntax_errors = [d for d in diagnostics if d.code == "HA001"]
    if tree is None or syntax_errors:
        raise FormatError(syntax_errors or diagnostics)
    comments = find_comments(text)
    layout = _Layout(text, comments)
    layout.block(tree, 0, None)
    rows = layout.rows
    tail = _place_comments(rows, comments, text)
    _align(rows)
    return _emit(rows, tail)
