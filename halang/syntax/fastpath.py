"""A fast path for parsing well-formed text: one regular-expression match per construct.

The LALR driver in parser.py pays for every token in Python. Here one match
reads a whole item of a block body (an attribute with its value, a list
included; an adapter, service or accept line; a block head up to its '{'; a
'}'), so the Python loop runs a third as often and does less each time. The
tree is the one the LALR parser builds, node for node and offset for offset.

The fast path never reports anything. At the first text it is not sure of (a
syntax error, a nested list, an unknown string escape, an attribute named like
a keyword) it gives up and returns None, and the caller parses again with the
LALR parser, which finds and explains the errors. So it must never accept what
the LALR parser rejects, nor read anything differently; the tests compare the
two on files, on snippets and on random mutations.

Lexing follows the LALR parser's contextual lexer exactly:
- the terminals below match what the grammar's match, written to run fast
  (possessive quantifiers, unrolled loops; a test checks them against lark's);
- a token is never given back once read (possessive quantifiers and atomic
  groups, `(?>...)`), so each is read as the lexer reads it: the first of the
  terminals tried there that matches, in the lexer's order (LITERAL before
  NAME where a value may be either, as LITERAL has priority), as far as it
  goes. Blanks and comments are never given back either, where the LALR
  lexer may backtrack into a comment to find a token: the fast path gives up;
- where the lexer tries only some terminals (IFNAME after `adapter NODE`, a
  STRING or PATH after `filesystem`), the pattern of that place holds only them;
- a keyword is a keyword only at the start of an item of a body that holds it,
  elsewhere (a block's name, a value) a NAME, as for the lexer. At the start of
  an attribute, the lexer's reading of another body's keyword depends on the
  item before (the LALR states after an attribute merge the lookaheads of every
  body), so an attribute named like any keyword is left to the LALR parser.
"""

from __future__ import annotations

import gc
import re

from halang.diagnostics import Span
from halang.syntax.ast import AcceptLine, AdapterLine, Attribute, Block, ListValue, Scalar, ServiceLine
from halang.syntax.parser import _WORD_END, StringEscapeError, unescape

# ------------------------------------------------------------------ terminals
# The grammar's terminals, matching the same text. Possessive quantifiers (*+)
# never give back what they read: only the atomic token matches then, as for
# the lexer, and a failed match costs no backtracking.
NAME = r"[A-Za-z_][A-Za-z0-9_-]*+"
IFNAME = r"[A-Za-z0-9_.:-]++"
# The grammar's "(?:[^"\\\n]|\\.)*" unrolled: runs of plain characters between escapes.
STRING = r'"[^"\\\n]*+(?:\\.[^"\\\n]*+)*+"'
# In lark's order (IPv6 with a colon first, then anything starting with a digit);
# atomic, so that a later failure never retries the second branch.
LITERAL = r"(?>[0-9A-Fa-f]*+:[0-9A-Fa-f:.]*+(?:/[0-9]++)?|[0-9][0-9A-Za-z.:/]*+)"
PATH = r'/[^\s{}"#]*+'
# Blanks and comments between tokens (parser._SKIP), read whole.
SKIP = r"[ \t\f\r\n]*+(?:#[^\n]*+[ \t\f\r\n]*+)*+"

# ----------------------------------------------------------------- structure
# The blocks and lines each body holds; every body but the cluster's holds attributes.
BODIES = {
    "cluster": ("heartbeat", "node", "network", "link", "resource_group", "event", "accept"),
    "heartbeat": (),
    "node": ("capacity",),
    "capacity": (),
    "network": ("adapter", "service"),
    "link": (),
    "resource_group": ("filesystem", "application", "requires"),
    "filesystem": (),
    "application": ("monitor",),
    "monitor": (),
    "requires": (),
    "event": (),
}
_UNNAMED = ("heartbeat", "capacity", "monitor", "requires")
# Every keyword of the grammar (a test checks them against lark's).
KEYWORDS = frozenset(BODIES) | {"adapter", "switch", "service", "accept", "when"}

