"""What a check sees: the resolved cluster, its syntax tree, and shared indexes."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable

from halang.model.cluster import Adapter, Cluster, Group, Network, Node, Service
from halang.model.spec import cluster_spec
from halang.diagnostics import Span
from halang.syntax.ast import Block, ListValue, Scalar
from runtime.core.snapshot import ClusterSpec, SnapshotError


@dataclass
class CheckContext:
    cluster: Cluster
    tree: Block
    faults: int = 1
    _memo: dict[str, Any] = field(default_factory=dict, repr=False)

    def memo(self, key: str, make: Callable[[], Any]) -> Any:
        """What several checks need, made by the first that asks (keys name the family: "address.*")."""
        if key not in self._memo:
            self._memo[key] = make()
        return self._memo[key]

    @cached_property
    def spec(self) -> ClusterSpec | None:
        """The cluster as the runtime sees it, built once per verify (None if the model does not resolve, which
        HA1xx findings already say): checks that need a decision ask the runtime with it."""
        try:
            return cluster_spec(self.cluster)
        except SnapshotError:
            return None

    @cached_property
    def nodes(self) -> dict[str, Node]:
        return {node.name: node for node in self.cluster.nodes}

    @cached_property
    def groups(self) -> dict[str, Group]:
        return {group.name: group for group in self.cluster.groups}

    @cached_property
    def networks(self) -> dict[str, Network]:
        return {network.name: network for network in self.cluster.networks}

    @cached_property
    def services(self) -> dict[str, tuple[Network, Service]]:
        """Service label -> (its network, the service)."""
        return {service.name: (network, service)
                for network in self.cluster.networks for service in network.services}

    @cached_property
    def adapters_by_node(self) -> dict[str, list[tuple[Network, Adapter]]]:
        index: dict[str, list[tuple[Network, Adapter]]] = defaultdict(list)
        for network in self.cluster.networks:
            for adapter in network.adapters:
                index[adapter.node].append((network, adapter))
        return index

    @cached_property
    def groups_using_service(self) -> dict[str, list[Group]]:
        index: dict[str, list[Group]] = defaultdict(list)
        for group in self.cluster.groups:
            for label in group.service_ips:
                index[label].append(group)
        return index

    def group_list_items(self, key: str) -> dict[tuple[str, str], Span]:
        """(group, item) -> the span of the item in the group's `key` list, as the model reads it.

        The model keeps the first block of a group name and the first `key` of a block, and so
        does this index; within a list the first mention of an item counts.
        """
        return self.memo(f"groups.items.{key}", lambda: _list_items(self.tree, key))


def _list_items(tree: Block, key: str) -> dict[tuple[str, str], Span]:
    found: dict[tuple[str, str], Span] = {}
    seen_groups = set()
    for block in tree.blocks_of("resource_group"):
        if block.name is None or block.name.text in seen_groups:
            continue
        seen_groups.add(block.name.text)
        attribute = next((a for a in block.attributes if a.key == key), None)
        if attribute is None or not isinstance(attribute.value, ListValue):
            continue
        for item in attribute.value.items:
            if isinstance(item, Scalar):
                found.setdefault((block.name.text, item.text), item.span)
    return found
