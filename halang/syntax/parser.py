"""Parse halang text into a syntax tree, turning every parse failure into HA001.

lark compiles `grammars/halang.lark` into LALR tables; a small driver here runs
those tables with a contextual lexer of one compiled regular expression per
parser state, tokens as plain tuples and positions as character offsets. That
is the language lark's own parser accepts (tests compare the two; the driver
is stricter in one way: a keyword must end at a word boundary, so `noden` is
not `node n`), at a fraction of the cost per token. A fast path
(`fastpath.py`) reads whole constructs per regular-expression match and builds
the same tree for well-formed files; it gives up on anything unusual, and this
parser then produces the tree or the findings.
After a syntax error the text is repaired where the cause is known (see
_repair) and otherwise the offending line blanked, and the text parsed again,
so one run reports every syntax error it can, one at its cause, and the rest
is still checked.
"""

from __future__ import annotations

import difflib
import re
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from lark import Lark
from lark.parsers.lalr_analysis import Shift

from halang.diagnostics import Diagnostic, Related, Span, error
from halang.memory import paused_gc
from halang.syntax.ast import AcceptLine, AdapterLine, Attribute, Block, ListValue, Scalar, ServiceLine

MAX_SYNTAX_ERRORS = 25

# How a terminal is named to a person.
TERMINAL_WORDS = {
    "NAME": "a name",
    "IFNAME": "an interface name",
    "STRING": "a quoted string",
    "LITERAL": "a number, duration, size or address",
    "PATH": "a path",
    "LBRACE": "'{'",
    "RBRACE": "'}'",
    "LSQB": "'['",
    "RSQB": "']'",
    "COMMA": "','",
    "EQUAL": "'='",
    "$END": "the end of the file",
}

_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t"}
# Whitespace and comments, matched possessively (Python 3.11+): a comment is
# skipped whole or not at all, so a failed token match can never backtrack into
# a comment and read "cluster" out of "# the cluster ...". No two ways match the
# same text, so a failed match cannot backtrack exponentially either.
_SKIP = r"[ \t\f\r\n]*+(?:#[^\n]*+[ \t\f\r\n]*+)*+"
_SKIP_ONLY = re.compile(_SKIP)
_WORD_END = r"(?![A-Za-z0-9_-])"
# What a person would call the word at a place where no terminal fits.
_WORD = re.compile(r'[^\s{}\[\]=,#"]+|.')


def grammar_path() -> Path:
    """The grammar shipped in the package, or the repository's copy in a checkout."""
    packaged = Path(__file__).with_name("halang.lark")
    if packaged.exists():
        return packaged
    return Path(__file__).resolve().parents[2] / "grammars" / "halang.lark"


@lru_cache(maxsize=1)
def reference_parser() -> Lark:
    """lark's own parser for the grammar: the tables' source and the tests' reference."""
    return Lark(grammar_path().read_text(encoding="utf-8"), parser="lalr", lexer="contextual",
                keep_all_tokens=True, maybe_placeholders=False)


class Splice(list):
    """Children of an inlined rule (`_rule`, `x*`), spliced into the parent's."""


class SyntaxFailure(Exception):
    def __init__(self, offset: int, found: tuple | None, expected: set[str], stack: list, rows: list):
        super().__init__(offset)
        self.offset = offset
        self.found = found  # the token, or None when no terminal matched here
        self.stack = stack
        self.rows = rows
        # LALR merges states that share a core, so a state's terminals may include some that only other
        # contexts accept; keep those the parser would really shift after its reductions.
        self.expected = {terminal for terminal in expected if _would_shift(rows, terminal)}


class StringEscapeError(ValueError):
    def __init__(self, offset: int, escape: str):
        super().__init__(escape)
        self.offset = offset
        self.escape = escape


