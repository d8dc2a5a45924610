"""A simulated world for whole clusters: every node's real loop body (`runtime.node.loop.NodeLoop`) on a virtual
clock, over networks, serial lines and disks that misbehave, with one seed fixing everything.

The world owns the truth the nodes can only observe: which components have
failed (`runtime.core.failures`, the verifier's names), which datagrams get
through (each path's loss, duplication, delay, which reorders, and
corruption), which daemons run, are paused, crashed or left, each node's
clock, what each resource driver does (succeed, be slow, fail, fail dirty,
hang until its timeout), and which resources are up where. Nodes see it
only through their `Ports`: `SimUdp`, `SimDisk`, `SimStream`, `SimProber`,
`SimActuator`, `SimWorker`. Invariants are checked after every step
(`Invariants`); a breach is recorded with the time and the step, never
raised, so the run goes on to tell the whole story.
"""

from __future__ import annotations

import heapq
import random
import traceback
from collections import deque
from dataclasses import dataclass, field
from typing import Callable

from runtime.core.engine import ACQUIRING, ONLINE, Acquire, Done, Probe, Release, Restart
from runtime.core.failures import expand
from runtime.core.operator import Request, request_problem
from runtime.core.paths import end_works, heartbeat_paths, media
from runtime.core.snapshot import ClusterSpec
from runtime.core.topology import subnet_targets
from runtime.node.loop import NodeLoop, Ports, adopted_state, clean_leftovers
from runtime.node.transports import adapter_key, udp_paths

KEY = b"simulated cluster key"
CONFIG = "0123456789abcdef"
STEP_TIMEOUT_MS = 5_000  # a volume group's or a filesystem's step, as the real driver bounds it


@dataclass
class Quality:
    """How a path treats what crosses it now: chances in [0, 1], delays in ms."""

    loss: float = 0.0
    duplicate: float = 0.0
    corrupt: float = 0.0
    delay_ms: int = 1
    jitter_ms: int = 0

    @property
    def perfect(self) -> bool:
        return not (self.loss or self.duplicate or self.corrupt or self.jitter_ms)


# ------------------------------------------------------------------ the ports a simulated node has


class SimUdp:
    def __init__(self, world: "World", node: str):
        self.world, self.node = world, node
        self.paths = udp_paths(world.spec, node)

    def send(self, make) -> list[str]:
        for adapter in self.world.spec.adapters_by_node[self.node]:
            self.world.broadcast(self.node, adapter, make(adapter_key(adapter)))
        return []

    def path_of(self, sender_adapter: str, ifname: str) -> str:
        return self.paths.get((sender_adapter, ifname), "")


class SimDisk:
    """A disk link's slots, one per node: a write replaces the node's slot (torn, sometimes, by a fault)."""

    def __init__(self, world: "World", node: str, link: str):
        self.world, self.node, self.link = world, node, link
        self.path_of = {path.peer_of(node).node: path.id for path in heartbeat_paths(world.spec, node)
                        if path.medium.name == link}
        self.seen: dict[str, bytes] = {}

    def write(self, data: bytes) -> None:
        if not self.world.disk_reachable(self.node, self.link):
            raise OSError("the disk is not reachable")
        self.world.disk_write(self.node, self.link, data)

    def read(self) -> list[tuple[str, bytes]]:
        if not self.world.disk_reachable(self.node, self.link):
            return []
        found = []
        for peer, path in self.path_of.items():
            data = self.world.slots.get((self.link, peer), b"")
            if data and data != self.seen.get(peer):
                self.seen[peer] = data
                found.append((path, data))
        return found


class SimStream:
    def __init__(self, world: "World", node: str, link: str):
        self.world, self.node, self.link = world, node, link
        self.path = next(path for path in heartbeat_paths(world.spec, node) if path.medium.name == link)

    def write(self, data: bytes) -> None:
        self.world.stream_write(self.node, self.path, data)


