"""Who hears whom, who may run groups, who can host a group (LANGUAGE.md).

Hearing:
- Two adapters hear each other when both are up, their nodes are up, both
  switches are up, and they are on the same network and the same subnet:
  equal `(IP version, network address, prefix)`, so 10.0.0.1/24 and
  10.0.0.2/25 do not hear each other. The switches of one network are taken
  to be interconnected. Service addresses add no path. Adapters are bucketed
  by `(network, subnet)`, so this is linear in the number of adapters.
- Two nodes hear each other over a link when the link is up, both nodes are
  up, are named by the link, and for a `disk` link both connections
  (linkends) are up. A disk link joins every such node at once.
- Partitions are the connected components of the live nodes (union-find).
  Each partition is a tuple of node names in file order; partitions are
  ordered by their first node.

Who may run groups (`quorum_partitions`):
- `quorum = none`: every partition.
- `quorum = majority`: a partition whose size is more than half of ALL nodes
  in the file, or exactly half while it holds the tie-breaker.
- The tie-breaker is held by the partition with a node that is up, named by
  the `tie_breaker` link and connected to it (for a disk: its linkend up),
  while that link is up. At most one partition can hold it, since the nodes
  reaching one disk hear each other through it. A tie-breaker naming a
  point-to-point link (HA104, an error) is read the same way: a live node on
  the live link holds it.

Who can host a group (`can_host`): the node is in the group's list, up, in
a partition that may run groups, and for each of the group's service
addresses has a usable adapter (up, node up, switch up) on that address's
network. Under `replace` boot and standby adapters both count; under
`alias` every adapter is a boot adapter; either way any usable adapter of
the node on that network counts. Capacity and dependencies are not looked at.

The functions take the failed components as names, as `Down` from
`failures.expand`, or (`can_host`, `hosts`) as a `Status` from `assess`,
which computes everything once for one failure set.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, FrozenSet, List, Mapping, Optional, Tuple, Union

from runtime.failures import Down, FailedLike, expand
from runtime.snapshot import AdapterSpec, ClusterSpec, GroupSpec

Partition = Tuple[str, ...]


@dataclass(frozen=True)
class Status:
    """The cluster under one failure set: what is down, who hears whom, who may run groups."""

    down: Down
    partitions: Tuple[Partition, ...]  # the live nodes, by who hears whom
    runnable: Tuple[Partition, ...]  # the partitions that may run groups
    runnable_nodes: FrozenSet[str]
    tie_breaker: Optional[Partition]  # the partition holding the tie-breaker, if any
    usable: Mapping[Tuple[str, str], Tuple[AdapterSpec, ...]]  # (node, network) -> its usable adapters, file order

    def usable_adapters(self, node: str, network: str) -> Tuple[AdapterSpec, ...]:
        return self.usable.get((node, network), ())

    def may_run(self, partition: Partition) -> bool:
        return partition in self.runnable


StatusLike = Union[Status, FailedLike]


def _find(parent: List[int], item: int) -> int:
    root = item
    while parent[root] != root:
        root = parent[root]
    while parent[item] != root:
        parent[item], item = root, parent[item]
    return root


def _union(parent: List[int], first: int, second: int) -> None:
    a, b = _find(parent, first), _find(parent, second)
    if a != b:
        if a < b:
            parent[b] = a
        else:
            parent[a] = b


def _partitions(cluster: ClusterSpec, down: Down) -> Tuple[Partition, ...]:
    index = cluster.node_index
    parent = list(range(len(cluster.node_names)))
    first_on_subnet: Dict[Tuple[str, Tuple[int, int, int]], int] = {}
    for adapter in cluster.adapters:
        if not down.usable(adapter):
            continue
        node = index[adapter.node]
        key = (adapter.network, adapter.subnet)
        seen = first_on_subnet.setdefault(key, node)
        if seen != node:
            _union(parent, seen, node)
    for link in cluster.links:
        if not down.link_up(link.name):
            continue
        ends = [index[node] for node in link.nodes if down.connected(node, link.name)]
        for end in ends[1:]:
            _union(parent, ends[0], end)
    groups: Dict[int, List[str]] = {}
    for number, name in enumerate(cluster.node_names):
        if down.node_up(name):
            groups.setdefault(_find(parent, number), []).append(name)
    return tuple(sorted((tuple(members) for members in groups.values()), key=lambda part: index[part[0]]))


def _tie_breaker(cluster: ClusterSpec, down: Down, parts: Tuple[Partition, ...]) -> Optional[Partition]:
    name = cluster.heartbeat.tie_breaker
    if name is None or not down.link_up(name):
        return None
    reaching = {node for node in cluster.link(name).nodes if down.connected(node, name)}
    for part in parts:
        if reaching.intersection(part):
            return part
    return None


def assess(cluster: ClusterSpec, failed: StatusLike = ()) -> Status:
    """Everything topology says about one failure set, computed once."""
    if isinstance(failed, Status):
        return failed
    down = expand(cluster, failed)
    parts = _partitions(cluster, down)
    holder = _tie_breaker(cluster, down, parts)
    if cluster.heartbeat.quorum == "none":
        runnable = parts
    else:
        total = len(cluster.node_names)
        runnable = tuple(part for part in parts
                         if 2 * len(part) > total or (2 * len(part) == total and part == holder))
    usable: Dict[Tuple[str, str], List[AdapterSpec]] = {}
    for adapter in cluster.adapters:
        if down.usable(adapter):
            usable.setdefault((adapter.node, adapter.network), []).append(adapter)
    return Status(down=down, partitions=parts, runnable=runnable,
                  runnable_nodes=frozenset(node for part in runnable for node in part), tie_breaker=holder,
                  usable={key: tuple(items) for key, items in usable.items()})


def partitions(cluster: ClusterSpec, failed: StatusLike = ()) -> Tuple[Partition, ...]:
    """The live nodes grouped by who hears whom, each in file order, ordered by first node."""
    if isinstance(failed, Status):
        return failed.partitions
    return _partitions(cluster, expand(cluster, failed))


def quorum_partitions(cluster: ClusterSpec, failed: StatusLike = ()) -> Tuple[Partition, ...]:
    """The partitions that may run groups (see the module docstring)."""
    return assess(cluster, failed).runnable


def _group(cluster: ClusterSpec, group: Union[str, GroupSpec]) -> GroupSpec:
    return cluster.group(group) if isinstance(group, str) else group


def can_host(cluster: ClusterSpec, status: StatusLike, group: Union[str, GroupSpec], node: str) -> bool:
    """Whether the node can host the group under the failures (LANGUAGE.md, "Who can host a group").

    `status` is best a `Status` from `assess` (computed once per failure set);
    failed component names or a `Down` work too, at the cost of assessing them.
    """
    spec = _group(cluster, group)
    state = assess(cluster, status)
    if node not in spec.nodes or node not in state.runnable_nodes:
        return False
    for label in spec.service_ips:
        if not state.usable.get((node, cluster.service(label).network)):
            return False
    return True


def hosts(cluster: ClusterSpec, status: StatusLike, group: Union[str, GroupSpec]) -> Tuple[str, ...]:
    """The nodes of the group's list that can host it, in priority order."""
    spec = _group(cluster, group)
    state = assess(cluster, status)
    return tuple(node for node in spec.nodes if can_host(cluster, state, spec, node))