# ------------------------------------------------------------------ patterns
_S = SKIP  # short, for the patterns below
# A value or a list item, read as the lexer reads it after '=', '[' or ','; the group names the kind.
_SCALAR = f"(?>(?P<literal>{LITERAL})|(?P<string>{STRING})|(?P<name>{NAME}))"
_ITEM = f"(?>{LITERAL}|{STRING}|{NAME})"
# A list of scalars, trailing comma allowed; a nested list does not match.
_LIST = rf"\[{_S}(?:{_ITEM}{_S},{_S})*+(?:{_ITEM}{_S})?+\]"
# The constructs of a body. The last group of each to close names what matched (Match.lastgroup).
_ATTRIBUTE = rf"(?P<key>{NAME}){_S}={_S}(?:{_SCALAR}|(?P<list>{_LIST}))"
_FILESYSTEM = (rf"(?P<filesystem>filesystem){_WORD_END}{_S}"
               rf"(?>(?P<quoted_path>{STRING})|(?P<path>{PATH})){_S}(?P<filesystem_open>\{{)")
_LINES = {
    "adapter": rf"(?P<adapter>adapter){_WORD_END}{_S}(?P<node>{NAME}){_S}(?P<ifname>{IFNAME}){_S}"
               rf"(?P<role>{NAME}){_S}(?P<address>{LITERAL})(?:{_S}switch{_WORD_END}{_S}(?P<switch>{NAME}))?",
    "service": rf"(?P<service>service){_WORD_END}{_S}(?P<label>{NAME}){_S}(?P<service_address>{LITERAL})",
    "accept": rf"(?P<accept>accept){_WORD_END}{_S}(?P<code>{NAME}){_S}(?P<reason>{STRING})"
              rf"(?:{_S}when{_WORD_END}{_S}(?P<when>{_LIST}))?",
}


def _body_pattern(kind: str) -> re.Pattern:
    """The next item of a `kind` body: one of the constructs it holds, or its '}'."""
    held = BODIES[kind]
    named = "|".join(block for block in held if block in BODIES and block not in _UNNAMED and block != "filesystem")
    unnamed = "|".join(block for block in held if block in _UNNAMED)
    alternatives = [] if kind == "cluster" else [_ATTRIBUTE]
    if named:
        alternatives.append(rf"(?P<kind>{named}){_WORD_END}{_S}(?P<block_name>{NAME}){_S}(?P<open>\{{)")
    if unnamed:
        alternatives.append(rf"(?P<unnamed_kind>{unnamed}){_WORD_END}{_S}(?P<unnamed_open>\{{)")
    if "filesystem" in held:
        alternatives.append(_FILESYSTEM)
    alternatives += [_LINES[line] for line in held if line in _LINES]
    alternatives.append(r"(?P<close>\})")
    return re.compile(f"{_S}(?:{'|'.join(alternatives)})")


_BODY_MATCH = {kind: _body_pattern(kind).match for kind in BODIES}
_CLUSTER_HEAD = re.compile(rf"{_S}(?P<cluster>cluster){_WORD_END}{_S}(?P<block_name>{NAME}){_S}\{{").match
# The items inside a list, in order. Comments match too, so that nothing inside one is taken for an item.
_LIST_ITEMS = re.compile(f"#[^\\n]*|{_SCALAR}").finditer
_REST = re.compile(_S).match

_new = tuple.__new__  # makes a named tuple from its fields without the Python-level __new__


def parse_fast(text: str) -> Block | None:
    """The cluster block of `text` as parse() builds it, or None where the LALR parser must decide."""
    # The tree is millions of small objects and no cycles: collecting during the parse is wasted work.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _parse(text)
    except StringEscapeError:
        return None
    finally:
        if collecting:
            gc.enable()


