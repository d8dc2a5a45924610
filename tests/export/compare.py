"""Where halang and Pacemaker place groups, step by step, on the same node failures and returns.

halang's side is `halang.simulate.simulate` (the runtime's `transition`);
Pacemaker's is `crm_simulate` on the exported CIB (crm.Simulator), told
whether the cluster is quorate by Corosync's votequorum rule applied to the
exported corosync.conf (`Votequorum`): crm_simulate does not run Corosync.

The sequences, from the startup placement: every node failing, then coming
back; every ordered pair of nodes failing one after the other, then coming
back in the same order; every pair failing at once, then coming back one at
a time.

What is compared is the shared policy subset; each remaining difference
has a rule, named in `RULES` and explained in docs/pacemaker.md, that takes
the groups it concerns out of the comparison, and the comparison records
every use of a rule:

- `dependencies`: a group with `after`, `same_node_as` or
  `different_node_from`, or one such a dependency names (HA810);
- `least_loaded`: a group with `fallover = least_loaded` (HA808);
- `bring_offline`: a group on one node with `fallover = bring_offline` (HA809);
- `quorum`: from the first step where halang's quorum and Corosync's
  differ, every group, to the end of the sequence (HA806, wait_for_all);
- `home_node`: a `home_node` group offline before a step after which its
  home node cannot host it while another node of its list can, from that
  step to the end of the sequence;
- `capacity`: the groups that require capacity, from the first step where
  halang's placement overloads a node, or where a group that requires
  capacity is out of the comparison by another rule (Pacemaker may run it
  elsewhere, taking room from the others), to the end of the sequence (HA811).

A group Pacemaker shows on a failed node it could not fence (no quorum)
counts as offline: the node is down, Pacemaker only cannot prove it.
"""

from __future__ import annotations

import itertools
import random
import re
from dataclasses import dataclass, field
from pathlib import Path

from halang.export.pacemaker import export_pacemaker
from halang.model.cluster import Cluster
from halang.model.spec import cluster_spec
from halang.simulate import Action, simulate
from runtime.core.topology import can_host_now
from tests.export.crm import Simulator, placement, unclean_nodes

RULES = ("dependencies", "least_loaded", "bring_offline", "quorum", "home_node", "capacity")


def sequences(nodes: list[str], ordered_pairs: int | None = None,
              seed: int = 0) -> list[tuple[tuple[str, tuple[str, ...]], ...]]:
    """Each a tuple of steps (verb, nodes). `ordered_pairs` limits the pairs failing one after the other to that
    many, drawn with `seed` (None: every one)."""
    found = []
    for node in nodes:
        found.append((("fail", (node,)), ("recover", (node,))))
    pairs = list(itertools.permutations(nodes, 2))
    if ordered_pairs is not None and ordered_pairs < len(pairs):
        pairs = random.Random(seed).sample(pairs, ordered_pairs)
    for first, second in pairs:
        found.append((("fail", (first,)), ("fail", (second,)), ("recover", (first,)), ("recover", (second,))))
    for first, second in itertools.combinations(nodes, 2):
        found.append((("fail", (first, second)), ("recover", (first,)), ("recover", (second,))))
    return found


class Votequorum:
    """Corosync's votequorum on the exported corosync.conf: one vote a node; quorate with more than half of them;
    with `two_node: 1`, one of two is enough, but only once both have been seen together since the cluster was
    last entirely down (wait_for_all, which two_node turns on)."""

    def __init__(self, corosync_conf: str):
        self.nodes = re.findall(r"^\s*name: (\S+)$", corosync_conf, flags=re.MULTILINE)
        self.two_node = re.search(r"^\s*two_node: 1$", corosync_conf, flags=re.MULTILINE) is not None
        self.waiting = False

    def quorate(self, live: set[str]) -> bool:
        if not live:
            self.waiting = self.two_node
            return False
        if len(live) == len(self.nodes):
            self.waiting = False
        if self.two_node:
            return not self.waiting
        return len(live) > len(self.nodes) // 2


@dataclass
class Comparison:
    steps: int = 0  # crm_simulate steps run
    compared: int = 0  # (group, step) pairs compared
    excluded: dict[str, int] = field(default_factory=lambda: dict.fromkeys(RULES, 0))  # (group, step) pairs
    differences: list[str] = field(default_factory=list)


def static_exclusions(cluster: Cluster) -> dict[str, str]:
    """Group -> the rule that keeps it out of every comparison."""
    named = {other for group in cluster.groups for other in (*group.after, *group.same_node_as,
                                                            *group.different_node_from)}
    out = {}
    for group in cluster.groups:
        if group.after or group.same_node_as or group.different_node_from or group.name in named:
            out[group.name] = "dependencies"
        elif group.fallover == "least_loaded":
            out[group.name] = "least_loaded"
        elif group.fallover == "bring_offline" and not group.concurrent:
            out[group.name] = "bring_offline"
    return out


