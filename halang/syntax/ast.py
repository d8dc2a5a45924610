"""The syntax tree: what the file says, where, before any name is resolved.

Blocks share one shape (kind, name, attributes, nested blocks and lines); the
model gives each kind its meaning. Every node keeps the span it came from.
Nodes are named tuples: a large file has millions of them, and a tuple is the
cheapest immutable object Python makes.
"""

from __future__ import annotations

from typing import NamedTuple, Union

from halang.diagnostics import Span


class Scalar(NamedTuple):
    """A string, name or number-like literal as written (strings unescaped)."""

    kind: str  # "string" | "name" | "literal"
    text: str
    start: int
    end: int

    @property
    def span(self) -> Span:
        return Span(self.start, self.end)


class ListValue(NamedTuple):
    items: tuple[Value, ...]
    span: Span
    kind: str = "list"


Value = Union[Scalar, ListValue]


class Attribute(NamedTuple):
    key: str
    key_span: Span
    value: Value

    @property
    def span(self) -> Span:
        return Span(self.key_span.start, self.value.span.end)


class AdapterLine(NamedTuple):
    node: Scalar
    ifname: Scalar
    role: Scalar
    address: Scalar
    switch: Scalar | None
    span: Span


class ServiceLine(NamedTuple):
    label: Scalar
    address: Scalar
    span: Span


class AcceptLine(NamedTuple):
    code: Scalar
    reason: Scalar
    when: ListValue | None  # the scenario, for `accept CODE "why" when [...]`
    span: Span


Line = Union[AdapterLine, ServiceLine, AcceptLine]


class Block(NamedTuple):
    kind: str
    name: Scalar | None
    attributes: tuple[Attribute, ...]
    blocks: tuple[Block, ...]
    lines: tuple[Line, ...]
    span: Span
    # The keyword at the head, for findings that point at the block itself.
    head_span: Span

    def label(self) -> str:
        return f"{self.kind} {self.name.text}" if self.name else self.kind

    def blocks_of(self, kind: str) -> list[Block]:
        return [block for block in self.blocks if block.kind == kind]
