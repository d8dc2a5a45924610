"""The cluster's failure behaviour as z3 terms over "which components fail".

One Boolean per component (`f[name]`, true: failed). Every other quantity is
a term over those, built once and shared (z3 hash-conses terms):

- `up(n)`: no `node:n`, no `domain:d` of n failed.
- `usable(a)`: adapter, its node and its switch up.
- `attached(n, b)`: n is up and one of its ways onto bus b is intact (a
  usable adapter on the subnet whose port, directions and switch pass frames
  both ways; the disk link and n's linkend; the point-to-point link). See
  `topology.py` for buses.
- connectivity `conn(b, b')` between buses, by a Boolean Floyd-Warshall
  closure over the buses (`_Closure`: B^3 terms, exact, and a *function* of
  the failures, so the solver has nothing to guess). Nodes only matter
  through their buses, and clusters have few buses (each subnet, disk and
  serial link is one): at 512 nodes and five buses the closure is 125 terms.
  With more buses than `CLOSURE_LIMIT` (pods with subnets of their own,
  rings of serial links) the cube would dominate, and connectivity is
  encoded by certificates instead (`_Certificates`, linear in size): the
  solver exhibits a colouring of the buses that no live connection crosses,
  the quorum partition being colour 0 with a spanning tree (decreasing
  distances) proving it connected. Exact too, but the solver has to find the
  colouring, which is much slower (see the report in analysis.py).
- `runs(n)` (quorum): under `majority`, n's partition holds more than half of
  all nodes, or exactly half and a live connection to the tie-breaker disk;
  under `none`, n is up. Partition sizes are counted by node classes plus a
  bounded correction (`_Closure._majority`), not node by node.
- `host(g, n)`: n in g's list, runs, and a usable adapter on the network of
  each of g's service addresses.
- placement `on(g, n)`: the function of `evaluate.place`, term for term, from
  the concrete startup placement. `least_loaded` compares free capacity with
  pseudo-Boolean constraints over the placement of the groups before it (in
  file order, so one such group's choice can depend on a chain of others).
- loads and service counts are pseudo-Boolean sums over `on`.

The analysis builds two encodings (analysis.py): one with connectivity, to
find where quorum can be lost, and one where `runs` is the exact list of
those scenarios (`quorum_sets`), so that every other term is local to the
nodes it is about.

Everything is Boolean or pseudo-Boolean, so the solver is z3's SAT engine with
cardinality and PB constraints (logic QF_FD); coefficients beyond 32 bits
fall back to integer sums, which QF_FD bit-blasts.
"""

from __future__ import annotations

from functools import cached_property

import z3

from halang.smt.build import Builder
from halang.smt.topology import HUNG, LINK, SWITCH, GroupInfo, Topology

GLOBAL = (SWITCH, LINK, HUNG)  # components whose failure can act on many nodes at once

# The closure is the faster encoding for clusters of few buses whose nodes come in few shapes (racks of
# alike nodes); beyond these limits the certificates are (a ring of 20 serial links: 4.8 s against 12.6 s
# for K = 2; 26 pods' worth of subnets: the closure's cube would not even fit).
CLOSURE_LIMIT = 24
CLASS_LIMIT = 8


def node_shapes(topology: Topology) -> dict[tuple, list[str]]:
    """Nodes by shape: the same buses, reached through ways that need the same switches and links."""
    shapes: dict[tuple, list[str]] = {}
    for node, info in topology.nodes.items():
        shape = tuple((bus, tuple(sorted({tuple(sorted(c for c in way.needs if topology.kind_of[c] in GLOBAL))
                                          for way in topology.buses[bus].ways[node]})))
                      for bus in info.buses)
        shapes.setdefault(shape, []).append(node)
    return shapes


