"""Who hears whom, who may run groups, who can host a group (LANGUAGE.md).

`view(spec, live, heard, tie_reach)` is the one definition of membership:
the live nodes, the heartbeat paths heard between them (see `paths`) and the
nodes that reach the tie-breaker disk make partitions, and quorum says which
partitions may run groups. The node engine calls it with the paths its
failure detector hears; the verifier and `halang simulate` call `assess`,
which is the view of the paths a set of failures leaves alive:

- the live nodes are those no failure takes down;
- a path is alive when both its ends work (`paths.end_works`); every pair of
  working ends of one medium is an alive path, so joining each medium's
  working ends gives exactly the partitions of all alive paths (a test holds
  `assess` equal to `view` of the alive paths listed one by one);
- the tie-breaker is reached by the live nodes whose connection to the
  `tie_breaker` disk is up, while that link is up.

Partitions are the connected components of the live nodes, each a tuple in
file order, ordered by their first node. A node that hears nobody is a
partition of one.

Who may run groups (`quorum_holds`):
- `quorum = none`: every partition.
- `quorum = majority`: a partition holding more than half of ALL nodes in
  the file, or exactly half while it holds the tie-breaker (a node of it
  reaches the tie-breaker disk). At most one partition can: two that both
  reach the disk hear each other through it. A tie-breaker naming a
  point-to-point link (HA104, an error) is read the same way: a live node on
  the live link holds it.

Who can host a group (`can_host`): the node is in the group's list, up, in
a partition that may run groups, and for each of the group's service
addresses has a usable adapter (up, node up, switch up) on that address's
network. Under `replace` boot and standby adapters both count; under
`alias` every adapter is a boot adapter. Capacity and dependencies are not
looked at.

`Status` holds everything about one failure set, computed once by `assess`.
Its `degraded` nodes are those down, without quorum, or with an adapter that
is not usable; any other node can host exactly the groups it can host with
nothing failed (`ClusterSpec.static_hosts`), which lets placement skip the
groups a scenario does not touch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, FrozenSet, Iterable, List, Mapping, Optional, Tuple, Union

from runtime.failures import Down, FailedLike, expand
from runtime.paths import End, Path, end_works, media
from runtime.sets import DisjointSets
from runtime.snapshot import AdapterSpec, ClusterSpec, GroupSpec

Partition = Tuple[str, ...]


@dataclass(frozen=True)
class View:
    """What a set of heard paths says: the partitions, and which of them may run groups."""

    partitions: Tuple[Partition, ...]
    runnable: Tuple[Partition, ...]
    runnable_nodes: FrozenSet[str]
    tie_breaker: Optional[Partition]  # the partition holding the tie-breaker, if any

    def may_run(self, partition: Partition) -> bool:
        return partition in self.runnable

    def partition_of(self, node: str) -> Optional[Partition]:
        for partition in self.partitions:
            if node in partition:
                return partition
        return None


@dataclass(frozen=True)
class Status:
    """The cluster under one failure set: what is down, who hears whom, who may run groups."""

    down: Down
    partitions: Tuple[Partition, ...]  # the live nodes, by who hears whom
    runnable: Tuple[Partition, ...]  # the partitions that may run groups
    runnable_nodes: FrozenSet[str]
    tie_breaker: Optional[Partition]
    usable: Mapping[Tuple[str, str], Tuple[AdapterSpec, ...]]  # (node, network) -> its usable adapters, file order
    degraded: FrozenSet[str]  # nodes down, without quorum, with an unusable adapter, or refusing a group
    # (group, node): the node's engine failed to acquire or to keep the group, and says so (docs/engine.md)
    refused: FrozenSet[Tuple[str, str]] = frozenset()

    @property
    def view(self) -> View:
        return View(self.partitions, self.runnable, self.runnable_nodes, self.tie_breaker)

    def usable_adapters(self, node: str, network: str) -> Tuple[AdapterSpec, ...]:
        return self.usable.get((node, network), ())

    def may_run(self, partition: Partition) -> bool:
        return partition in self.runnable

    def partition_of(self, node: str) -> Optional[Partition]:
        return self.view.partition_of(node)


StatusLike = Union[Status, FailedLike]


def quorum_holds(spec: ClusterSpec, size: int, holds_tie_breaker: bool) -> bool:
    """Whether a partition of `size` nodes may run groups (see the module docstring)."""
    if spec.heartbeat.quorum == "none":
        return True
    total = len(spec.node_names)
    return 2 * size > total or (2 * size == total and holds_tie_breaker)


def view(spec: ClusterSpec, live: Iterable[str], heard: Iterable[Union[Path, Tuple[str, str]]],
         tie_reach: Iterable[str] = ()) -> View:
    """The partitions the heard paths make among the live nodes, and which may run groups.

    `heard` holds paths (`paths.Path`) or pairs of node names; a path with an end on a node that is
    not live joins nothing. `tie_reach`: the live nodes that reach the tie-breaker disk.
    """
    live = frozenset(live)
    index = spec.node_index
    joins = []
    for path in heard:
        a, b = path.nodes if isinstance(path, Path) else path
        if a in live and b in live:
            joins.append((index[a], index[b]))
    return _view(spec, live, joins, frozenset(tie_reach) & live)


def _view(spec: ClusterSpec, live: FrozenSet[str], joins: Iterable[Iterable[int]], tie_reach: FrozenSet[str]) -> View:
    """`view`, from groups of live nodes (by index) that each hear one another."""
    names = spec.node_names
    sets = DisjointSets(len(names))
    for joined in joins:
        sets.union_all(joined)
    parts = tuple(tuple(names[item] for item in members)
                  for members in sets.groups(spec.node_index[name] for name in names if name in live))
    holder = None
    if tie_reach:
        holder = next((part for part in parts if tie_reach.intersection(part)), None)
    runnable = tuple(part for part in parts if quorum_holds(spec, len(part), part is holder))
    return View(parts, runnable, frozenset(node for part in runnable for node in part), holder)


class _Layout:
    """What `assess` needs of the spec, worked out once: each medium's nodes (by index) and how to find the
    ends a failure can break, and the usable adapters with nothing failed."""

    def __init__(self, spec: ClusterSpec):
        index = spec.node_index
        self.media = media(spec)
        self.members: List[FrozenSet[int]] = [frozenset(index[end.node] for end in medium.ends)
                                              for medium in self.media]
        self.ends: Dict[Tuple[int, str], List[End]] = {}
        self.medium_of_adapter: Dict[Tuple[str, str], int] = {}
        self.on_switch: Dict[str, List[AdapterSpec]] = {}
        self.medium_of_link: Dict[str, int] = {}
        for medium in self.media:
            for end in medium.ends:
                self.ends.setdefault((medium.index, end.node), []).append(end)
                if end.adapter is not None:
                    self.medium_of_adapter[end.adapter.key] = medium.index
            if medium.kind != "subnet":
                self.medium_of_link[medium.name] = medium.index
        for adapter in spec.adapters:
            self.on_switch.setdefault(adapter.switch, []).append(adapter)
        usable: Dict[Tuple[str, str], List[AdapterSpec]] = {}
        for adapter in spec.adapters:
            usable.setdefault((adapter.node, adapter.network), []).append(adapter)
        self.usable = {key: tuple(items) for key, items in usable.items()}
        tie = spec.heartbeat.tie_breaker
        self.tie_medium = self.medium_of_link.get(tie) if tie is not None else None


def _layout(spec: ClusterSpec) -> _Layout:
    found = spec.derived.get("assess-layout")
    if found is None:
        found = spec.derived["assess-layout"] = _Layout(spec)
    return found


def assess(spec: ClusterSpec, failed: StatusLike = ()) -> Status:
    """Everything topology says about one failure set, computed once: the view of the paths it leaves alive.

    The nodes of each medium whose end still works hear one another (every pair of them is an alive path);
    only the ends a failure can touch are looked at, the rest of each medium is taken as it is.
    """
    if isinstance(failed, Status):
        return failed
    down = expand(spec, failed)
    if not down.failed:
        cached = spec.derived.get("status:nothing-failed")
        if cached is not None:
            return cached
    layout = _layout(spec)
    index = spec.node_index
    touched: Dict[int, set] = {}  # medium -> nodes (up) with an end there that a failure may have broken
    broken_adapters: List[AdapterSpec] = []
    for key in down.adapters:
        if key[0] not in down.nodes:
            broken_adapters.append(spec.adapter_by_key[key])
    for switch in down.switches:
        broken_adapters.extend(adapter for adapter in layout.on_switch.get(switch, ())
                               if adapter.node not in down.nodes)
    for adapter in broken_adapters:
        touched.setdefault(layout.medium_of_adapter[adapter.key], set()).add(adapter.node)
    for node, link in down.linkends:
        if node not in down.nodes:
            touched.setdefault(layout.medium_of_link[link], set()).add(node)
    gone = frozenset(index[node] for node in down.nodes)
    cut = {layout.medium_of_link[link] for link in down.links}
    joins = []
    tie_reach: FrozenSet[str] = frozenset()
    for number, members in enumerate(layout.members):
        if number in cut:
            continue
        medium = layout.media[number]
        lost = {index[node] for node in touched.get(number, ())
                if not any(end_works(down, medium, end) for end in layout.ends[(number, node)])}
        working = members - gone - lost if gone or lost else members
        joins.append(working)
        if number == layout.tie_medium:
            tie_reach = frozenset(spec.node_names[item] for item in working)
    live = frozenset(spec.node_names).difference(down.nodes)
    seen = _view(spec, live, joins, tie_reach)
    if down.nodes or broken_adapters:
        usable = dict(layout.usable)
        affected = {(adapter.node, adapter.network) for adapter in broken_adapters}
        for node in down.nodes:
            for adapter in spec.adapters_by_node[node]:
                usable.pop((node, adapter.network), None)
        for key in affected:
            left = tuple(adapter for adapter in layout.usable[key] if down.usable(adapter))
            if left:
                usable[key] = left
            else:
                del usable[key]
    else:
        usable = layout.usable
    degraded = set(down.nodes)
    degraded.update(adapter.node for adapter in broken_adapters)
    degraded.update(live - seen.runnable_nodes)
    status = Status(down=down, partitions=seen.partitions, runnable=seen.runnable,
                    runnable_nodes=seen.runnable_nodes, tie_breaker=seen.tie_breaker,
                    usable=usable, degraded=frozenset(degraded))
    if not down.failed:
        spec.derived["status:nothing-failed"] = status
    return status


def status_of(spec: ClusterSpec, seen: View, down: Down,
              usable: Mapping[Tuple[str, str], Tuple[AdapterSpec, ...]],
              refused: FrozenSet[Tuple[str, str]] = frozenset()) -> Status:
    """A `Status` from a view and the usable adapters a node engine observed (`assess` makes its own), and the
    groups nodes refuse."""
    degraded = set(down.nodes)
    degraded.update(node for _, node in refused)
    degraded.update(node for node, _ in down.adapters)
    live = frozenset(spec.node_names).difference(down.nodes)
    degraded.update(live - seen.runnable_nodes)
    return Status(down=down, partitions=seen.partitions, runnable=seen.runnable, runnable_nodes=seen.runnable_nodes,
                  tie_breaker=seen.tie_breaker, usable=usable, degraded=frozenset(degraded), refused=refused)


def partitions(spec: ClusterSpec, failed: StatusLike = ()) -> Tuple[Partition, ...]:
    """The live nodes grouped by who hears whom, each in file order, ordered by first node."""
    return assess(spec, failed).partitions


def quorum_partitions(spec: ClusterSpec, failed: StatusLike = ()) -> Tuple[Partition, ...]:
    """The partitions that may run groups (see the module docstring)."""
    return assess(spec, failed).runnable


def _group(spec: ClusterSpec, group: Union[str, GroupSpec]) -> GroupSpec:
    return spec.group(group) if isinstance(group, str) else group


def can_host(spec: ClusterSpec, status: StatusLike, group: Union[str, GroupSpec], node: str) -> bool:
    """Whether the node can host the group under the failures (LANGUAGE.md, "Who can host a group").

    `status` is best a `Status` from `assess` (computed once per failure set);
    failed component names or a `Down` work too, at the cost of assessing them.
    """
    return can_host_now(spec, assess(spec, status), _group(spec, group), node)


def can_host_now(spec: ClusterSpec, state: Status, spec_group: GroupSpec, node: str) -> bool:
    """`can_host` for callers that hold a `Status` and a `GroupSpec` already (placement's inner loops)."""
    if node not in state.degraded:
        return node in spec.static_hosts[spec_group.name]
    if node not in state.runnable_nodes or node not in spec_group.nodes:
        return False
    if state.refused and (spec_group.name, node) in state.refused:
        return False
    usable = state.usable
    return all(usable.get((node, network)) for network in spec.group_networks[spec_group.name])


def hosts(spec: ClusterSpec, status: StatusLike, group: Union[str, GroupSpec]) -> Tuple[str, ...]:
    """The nodes of the group's list that can host it, in priority order."""
    spec_group = _group(spec, group)
    state = assess(spec, status)
    if not state.degraded:
        return tuple(node for node in spec_group.nodes if node in spec.static_hosts[spec_group.name])
    return tuple(node for node in spec_group.nodes if can_host_now(spec, state, spec_group, node))


def why_not(spec: ClusterSpec, status: StatusLike, group: Union[str, GroupSpec], node: str) -> Tuple[str, str]:
    """Why the node cannot host the group, as (kind, words): kind is `list`, `down`, `quorum`, `failed` or
    `network`;
    ("", "") when it can."""
    spec_group = _group(spec, group)
    state = assess(spec, status)
    if node not in spec_group.nodes:
        return "list", f"{node} is not in the node list of {spec_group.name}"
    if node in state.down.nodes:
        return "down", f"{node} is down"
    if node not in state.runnable_nodes:
        part = state.partition_of(node) or (node,)
        return "quorum", (f"{node} has no quorum (its partition holds {len(part)} of "
                          f"{len(spec.node_names)} nodes)")
    if (spec_group.name, node) in state.refused:
        return "failed", f"{spec_group.name} failed on {node} (its resources could not be acquired or kept)"
    missing: Dict[str, List[str]] = {}
    for label in spec_group.service_ips:
        network = spec.service(label).network
        if not state.usable.get((node, network)):
            missing.setdefault(network, []).append(label)
    if not missing:
        return "", ""
    return "network", "; ".join(f"{', '.join(labels)} needs an adapter on {network}"
                                for network, labels in missing.items())