class SimProber:
    def __init__(self, world: "World", node: str):
        self.world, self.node = world, node
        self.adapters = [adapter for adapter in world.spec.adapters_by_node[node] if world.targets.get(adapter.key)]

    def send(self, now_ms: int) -> None:
        for adapter in self.adapters:
            self.world.probe(self.node, adapter)

    def warnings(self) -> list[str]:
        return []


class SimActuator:
    def __init__(self, world: "World", node: str):
        self.world, self.node = world, node

    @property
    def held(self):
        return self.world.addresses.get(self.node, ())

    @held.setter
    def held(self, value) -> None:
        self.world.addresses[self.node] = tuple(value)

    def apply(self, held) -> list[str]:
        self.world.set_addresses(self.node, tuple(held))
        return []

    def announce(self, labels) -> None:
        pass

    def route_around(self, ifnames) -> list[str]:
        return []

    def clean(self) -> list[str]:
        found = [label for label, _, _ in self.held]
        self.world.set_addresses(self.node, ())
        return found


class SimScripts:
    def raise_event(self, event, phases=("begin", "end")) -> None:
        pass

    def take(self) -> list:
        return []


class SimWorker:
    """The node's background executors: each group's actions in the order decided, one at a time, finishing when
    the world's driver says (at once, slowly, failing, or hanging until the timeout)."""

    def __init__(self, world: "World", node: str):
        self.world, self.node = world, node
        self.queues: dict[str, list] = {}
        self.finished: list[tuple[Done, dict]] = []
        self.generation = world.daemon_generation(node)

    def submit(self, action) -> None:
        queue = self.queues.setdefault(action.group, [])
        queue.append(action)
        if len(queue) == 1:
            self._start(action)

    def _start(self, action) -> None:
        duration, done = self.world.drive(self.node, action)
        self.world.at(self.world.now + duration, lambda: self._finish(action, done), f"{self.node} finishes {action}")

    def _finish(self, action, done: Done) -> None:
        if self.world.daemon_generation(self.node) != self.generation:
            return  # the daemon that asked is gone (crashed, left): what the driver did stays done
        self.world.driven(self.node, action, done)
        self.finished.append((done, {"event": done.kind, "group": done.group, "ok": done.ok}))
        queue = self.queues[action.group]
        queue.pop(0)
        if queue:
            self._start(queue[0])
        else:
            del self.queues[action.group]

    def take(self) -> list[tuple[Done, dict]]:
        found, self.finished = self.finished, []
        return found

    def execute(self, action):
        duration, done = self.world.drive(self.node, action, at_once=True)
        self.world.driven(self.node, action, done)
        return done, {"event": done.kind, "group": done.group, "ok": done.ok}


class SimDriver:
    """What the daemon's driver finds at start: the groups of its lists with anything up here."""

    def __init__(self, world: "World", node: str):
        self.world, self.node = world, node

    def leftovers(self, node: str) -> list[str]:
        return [group for (holder, group) in self.world.resources if holder == node]


# ------------------------------------------------------------------ one node


@dataclass
class SimNode:
    name: str
    loop: NodeLoop | None = None  # None: no daemon runs (node down, crashed, left)
    paused_until: int = 0
    clock_offset: int = 0  # the node's monotonic clock minus the world's
    next_tick: int = 0
    wake_at: int | None = None
    inbox: list = field(default_factory=list)  # what arrived while paused, taken in on resume
    generation: int = 0  # grows with every daemon start: a crashed daemon's work finishes unseen
    answers: list = field(default_factory=list)
    deploying: bool = False
    last_run: int = 0

    def local(self, now: int) -> int:
        return now + self.clock_offset


