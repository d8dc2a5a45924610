"""Several nodes in one process, on an ideal network, tick by tick: the daemon's own loop body, scenario by scenario.

Each node is a `runtime.node.loop.NodeLoop`, the loop body the daemon runs,
with recording ports. Each tick is one heartbeat interval: every live node
beats (its report, signed, on every adapter and link: `NodeLoop.beat`), the
beats arrive where the failures let them (on a subnet, when the sender's
adapter sends and the receiver's receives: `port:`, `deaf:`, `mute:` and
`hung:` cut one way or both and leave the carriers up), and then every node
decides (`NodeLoop.decide`), with the observation the daemon builds. An
adapter that sends and receives on a subnet with ping targets gets an answer
every tick. What each node decides is recorded, as the daemon's executors
would get it. Failures are the verifier's component names; `node:N` kills
N's daemon too (what it held is gone with it). tests/sim runs the same loop
body in a world that misbehaves at random.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from runtime.core.engine import Addresses, Announce, Done
from runtime.core.failures import expand
from runtime.core.operator import Request
from runtime.core.paths import end_works, heartbeat_paths, media
from runtime.core.sets import DisjointSets
from runtime.core.topology import subnet_targets
from runtime.node.loop import NodeLoop, Ports
from runtime.node.transports import adapter_key, udp_paths

KEY, CONFIG = b"engine tests", "0123456789abcdef"


@dataclass
class NodeSim:
    name: str
    loop: NodeLoop
    reasons: list = field(default_factory=list)  # every decision's reason that differed from the one before
    events: list = field(default_factory=list)  # what each decision's new plan meant, described
    done: list = field(default_factory=list)  # what its executors finish by the next tick
    actions: list = field(default_factory=list)  # (tick, kind, group) of every resource action decided
    replies: list = field(default_factory=list)  # the answers its control socket would give, in order
    addressing: list = field(default_factory=list)  # (tick, Addresses or Announce) as the address executor gets them
    outbox: list = field(default_factory=list)  # ("udp", adapter, bytes) or ("link", name, bytes) beaten this tick
    adapters: tuple = ()

    @property
    def state(self):
        return self.loop.state

    @property
    def report(self):
        return self.loop.report

    @property
    def table(self):
        return self.loop.table

    @property
    def view(self):
        return self.loop.view

    @property
    def incarnation(self):
        return self.loop.incarnation


class _Udp:
    def __init__(self, node: NodeSim, paths: dict):
        self.node, self.paths = node, paths

    def send(self, make) -> list:
        self.node.outbox.extend(("udp", adapter, make(adapter_key(adapter))) for adapter in self.node.adapters)
        return []

    def path_of(self, sender_adapter: str, ifname: str) -> str:
        return self.paths.get((sender_adapter, ifname), "")


class _Link:
    """A serial line or a disk: what the node writes goes out with its beats; a disk the node cannot reach fails
    the write (which is how the loop knows whether it reaches the tie-breaker)."""

    def __init__(self, sim: "Sim", node: NodeSim, link: str):
        self.sim, self.node, self.link = sim, node, link

    def write(self, data: bytes) -> None:
        down = self.sim.down
        if self.sim.spec.link(self.link).disk and not (down.link_up(self.link)
                                                       and down.connected(self.node.name, self.link)):
            raise OSError("the disk is not reachable")
        self.node.outbox.append(("link", self.link, data))

    def read(self) -> list:
        return []


class _Prober:
    def send(self, now_ms: int) -> None:
        pass

    def warnings(self) -> list:
        return []


class _Actuator:
    def __init__(self, sim: "Sim", node: NodeSim):
        self.sim, self.node, self.held = sim, node, ()

    def apply(self, held) -> list:
        self.held = tuple(held)
        self.node.addressing.append((self.sim.now, Addresses(tuple(held))))
        return []

    def announce(self, labels) -> None:
        self.node.addressing.append((self.sim.now, Announce(tuple(labels))))

    def route_around(self, ifnames) -> list:
        return []


class _Worker:
    """Every action finishes by the next tick, as `Sim.outcomes` says (plain success unless told), or waits for
    `Sim.finish` when stalled."""

    def __init__(self, sim: "Sim", node: NodeSim):
        self.sim, self.node = sim, node

    def submit(self, action) -> None:
        sim, name = self.sim, self.node.name
        kind = type(action).__name__.lower()
        self.node.actions.append((sim.now, kind, action.group))
        ok, detail, clean = sim.outcomes.get((kind, action.group, name), (True, "", True))
        done = Done(kind, action.group, ok, getattr(action, "application", ""), detail, clean)
        if (kind, action.group, name) in sim.stalled:
            sim.parked.append((name, done))
        else:
            self.node.done.append(done)

    def take(self) -> list:
        found = [(done, {"event": done.kind, "group": done.group, "ok": done.ok}) for done in self.node.done]
        self.node.done = []
        return found


class _Scripts:
    def raise_event(self, event, phases=("begin", "end")) -> None:
        pass

    def take(self) -> list:
        return []


class Sim:
    def __init__(self, spec, start: bool = True, hung_switches: bool = False, outcomes=None):
        self.spec = spec
        # (kind, group, node) -> Done fields (ok, detail, clean) for the executors' outcomes that are not plain success
        self.outcomes = dict(outcomes or {})
        self.stalled: set = set()  # (kind, group, node) whose executions do not finish until `finish`
        self.parked: list = []  # (node, Done) of the stalled executions
        self.now = 0
        self.failed: set[str] = set()
        self.down = expand(spec, ())
        self.nodes: dict[str, NodeSim] = {}
        self.interval = spec.heartbeat.interval_ms
        self.detection = spec.heartbeat.interval_ms * spec.heartbeat.miss_limit
        self.violations: list[str] = []
        self.incarnations = 0
        self.left: list[str] = []  # the nodes whose daemon left on the operator's request
        self.requests = 0
        self.hung_switches = hung_switches  # a failed switch keeps its ports' links up (the lab's bridge down)
        targets = subnet_targets(spec)
        self.targets = {end.key: targets[medium.index] for medium in media(spec) if medium.index in targets
                        for end in medium.ends}
        if start:
            for node in spec.node_names:
                self.start(node)

    # ------------------------------------------------------------ the world

    def start(self, node: str) -> None:
        self.incarnations += 1
        sim = NodeSim(node, None, adapters=tuple(self.spec.adapters_by_node[node]))  # type: ignore[arg-type]
        links = [link.name for link in self.spec.links if node in link.nodes]
        ports = Ports(_Udp(sim, udp_paths(self.spec, node)), {link: _Link(self, sim, link) for link in links if self.spec.link(link).disk},
                      {link: _Link(self, sim, link) for link in links if not self.spec.link(link).disk}, _Prober(),
                      _Actuator(self, sim), _Worker(self, sim), _Scripts(), lambda: self._carriers(node),
                      lambda record: self._record(sim, record), sim.replies.append)
        sim.loop = NodeLoop(self.spec, node, KEY, CONFIG, self.incarnations, self.now, ports)
        self.nodes[node] = sim

    def _record(self, sim: NodeSim, record: dict) -> None:
        if record["event"] == "decision":
            sim.reasons.append(record["reason"])
        elif "text" in record and "details" in record:
            sim.events.append(record["text"])

    def _carriers(self, node: str) -> dict:
        down = self.down
        return {adapter.ifname: (adapter.node, adapter.ifname) not in down.adapters if self.hung_switches
                else down.usable(adapter) for adapter in self.spec.adapters_by_node[node]}

    def fail(self, *components: str) -> None:
        self.failed.update(components)
        self.down = expand(self.spec, self.failed)
        for node in self.down.nodes:
            self.nodes.pop(node, None)  # the daemon dies with its node

    def recover(self, *components: str) -> None:
        self.failed.difference_update(components)
        self.down = expand(self.spec, self.failed)
        for node in self.spec.node_names:
            if self.down.node_up(node) and node not in self.nodes:
                self.start(node)

    def run(self, ticks: int) -> None:
        for _ in range(ticks):
            self.tick()

    def settle(self, most: int = 300) -> None:
        """Tick until nothing has changed for two detection times (reports travel a hop a tick, so a long
        chain of nodes takes longer to agree), at most `most` ticks."""
        quiet, needed = 0, 2 * self.spec.heartbeat.miss_limit + 2
        for _ in range(most):
            before = self._progress()
            self.tick()
            after = self._progress()
            quiet = quiet + 1 if after == before else 0
            if quiet >= needed:
                return

    def _progress(self) -> dict:
        return {name: (sim.state.holds, sim.state.plan_id, sim.view, sim.reasons[-1] if sim.reasons else "")
                for name, sim in self.nodes.items()}

    def tick(self) -> None:
        self.now += self.interval
        spec, down = self.spec, self.down
        for sim in self.nodes.values():
            for adapter in spec.adapters_by_node[sim.name]:
                if self.targets.get(adapter.key) and down.sends(adapter) and down.receives(adapter):
                    sim.loop.target_answered(adapter.ifname, self.now)
            sim.outbox = []
            sim.loop.beat(self.now)
        for name, sim in self.nodes.items():
            for path in heartbeat_paths(spec, name):
                peer = path.peer_of(name).node
                if peer not in self.nodes or not _arrives(down, path, name):
                    continue
                for kind, where, data in sim.outbox:
                    if kind == "udp" and path.medium.kind == "subnet" and where == path.end_of(name).adapter:
                        self.nodes[peer].loop.take(data, self.now, via_udp=path.peer_of(name).adapter.ifname)
                    elif kind == "link" and where == path.medium.name:
                        self.nodes[peer].loop.take(data, self.now, path.id)
        for sim in list(self.nodes.values()):
            sim.loop.decide(self.now)
            if sim.loop.leaving:
                self.left.append(sim.name)
                del self.nodes[sim.name]  # the daemon exits; its node stays up
        self._check()

    def request(self, node: str, verb: str, group: str = "", target: str = "", mode: str = ""):
        """The operator asks `node`'s control socket; the request reaches its next decision."""
        self.requests += 1
        request = Request(f"{node}/{self.nodes[node].incarnation}/{self.requests}", verb, group, target, mode)
        self.nodes[node].loop.request(request)
        return request

    def reply(self, node: str, request) -> object:
        """The answer `node` gave to the request, or None yet."""
        return next((answer for answer in self.nodes[node].replies if answer.id == request.id), None) \
            if node in self.nodes else None

    def finish(self, kind: str, group: str, node: str) -> None:
        """A stalled execution finishes: its outcome reaches the node's next decision."""
        self.stalled.discard((kind, group, node))
        for name, done in [item for item in self.parked if item[0] == node and item[1][:2] == (kind, group)]:
            self.parked.remove((name, done))
            if name in self.nodes:
                self.nodes[name].done.append(done)

    # ------------------------------------------------------------ what a test asks

    def holders(self, group: str) -> list[str]:
        return [name for name, sim in self.nodes.items() if group in sim.state.holds]

    def placement(self) -> dict[str, tuple[str, ...]]:
        return {group.name: tuple(node for node in group.nodes if node in self.holders(group.name))
                for group in self.spec.groups}

    def addresses(self, node: str) -> dict[str, str]:
        return {label: ifname for label, _, ifname in self.nodes[node].state.addresses} if node in self.nodes else {}

    def _check(self) -> None:
        """No group on two nodes that can hear each other, nor on both sides of a partition under quorum."""
        spec, down = self.spec, self.down
        names = list(spec.node_names)
        sets = DisjointSets(len(names))
        for name in self.nodes:
            for path in heartbeat_paths(spec, name):
                peer = path.peer_of(name).node
                if peer in self.nodes and _arrives(down, path, name) and _arrives(down, path, peer):
                    sets.union(names.index(name), names.index(peer))
        for group in spec.groups:
            if group.concurrent:
                continue
            holders = self.holders(group.name)
            sides = {sets.find(names.index(node)) for node in holders}
            if len(holders) > 1 and (len(sides) < len(holders) or spec.heartbeat.quorum == "majority"):
                self.violations.append(f"t={self.now}: {group.name} held by {', '.join(holders)}")


def _arrives(down, path, sender: str) -> bool:
    """Whether a beat the sender puts on the path reaches the other end under the failures."""
    if path.medium.kind != "subnet":
        return all(end_works(down, path.medium, end) for end in (path.first, path.second))
    return down.sends(path.end_of(sender).adapter) and down.receives(path.peer_of(sender).adapter)