def unescape(quoted: str) -> str:
    body = quoted[1:-1]
    if "\\" not in body:
        return body
    out = []
    index = 0
    while index < len(body):
        char = body[index]
        if char == "\\":
            escaped = body[index + 1]
            if escaped not in _ESCAPES:
                raise StringEscapeError(index + 1, "\\" + escaped)
            out.append(_ESCAPES[escaped])
            index += 2
        else:
            out.append(char)
            index += 1
    return "".join(out)


class TreeBuilder:
    """Builds AST nodes from the tokens ((type, text, start, end) tuples) of each rule."""

    def __init__(self):
        self.string_errors: list[Diagnostic] = []

    def scalar(self, token: tuple) -> Scalar:
        kind, text, start, end = token
        if kind == "STRING":
            try:
                return Scalar("string", unescape(text), start, end)
            except StringEscapeError as exc:
                at = start + exc.offset
                self.string_errors.append(error(
                    "HA002", Span(at, at + 2), f"unknown escape '{exc.escape}' in a string",
                    'strings know only the escapes \\" \\\\ \\n and \\t'))
                return Scalar("string", text[1:-1], start, end)
        if kind == "LITERAL":
            return Scalar("literal", text, start, end)
        if kind == "PATH":
            return Scalar("string", text, start, end)
        return Scalar("name", text, start, end)

    def value(self, child) -> Scalar | ListValue:
        return child if isinstance(child, ListValue) else self.scalar(child)

    def block(self, children: list) -> Block:
        keyword = children[0]
        if children[1][0] == "LBRACE":
            name, body_start = None, 2
        else:
            name, body_start = self.scalar(children[1]), 3
        attributes, blocks, lines = [], [], []
        for item in children[body_start:-1]:
            if type(item) is Attribute:
                attributes.append(item)
            elif type(item) is Block:
                blocks.append(item)
            else:
                lines.append(item)
        return Block(keyword[1], name, tuple(attributes), tuple(blocks), tuple(lines),
                     Span(keyword[2], children[-1][3]), Span(keyword[2], keyword[3]))

    def start(self, children):
        return children[0]

    def attribute(self, children):
        key, _, value = children
        return Attribute(key[1], Span(key[2], key[3]), self.value(value))

    def list(self, children):
        items = tuple(self.value(child) for child in children[1:-1]
                      if type(child) is ListValue or child[0] != "COMMA")
        return ListValue(items, Span(children[0][2], children[-1][3]))

    def switch(self, children):
        return self.scalar(children[1])

    def adapter(self, children):
        keyword, node, ifname, role, address = children[:5]
        switch = children[5] if len(children) > 5 else None
        end = switch.end if switch else address[3]
        return AdapterLine(self.scalar(node), self.scalar(ifname), self.scalar(role), self.scalar(address),
                           switch, Span(keyword[2], end))

    def service(self, children):
        keyword, label, address = children
        return ServiceLine(self.scalar(label), self.scalar(address), Span(keyword[2], address[3]))

    def accept(self, children):
        keyword, code, reason = children[:3]
        when = children[4] if len(children) > 3 else None
        end = when.span.end if when is not None else reason[3]
        return AcceptLine(self.scalar(code), self.scalar(reason), when, Span(keyword[2], end))


_BLOCK_RULES = ("cluster", "heartbeat", "node", "capacity", "network", "link", "resource_group",
                "filesystem", "application", "monitor", "requires", "event")


# What a reduction does with its children.
_PASS, _SPLICE, _BUILD_FLAT, _BUILD = range(4)
_LEXER = "\0lexer"