def _parse(text: str) -> Block | None:
    head = _CLUSTER_HEAD(text)
    if head is None:
        return None
    keywords = KEYWORDS
    # The block being read is in locals; the blocks around it wait on `outer`.
    kind, name, head_span = "cluster", _name(head, "block_name"), _new(Span, head.span("cluster"))
    attributes, blocks, lines = [], [], []
    match = _BODY_MATCH[kind]
    outer = []
    position = head.end()
    while True:
        found = match(text, position)
        if found is None:
            return None
        position = found.end()
        what = found.lastgroup
        if what == "literal" or what == "name" or what == "string" or what == "list":
            key_start, key_end = found.span("key")
            key = text[key_start:key_end]
            if key in keywords:
                return None
            value_start = found.start(what)
            if what == "list":
                value = _new(ListValue, (_list_items(text, value_start + 1, position - 1),
                                         _new(Span, (value_start, position)), "list"))
            elif what == "string":
                value = _new(Scalar, (what, unescape(text[value_start:position]), value_start, position))
            else:
                value = _new(Scalar, (what, text[value_start:position], value_start, position))
            attributes.append(_new(Attribute, (key, _new(Span, (key_start, key_end)), value)))
        elif what == "close":
            block = _new(Block, (kind, name, tuple(attributes), tuple(blocks), tuple(lines),
                                 _new(Span, (head_span[0], position)), head_span))
            if not outer:
                # Only blanks and comments may follow the cluster block.
                return block if _REST(text, position).end() == len(text) else None
            kind, name, head_span, attributes, blocks, lines, match = outer.pop()
            blocks.append(block)
        elif what == "open" or what == "unnamed_open" or what == "filesystem_open":
            outer.append((kind, name, head_span, attributes, blocks, lines, match))
            if what == "open":
                kind, name = found.group("kind"), _name(found, "block_name")
                head_span = _new(Span, found.span("kind"))
            elif what == "unnamed_open":
                kind, name = found.group("unnamed_kind"), None
                head_span = _new(Span, found.span("unnamed_kind"))
            else:
                kind, head_span = "filesystem", _new(Span, found.span("filesystem"))
                path_start, path_end = found.span("path")
                if path_start < 0:
                    path_start, path_end = found.span("quoted_path")
                    name = _new(Scalar, ("string", unescape(text[path_start:path_end]), path_start, path_end))
                else:
                    name = _new(Scalar, ("string", text[path_start:path_end], path_start, path_end))
            attributes, blocks, lines = [], [], []
            match = _BODY_MATCH[kind]
        elif what == "address" or what == "switch":
            switch = _name(found, "switch") if what == "switch" else None
            address = _new(Scalar, ("literal", found.group("address"), *found.span("address")))
            lines.append(_new(AdapterLine, (_name(found, "node"), _name(found, "ifname"), _name(found, "role"),
                                            address, switch, _new(Span, (found.start("adapter"), position)))))
        elif what == "service_address":
            address_start = found.start(what)
            address = _new(Scalar, ("literal", text[address_start:position], address_start, position))
            lines.append(_new(ServiceLine, (_name(found, "label"), address,
                                            _new(Span, (found.start("service"), position)))))
        else:  # "reason" or "when", the end of an accept line
            reason_start, reason_end = found.span("reason")
            reason = _new(Scalar, ("string", unescape(text[reason_start:reason_end]), reason_start, reason_end))
            when = None
            if what == "when":
                when_start = found.start(what)
                when = _new(ListValue, (_list_items(text, when_start + 1, position - 1),
                                        _new(Span, (when_start, position)), "list"))
            lines.append(_new(AcceptLine, (_name(found, "code"), reason, when,
                                           _new(Span, (found.start("accept"), position)))))


def _list_items(text: str, start: int, end: int) -> tuple[Scalar, ...]:
    """The scalars between a list's brackets, `start` and `end` (checked by the pattern)."""
    items = []
    for item in _LIST_ITEMS(text, start, end):
        kind = item.lastgroup
        if kind is not None:  # None: a comment
            item_start, item_end = item.span()
            if kind == "string":
                items.append(_new(Scalar, (kind, unescape(text[item_start:item_end]), item_start, item_end)))
            else:
                items.append(_new(Scalar, (kind, text[item_start:item_end], item_start, item_end)))
    return tuple(items)


def _name(found: re.Match, group: str) -> Scalar:
    """The NAME (or IFNAME) the group matched."""
    return _new(Scalar, ("name", found.group(group), *found.span(group)))