def compare(cluster: Cluster, source, workdir: Path, ordered_pairs: int | None = None, seed: int = 0) -> Comparison:
    """Replay the sequences on both sides; a difference outside the rules is listed in `differences`. A prefix
    several sequences share is simulated once."""
    export = export_pacemaker(cluster, source)
    spec = cluster_spec(cluster)
    result = Comparison()
    simulator = Simulator(workdir, export.files["cib.xml"])
    names = [node.name for node in cluster.nodes]
    start, printed = simulator.run(simulator.initial, up=names)
    result.steps += 1
    static = static_exclusions(cluster)
    first = simulate(spec, [])
    _compare_step(result, "startup", first.start.placement, placement(printed), set(), static,
                  _capacity_cascade(cluster, static, {}))
    saved: dict[tuple, tuple] = {}  # steps so far -> (state file, crm_simulate's XML)
    for steps in sequences(names, ordered_pairs, seed):
        votes = Votequorum(export.files["corosync.conf"])
        halang = simulate(spec, [Action(verb, tuple(f"node:{n}" for n in nodes)) for verb, nodes in steps])
        state, live = start, set(names)
        dropped: dict[str, str] = {}  # group -> the rule that took it out for the rest of this sequence
        before = first.start
        for number, ((verb, nodes), after) in enumerate(zip(steps, halang.steps), start=1):
            if all(group.name in static or group.name in dropped for group in cluster.groups):
                break  # nothing left to compare in this sequence
            live = live - set(nodes) if verb == "fail" else live | set(nodes)
            quorate = votes.quorate(live)
            prefix = steps[:number]
            if prefix not in saved:
                saved[prefix] = simulator.run(state, fail=nodes if verb == "fail" else (),
                                              up=nodes if verb == "recover" else (), quorum=quorate)
                result.steps += 1
            state, printed = saved[prefix]
            # quorum = none is no-quorum-policy=ignore: Pacemaker runs groups whatever votequorum says.
            may_run = quorate or cluster.heartbeat.quorum == "none"
            if (after.status.runnable_nodes == frozenset(live)) != may_run:
                dropped.update((group.name, "quorum") for group in cluster.groups if group.name not in dropped)
            for group in cluster.groups:
                if group.name in dropped or group.name in static or group.startup != "home_node":
                    continue
                hosts = [node for node in group.nodes if can_host_now(spec, after.status, spec.group(group.name), node)]
                if not before.placement.online(group.name) and group.nodes[0] not in hosts and hosts:
                    dropped[group.name] = "home_node"
            if any(finding.code in ("HA501", "HA502") for finding in after.findings):
                dropped.update((group.name, "capacity") for group in cluster.groups
                               if group.name not in dropped and _requires(group))
            dropped = _capacity_cascade(cluster, static, dropped)
            where = " then ".join(f"{verb} {'+'.join(nodes)}" for verb, nodes in prefix)
            pacemaker = placement(printed)
            gone = unclean_nodes(printed)
            pacemaker = {name: tuple(node for node in nodes if node not in gone) for name, nodes in pacemaker.items()}
            _compare_step(result, where, after.placement, pacemaker, gone, static, dropped)
            before = after
    return result


def _requires(group) -> bool:
    return bool(group.requires.cpu or group.requires.memory)


def _capacity_cascade(cluster: Cluster, static: dict, dropped: dict) -> dict:
    """`dropped` with every group that requires capacity, once one of them is out of the comparison."""
    if any(_requires(group) and (group.name in static or group.name in dropped) for group in cluster.groups):
        return {**dropped, **{group.name: "capacity" for group in cluster.groups
                              if _requires(group) and group.name not in static and group.name not in dropped}}
    return dropped


def _compare_step(result: Comparison, where: str, halang, pacemaker: dict, gone: set, static: dict,
                  dropped: dict) -> None:
    for name, nodes in halang.groups:
        rule = static.get(name) or dropped.get(name)
        if rule:
            result.excluded[rule] += 1
            continue
        result.compared += 1
        if tuple(sorted(nodes)) != pacemaker.get(name, ()):
            result.differences.append(f"after {where}: {name} on {', '.join(nodes) or 'nothing'} in halang, "
                                      f"on {', '.join(pacemaker.get(name, ())) or 'nothing'} in Pacemaker")


def replay(cluster: Cluster, source, workdir: Path, steps) -> tuple[dict, dict]:
    """One sequence on both sides, with no rule applied: where every group runs after its last step in halang
    and in Pacemaker (group -> nodes, offline as ())."""
    export = export_pacemaker(cluster, source)
    spec = cluster_spec(cluster)
    simulator = Simulator(workdir, export.files["cib.xml"])
    names = [node.name for node in cluster.nodes]
    state, printed = simulator.run(simulator.initial, up=names)
    votes, live = Votequorum(export.files["corosync.conf"]), set(names)
    for verb, nodes in steps:
        live = live - set(nodes) if verb == "fail" else live | set(nodes)
        state, printed = simulator.run(state, fail=nodes if verb == "fail" else (),
                                       up=nodes if verb == "recover" else (), quorum=votes.quorate(live))
    halang = simulate(spec, [Action(verb, tuple(f"node:{n}" for n in nodes)) for verb, nodes in steps])
    final = (halang.steps or (halang.start,))[-1].placement
    gone = unclean_nodes(printed)
    pacemaker = {name: tuple(node for node in nodes if node not in gone) for name, nodes in placement(printed).items()}
    return {name: tuple(sorted(nodes)) for name, nodes in final.groups}, pacemaker