class TableParser:
    """Runs lark's LALR tables for the grammar with a lean contextual lexer.

    Each parser state is one dict holding its actions (terminal -> (shift?, next
    state dict or reduction)), its gotos (rule name -> next state dict) and, under
    _LEXER, the compiled lexer for the terminals it accepts: the loop then looks
    up nothing but the current state.
    """

    def __init__(self, lark: Lark):
        table = lark.parser.parser._parse_table
        terminals = {terminal.name: terminal for terminal in lark.terminals}
        # Plain-str keys throughout: lark's names are Token objects with a slow __eq__.
        rows = {state: {} for state in table.states}
        lexers: dict[frozenset, object] = {}
        for state, entries in table.states.items():
            row = rows[state]
            for name, (action, argument) in entries.items():
                name = str(name)
                if name in terminals or name == "$END":
                    row[name] = (True, rows[argument]) if action is Shift else (False, self._reduction(argument))
                elif action is Shift:
                    row[name] = rows[argument]
            accepted = frozenset(name for name in row if name in terminals)
            if accepted not in lexers:
                lexers[accepted] = self._compile([terminals[name] for name in accepted])
            row[_LEXER] = lexers[accepted]
        self.start_row = rows[table.start_states["start"]]
        # Whether any token of the language starts at an offset, wherever the parser is.
        self.any_token = self._compile(list(terminals.values()))

    @staticmethod
    def _reduction(rule) -> tuple[int, str, int]:
        origin = str(rule.origin.name)
        size = len(rule.expansion)
        symbols = [str(symbol.name) for symbol in rule.expansion]
        if origin.startswith("_"):
            how = _PASS if size == 1 and not symbols[0].startswith("_") else _SPLICE
        else:
            how = _BUILD_FLAT if any(symbol.startswith("_") for symbol in symbols) else _BUILD
        return size, origin, how

    @staticmethod
    def _compile(accepted: list):
        # Priority first; keywords (which must end at a word boundary) before the names they resemble.
        ordered = sorted(accepted, key=lambda t: (-t.priority, t.pattern.type != "str", -len(t.pattern.value), t.name))
        alternatives = []
        for terminal in ordered:
            pattern = terminal.pattern.to_regexp()
            if terminal.pattern.type == "str" and terminal.pattern.value[-1:].isalnum():
                pattern += _WORD_END
            alternatives.append(f"(?P<{terminal.name}>{pattern})")
        if not alternatives:
            return re.compile(r"(?!)").match
        return re.compile(_SKIP + "(?:" + "|".join(alternatives) + ")").match

    @staticmethod
    def expected(row: dict) -> set[str]:
        return {name for name, entry in row.items() if type(entry) is tuple}

    def parse(self, text: str, builder: TreeBuilder, forced: dict[int, tuple] | None = None) -> Block:
        """The tree of `text`; SyntaxFailure at the first error.

        `forced` maps offsets to tokens read there instead of what the lexer would read: the repairs
        of parse() (a keyword for its misspelling, a string closed where it should have been)."""
        builders = {name: builder.block for name in _BLOCK_RULES}
        for name in ("start", "attribute", "list", "switch", "adapter", "service", "accept"):
            builders[name] = getattr(builder, name)
        stack = [self.start_row]
        values: list = []
        push_row, push_value, pop_value = stack.append, values.append, values.pop
        position, length = 0, len(text)
        row = self.start_row
        while True:
            if forced and (at := _SKIP_ONLY.match(text, position).end()) in forced:
                token = forced[at]
                kind, position = token[0], token[3]
            elif (match := row[_LEXER](text, position)) is None:
                rest = _SKIP_ONLY.match(text, position).end()
                if rest < length:
                    word = _WORD.match(text, rest)
                    found = ("WORD", word.group(), rest, word.end()) if word else None
                    raise SyntaxFailure(rest, found, self.expected(row), values, stack)
                token = ("$END", "", length, length)
                kind = "$END"
            else:
                kind = match.lastgroup
                start = match.start(kind)
                position = match.end()
                token = (kind, text[start:position], start, position)
            while True:
                action = row.get(kind)
                if action is None:
                    raise SyntaxFailure(token[2], token, self.expected(row), values, stack)
                if action[0]:
                    row = action[1]
                    push_row(row)
                    push_value(token)
                    break
                size, origin, how = action[1]
                if how == _PASS:
                    value = pop_value()
                    stack.pop()
                else:
                    children = values[-size:]
                    del values[-size:]
                    del stack[-size:]
                    if how == _SPLICE:
                        first = children[0]
                        if type(first) is Splice:
                            value, children = first, children[1:]
                        else:
                            value = Splice()
                        for child in children:
                            if type(child) is Splice:
                                value.extend(child)
                            else:
                                value.append(child)
                    else:
                        if how == _BUILD_FLAT:
                            flat = []
                            for child in children:
                                if type(child) is Splice:
                                    flat.extend(child)
                                else:
                                    flat.append(child)
                            children = flat
                        value = builders[origin](children)
                        if origin == "start":
                            return value
                row = stack[-1][origin]
                push_row(row)
                push_value(value)


