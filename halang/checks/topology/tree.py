"""Spans of list items and repeated keys, read from the syntax tree.

The model keeps one span per attribute (a whole list); a finding about one
item of a list (a node in a group's `nodes`, a group in `after`) points at
the item, so these helpers read it back from the tree. The builder keeps the
first block of each name and the first attribute of each key; so do these.
Shared by the topology, dependency and capacity checks.
"""

from __future__ import annotations

from halang.diagnostics import Span
from halang.syntax.ast import Attribute, Block, ListValue, Scalar


def blocks_by_name(tree: Block, kind: str) -> dict[str, Block]:
    """The first top-level block of each name of one kind, as the model builder keeps it."""
    found: dict[str, Block] = {}
    for block in tree.blocks:
        if block.kind == kind and block.name is not None:
            found.setdefault(block.name.text, block)
    return found


def attribute(block: Block, key: str) -> Attribute | None:
    """The first attribute with this key (a repeated key is HA103 and ignored by the model)."""
    return next((item for item in block.attributes if item.key == key), None)


def list_items(block: Block | None, key: str) -> tuple[Scalar, ...]:
    """The scalar items of a list attribute, in the file's order, repeats included."""
    if block is None:
        return ()
    found = attribute(block, key)
    if found is None or not isinstance(found.value, ListValue):
        return ()
    return tuple(item for item in found.value.items if isinstance(item, Scalar))


def item_spans(block: Block | None, key: str) -> dict[str, Span]:
    """Item text -> span of its first occurrence in a list attribute."""
    spans: dict[str, Span] = {}
    for item in list_items(block, key):
        spans.setdefault(item.text, item.span)
    return spans
