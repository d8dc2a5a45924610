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

What the nodes observe, and what they infer from it. `observe_failures`
says what each live node observes under a set of failures (the paths on
which beats reach it, its carriers, which adapters reach a ping target, the
tie-breaker); a node engine observes the same from the reports it holds.
`view_of` makes the partitions of either (two nodes share one over a path
when each hears the other on it) and has each partition `judge` its nodes'
adapters working, failed or in doubt (LANGUAGE.md, "What a node observes of
its adapters"). `assess` computes the same directly for failures the
carrier shows (the common case, and the verifier's hot path), and through
`observe_failures` and `view_of` when a failure keeps the carrier up; a test
holds the two ways equal.

Who can host a group (`can_host`): the node is in the group's list, up, in
a partition that may run groups, and for each of the group's service
addresses has an adapter on that address's network that is not failed, to
keep a group it holds, or working, to take one it does not. Under `replace`
boot and standby adapters both count; under `alias` every adapter is a boot
adapter. Capacity and dependencies are not looked at.

`Status` holds everything about one failure set, computed once by `assess`.
Its `degraded` nodes are those down, without quorum, or with an adapter that
is not working; any other node can host exactly the groups it can host with
nothing failed (`ClusterSpec.static_hosts`), which lets placement skip the
groups a scenario does not touch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, FrozenSet, Iterable, List, Mapping, NamedTuple, Optional, Tuple, Union

import ipaddress
from typing import Any

from runtime.core.failures import Down, FailedLike, expand
from runtime.core.paths import End, Medium, Path, end_works, media, pair_id, paths_by_id
from runtime.core.sets import DisjointSets
from runtime.core.snapshot import AdapterSpec, ClusterSpec, GroupSpec

Partition = Tuple[str, ...]
FAILED, WORKING, DOUBT = "failed", "working", "in doubt"  # the states of an adapter (see `judge`)


class Sight(NamedTuple):
    """What one live node observes of itself, as its report carries it (`membership.Report` has the same fields):
    the heartbeat paths it hears (beats arrive on them), its adapters whose carrier is up, those that reached a
    ping target of their subnet, whether it reaches the tie-breaker disk, and whether it has listened for a
    whole detection time since it started."""

    heard: FrozenSet[str]
    carriers: FrozenSet[str]
    reach: FrozenSet[str] = frozenset()
    tie: bool = False
    settled: bool = True


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
    # (node, network) -> its adapters that are not failed (working or in doubt), file order: what keeps a group
    usable: Mapping[Tuple[str, str], Tuple[AdapterSpec, ...]]
    degraded: FrozenSet[str]  # nodes down, without quorum, with an adapter not working, or refusing a group
    # (group, node): the node's engine failed to acquire or to keep the group, and says so (docs/engine.md)
    refused: FrozenSet[Tuple[str, str]] = frozenset()
    # (node, network) -> its working adapters, file order: what takes a group; None: the same as `usable`
    working: Optional[Mapping[Tuple[str, str], Tuple[AdapterSpec, ...]]] = None

    @property
    def view(self) -> View:
        return View(self.partitions, self.runnable, self.runnable_nodes, self.tie_breaker)

    def usable_adapters(self, node: str, network: str) -> Tuple[AdapterSpec, ...]:
        """The node's adapters on the network that are not failed (working or in doubt), file order."""
        return self.usable.get((node, network), ())

    def working_adapters(self, node: str, network: str) -> Tuple[AdapterSpec, ...]:
        """The node's working adapters on the network, file order."""
        return (self.usable if self.working is None else self.working).get((node, network), ())

    def adapter_state(self, adapter: AdapterSpec) -> str:
        """FAILED, WORKING or DOUBT (a node that is down has every adapter failed)."""
        if adapter not in self.usable.get((adapter.node, adapter.network), ()):
            return FAILED
        if adapter in self.working_adapters(adapter.node, adapter.network):
            return WORKING
        return DOUBT

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


# ------------------------------------------------------------ what the nodes observe, and what they infer from it


def subnet_targets(spec: ClusterSpec) -> Mapping[int, Tuple[str, ...]]:
    """Medium index -> the ping targets of its network that lie inside that subnet (subnets with none left out)."""
    found = spec.derived.get("subnet-targets")
    if found is None:
        found = {}
        for medium in media(spec):
            if medium.kind != "subnet":
                continue
            version, network, prefix = medium.ends[0].adapter.subnet  # type: ignore[union-attr]
            inside = tuple(target for target in spec.network(medium.name).ping_targets
                           if _inside(target, version, network, prefix))
            if inside:
                found[medium.index] = inside
        spec.derived["subnet-targets"] = found
    return found


def _inside(target: str, version: int, network: int, prefix: int) -> bool:
    try:
        address = ipaddress.ip_address(target)
    except ValueError:
        return False
    bits = 32 if version == 4 else 128
    return address.version == version and int(address) >> (bits - prefix) == network >> (bits - prefix)


def observe_failures(spec: ClusterSpec, failed: FailedLike = ()) -> Dict[str, Sight]:
    """What each live node observes under a set of failures (LANGUAGE.md, "Who hears whom" and "What a node
    observes of its adapters"): the paths on which beats reach it (an adapter hears a peer when it receives and
    the peer sends, so hearing can be one-way), its carriers (down only under `adapter:`, `switch:` and its
    node), the adapters that reach a ping target of their subnet (they send and receive: a target never
    fails), and whether it reaches the tie-breaker disk. Every node has listened long enough (`settled`)."""
    down = expand(spec, failed)
    live = [node for node in spec.node_names if down.node_up(node)]
    heard: Dict[str, set] = {node: set() for node in live}
    targets = subnet_targets(spec)
    reach: Dict[str, set] = {node: set() for node in live}
    for medium in media(spec):
        if medium.kind == "subnet":
            senders = [end for end in medium.ends if end.node in heard and down.sends(end.adapter)]
            for end in medium.ends:
                if end.node not in heard or not down.receives(end.adapter):
                    continue
                heard[end.node].update(pair_id(medium, end, other) for other in senders if other.node != end.node)
                if medium.index in targets and down.sends(end.adapter):
                    reach[end.node].add(end.adapter.ifname)  # type: ignore[union-attr]
        else:
            working = [end for end in medium.ends if end.node in heard and end_works(down, medium, end)]
            for end in working:
                heard[end.node].update(pair_id(medium, end, other) for other in working if other.node != end.node)
    tie = spec.heartbeat.tie_breaker
    tie_up = tie is not None and tie in spec.link_by_name and down.link_up(tie)
    return {node: Sight(frozenset(heard[node]),
                        frozenset(adapter.ifname for adapter in spec.adapters_by_node[node] if down.usable(adapter)),
                        frozenset(reach[node]),
                        bool(tie_up and node in spec.link_by_name[tie].nodes and down.connected(node, tie)))
            for node in live}


def view_of(spec: ClusterSpec, sights: Mapping[str, Any],
            veterans: Optional[FrozenSet[str]] = None) -> Tuple[View, Dict[Tuple[str, str], str]]:
    """The view and the state of every live node's adapters, from what the live nodes observe (`Sight`s, or
    reports: anything with the same fields). Two nodes hear each other on a path when each hears the other on
    it (LANGUAGE.md: hearing can be one-way, a partition needs both ways); each partition judges its own
    nodes' adapters from what its members observe together (`judge`). `veterans`: see `judge`."""
    paths = paths_by_id(spec)
    joins = []
    for node, sight in sights.items():
        for path_id in sight.heard:
            path = paths.get(path_id)
            if path is None or node not in path.nodes:
                continue
            peer = path.peer_of(node).node
            other = sights.get(peer)
            if other is not None and path_id in other.heard and spec.node_index[node] < spec.node_index[peer]:
                joins.append((spec.node_index[node], spec.node_index[peer]))
    seen = _view(spec, frozenset(sights), joins, frozenset(node for node, sight in sights.items() if sight.tie))
    states: Dict[Tuple[str, str], str] = {}
    for partition in seen.partitions:
        states.update(judge(spec, sights, partition, veterans))
    return seen, states


def judge(spec: ClusterSpec, sights: Mapping[str, Any], members: Iterable[str],
          veterans: Optional[FrozenSet[str]] = None) -> Dict[Tuple[str, str], str]:
    """The state of each adapter of the members of one partition, from what they observe together (LANGUAGE.md,
    "What a node observes of its adapters"; docs/engine.md, "What a node can infer"). An adapter is

    - FAILED when its carrier is down; or its subnet has ping targets, it reaches none, and another adapter of the
      subnet reaches one (the target is there, this adapter does not get to it) or no peer and it hear each other
      (only frames passing both ways say the subnet works and the target is what is down); or three
      or more adapters of the subnet have carrier, two others hear each other, and either none of the others
      hears it or it hears none of them (the medium works, this adapter does not);
    - WORKING when its carrier is up and it hears a peer, or reaches a target, or has no peer to hear (no
      other member's adapter with carrier on the subnet counts: a member counts once it is settled and, if
      `veterans` is given, one of them: a node that has only just joined is not heard yet, which shows nothing);
    - in DOUBT otherwise: silence that shows nothing about which end failed. Doubt is no evidence.

    Silence counts against an adapter only from peers that count (as above), and only once its own node is a
    veteran; a target unreached counts only once its node has probed for a detection time (it is settled)."""
    members = frozenset(members)
    targets = subnet_targets(spec)
    states: Dict[Tuple[str, str], str] = {}

    def counts(node: str) -> bool:
        return sights[node].settled and (veterans is None or node in veterans)

    for medium in _media_of(spec, members):
        ends = [end for end in medium.ends if end.node in members]
        up = [end for end in ends if end.adapter.ifname in sights[end.node].carriers]  # type: ignore[union-attr]
        for end in ends:
            if end not in up:
                states[end.key] = FAILED
        if not up:
            continue

        def hears(one: End, other: End) -> bool:
            return pair_id(medium, one, other) in sights[one.node].heard

        reaching = {end.key for end in up if medium.index in targets
                    and end.adapter.ifname in sights[end.node].reach}  # type: ignore[union-attr]
        for end in up:
            others = [other for other in up if other.node != end.node and counts(other.node)]
            peers = [other for other in up if other.node != end.node]
            states[end.key] = _adapter_state(
                targeted=medium.index in targets, reaches=end.key in reaching, settled=sights[end.node].settled,
                others_reach=any(other.key in reaching for other in others),
                hears_peer=any(hears(end, other) for other in peers),
                mutual=any(hears(end, other) and hears(other, end) for other in peers),
                heard=any(hears(other, end) for other in others), carriers=len(up), veteran=counts(end.node),
                medium_works=_medium_works_without(end, others, hears), alone=not others)
    return states


def _adapter_state(targeted: bool, reaches: bool, settled: bool, others_reach: bool, hears_peer: bool, mutual: bool,
                   heard: bool, carriers: int, veteran: bool, medium_works: bool, alone: bool) -> str:
    """The state of an adapter with carrier (see `judge`), from what its partition observes of it: its subnet has
    targets and it reaches one, its node is settled, another adapter that counts reaches one; it hears a peer, it
    and a peer hear each other, a peer that counts hears it; how many adapters of the subnet have carrier; its node
    is a veteran; two other adapters hear each other both ways; no peer counts. `judge` and `assess` both ask it."""
    if targeted and not reaches and settled and (others_reach or not mutual):
        return FAILED
    if carriers >= 3 and veteran and medium_works and (not heard or not hears_peer):
        return FAILED
    if hears_peer or reaches or alone:
        return WORKING
    return DOUBT


def _media_of(spec: ClusterSpec, members: FrozenSet[str]) -> List[Medium]:
    return [medium for medium in media(spec)
            if medium.kind == "subnet" and any(end.node in members for end in medium.ends)]


def _medium_works_without(end: End, others: List[End], hears) -> bool:
    """Two of the other adapters hear each other: the subnet passes frames."""
    return any(hears(one, other) and hears(other, one)
               for number, one in enumerate(others) for other in others[number + 1:] if one.node != other.node)


def _assess_inferred(spec: ClusterSpec, down: Down) -> Status:
    """`view_of(observe_failures(down))`, at the cost of what the failures touch (a test holds the two equal).

    A port, direction or switch that passes nothing cuts a path both ways for the partitions, as the failure of
    its adapter or switch would: the partitions are those of that failure. On a subnet no such failure touches,
    every adapter with carrier hears its peers both ways and reaches its targets, so it is working; the others
    are judged as `judge` does, from counts of who sends and receives (a node hears a peer on a subnet when it
    receives and the peer sends; one adapter per node on a subnet), partition by partition."""
    cut = {key for keys in (down.ports, down.deaf, down.mute) for key in keys}
    cut.update(adapter.key for adapter in spec.adapters if adapter.switch in down.hung)
    twin = Down(failed=down.failed, nodes=down.nodes, adapters=down.adapters | frozenset(cut),
                switches=down.switches, links=down.links, linkends=down.linkends)
    carried = assess(spec, twin)
    seen = carried.view
    targets = subnet_targets(spec)
    states: Dict[Tuple[str, str], str] = {}
    for adapter in spec.adapters:
        if adapter.node not in down.nodes:
            states[adapter.key] = WORKING if down.usable(adapter) else FAILED
    for medium in media(spec):
        if medium.kind != "subnet" or not any(end.key in cut for end in medium.ends):
            continue
        sides: Dict[Optional[Partition], List[AdapterSpec]] = {}
        for end in medium.ends:
            if end.key in states and down.usable(end.adapter):  # type: ignore[arg-type]
                sides.setdefault(seen.partition_of(end.node), []).append(end.adapter)  # type: ignore[arg-type]
        for up in sides.values():
            tx = [down.sends(adapter) for adapter in up]
            rx = [down.receives(adapter) for adapter in up]
            duplex = [send and hear for send, hear in zip(tx, rx)]
            reach = duplex if medium.index in targets else [False] * len(up)
            sending, hearing, both, reaching = sum(tx), sum(rx), sum(duplex), sum(reach)
            for number, adapter in enumerate(up):
                states[adapter.key] = _adapter_state(
                    targeted=medium.index in targets, reaches=reach[number], settled=True,
                    others_reach=reaching - reach[number] > 0, hears_peer=rx[number] and sending - tx[number] > 0,
                    mutual=duplex[number] and both > 1, heard=tx[number] and hearing - rx[number] > 0,
                    carriers=len(up), veteran=True, medium_works=both - duplex[number] >= 2, alone=len(up) == 1)
    return status_from(spec, seen, down, states)


def status_from(spec: ClusterSpec, seen: View, down: Down, states: Mapping[Tuple[str, str], str],
                refused: FrozenSet[Tuple[str, str]] = frozenset()) -> Status:
    """A `Status` from a view and the states of the live nodes' adapters (`view_of`), and the groups nodes
    refuse: an adapter that is not failed keeps a group, a working one takes it."""
    usable: Dict[Tuple[str, str], List[AdapterSpec]] = {}
    working: Dict[Tuple[str, str], List[AdapterSpec]] = {}
    degraded = set(down.nodes)
    degraded.update(node for _, node in refused)
    for adapter in spec.adapters:
        state = states.get(adapter.key, FAILED)
        if state != FAILED:
            usable.setdefault((adapter.node, adapter.network), []).append(adapter)
        if state == WORKING:
            working.setdefault((adapter.node, adapter.network), []).append(adapter)
        elif adapter.node not in down.nodes:
            degraded.add(adapter.node)
    live = frozenset(spec.node_names).difference(down.nodes)
    degraded.update(live - seen.runnable_nodes)
    kept = {key: tuple(items) for key, items in usable.items()}
    taken = {key: tuple(items) for key, items in working.items()}
    return Status(down=down, partitions=seen.partitions, runnable=seen.runnable, runnable_nodes=seen.runnable_nodes,
                  tie_breaker=seen.tie_breaker, usable=kept, degraded=frozenset(degraded), refused=refused,
                  working=None if taken == kept else taken)


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
    if down.inferred:
        return _assess_inferred(spec, down)
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


def partitions(spec: ClusterSpec, failed: StatusLike = ()) -> Tuple[Partition, ...]:
    """The live nodes grouped by who hears whom, each in file order, ordered by first node."""
    return assess(spec, failed).partitions


def quorum_partitions(spec: ClusterSpec, failed: StatusLike = ()) -> Tuple[Partition, ...]:
    """The partitions that may run groups (see the module docstring)."""
    return assess(spec, failed).runnable


def _group(spec: ClusterSpec, group: Union[str, GroupSpec]) -> GroupSpec:
    return spec.group(group) if isinstance(group, str) else group


def can_host(spec: ClusterSpec, status: StatusLike, group: Union[str, GroupSpec], node: str,
             keep: bool = False) -> bool:
    """Whether the node can host the group under the failures (LANGUAGE.md, "Who can host a group"): to keep
    it (`keep`: the node holds it) an adapter that is not failed serves, to take it a working one.

    `status` is best a `Status` from `assess` (computed once per failure set);
    failed component names or a `Down` work too, at the cost of assessing them.
    """
    return can_host_now(spec, assess(spec, status), _group(spec, group), node, keep)


def can_host_now(spec: ClusterSpec, state: Status, spec_group: GroupSpec, node: str, keep: bool = False) -> bool:
    """`can_host` for callers that hold a `Status` and a `GroupSpec` already (placement's inner loops)."""
    if node not in state.degraded:
        return node in spec.static_hosts[spec_group.name]
    if node not in state.runnable_nodes or node not in spec_group.nodes:
        return False
    if state.refused and (spec_group.name, node) in state.refused:
        return False
    adapters = state.usable if keep or state.working is None else state.working
    return all(adapters.get((node, network)) for network in spec.group_networks[spec_group.name])


def hosts(spec: ClusterSpec, status: StatusLike, group: Union[str, GroupSpec],
          holding: Iterable[str] = ()) -> Tuple[str, ...]:
    """The nodes of the group's list that can host it, in priority order: those `holding` it can keep it, the
    others can take it."""
    spec_group = _group(spec, group)
    state = assess(spec, status)
    if not state.degraded:
        return tuple(node for node in spec_group.nodes if node in spec.static_hosts[spec_group.name])
    holding = frozenset(holding)
    return tuple(node for node in spec_group.nodes
                 if can_host_now(spec, state, spec_group, node, node in holding))


def why_not(spec: ClusterSpec, status: StatusLike, group: Union[str, GroupSpec], node: str,
            keep: bool = False) -> Tuple[str, str]:
    """Why the node cannot host the group (`keep`: keep it, as its holder), as (kind, words): kind is `list`,
    `down`, `quorum`, `failed` or `network`; ("", "") when it can."""
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
        if not (state.usable_adapters(node, network) if keep else state.working_adapters(node, network)):
            missing.setdefault(network, []).append(label)
    if not missing:
        return "", ""
    return "network", "; ".join(f"{', '.join(labels)} needs {_adapter_wanted(state, node, network, keep)}"
                                for network, labels in missing.items())


def _adapter_wanted(state: Status, node: str, network: str, keep: bool) -> str:
    doubtful = [adapter.ifname for adapter in state.usable_adapters(node, network)]
    if keep or not doubtful:
        return f"an adapter on {network}"
    return (f"a working adapter on {network} ({', '.join(doubtful)} "
            f"{'is' if len(doubtful) == 1 else 'are'} in doubt: silent, with no evidence of which end failed)")