_COMPLETE = object()  # what _shift_row says when the terminal completes the parse


def _would_shift(rows: list, terminal: str) -> bool:
    """Whether the parser, in the states `rows`, reduces its way to shifting `terminal`."""
    after = _shift_row(rows, terminal)
    return after is not None and (after is not _COMPLETE or terminal == "$END")


def _shift_row(rows: list, terminal: str):
    """The state the parser, in the states `rows`, shifts `terminal` into after its reductions:
    _COMPLETE if they reduce to the start, None if the terminal is not accepted."""
    rows = list(rows)
    while True:
        action = rows[-1].get(terminal)
        if action is None:
            return None
        if action[0]:
            return action[1]
        size, origin, _ = action[1]
        if origin == "start":
            return _COMPLETE
        if size:
            del rows[-size:]
        rows.append(rows[-1][origin])


@lru_cache(maxsize=1)
def table_parser() -> TableParser:
    return TableParser(reference_parser())


def parse(text: str) -> tuple[Block | None, list[Diagnostic]]:
    """The cluster block of `text` (None when nothing could be recovered) and findings."""
    from halang.syntax.fastpath import parse_fast  # fastpath imports this module

    tree = parse_fast(text)
    if tree is not None:
        return tree, []  # the fast path gives up on anything with a finding, bad escapes included
    parser = table_parser()
    diagnostics: list[Diagnostic] = []
    reported_lines: set[int] = set()
    braces_changed = False
    forced: dict[int, tuple] = {}
    for _attempt in range(MAX_SYNTAX_ERRORS):
        builder = TreeBuilder()
        try:
            with paused_gc():
                return parser.parse(text, builder, forced), diagnostics + builder.string_errors
        except SyntaxFailure as failure:
            at_end = failure.found is not None and failure.found[0] == "$END"
            repair = None if at_end else _repair(failure, text)
            if repair is not None and repair.token is not None and repair.token[2] in forced:
                repair = None  # that repair did not help: blank the line instead
            finding = repair.finding if repair is not None and repair.finding else syntax_error(failure, text)
            line_start = text.rfind("\n", 0, finding.span.start) + 1
            if not (at_end and braces_changed) and line_start not in reported_lines:
                diagnostics.append(finding)
                reported_lines.add(line_start)
            if at_end:
                return None, diagnostics
            if repair is not None:
                text = repair.text if repair.text is not None else text
                braces_changed |= repair.braces_changed
                if repair.token is not None:
                    forced[repair.token[2]] = repair.token
                continue
            blanked = _blank_line(text, failure.offset)
            if blanked == text:
                return None, diagnostics
            braces_changed |= _brace_balance(text) != _brace_balance(blanked)
            text = blanked
    return None, diagnostics


def _blank_line(text: str, offset: int) -> str:
    """The text with the line holding `offset` blanked (offsets kept)."""
    line_start = text.rfind("\n", 0, offset) + 1
    line_end = text.find("\n", offset)
    line_end = len(text) if line_end < 0 else line_end
    return text[:line_start] + " " * (line_end - line_start) + text[line_end:]


def _brace_balance(text: str) -> int:
    return text.count("{") - text.count("}")