class Encoding:
    def __init__(self, topology: Topology, start: dict[str, tuple[str, ...]], ctx: z3.Context | None = None,
                 connectivity: str = "auto", faults: int = 1,
                 quorum_sets: dict[str, list[frozenset[str]]] | None = None, ordered: bool = False,
                 builder: Builder | None = None, failed: dict | None = None):
        """`quorum_sets`, when given, replaces the connectivity encoding: for each node, every minimal
        scenario of at most `faults` failures in which it is up but may not run groups (see `runs`);
        `[frozenset()]` for a node that has no quorum with nothing failed. `ordered`: place the groups
        whose place depends on the order of events event by event (see `on`). `builder` and `failed`:
        an encoding of the same cluster over other failure terms (the failures after one event)."""
        self.topology = topology
        self.start = start
        self.faults = faults
        self.quorum_sets = quorum_sets
        self.ctx = ctx or z3.Context()
        self.b = builder or Builder(self.ctx)
        self.ordered = ordered
        self.f: dict = failed if failed is not None else {name: self.b.var(name) for name in topology.components}
        self.constraints: list = self.b.constraints  # side constraints the terms rely on; assert them all
        if connectivity == "auto":
            few = len(topology.buses) <= CLOSURE_LIMIT and len(node_shapes(topology)) <= CLASS_LIMIT
            connectivity = "closure" if few else "certificate"
        self.connectivity = connectivity
        self._host: dict = {}
        self._netok: dict = {}

    # ------------------------------------------------------------ basics

    def failed(self, name: str):
        return self.f[name]

    def ok(self, name: str):
        return self.b.not_(self.f[name])

    @cached_property
    def up(self) -> dict[str, object]:
        return {name: self.b.and_(self.ok(k) for k in node.killers) for name, node in self.topology.nodes.items()}

    @cached_property
    def usable(self) -> dict[str, object]:
        b = self.b
        return {name: b.and_((self.up[a.node], self.ok(name), self.ok(a.switch)))
                for name, a in self.topology.adapters.items()}

    @cached_property
    def attached(self) -> dict[tuple[str, int], object]:
        b = self.b
        result = {}
        for bus in self.topology.buses:
            for node in bus.members:
                ways = [b.and_([self.usable[way.adapter]] + [self.ok(c) for c in way.needs[2:]]) if way.adapter
                        else b.and_(self.ok(c) for c in way.needs) for way in bus.ways[node]]
                result[node, bus.index] = b.and_((self.up[node], b.or_(ways)))
        return result

    @cached_property
    def live(self) -> list:
        """A bus is live when some node is attached to it."""
        return [self.b.or_(self.attached[m, bus.index] for m in bus.members) for bus in self.topology.buses]

    # ------------------------------------------------------------ connectivity

    @cached_property
    def _connectivity(self):
        return _Closure(self) if self.connectivity == "closure" else _Certificates(self)

    @cached_property
    def runs(self) -> dict[str, object]:
        """May the node run groups: up and (quorum = none, or its partition holds quorum).

        With `quorum_sets` (found by a first search over the connectivity
        encoding, see analysis.py), "up and no quorum" is monotone once the
        node's own failures are set aside, so within at most `faults`
        failures it holds exactly when the failures include one of the
        node's minimal sets: runs(n) = up(n) and no minimal set has failed.
        That is exact for every query of at most `faults` failures and
        leaves the later searches a formula local to the nodes they ask about.
        """
        if self.topology.quorum == "none":
            return dict(self.up)
        if self.quorum_sets is not None:
            b = self.b
            return {node: b.and_([self.up[node]] + [b.not_(b.and_(self.f[c] for c in sorted(found)))
                                                    for found in self.quorum_sets[node]])
                    for node in self.topology.node_names}
        return self._connectivity.quorum()

    @cached_property
    def split(self):
        """The live nodes fall into two or more partitions (asked only positively, for HA302)."""
        return self._connectivity.split()

    # ------------------------------------------------------------ hosting

    def network_ok(self, node: str, network: str):
        key = (node, network)
        if key not in self._netok:
            self._netok[key] = self.b.or_(self.usable[a.component]
                                          for a in self.topology.adapters_of.get(key, ()))
        return self._netok[key]

    def host(self, group: GroupInfo, node: str):
        if node not in group.nodes:
            return False
        key = (node, group.networks)
        if key not in self._host:
            self._host[key] = self.b.and_([self.runs[node]] + [self.network_ok(node, n) for n in group.networks])
        return self._host[key]

    def dead(self, group: GroupInfo):
        """No node can host the group."""
        return self.b.and_(self.b.not_(self.host(group, node)) for node in group.nodes)

    # ------------------------------------------------------------ placement

    @cached_property
    def on(self) -> dict[tuple[str, str], object]:
        """(group, node) -> the group runs there after the failures (absent pairs are False).

        The runtime's `transition` from the concrete start placement, term for term. With `ordered`
        (see `ordered_groups`), the groups whose place depends on the order of the events are placed
        event by event (`_events`); every other group is placed as if all failures came at once, which
        is where any order of events puts it (runtime/core/placement.py).
        """
        on = self._at_once(self.host)
        if self.ordered_groups:
            on.update(self._events(on))
        return on

    def _at_once(self, host, only: frozenset[str] | None = None) -> dict[tuple[str, str], object]:
        """The at-once placement; with `only`, of those groups but the ordered ones (`_events` places those)."""
        b, topology, start = self.b, self.topology, self.start
        on: dict[tuple[str, str], object] = {}
        placed: dict[str, list[tuple[object, GroupInfo]]] = {}  # node -> what is on it so far

        def put(group: GroupInfo, node: str, term) -> None:
            on[group.name, node] = term
            if term is not False:
                placed.setdefault(node, []).append((term, group))

        groups = list(topology.groups.values())
        if only is not None:
            groups = [group for group in groups if group.name in only and group.name not in self.ordered_groups]
        for group in groups:  # stays and concurrent instances first: they do not depend on order
            nodes = start[group.name]
            if group.concurrent:
                for node in nodes:
                    put(group, node, host(group, node))
            elif nodes:
                put(group, nodes[0], host(group, nodes[0]))
        for group in groups:
            nodes = start[group.name]
            if group.concurrent or not nodes or group.fallover == "bring_offline":
                continue
            home = nodes[0]
            leaves = b.not_(on[group.name, home])
            others = [n for n in group.nodes if n != home]
            if group.fallover == "next_priority":
                earlier = []
                for node in others:
                    can = host(group, node)
                    put(group, node, b.and_([leaves, can] + [b.not_(x) for x in earlier]))
                    earlier.append(can)
            else:
                chosen = self._least_loaded(group, leaves, others, placed, host)
                for node in others:
                    put(group, node, chosen[node])
        return on

    def _least_loaded(self, group: GroupInfo, leaves, candidates, placed, host) -> dict[str, object]:
        """Where a least_loaded group that leaves its node goes: most free cpu, then memory, then list order.

        `placed` holds, per node, the groups decided before this one (those that stay, and those moved
        before it in file order), which is what free capacity is measured against (runtime `_Loads`).
        """
        b, topology = self.b, self.topology

        def load_terms(node: str, resource: str):
            return [(term, getattr(other, resource)) for term, other in placed.get(node, ())
                    if getattr(other, resource)]

        def compare(node: str, rival: str, resource: str):
            """(node's free > rival's, node's free == rival's) for one resource."""
            mine, theirs = getattr(topology.nodes[node], resource), getattr(topology.nodes[rival], resource)
            if mine is None or theirs is None:
                return (mine is None and theirs is not None), (mine is None and theirs is None)
            # (mine - L_node) - (theirs - L_rival) = L_rival - L_node + mine - theirs
            terms = load_terms(rival, resource) + [(t, -c) for t, c in load_terms(node, resource)]
            return b.at_least(terms, theirs - mine + 1), b.exactly(terms, theirs - mine)

        index = {node: i for i, node in enumerate(group.nodes)}
        chosen = {}
        for node in candidates:
            beats = []
            for rival in candidates:
                if rival == node:
                    continue
                cpu_gt, cpu_eq = compare(node, rival, "cpu")
                mem_gt, mem_eq = compare(node, rival, "memory")
                better = b.or_((cpu_gt, b.and_((cpu_eq, b.or_((mem_gt, b.and_((mem_eq, index[node] < index[rival]))))))))
                beats.append(b.implies(host(group, rival), better))
            chosen[node] = b.and_([leaves, host(group, node)] + beats)
        return chosen

    # ------------------------------------------------------------ the order of events

    @cached_property
    def ordered_groups(self) -> frozenset[str]:
        """Groups whose place after a scenario depends on the order in which its failures are detected:
        with `ordered` and K >= 2, the `least_loaded` groups online at the start (runtime/core/placement.py)."""
        if not self.ordered or self.faults < 2:
            return frozenset()
        return frozenset(group.name for group in self.topology.groups.values()
                         if group.fallover == "least_loaded" and not group.concurrent and self.start[group.name])

    @cached_property
    def steps(self) -> list[dict[str, object]]:
        """`steps[i][c]`: component c fails at event i + 1 (K events; an event may hold several failures, or
        none). Each failed component fails at exactly one event (`step_links`)."""
        return [{c: self.b.var(f"step{i + 1}|{c}") for c in self.topology.components} for i in range(self.faults)]

    def step_links(self, components) -> list:
        """What ties the events to the scenario for these components: f[c] is "c fails at some event", at one."""
        b, found = self.b, []
        for c in components:
            at = [step[c] for step in self.steps]
            found.append(b.iff(self.f[c], b.or_(at)))
            found.append(b.at_most([(x, 1) for x in at], 1))
        return found

    def _events(self, final: dict[tuple[str, str], object]) -> dict[tuple[str, str], object]:
        """The ordered groups placed event by event, each event a `transition` from the last."""
        b, topology = self.b, self.topology
        groups = list(topology.groups.values())
        after: list[Encoding] = []  # the at-once encodings of the failures so far, after each event
        so_far = {c: False for c in topology.components}
        for number, step in enumerate(self.steps):
            so_far = {c: b.or_((so_far[c], step[c])) for c in topology.components}
            if number == len(self.steps) - 1:
                after.append(self)
            else:
                after.append(Encoding(self.topology, self.start, ctx=self.ctx, faults=self.faults,
                                      quorum_sets=self.quorum_sets, builder=self.b, failed=so_far))
        # Where every group would be after each event if all its failures so far came at once: right for the
        # groups that are not ordered, whatever the order.
        nearby = {name for group in groups if group.name in self.ordered_groups for node in group.nodes
                  for name in self.topology.spec.groups_by_node[node]}
        at_once = [self._at_once(encoding.host, frozenset(nearby)) if encoding is not self else final
                   for encoding in after]
        chain: dict[tuple[int, str, str], object] = {}
        for number, encoding in enumerate(after):
            host = encoding.host
            mine = at_once[number]
            previous = at_once[number - 1] if number else None

            def before(group: GroupInfo, node: str, number=number, previous=previous):
                if group.name in self.ordered_groups:
                    return chain.get((number - 1, group.name, node), False) if number else \
                        node in self.start[group.name]
                return previous.get((group.name, node), False) if number else node in self.start[group.name]

            def now(group: GroupInfo, node: str, mine=mine):
                if group.name in self.ordered_groups:
                    return chain.get((number, group.name, node), False)
                return mine.get((group.name, node), False)

            for group in groups:
                if group.name not in self.ordered_groups:
                    continue
                stays = {node: b.and_((before(group, node), host(group, node))) for node in group.nodes}
                leaves = b.or_(b.and_((before(group, node), b.not_(host(group, node)))) for node in group.nodes)
                placed: dict[str, list[tuple[object, GroupInfo]]] = {}
                for other in groups:
                    if other.name == group.name:
                        continue
                    for node in other.nodes:
                        term = now(other, node) if other.index < group.index else \
                            b.and_((before(other, node), host(other, node)))
                        if term is not False:
                            placed.setdefault(node, []).append((term, other))
                chosen = self._least_loaded(group, leaves, list(group.nodes), placed, host)
                for node in group.nodes:
                    chain[number, group.name, node] = b.or_((stays[node], chosen[node]))
        last = len(after) - 1
        return {(name, node): term for (number, name, node), term in chain.items() if number == last}

    @cached_property
    def _on_by_node(self) -> dict[str, list[tuple[str, object]]]:
        index: dict[str, list[tuple[str, object]]] = {}
        for (g, n), term in self.on.items():
            index.setdefault(n, []).append((g, term))
        return index

    @cached_property
    def _on_by_group(self) -> dict[str, list[object]]:
        index: dict[str, list[object]] = {}
        for (g, n), term in self.on.items():
            index.setdefault(g, []).append(term)
        return index

    def online(self, group: GroupInfo):
        return self.b.or_(self._on_by_group.get(group.name, ()))

    def on_node(self, group: GroupInfo, node: str):
        return self.on.get((group.name, node), False)

    def load_terms(self, node: str, resource: str) -> list:
        groups = self.topology.groups
        return [(term, getattr(groups[g], resource)) for g, term in self._on_by_node.get(node, ())
                if getattr(groups[g], resource)]

    def service_terms(self, node: str, network: str) -> list:
        """One term per distinct service address of the network that can be placed on the node."""
        by_address: dict[str, list] = {}
        for g, term in self._on_by_node.get(node, ()):
            for net, labels in self.topology.groups[g].needs:
                if net == network:
                    for label in labels:
                        by_address.setdefault(self.topology.service_address[label], []).append(term)
        return [self.b.or_(terms) for terms in by_address.values()]


