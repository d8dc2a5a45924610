"""Several node engines in one process, on an ideal network, tick by tick: `decide` tested as the nodes run it.

Each tick is one heartbeat interval. Every live node makes its report (the
paths its `Detector` hears, its carriers, whether it reaches the
tie-breaker, which of its adapters reach a ping target, what it holds, its
view hash and, if it leads, its plan), then sends a beat on every path of its
own; the beat arrives where the failures let it (on a subnet, when the
sender's adapter sends and the receiver's receives: `port:`, `deaf:`, `mute:`
and `hung:` cut one way or both and leave the carriers up); a beat carries the
sender's fresh reports, as on the wire. An adapter that sends and receives on
a subnet with ping targets gets an answer every tick. Then
every node decides, with the same `Observation` the daemon gives it, and its
actions are recorded, as the daemon's recording executors would. Failures
are the verifier's component names; `node:N` kills N's daemon too (what it
held is gone with it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from runtime.core.detector import Detector
from runtime.core.engine import Acquire, Addresses, Announce, Done, EngineState, Leave, Observation, Probe, Release, Reply, \
    Restart, RouteAround, decide, own_report
from runtime.core.failures import expand
from runtime.core.membership import Report, Table
from runtime.core.operator import Request
from runtime.core.paths import end_works, heartbeat_paths, media
from runtime.core.topology import subnet_targets
from runtime.core.sets import DisjointSets


@dataclass
class NodeSim:
    name: str
    incarnation: int
    started_ms: int
    detector: Detector
    state: EngineState
    table: Table | None = None
    report: Report | None = None
    view: str = ""
    reasons: list = field(default_factory=list)
    events: list = field(default_factory=list)  # what each decision's new plan meant, described
    done: list = field(default_factory=list)  # what its executors finish by the next tick
    actions: list = field(default_factory=list)  # every resource action decided, in order
    requests: list = field(default_factory=list)  # the operator's requests for its next decision
    replies: list = field(default_factory=list)  # the answers its control socket would give, in order
    addressing: list = field(default_factory=list)  # (tick, Addresses or Announce) as the address executor gets them


class Sim:
    def __init__(self, spec, start: bool = True, hung_switches: bool = False, outcomes=None):
        self.spec = spec
        # (kind, group, node) -> Done fields (ok, detail, clean) for the executors' outcomes that are not plain success
        self.outcomes = dict(outcomes or {})
        self.stalled: set = set()  # (kind, group, node) whose executions do not finish until `finish`
        self.parked: list = []  # (node, Done) of the stalled executions
        self.now = 0
        self.failed: set[str] = set()
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
        self.nodes[node] = NodeSim(node, self.incarnations, self.now, Detector(self.spec, node, self.now),
                                   EngineState(node), Table(self.detection))

    def fail(self, *components: str) -> None:
        self.failed.update(components)
        for node in expand(self.spec, components).nodes:
            self.nodes.pop(node, None)  # the daemon dies with its node

    def recover(self, *components: str) -> None:
        self.failed.difference_update(components)
        down = expand(self.spec, self.failed)
        for node in self.spec.node_names:
            if down.node_up(node) and node not in self.nodes:
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
        spec, down = self.spec, expand(self.spec, self.failed)
        for sim in self.nodes.values():
            for adapter in spec.adapters_by_node[sim.name]:
                carrier = (adapter.node, adapter.ifname) not in down.adapters if self.hung_switches else \
                    down.usable(adapter)
                sim.detector.carrier(adapter.ifname, carrier, self.now)
                if self.targets.get(adapter.key) and down.sends(adapter) and down.receives(adapter):
                    sim.detector.reply(adapter.ifname, self.now)
            tie = spec.heartbeat.tie_breaker
            reaches = tie is not None and sim.name in spec.link(tie).nodes and down.link_up(tie) \
                and down.connected(sim.name, tie)
            sim.report = own_report(spec, sim.report, sim.state, sim.incarnation, sim.detector.heard(self.now),
                                    sim.detector.carriers(), reaches, sim.view, sim.detector.settled(self.now),
                                    self.now, sim.detector.reaching(self.now))
            sim.table.learn(sim.report, self.now)
        outgoing = {name: sim.table.fresh(self.now, self.detection) for name, sim in self.nodes.items()}
        for name, sim in self.nodes.items():
            for path in heartbeat_paths(spec, name):
                peer = path.peer_of(name).node
                if peer in self.nodes and _arrives(down, path, name):
                    self.nodes[peer].detector.beat(path.id, self.now)
                    for report in outgoing[name].values():
                        self.nodes[peer].table.learn(report, self.now)
        for sim in list(self.nodes.values()):
            observation = Observation(self.now, sim.table.fresh(self.now, self.detection),
                                      sim.table.fresh(self.now, self.detection - self.interval),
                                      sim.detector.settled(self.now),
                                      sim.table.veterans(self.now, self.detection) | {sim.name}, tuple(sim.done),
                                      tuple(sim.requests))
            sim.done, sim.requests = [], []
            sim.state, decision = decide(spec, sim.state, observation)
            sim.view = decision.view_hash
            sim.reasons.append(decision.reason)
            sim.events.extend(event.describe() for event in decision.events)
            for action in decision.actions:
                assert isinstance(action, (Acquire, Release, Addresses, Announce, Probe, Restart, RouteAround, Reply,
                                           Leave))
                if isinstance(action, (Addresses, Announce)):
                    sim.addressing.append((self.now, action))
                if isinstance(action, Reply):
                    sim.replies.append(action.answer)
                elif isinstance(action, Leave):
                    self.left.append(sim.name)
                    del self.nodes[sim.name]  # the daemon exits; its node stays up
                if isinstance(action, (Acquire, Release, Probe, Restart)):
                    kind = type(action).__name__.lower()
                    sim.actions.append((self.now, kind, action.group))
                    ok, detail, clean = self.outcomes.get((kind, action.group, sim.name), (True, "", True))
                    done = Done(kind, action.group, ok, getattr(action, "application", ""), detail, clean)
                    if (kind, action.group, sim.name) in self.stalled:
                        self.parked.append((sim.name, done))
                    else:
                        sim.done.append(done)
        self._check()

    def request(self, node: str, verb: str, group: str = "", target: str = "", mode: str = ""):
        """The operator asks `node`'s control socket; the request reaches its next decision."""
        self.requests += 1
        request = Request(f"{node}/{self.nodes[node].incarnation}/{self.requests}", verb, group, target, mode)
        self.nodes[node].requests.append(request)
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
        spec, down = self.spec, expand(self.spec, self.failed)
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
