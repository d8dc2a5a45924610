"""Disjoint sets (union-find) over the integers 0 .. size - 1: the one union-find of halang.

Partitions of nodes (who hears whom, `topology.view`) and chains of
`same_node_as` groups (HA402, HA403) use this class, so there is one
implementation to trust. Path halving keeps `find` near-constant; the root
of a set is always its smallest member, so results do not depend on the
order of the unions.
"""

from __future__ import annotations

from typing import Dict, Iterable, List


class DisjointSets:
    __slots__ = ("parent",)

    def __init__(self, size: int):
        self.parent: List[int] = list(range(size))

    def find(self, item: int) -> int:
        parent = self.parent
        while parent[item] != item:
            parent[item] = parent[parent[item]]
            item = parent[item]
        return item

    def union(self, first: int, second: int) -> int:
        """Join the two sets; returns the root of the joined set."""
        a, b = self.find(first), self.find(second)
        if a < b:
            self.parent[b] = a
            return a
        self.parent[a] = b
        return b

    def union_all(self, items: Iterable[int]) -> None:
        """Join every item of `items` into one set (the hot loop of `topology.assess`: find inlined)."""
        parent = self.parent
        root = -1
        for item in items:
            while parent[item] != item:
                parent[item] = parent[parent[item]]
                item = parent[item]
            if root < 0:
                root = item
            elif item < root:
                parent[root] = item
                root = item
            elif item != root:
                parent[item] = root

    def groups(self, items: Iterable[int]) -> List[List[int]]:
        """The items grouped by set, each group in the order given, groups by their first item."""
        found: Dict[int, List[int]] = {}
        for item in items:
            found.setdefault(self.find(item), []).append(item)
        return list(found.values())