class _Closure:
    """Exact connectivity by a Boolean Floyd-Warshall closure over the buses."""

    def __init__(self, encoding: Encoding):
        self.e = encoding
        b, topology = encoding.b, encoding.topology
        count = len(topology.buses)
        conn = [[False] * count for _ in range(count)]
        for i in range(count):
            conn[i][i] = encoding.live[i]
        common: dict[tuple[int, int], list] = {}
        for node, info in topology.nodes.items():
            buses = info.buses
            for x in range(len(buses)):
                for y in range(x + 1, len(buses)):
                    i, j = sorted((buses[x], buses[y]))
                    common.setdefault((i, j), []).append(
                        b.and_((encoding.attached[node, i], encoding.attached[node, j])))
        for (i, j), terms in common.items():
            conn[i][j] = conn[j][i] = b.or_(terms)
        for k in range(count):
            for i in range(count):
                if conn[i][k] is False or i == k:
                    continue
                for j in range(i + 1, count):
                    if j == k or conn[k][j] is False:
                        continue
                    conn[i][j] = conn[j][i] = b.or_((conn[i][j], b.and_((conn[i][k], conn[k][j]))))
        self.conn = conn

    def member(self, node: str, bus: int):
        """Node is in the partition of (live) bus."""
        e = self.e
        return e.b.or_(e.b.and_((e.attached[node, other], self.conn[bus][other]))
                       for other in e.topology.nodes[node].buses)

    def quorum(self) -> dict[str, object]:
        """Majority per bus partition, counted by node classes plus a small correction (see `_majority`)."""
        e = self.e
        b, topology = e.b, e.topology
        total = topology.node_count
        majority = [self._majority(bus.index) for bus in topology.buses]
        runs = {}
        for node, info in topology.nodes.items():
            if total == 1:
                runs[node] = e.up[node]
            else:
                runs[node] = b.and_((e.up[node], b.or_(b.and_((e.attached[node, bus], majority[bus]))
                                                       for bus in info.buses)))
        return runs

    @cached_property
    def _classes(self) -> list[tuple[dict[int, object], list[str]]]:
        """Nodes grouped by shape: the same buses, reached through ways that need the same switches and links.

        Returns, per class, the class's attachment to each of its buses as a
        term over switch and link failures only (what an *untouched* member,
        one none of whose own components failed, is attached to), and its nodes.
        """
        e = self.e
        b = e.b
        shapes = node_shapes(e.topology)
        return [({bus: b.or_(b.and_(e.ok(c) for c in way) for way in ways) for bus, ways in shape}, nodes)
                for shape, nodes in shapes.items()]

    @cached_property
    def _loss_bound(self) -> int:
        """The most nodes `faults` failures can *touch* (fail a node, domain, adapter or linkend of)."""
        topology = self.e.topology
        domain_size: dict[str, int] = {}
        for node in topology.nodes.values():
            for killer in node.killers[1:]:
                domain_size[killer] = domain_size.get(killer, 0) + 1
        weights = sorted((domain_size.get(name, 1) for name, kind in topology.kind_of.items() if kind not in GLOBAL),
                         reverse=True)
        return min(sum(weights[:self.e.faults]), topology.node_count)

    def _majority(self, bus: int):
        """Does the partition of `bus` hold quorum? Exact for every scenario of at most `faults` failures.

        Counting a partition node by node is a cardinality constraint over
        hundreds of terms, which z3 compiles into sorting networks before it
        starts (three seconds at 128 nodes, forty at 512, even where the search
        itself needs a hundred conflicts). Instead: an untouched node is in
        the partition exactly when its class is (a term over switch and link
        failures, `reach`), so

            size = sum(|C| * reach_C) - loss,

        where loss counts the touched nodes whose class is in the partition
        but which are not; loss <= `_loss_bound` (L) in every scenario of at
        most K failures. So size >= t holds exactly when, for the r = loss
        (0..L), sum(|C| * reach_C) >= t + r: a pseudo-Boolean constraint over
        one term per class, and a unary count of loss that stops at L + 1 (a
        sequential counter, N x (L + 1) small terms).
        Beyond K failures the counter saturates and the encoding says
        nothing, which no query asks about.
        """
        e = self.e
        b, topology = e.b, e.topology
        total = topology.node_count
        bound = self._loss_bound
        reach = []
        for attach, nodes in self._classes:
            reach.append((b.or_(b.and_((attach[other], self.conn[bus][other])) for other in attach), len(nodes)))
        majority, half = total // 2 + 1, total // 2
        tie = topology.tie_breaker_bus
        needs_half = tie is not None and total % 2 == 0
        # Where no scenario puts the class sum within L above a threshold, the correction cannot
        # matter there: sum >= t + L or sum < t. Asking z3 that (a small query) spares the counter.
        count_majority = self._window(reach, majority, majority + bound - 1)
        count_half = needs_half and self._window(reach, half, half + bound)
        if count_majority or count_half:
            loss_terms = []
            for (in_partition, _), (attach, nodes) in zip(reach, self._classes):
                if in_partition is not False:
                    loss_terms += [b.and_((in_partition, b.not_(self.member(node, bus)))) for node in nodes]
            at_least = [True] + b.unary_count(loss_terms, bound + 1)  # at_least[r]: loss >= r
        if count_majority:
            # size >= t <=> sum >= t + loss. With loss capped at L (never exceeded within K failures),
            # "for every r <= L: loss >= r implies sum >= t + r" says it with no need to prove the cap:
            # where the classes alone give sum >= t + L, every implication holds outright.
            holds = b.and_([b.at_least(reach, majority)] + [
                b.implies(at_least[r], b.at_least(reach, majority + r)) for r in range(1, bound + 1)])
        else:
            holds = b.at_least(reach, majority)
        if count_half:
            exact_half = b.or_([b.and_((at_least[r], b.not_(at_least[r + 1]), b.exactly(reach, half + r)))
                                for r in range(bound)] + [b.and_((at_least[bound], b.exactly(reach, half + bound)))])
            holds = b.or_((holds, b.and_((self.conn[bus][tie], exact_half))))
        return holds

    def _window(self, reach: list, low: int, high: int) -> bool:
        """Can some scenario of at most K failures give a class sum between low and high (inclusive)?"""
        b = self.e.b
        if high < low:
            return False
        query = [b.at_least(reach, low), b.at_most(reach, high)]
        if False in query:
            return False
        solver = z3.SolverFor("QF_FD", ctx=self.e.ctx)
        for constraint in self.e.constraints:
            solver.add(constraint)
        solver.add(b.at_most(((self.e.f[c], 1) for c in self.e.topology.components), self.e.faults))
        for term in query:
            solver.add(term)
        return solver.check() != z3.unsat  # unknown: keep the exact counter

    def split(self):
        e = self.e
        b, topology = e.b, e.topology
        count = len(topology.buses)
        apart = [b.and_((e.live[i], e.live[j], b.not_(self.conn[i][j])))
                 for i in range(count) for j in range(i + 1, count)]
        isolated = [b.and_([e.up[node]] + [b.not_(e.attached[node, bus]) for bus in info.buses])
                    for node, info in topology.nodes.items()]
        two_up = b.at_least(((e.up[node], 1) for node in topology.node_names), 2)
        return b.or_(apart + [b.and_((b.or_(isolated), two_up))])