class World:
    def __init__(self, spec: ClusterSpec, seed: int, strict: bool = False):
        self.spec = spec
        self.random = random.Random(seed)
        self.now = 0
        self.queue: list = []
        self.counter = 0
        self.failed: set[str] = set()
        self.down = expand(spec, ())
        self.nodes = {name: SimNode(name) for name in spec.node_names}
        self.quality: dict[str, Quality] = {}  # medium name -> its quality now
        self.addresses: dict[str, tuple] = {}  # node -> (label, network, ifname) configured there
        self.resources: dict[tuple[str, str], str] = {}  # (node, group) -> "up" or "acquiring" or "error"
        self.behaviour: dict[tuple[str, str], str] = {}  # (node, group) -> ok, slow, fail, dirty, hang
        self.slots: dict[tuple[str, str], bytes] = {}
        self.incarnations = 0
        self.steps = 0
        self.trace: list[str] = []
        self.invariants = Invariants(self, strict)
        self.records: dict[str, deque] = {name: deque(maxlen=60) for name in spec.node_names}  # what a replay shows
        self.request_count = 0
        self.joined: dict[str, int] = {}  # node -> when its daemon last started
        self.together: dict[tuple[str, str], int] = {}  # (node, node) file order -> connected without a break since
        self.acquired: dict[tuple[str, str], int] = {}  # (node, group) -> when its acquisition there began
        self.requests_made: list[tuple[int, Request, str]] = []
        targets = subnet_targets(spec)
        self.targets = {end.key: targets[medium.index] for medium in media(spec) if medium.index in targets
                        for end in medium.ends}
        self.ends_by_subnet: dict[int, list] = {}
        for medium in media(spec):
            if medium.kind == "subnet":
                self.ends_by_subnet[medium.index] = [end.adapter for end in medium.ends]
        self.subnet_of = {end.adapter.key: medium for medium in media(spec) if medium.kind == "subnet"
                          for end in medium.ends}
        self.medium_of_link = {medium.name: medium for medium in media(spec) if medium.kind != "subnet"}
        self.reconnect()

    # ------------------------------------------------------------ the clock

    def at(self, when: int, what: Callable[[], None], label: str = "") -> None:
        self.counter += 1
        heapq.heappush(self.queue, (when, self.counter, what, label))

    def run_until(self, end: int) -> None:
        while self.queue and self.queue[0][0] <= end:
            when, _, what, label = heapq.heappop(self.queue)
            self.now = max(self.now, when)
            self.steps += 1
            what()
            self.invariants.after_step(label)
        self.now = max(self.now, end)

    # ------------------------------------------------------------ daemons

    def daemon_generation(self, node: str) -> int:
        return self.nodes[node].generation

    def start_daemon(self, name: str, handover: dict | None = None) -> None:
        sim = self.nodes[name]
        if not self.down.node_up(name) or sim.loop is not None:
            return
        self.incarnations += 1
        self.joined[name] = self.now
        sim.generation += 1
        sim.paused_until = 0
        sim.deploying = False
        sim.inbox = []
        sim.wake_at = None  # the last incarnation's wake is not this one's
        answers = sim.answers
        worker = SimWorker(self, name)
        ports = Ports(SimUdp(self, name),
                      {link: SimDisk(self, name, link) for link in self._links_of(name, disk=True)},
                      {link: SimStream(self, name, link) for link in self._links_of(name, disk=False)},
                      SimProber(self, name), SimActuator(self, name), worker, SimScripts(),
                      lambda: self.carriers(name), self._recorder(name), answers.append)
        if handover is None:
            state = clean_leftovers(self.spec, name, ports, SimDriver(self, name))
        else:
            state = adopted_state(self.spec, name, handover)
        sim.loop = NodeLoop(self.spec, name, KEY, CONFIG, self.incarnations, sim.local(self.now), ports, state)
        if handover is not None:
            sim.loop.adopt(handover, sim.local(self.now))
        sim.next_tick = self.now + self.random.randrange(self.spec.heartbeat.interval_ms)
        sim.last_run = self.now
        self._schedule(sim)

    def _recorder(self, name: str):
        records = self.records[name]

        def record(entry: dict) -> None:
            records.append((self.now, entry))
        return record

    def _links_of(self, node: str, disk: bool) -> list[str]:
        return [link.name for link in self.spec.links if node in link.nodes and bool(link.disk) == disk]

    def _schedule(self, sim: SimNode) -> None:
        loop = sim.loop
        if loop is None:
            return
        wake = loop.next_wake(sim.local(self.now), sim.local(sim.next_tick)) - sim.clock_offset
        wake = max(wake, self.now + 1)
        if sim.wake_at is not None and sim.wake_at <= wake and sim.wake_at > self.now:
            return
        sim.wake_at = wake
        generation = sim.generation
        self.at(wake, lambda: self._wake(sim, generation, wake), f"{sim.name} runs")

    def _wake(self, sim: SimNode, generation: int, planned: int) -> None:
        if sim.loop is None or sim.generation != generation or sim.wake_at != planned:
            return
        sim.wake_at = None
        if self.now < sim.paused_until:
            return  # the resume wakes it
        self._guarded(sim, self._run_once)
        self._schedule(sim)

    def _run_once(self, sim: SimNode) -> None:
        loop = sim.loop
        local = sim.local(self.now)
        for data, channel, via in sim.inbox:
            loop.take(data, local, channel, via)
        sim.inbox = []
        if self.now >= sim.next_tick:
            loop.tick(local)
            sim.next_tick += self.spec.heartbeat.interval_ms
            if sim.next_tick <= self.now:  # a stall: no burst to catch up
                sim.next_tick = self.now + self.spec.heartbeat.interval_ms
        else:
            loop.decide(local)
        sim.last_run = self.now
        if loop.leaving:
            self.trace.append(f"{self.now} {sim.name}: the daemon left on the operator's request")
            sim.loop = None
            sim.generation += 1
        elif sim.deploying and loop.handover_ready():
            self._reexecute(sim)

    def _guarded(self, sim: SimNode, what, *args) -> None:
        """Nothing may raise out of a node's loop, whatever arrives."""
        try:
            what(sim, *args)
        except Exception:
            self.invariants.breach("raised", f"{sim.name}'s loop raised:\n{traceback.format_exc()}")
            sim.loop = None
            sim.generation += 1

    def _reexecute(self, sim: SimNode) -> None:
        """A deploy's reload: the daemon hands over what it holds and runs again, a new incarnation."""
        handover = sim.loop.handover(sim.local(self.now))
        sim.loop = None
        self.trace.append(f"{self.now} {sim.name}: re-executed for a deploy, handing over {handover['holds']}")
        self.start_daemon(sim.name, handover)

    def pause(self, name: str, ms: int) -> None:
        sim = self.nodes[name]
        if sim.loop is None:
            return
        sim.paused_until = max(sim.paused_until, self.now + ms)
        generation = sim.generation
        self.at(sim.paused_until, lambda: self._resume(sim, generation), f"{name} resumes")

    def _resume(self, sim: SimNode, generation: int) -> None:
        if sim.loop is None or sim.generation != generation or self.now < sim.paused_until:
            return
        sim.wake_at = None
        self._schedule(sim)

    def crash(self, name: str) -> None:
        """kill -9: the daemon is gone, what it configured stays up."""
        sim = self.nodes[name]
        if sim.loop is not None:
            sim.loop = None
            sim.generation += 1

    def step_clock(self, name: str, ms: int) -> None:
        self.nodes[name].clock_offset += ms

    def deploy(self, name: str, groups: frozenset) -> None:
        sim = self.nodes[name]
        if sim.loop is None or sim.deploying:
            return
        sim.deploying = True
        sim.loop.deploy(groups)
        sim.wake_at = None
        when = max(self.now, sim.paused_until)  # a paused daemon takes its SIGHUP when it runs again
        self.at(when, lambda: self._guarded(sim, self._deploy_decide), f"{name} reloads")

    def _deploy_decide(self, sim: SimNode) -> None:
        if sim.loop is not None:
            sim.loop.decide(sim.local(self.now))
            if sim.loop.handover_ready():
                self._reexecute(sim)
            else:
                self._schedule(sim)

    def request(self, name: str, verb: str, group: str = "", target: str = "", mode: str = "") -> None:
        sim = self.nodes[name]
        if sim.loop is None:
            return
        self.request_count += 1
        made = Request(f"{name}/{sim.loop.incarnation}/{self.request_count}", verb, group, target, mode)
        if request_problem(self.spec, made):
            return
        self.requests_made.append((self.now, made, name))
        sim.loop.request(made)

    # ------------------------------------------------------------ failures

    def fail(self, component: str) -> None:
        self._set_failed(self.failed | {component})

    def recover(self, component: str) -> None:
        self._set_failed(self.failed - {component})

    def set_quality(self, medium: str, quality: Quality) -> None:
        self.quality[medium] = quality
        self.reconnect()

    def reconnect(self) -> None:
        """Which pairs of nodes are connected now, each since when it has been without a break."""
        names = self.spec.node_names
        together = {}
        for index, first in enumerate(names):
            for second in names[index + 1:]:
                if self.connected(first, second) or self.linked(first, second):
                    together[(first, second)] = self.together.get((first, second), self.now)
        self.together = together

    def hear_each_other(self, first: str, second: str) -> bool:
        """Connected long enough for each to have heard the other and learnt that the other hears it: two
        intervals and the slowest delivery since the last break."""
        key = (first, second) if self.spec.node_index[first] < self.spec.node_index[second] else (second, first)
        since = self.together.get(key)
        lag = max((quality.delay_ms + quality.jitter_ms for quality in self.quality.values()), default=1)
        return since is not None and self.now - since >= 2 * self.spec.heartbeat.interval_ms + lag

    def _set_failed(self, failed: set[str]) -> None:
        before = self.down
        self.failed = set(failed)
        self.down = expand(self.spec, self.failed)
        self.reconnect()
        for name, sim in self.nodes.items():
            if before.node_up(name) and not self.down.node_up(name):  # the machine is off: all with it
                sim.loop = None
                sim.generation += 1
                self.addresses.pop(name, None)
                for key in [key for key in self.resources if key[0] == name]:
                    del self.resources[key]
                self.slots = {key: value for key, value in self.slots.items() if key[1] != name}
            elif not before.node_up(name) and self.down.node_up(name):
                self.start_daemon(name)
            elif sim.loop is not None:
                for ifname, up in self.carriers(name).items():  # netlink tells at once
                    sim.loop.carrier(ifname, up, sim.local(self.now))

    def carriers(self, node: str) -> dict[str, bool]:
        """A port, deaf, mute or hung switch failure keeps the carrier up; the adapter's or its switch's own
        failure takes it down."""
        return {adapter.ifname: self.down.usable(adapter) for adapter in self.spec.adapters_by_node[node]}

    # ------------------------------------------------------------ what crosses the wire

    def _quality(self, medium_name: str) -> Quality:
        return self.quality.get(medium_name) or Quality()

    def _deliver(self, receiver: str, data: bytes, channel: str, via: str | None, quality: Quality,
                 label: str) -> None:
        rng = self.random
        if quality.loss and rng.random() < quality.loss:
            return
        copies = 2 if quality.duplicate and rng.random() < quality.duplicate else 1
        for _ in range(copies):
            payload = data
            if quality.corrupt and rng.random() < quality.corrupt:
                payload = _corrupted(rng, data)
            delay = quality.delay_ms + (rng.randrange(quality.jitter_ms + 1) if quality.jitter_ms else 0)
            self.at(self.now + delay, lambda payload=payload: self._arrive(receiver, payload, channel, via), label)

    def _arrive(self, receiver: str, data: bytes, channel: str, via: str | None) -> None:
        sim = self.nodes[receiver]
        if sim.loop is None:
            return
        if self.now < sim.paused_until:
            if len(sim.inbox) < 1000:  # a socket's buffer is not endless
                sim.inbox.append((data, channel, via))
            return
        self._guarded(sim, lambda sim: sim.loop.take(data, sim.local(self.now), channel, via))

    def broadcast(self, sender: str, adapter, data: bytes) -> None:
        down = self.down
        if not down.sends(adapter):
            return
        medium = self.subnet_of.get(adapter.key)
        if medium is None:
            return
        quality = self._quality(medium.name)
        for peer in self.ends_by_subnet[medium.index]:
            if peer.node != sender and down.receives(peer) and down.node_up(peer.node):
                self._deliver(peer.node, data, "", peer.ifname, quality, f"beat {sender}->{peer.node}")

    def stream_write(self, sender: str, path, data: bytes) -> None:
        medium = path.medium
        if not all(end_works(self.down, medium, end) for end in (path.first, path.second)):
            return
        peer = path.peer_of(sender).node
        self._deliver(peer, data, path.id, None, self._quality(medium.name), f"serial {sender}->{peer}")

    def disk_reachable(self, node: str, link: str) -> bool:
        medium = self.medium_of_link[link]
        end = next(end for end in medium.ends if end.node == node)
        return end_works(self.down, medium, end)

    def disk_write(self, node: str, link: str, data: bytes) -> None:
        quality = self._quality(link)
        if quality.corrupt and self.random.random() < quality.corrupt:
            data = data[:self.random.randrange(len(data))]  # a torn write
        self.slots[(link, node)] = data

    def probe(self, node: str, adapter) -> None:
        down = self.down
        if down.sends(adapter) and down.receives(adapter):
            sim = self.nodes[node]
            generation = sim.generation
            self.at(self.now + 1, lambda: self._answered(sim, generation, adapter.ifname), "ping answer")

    def _answered(self, sim: SimNode, generation: int, ifname: str) -> None:
        if sim.loop is not None and sim.generation == generation and self.now >= sim.paused_until:
            sim.loop.target_answered(ifname, sim.local(self.now))

    # ------------------------------------------------------------ resources

    def set_addresses(self, node: str, held: tuple) -> None:
        self.addresses[node] = held
        self.invariants.addresses_set(node)

    def timeout_ms(self, group: str) -> int:
        spec = self.spec.group(group)
        return sum(app.timeout_ms for app in spec.applications) + STEP_TIMEOUT_MS * (
            len(spec.volume_groups) + len(spec.filesystems)) + 1

    def _hang_ms(self, action) -> int:
        """How long a hung action runs before its timeout kills it: a monitor's probe its monitor's timeout, a
        restart its application's stop and start, a group's acquisition or release all its steps'."""
        if isinstance(action, (Probe, Restart)):
            application = next(app for app in self.spec.group(action.group).applications
                                if app.name == action.application)
            if isinstance(action, Probe):
                return application.monitor.timeout_ms if application.monitor else application.timeout_ms
            return 2 * application.timeout_ms
        return self.timeout_ms(action.group)

    def under_way_ms(self, group: str) -> int:
        """The longest a monitor's probe or an application's restart of the group may run."""
        return max((max(2 * app.timeout_ms, app.monitor.timeout_ms if app.monitor else 0)
                    for app in self.spec.group(group).applications), default=0)

    def drive(self, node: str, action, at_once: bool = False) -> tuple[int, Done]:
        """How long the driver takes over the action, and how it ends."""
        kind = type(action).__name__.lower()
        group = action.group
        behaviour = self.behaviour.get((node, group), "ok")
        if isinstance(action, Acquire):
            self.invariants.acquiring(node, group)
            self.resources[(node, group)] = "acquiring"
            self.acquired[(node, group)] = self.now
        rng = self.random
        duration = {"ok": rng.randrange(1, 30), "slow": rng.randrange(300, 3000),
                    "hang": self._hang_ms(action)}.get(behaviour, rng.randrange(1, 100))
        ok = behaviour in ("ok", "slow")
        clean = behaviour != "dirty"
        if isinstance(action, Release) and behaviour == "fail":
            ok = clean = True  # a stop that fails is retried by the driver's rollback: down in the end
        if isinstance(action, (Probe, Restart)):
            ok = clean = behaviour not in ("fail", "dirty", "hang")
        done = Done(kind, group, ok, getattr(action, "application", ""), "" if ok else f"the driver: {behaviour}",
                    clean)
        return (0 if at_once else duration), done

    def driven(self, node: str, action, done: Done) -> None:
        key = (node, action.group)
        if isinstance(action, Acquire):
            if done.ok:
                self.resources[key] = "up"
            elif done.clean:
                self.resources.pop(key, None)
            else:
                self.resources[key] = "error"
        elif isinstance(action, Release):
            if done.clean:
                self.resources.pop(key, None)
            else:
                self.resources[key] = "error"

    # ------------------------------------------------------------ what a check asks

    def running(self) -> list[str]:
        return [name for name, sim in self.nodes.items() if sim.loop is not None]

    def holders(self, group: str) -> list[str]:
        """Every node with anything of the group up: its addresses or its other resources."""
        labels = set(self.spec.group(group).service_ips)
        found = {node for node, held in self.addresses.items() if any(item[0] in labels for item in held)}
        found |= {node for node, name in self.resources if name == group}
        return sorted(found, key=self.spec.node_index.__getitem__)

    def carries(self, medium_name: str) -> bool:
        """Whether a medium carries beats well enough to count as a path between the nodes it joins: a path that
        loses, corrupts or reorders much of what it carries is, to the nodes, a cut that comes and goes (as on
        any heartbeat network), so that the invariants then ask quorum's protection, not one holder."""
        quality = self._quality(medium_name)
        interval = self.spec.heartbeat.interval_ms
        return quality.loss <= 0.05 and quality.corrupt <= 0.05 and quality.jitter_ms <= interval // 4 \
            and quality.delay_ms + quality.jitter_ms < interval

    def connected(self, first: str, second: str) -> bool:
        """Whether a path between the two nodes carries beats both ways now."""
        down = self.down
        if not (down.node_up(first) and down.node_up(second)):
            return False
        for path in heartbeat_paths(self.spec, first):
            if path.peer_of(first).node != second or not self.carries(path.medium.name):
                continue
            if path.medium.kind == "subnet":
                one, other = path.end_of(first).adapter, path.peer_of(first).adapter
                if down.sends(one) and down.receives(other) and down.sends(other) and down.receives(one):
                    return True
            elif all(end_works(down, path.medium, end) for end in (path.first, path.second)):
                return True
        return False

    def linked(self, first: str, second: str) -> bool:
        """Whether a working non-IP link joins the two nodes."""
        for path in heartbeat_paths(self.spec, first):
            if path.medium.kind != "subnet" and path.peer_of(first).node == second \
                    and self.carries(path.medium.name) \
                    and all(end_works(self.down, path.medium, end) for end in (path.first, path.second)):
                return True
        return False


def _corrupted(rng: random.Random, data: bytes) -> bytes:
    """A flipped bit, a truncation, or garbage: what a bad cable or a buggy switch delivers."""
    choice = rng.randrange(3)
    if choice == 0 and data:
        index = rng.randrange(len(data))
        return data[:index] + bytes([data[index] ^ (1 << rng.randrange(8))]) + data[index + 1:]
    if choice == 1:
        return data[:rng.randrange(len(data) + 1)]
    return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64)))


from tests.sim.invariants import Invariants  # noqa: E402  (the checks read the world's names above)