class Repair(NamedTuple):
    """How parse() goes on after a syntax error, when it knows better than blanking the line."""

    finding: Diagnostic | None  # None: syntax_error's own words
    text: str | None = None  # the text changed, offsets kept; None: unchanged
    token: tuple | None = None  # a token the lexer reads at its offset instead of what is there
    braces_changed: bool = False


_LINE_TAIL = re.compile(r"(.*?)[\s}\]]*\Z")
_CLUSTER_ITEMS = {"heartbeat", "node", "network", "link", "resource_group", "event", "accept"}
# A string that swallowed the next attribute: its closing quote is missing, so the one that opens
# the next value closes it ("/opt/a/start  stop = ").
_SWALLOWED = re.compile(r'"((?:[^"\\]|\\.)*?)(\s+)([A-Za-z_][A-Za-z0-9_-]*)\s*=\s*"\Z')


def _repair(failure: SyntaxFailure, text: str) -> Repair | None:
    """The repair of a syntax error that has a known cause, or None (parse() blanks the line)."""
    found = failure.found
    previous = failure.stack[-1] if failure.stack else None
    if failure.expected == {"$END"} and found is not None:
        return _after_the_cluster(failure, text)
    if found is not None and found[1] == '"' and "STRING" in failure.expected:
        line_end = text.find("\n", found[2])
        line_end = len(text) if line_end < 0 else line_end
        # Closed before what ends the line's block or list ("/etc/k }"), else at the line's end.
        body = _LINE_TAIL.match(text, found[2] + 1, line_end).group(1).rstrip("\\")
        # Read as if closed at the end of its line: the attribute is there, and nothing is missing.
        return Repair(None, token=("STRING", f'"{body}"', found[2], found[2] + 1 + len(body)))
    if type(previous) is tuple and previous[0] == "STRING" and failure.offset == previous[3]:
        swallowed = _SWALLOWED.match(previous[1])
        if swallowed:
            body, name = swallowed.group(1), swallowed.group(3)
            return Repair(
                error("HA001", Span(previous[2], previous[2] + 1),
                      f"syntax error: this string is not closed: its closing quote is missing, so it runs on over "
                      f"'{name} =' to the quote that opens the next value", f'close the string before \'{name}\''),
                token=("STRING", f'"{body}"', previous[2], previous[2] + 1 + len(body)))
    unclosed = _unclosed_before(failure)
    if unclosed is not None:
        if unclosed > 0 and text[unclosed - 1] in " \t":
            # Put the missing '}' in the blank before the keyword: offsets stay as they are.
            return Repair(None, text=text[:unclosed - 1] + "}" + text[unclosed:])
        return None
    misspelt = _misspelt_keyword(failure, text)
    if (misspelt is None and found is not None and found[0] == "WORD"
            and table_parser().any_token(text, found[2]) is None):
        # Something no token can start with (a stray '@', a NUL): blank it alone, the rest of its line is read.
        blanked = text[:found[2]] + " " * (found[3] - found[2]) + text[found[3]:]
        return Repair(None, text=blanked, braces_changed=_brace_balance(found[1]) != 0)
    if misspelt is not None:
        word, keyword = misspelt
        finding = None
        if word is not found:  # a word taken for an attribute's key, '=' missing after it
            finding = error("HA001", Span(word[2], word[3]),
                            f"syntax error: '{word[1]}' is neither an attribute (no '=' follows it) nor a keyword "
                            f"here", f"did you mean '{keyword}'?")
        return Repair(finding, token=(keyword.upper(), keyword, word[2], word[3]))
    return None