class _Certificates:
    """Connectivity by certificates the solver must exhibit, linear in the size of the cluster.

    Each bus gets one colour out of `COLOURS` (one-hot Booleans); a live
    connection (a node attached to two buses) forces both buses and the node
    to one colour, so every colour class is a union of partitions.

    Quorum. Colour 0 is the quorum partition: every colour-0 bus is live,
    exactly one of them is a root and every other one has a neighbour of
    colour 0 at a smaller distance (so colour 0 is connected, one partition),
    and colour 0 holds a majority (or exactly half and the tie-breaker).
    When colour 0 is empty, every other colour must be too small to hold
    quorum, with the tie-breaker's bus alone in a colour of fewer than half
    the nodes. Exactness: if a quorum partition exists, colour 0 must be it
    (a closed, connected, large class is a partition with quorum, and there
    is at most one); if none exists, the partitions can be packed into the
    other colours (each holds at most half; first-fit packing needs at most
    five bins for a total of N, plus one for the tie-breaker's partition),
    and no packing exists that hides a partition with quorum, since a class
    is a union of partitions and is small. When colour 0 is non-empty, every
    other bus takes colour 1, which removes the solver's freedom there.

    Split (quorum = none, HA302) needs only the positive direction: two
    colours, no live connection between them, a live node in each.
    """

    COLOURS = 8

    def __init__(self, encoding: Encoding):
        self.e = encoding

    def _colouring(self, colours: int, prefix: str):
        e = self.e
        b, topology = e.b, e.topology
        bus_colour = [[b.fresh(f"{prefix}b{bus.index}c{c}") for c in range(colours)] for bus in topology.buses]
        node_colour = {node: [b.fresh(f"{prefix}{node}c{c}") for c in range(colours)]
                       for node, info in topology.nodes.items() if info.buses}
        constraints = []
        for vector in list(bus_colour) + list(node_colour.values()):
            constraints.append(b.exactly(((x, 1) for x in vector), 1))
        for node, info in topology.nodes.items():
            for bus in info.buses:
                attached = e.attached[node, bus]
                for c in range(colours):
                    constraints.append(b.implies(attached, b.iff(node_colour[node][c], bus_colour[bus][c])))
        return bus_colour, node_colour, constraints

    def quorum(self) -> dict[str, object]:
        e = self.e
        b, topology = e.b, e.topology
        total = topology.node_count
        tie = topology.tie_breaker_bus
        bus_colour, node_colour, constraints = self._colouring(self.COLOURS, "q")
        count = len(topology.buses)
        bits = max(1, count.bit_length())
        distance = [z3.BitVec(f"qd{i}", bits, e.ctx) for i in range(count)]
        root = [b.fresh(f"qroot{i}") for i in range(count)]
        neighbours: dict[int, list[tuple[str, int]]] = {i: [] for i in range(count)}
        for node, info in topology.nodes.items():
            for x in info.buses:
                for y in info.buses:
                    if x != y:
                        neighbours[x].append((node, y))
        constraints.append(b.at_most(((r, 1) for r in root), 1))
        for i in range(count):
            zero = bus_colour[i][0]
            constraints.append(b.implies(root[i], zero))
            constraints.append(b.implies(zero, e.live[i]))
            parents = [b.and_((e.attached[node, i], e.attached[node, j], bus_colour[j][0],
                               z3.ULT(distance[j], distance[i])))
                       for node, j in neighbours[i]]
            constraints.append(b.implies(zero, b.or_([root[i]] + parents)))
        attached_any = {node: b.or_(e.attached[node, bus] for bus in info.buses)
                        for node, info in topology.nodes.items() if info.buses}

        def members(c):
            return [(b.and_((attached_any[node], node_colour[node][c])), 1) for node in node_colour]

        zero_members = members(0)
        quorum_exists = b.or_(bus_colour[i][0] for i in range(count))
        large = b.at_least(zero_members, total // 2 + 1)
        if tie is not None and total % 2 == 0:
            large = b.or_((large, b.and_((bus_colour[tie][0], b.exactly(zero_members, total // 2)))))
        constraints.append(b.implies(quorum_exists, large))
        for i in range(count):  # with a quorum partition, every other bus takes colour 1
            constraints.append(b.implies(quorum_exists, b.or_((bus_colour[i][0], bus_colour[i][1]))))
        for c in range(1, self.COLOURS):
            small = b.at_most(members(c), total // 2)
            if tie is not None:
                holds_tie = bus_colour[tie][c]
                small = b.and_((small, b.implies(holds_tie, b.at_most(members(c), (total - 1) // 2))))
            constraints.append(b.or_((quorum_exists, small)))
        e.constraints.extend(constraints)
        runs = {}
        for node, info in topology.nodes.items():
            if total == 1:
                runs[node] = e.up[node]
            elif node in node_colour:
                runs[node] = b.and_((e.up[node], attached_any[node], node_colour[node][0]))
            else:
                runs[node] = False
        return runs

    def split(self):
        e = self.e
        b, topology = e.b, e.topology
        side = {bus.index: b.fresh(f"s_b{bus.index}") for bus in topology.buses}
        node_side = {node: b.fresh(f"s_{node}") for node in topology.node_names}
        constraints = []
        for node, info in topology.nodes.items():
            for bus in info.buses:
                constraints.append(b.implies(e.attached[node, bus], b.iff(node_side[node], side[bus])))
        e.constraints.extend(constraints)
        return b.and_((b.or_(b.and_((e.up[n], node_side[n])) for n in topology.node_names),
                       b.or_(b.and_((e.up[n], b.not_(node_side[n]))) for n in topology.node_names)))
