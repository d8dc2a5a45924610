"""What must hold after every step of a simulated cluster, checked against the world's truth, not the nodes'.

- **One holder.** No group (not `concurrent`) has anything up (its addresses
  or its other resources) on two nodes whose daemons run, beyond a grace,
  when the two reach each other (over a path or a working non-IP link,
  directly or through other nodes whose daemons run: one partition), or when
  quorum or a
  tie-breaker protects the cluster from two partitions both running it. The grace is what a correct cluster needs to clear an overlap
  it could not prevent (a heal, a daemon that comes back from a pause): three
  detection times to see it and agree, then, for the group and each group
  after it (children go first), its release's timeout and two intervals.
- **No acquisition over a holder.** A node starts acquiring a group only
  when no node it hears still has it up (connected, over a path or a working
  non-IP link, for two intervals and the slowest delivery: long enough to
  have heard each other and learnt so).
- **Nothing raises** out of a node's loop (`World._guarded`).

A daemon that is paused or crashed cannot release anything, and a group in
error (its driver failed to bring it down, say after a crash) cannot be
released: what they hold meanwhile is counted (`unfenced_ms`), not a breach.
Fencing such a node (a watchdog, a crash guardian) is the hardening issue's;
the invariants hold the moment the daemon runs again.
"""

from __future__ import annotations

from typing import NamedTuple

from runtime.core.sets import DisjointSets


class Breach(NamedTuple):
    at_ms: int
    kind: str  # one-holder, acquired-over-holder, raised, unsettled, misplaced, offline
    text: str
    step: str  # what the world was doing


class Invariants:
    def __init__(self, world, strict: bool = False) -> None:
        self.world = world
        # strict: a node hears another the moment a path joins them (a regression case that pins a heal's race)
        self.strict = strict
        spec = world.spec
        self.protected = spec.heartbeat.quorum == "majority" or spec.heartbeat.tie_breaker is not None
        self.detection = spec.heartbeat.interval_ms * spec.heartbeat.miss_limit
        self.breaches: list[Breach] = []
        self.overlaps: dict[tuple[str, str, str], int] = {}  # (group, first, second) -> since when
        self.checks = 0
        self.unfenced_ms = 0
        self.next_check = 0
        self.dirty = True

    def breach(self, kind: str, text: str, step: str = "") -> None:
        if len(self.breaches) < 20:  # the first tell the story; a thousand more only slow the run
            self.breaches.append(Breach(self.world.now, kind, text, step))

    def addresses_set(self, node: str) -> None:
        self.dirty = True

    def grace(self, group: str) -> int:
        """Three detection times (a node whose carrier came back listens one before it agrees; a healed cluster
        agrees in a few rounds as what each heard spreads), then for the group and each group started after it
        (children go first) its release's timeout, the longest action that may be under way before it (a
        group's actions run in order: a hung restart holds its release back), and two intervals."""
        world = self.world
        chain = [group] + [child.name for child in world.spec.groups if group in child.after]
        return 3 * self.detection + sum(world.under_way_ms(name) + world.timeout_ms(name)
                                        + 2 * world.spec.heartbeat.interval_ms for name in chain)

    def _sides(self) -> dict:
        """Who reaches whom now, directly or through other nodes whose daemons run (a node without one relays
        no reports)."""
        world = self.world
        names = world.spec.node_names
        sets = DisjointSets(len(names))
        for first, second in world.together:
            if world.nodes[first].loop is not None and world.nodes[second].loop is not None:
                sets.union(world.spec.node_index[first], world.spec.node_index[second])
        return {name: sets.find(index) for index, name in enumerate(names)}

    def acquiring(self, node: str, group: str) -> None:
        world = self.world
        self.dirty = True
        if world.spec.group(group).concurrent:
            return
        keep = self.detection - world.spec.heartbeat.interval_ms
        for holder in world.holders(group):
            sim = world.nodes[holder]
            if holder == node or sim.loop is None:
                continue
            if world.now < sim.paused_until or sim.local(world.now) - sim.loop.last_run > keep:
                continue  # it has not run for longer than the keep threshold: to the others, it is gone
            heard = world.connected(node, holder) or world.linked(node, holder) if self.strict \
                else world.hear_each_other(node, holder)
            if heard:
                self.breach("acquired-over-holder", f"{node} starts acquiring {group} while {holder}, which it "
                                                    f"hears, still has it up ({self._what(holder, group)})")

    def _what(self, node: str, group: str) -> str:
        world = self.world
        labels = set(world.spec.group(group).service_ips)
        parts = [label for label, _, _ in world.addresses.get(node, ()) if label in labels]
        state = world.resources.get((node, group))
        if state:
            parts.append(f"resources {state}")
        return ", ".join(parts) or "nothing"

    def after_step(self, step: str) -> None:
        world = self.world
        if not self.dirty and world.now < self.next_check:
            return
        self.dirty = False
        self.next_check = world.now + world.spec.heartbeat.interval_ms
        self.checks += 1
        current = set()
        sides = self._sides()
        for group in world.spec.groups:
            if group.concurrent:
                continue
            holders = world.holders(group.name)
            if len(holders) < 2:
                continue
            # A node whose daemon is down or paused cannot release; one holding the group in error could not
            # (its driver failed): both are counted, not breaches (no fencing: the hardening issue's).
            running = [node for node in holders if world.nodes[node].loop is not None
                       and world.now >= world.nodes[node].paused_until
                       and world.resources.get((node, group.name)) != "error"]
            if len(running) < len(holders):
                self.unfenced_ms += world.spec.heartbeat.interval_ms
            for index, first in enumerate(running):
                for second in running[index + 1:]:
                    if not (self.protected or sides[first] == sides[second]):
                        continue
                    key = (group.name, first, second)
                    current.add(key)
                    since = self.overlaps.setdefault(key, world.now)
                    if world.now - since > self.grace(group.name):
                        self.breach("one-holder", f"{group.name} is up on {first} ({self._what(first, group.name)}) "
                                                  f"and {second} ({self._what(second, group.name)}) for "
                                                  f"{world.now - since} ms", step)
                        self.overlaps[key] = world.now  # said once a grace
        for key in list(self.overlaps):
            if key not in current:
                del self.overlaps[key]