def _after_the_cluster(failure: SyntaxFailure, text: str) -> Repair | None:
    """Text after the cluster's '}': a second cluster, an extra '}', or the cluster closed too early."""
    found = failure.found
    first = failure.stack[0]
    if found[1] == "cluster":
        rest = re.sub(r"[^\n]", " ", text[found[2]:])
        return Repair(
            error("HA001", Span(found[2], found[3]), "syntax error: a file holds one cluster, and this is a second "
                  "cluster block: it is not checked", "put each cluster in a file of its own",
                  related=(Related(Span(first[2], first[3]), "the file's cluster"),)),
            text=text[:found[2]] + rest, braces_changed=True)
    closing = failure.stack[-1]
    label = f"cluster {failure.stack[1][1]}"
    if found[1] == "}":
        return Repair(
            error("HA001", Span(found[2], found[3]), f"syntax error: an extra '}}': '{label}' is closed already, "
                  f"at line {_line_of(text, closing[2])}", "remove this '}'"),
            text=text[:found[2]] + " " + text[found[3]:], braces_changed=True)
    if found[1] in _CLUSTER_ITEMS and not text[text.rfind("\n", 0, closing[2]) + 1:closing[2]].strip():
        # The '}' stands on its own line: it is the cluster's, and the block was written after it.
        return Repair(
            error("HA001", Span(found[2], found[3]),
                  f"syntax error: '{found[1]}' comes after the end of '{label}' (its '}}' at line "
                  f"{_line_of(text, closing[2])}): every block goes inside the cluster",
                  "move it before the cluster's closing '}'"),
            text=_blank_line(text, found[2]))
    if found[1] in _CLUSTER_ITEMS:
        return Repair(
            error("HA001", Span(closing[2], closing[3]),
                  f"syntax error: an extra '}}': it closes '{label}' opened at line {_line_of(text, first[2])}, "
                  f"but the cluster goes on ('{found[1]}' at line {_line_of(text, found[2])})",
                  "remove this '}', or the '{' it was meant to close is missing"),
            text=text[:closing[2]] + " " + text[closing[3]:], braces_changed=True)
    return None


def _misspelt_keyword(failure: SyntaxFailure, text: str) -> tuple[tuple, str] | None:
    """(the word, the keyword it is a misspelling of), where reading the keyword there lets the parse go on.

    The word is where the parser failed (`resource_grp billing {` in the cluster), or just before it,
    read as an attribute's key where a block may start too (`aplication app {` in a group)."""
    found = failure.found
    if found is not None and found[0] in ("NAME", "WORD"):
        keyword = _close_keyword(found, failure.rows, text)
        if keyword is not None:
            return found, keyword
    previous = failure.stack[-1] if failure.stack else None
    if failure.expected == {"EQUAL"} and type(previous) is tuple and previous[0] == "NAME":
        keyword = _close_keyword(previous, failure.rows[:-1], text)
        if keyword is not None:
            return previous, keyword
    return None


def _close_keyword(word: tuple, rows: list, text: str) -> str | None:
    """The keyword accepted in the states `rows` that `word` misspells, if the text after it then reads on."""
    keywords = [name.lower() for name in TableParser.expected(rows[-1])
                if name.isupper() and name not in TERMINAL_WORDS and _would_shift(rows, name)]
    for keyword in difflib.get_close_matches(word[1], keywords, n=1):
        after = _shift_row(rows, keyword.upper())
        if after is not None and after is not _COMPLETE and after[_LEXER](text, word[3]) is not None:
            return keyword
    return None


def _open_blocks(stack: list) -> list[tuple[str, int]]:
    """The blocks still open where the parser stopped, outermost first, with their offsets.

    A block whose '}' was shifted but not yet reduced is closed: its '{' and '}' are both on the stack."""
    opened = []
    for index, item in enumerate(stack):
        if type(item) is not tuple:
            continue
        if item[0] == "RBRACE" and opened:
            opened.pop()
        elif item[0] == "LBRACE":
            head = [tok for tok in stack[max(0, index - 2):index] if type(tok) is tuple and tok[0] not in ("LBRACE", "RBRACE")]
            words = [tok[1] for tok in head]
            if len(head) == 2 and stack[index - 2] is head[0] and head[0][0] == "NAME" and head[1][0] in ("NAME", "STRING", "PATH"):
                head, words = head[1:], words[1:]
            opened.append((" ".join(words) or "block", head[0][2] if head else item[2]))
    return opened


_BLOCK_KEYWORDS = {"heartbeat", "node", "network", "link", "resource_group", "event", "accept", "adapter", "service",
                   "application", "filesystem", "monitor", "requires", "capacity"}


def _unclosed_before(failure: SyntaxFailure) -> int | None:
    """Where a '}' is missing: a block keyword read as an attribute key inside a block left open."""
    previous = failure.stack[-1] if failure.stack else None
    if (failure.expected == {"EQUAL"} and type(previous) is tuple and previous[0] == "NAME"
            and previous[1] in _BLOCK_KEYWORDS and _open_blocks(failure.stack)):
        return previous[2]
    return None


def _describe_expected(expected: set[str], in_block_body: bool = False) -> str:
    words = []
    for name in sorted(expected, key=lambda n: (n.startswith("$"), n != "NAME", n)):
        if name in TERMINAL_WORDS:
            words.append(TERMINAL_WORDS[name])
        elif name.isupper():
            words.append(f"'{name.lower()}'")
    if in_block_body and "NAME" in expected:
        words[words.index("a name")] = "an attribute (key = value)"
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " or " + words[-1]


def _found(failure: SyntaxFailure, text: str) -> str:
    if failure.found is None:
        return f"'{text[failure.offset]}'"
    kind, value = failure.found[0], failure.found[1]
    if kind == "$END":
        return "the end of the file"
    if value == '"':
        return "a string that is not closed on its line"
    return f"'{value}'"


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def syntax_error(failure: SyntaxFailure, text: str) -> Diagnostic:
    """HA001 in words a person understands, naming the block left open if any."""
    expected = failure.expected - {"COMMENT"}
    found = _found(failure, text)
    opened = _open_blocks(failure.stack)
    hint = None
    if failure.found is not None and failure.found[0] == "$END":
        last = next((item for item in reversed(failure.stack) if type(item) is tuple), None)
        end = last[3] if last else 0
        span = Span(end, end + 1)
    elif failure.found is not None:
        span = Span(failure.found[2], max(failure.found[3], failure.found[2] + 1))
    else:
        span = Span(failure.offset, failure.offset + 1)
    unclosed = _unclosed_before(failure)
    if unclosed is not None:
        label, offset = opened[-1]
        keyword = failure.stack[-1][1]
        return error("HA001", Span(unclosed, unclosed + len(keyword)),
                     f"syntax error: expected '}}' to close '{label}' opened at line {_line_of(text, offset)} "
                     f"before '{keyword} {failure.found[1]}'", f"add '}}' to close '{label}'")
    if opened and "RBRACE" in expected:
        label, offset = opened[-1]
        line = _line_of(text, offset)
        closing = f"'}}' to close '{label}' opened at line {line}"
        others = _describe_expected(expected - {"RBRACE"}, in_block_body=True)
        if found == "the end of the file":
            message = f"the file ends before '}}' closes '{label}' opened at line {line}"
            hint = "every '{' needs its '}'"
        elif others:
            message = f"expected {others}, or {closing}; found {found}"
        else:
            message = f"expected {closing}; found {found}"
    else:
        message = f"expected {_describe_expected(expected) or 'nothing more'}; found {found}"
    misspelt = _misspelt_keyword(failure, text)
    previous = failure.stack[-1] if failure.stack else None
    if misspelt is not None and misspelt[0] is failure.found:
        hint = f"did you mean '{misspelt[1]}'?"
    elif failure.found is not None and failure.found[1] == '"':
        hint = 'close the string with " on its line'
    elif (failure.found is not None and failure.found[0] in ("NAME", "WORD") and expected == {"EQUAL"}
          and type(previous) is tuple and previous[0] == "NAME"):
        message = f"expected '=' after '{previous[1]}'; found {found}"
        hint = "attributes are written key = value"
    return error("HA001", span, f"syntax error: {message}", hint)
