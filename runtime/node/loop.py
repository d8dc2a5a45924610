"""One node's loop body, shared by the daemon and the whole-cluster simulator (tests/sim).

`NodeLoop` is everything a node does between its I/O: it takes in what
arrived (`take`: checked, counted if dropped, else heard and learnt), what
the carriers and the ping targets say, and the operator's requests; each
interval (`tick`) it makes its report, sends a beat on every adapter and
link, reads the disks, sends its probes and decides; and `decide` builds the
`Observation`, calls `engine.decide` and hands the actions to the executors.
The clock is never read here: every call is given the time. The transports,
the carrier source, the prober, the address executor, the resource worker,
the event scripts, the log and the operator's answers are `Ports`: real ones
in the daemon (`runtime/node/daemon.py`), simulated ones in tests/sim, so
that what the simulator runs is what the nodes run.
"""

from __future__ import annotations

from typing import Callable, Dict, FrozenSet, List, Mapping, NamedTuple, Optional, Tuple

from runtime.core.detector import Detector
from runtime.core.engine import ERROR, ONLINE, Addresses, Announce, EngineState, Leave, Observation, Probe, \
    Release, Reply, RouteAround, decide, handover_ready, own_report
from runtime.core.membership import Report, Table, report_body, reports_in
from runtime.core.operator import Request
from runtime.core.placement import Event
from runtime.core.snapshot import ClusterSpec
from runtime.core.wire import Dropped, Drops, Freshness, Message, decode, encode


class Ports(NamedTuple):
    udp: object  # send(make) -> failed ifnames; path_of(sender adapter key, ifname) -> path id
    disks: Mapping[str, object]  # link -> write(bytes), read() -> [(path id, bytes)]
    streams: Mapping[str, object]  # link -> write(bytes)
    prober: object  # send(now_ms); warnings() -> [text]
    actuator: object  # apply(held) -> errors; announce(labels); route_around(ifnames) -> errors; held
    worker: object  # submit(action); take() -> [(Done, record)]; execute(action) -> (Done, record)
    event_scripts: object  # raise_event(event[, phases]); take() -> [record]
    carriers: Callable[[], Mapping[str, bool]]  # ifname -> carrier up, read once an interval
    log: Callable[[dict], None]
    answer: Callable[[object], None]  # an `Answer` for the operator's command waiting on this node


def adopted_state(spec: ClusterSpec, node: str, handover: Mapping[str, object]) -> EngineState:
    """The state a re-executed daemon starts from: the groups (online, or in error) and addresses its previous
    process handed over, those the new snapshot still knows (a removed group's addresses stay where they are)."""
    held = tuple(tuple(item) for item in handover.get("addresses", [])  # type: ignore[union-attr]
                 if item[0] in spec.service_by_name)
    holds = frozenset(group for group in handover.get("holds", [])  # type: ignore[union-attr]
                      if group in spec.group_by_name)
    errors = set(handover.get("errors", []))  # type: ignore[arg-type]
    phases = tuple((group.name, ERROR if group.name in errors else ONLINE) for group in spec.groups
                   if group.name in holds)
    return EngineState(node, holds=holds, phases=phases, addresses=held)  # type: ignore[arg-type]


def clean_leftovers(spec: ClusterSpec, node: str, ports: Ports, driver) -> EngineState:
    """What a crashed daemon left up on this node, removed before the node joins (else another node would take
    the same addresses and mount the same filesystems): the cluster's service addresses, and each group of the
    node's lists the driver finds up, released. The state to start from: a group whose release failed is held
    here in error, so that no other node takes what may still be up here."""
    for found in ports.actuator.clean():
        ports.log({"event": "clean", "found": found})
    stuck = []
    for group in driver.leftovers(node):
        done, record = ports.worker.execute(Release(group))
        ports.log({**record, "event": "clean",
                   "text": f"{group} was left mounted here (a crash?): released before joining"
                   + ("" if done.clean else "; the release failed: held here in error")})
        if not done.clean:
            stuck.append(group)
    phases = tuple((group.name, ERROR) for group in spec.groups if group.name in stuck)
    return EngineState(node, holds=frozenset(stuck), phases=phases)


class NodeLoop:
    def __init__(self, spec: ClusterSpec, node: str, key: bytes, config: str, incarnation: int, now_ms: int,
                 ports: Ports, state: Optional[EngineState] = None, drops: Optional[Drops] = None):
        self.spec, self.node, self.key, self.config = spec, node, key, config
        self.incarnation, self.ports = incarnation, ports
        self.interval = spec.heartbeat.interval_ms
        self.detection = spec.heartbeat.interval_ms * spec.heartbeat.miss_limit
        self.detector = Detector(spec, node, now_ms)
        self.table, self.freshness = Table(self.detection), Freshness()
        self.drops = drops if drops is not None else Drops()  # shared with the prober, which counts strays
        self.state = state if state is not None else EngineState(node)
        self.report: Optional[Report] = None
        self.view = ""
        self.seq = 0
        self.tie_ok = False
        self.requests: List[Request] = []  # from the control socket, for the next decision
        self.release: FrozenSet[str] = frozenset()  # a deploy's groups to release, for the next decision
        self.leaving = False  # the engine said Leave: the daemon exits
        self.last_run = now_ms  # when the loop last ran, to see a stall (one right after the start too)
        self.stalled = 0  # the stall seen since the last decision, for it
        self.last_logged = ""
        self.drops_logged = 0
        self.oversized: set = set()  # disk links a beat did not fit, warned of

    # ------------------------------------------------------------ what arrives

    def take(self, data: bytes, now_ms: int, channel: str = "", via_udp: Optional[str] = None) -> None:
        """One message that arrived (on a link's `channel`, or on the adapter `via_udp`): checked, counted if
        dropped, else heard and learnt."""
        self._resume(now_ms)
        try:
            message = decode(data, self.key, self.spec.name, self.config)
            if message.sender == self.node:
                return  # its own broadcast, looped back: not a drop
            if message.kind != "beat" or message.sender not in self.spec.node_by_name:
                raise Dropped("foreign", f"a {message.kind} from {message.sender}")
            path = self.ports.udp.path_of(message.path or "", via_udp) if via_udp is not None else channel
            if not path:
                return  # a broadcast of another subnet that the switches carried here: no path, not a drop
            self.freshness.check(message, path)
            reports = reports_in(self.spec, message.body, self.table.versions)
        except Dropped as exc:
            self.drops.add(exc.reason)
            return
        self.detector.beat(path, now_ms)
        for report in reports:
            if report.origin != self.node:
                self.table.learn(report, now_ms)

    def carrier(self, ifname: str, up: bool, now_ms: int) -> None:
        self.detector.carrier(ifname, up, now_ms)

    def target_answered(self, ifname: str, now_ms: int) -> None:
        self.detector.reply(ifname, now_ms)

    def request(self, request: Request) -> None:
        """An operator's request, checked already, for the next decision."""
        self.requests.append(request)

    def deploy(self, groups: FrozenSet[str]) -> None:
        """A deploy restarts or moves these groups: the next decision releases those held here, and the node
        hands over once `handover_ready`."""
        self.release = frozenset(groups)

    def handover_ready(self) -> bool:
        return handover_ready(self.state)

    def handover(self, now_ms: int) -> Dict[str, object]:
        """What the process that re-executes (a deploy's reload) needs to go on where this one stops: the groups
        and addresses held, and what the node heard and knew of its peers (else its first report would say it
        hears nobody, its peers would see a partition and take its groups)."""
        return {"holds": sorted(self.state.holds), "addresses": [list(item) for item in self.ports.actuator.held],
                "errors": sorted(group for group, phase in self.state.phases if phase == ERROR),
                "heard": sorted(self.detector.heard(now_ms)),
                "reports": report_body({origin: report for origin, report in self.table.fresh(
                    now_ms, self.detection).items() if origin != self.node})}

    def adopt(self, handover: Mapping[str, object], now_ms: int) -> None:
        """Go on from a handover: the paths heard and the peers' reports, as of now (what the new snapshot does
        not know is left out)."""
        heard = handover.get("heard", [])
        for path in heard if isinstance(heard, list) else []:
            if isinstance(path, str):
                self.detector.beat(path, now_ms)
        reports = handover.get("reports")
        try:
            known = reports_in(self.spec, reports) if isinstance(reports, dict) else []
        except Dropped:
            known = []
        for report in known:
            if report.origin != self.node:
                self.table.learn(report, now_ms)

    # ------------------------------------------------------------ one interval

    def next_wake(self, now_ms: int, next_tick: int) -> int:
        """When to run next: the next tick, or sooner when a peer's report goes stale (its silence reaches a
        threshold then, not at the next tick, which would add up to an interval to every detection)."""
        stale = self.table.next_stale(now_ms, (self.detection, self.detection - self.interval))
        return next_tick if stale is None else min(next_tick, stale)

    def _message(self, path: str, body: dict) -> bytes:
        self.seq += 1
        return encode(Message(self.spec.name, self.config, self.node, self.incarnation, self.seq, "beat", path,
                              body), self.key)

    def tick(self, now_ms: int) -> None:
        """One interval: `beat`, then decide."""
        self.beat(now_ms)
        self.decide(now_ms)

    def beat(self, now_ms: int) -> None:
        """Report, beat on every adapter and link, read the disks, and probe the targets (the engine tests run
        every node's beat before any node decides, as on a network faster than an interval)."""
        self._resume(now_ms)
        for ifname, up in self.ports.carriers().items():  # netlink tells at once; this in case it was lost
            self.detector.carrier(ifname, up, now_ms)
        tie = self.spec.heartbeat.tie_breaker
        self.report = own_report(self.spec, self.report, self.state, self.incarnation, self.detector.heard(now_ms),
                                 self.detector.carriers(), bool(tie) and self.tie_ok, self.view,
                                 self.detector.settled(now_ms), now_ms, reach=self.detector.reaching(now_ms))
        self.table.learn(self.report, now_ms)
        body = report_body(self.table.fresh(now_ms, self.detection))
        self.ports.udp.send(lambda sender: self._message(sender, body))
        for link, disk in self.ports.disks.items():
            try:
                disk.write(self._message(link, body))
                for path, data in disk.read():
                    self.take(data, now_ms, path)
                if link == tie:
                    self.tie_ok = True
            except OSError:
                if link == tie:
                    self.tie_ok = False
            except ValueError as exc:  # a beat over the slot's size: this beat is lost on the disk, said once
                if link not in self.oversized:
                    self.oversized.add(link)
                    self.ports.log({"event": "warning", "text": f"link {link}: {exc}"})
        for link, stream in self.ports.streams.items():
            stream.write(self._message(link, body))
        self.ports.prober.send(now_ms)
        for text in self.ports.prober.warnings():  # each said once
            self.ports.log({"event": "warning", "text": text})

    def decide(self, now_ms: int) -> None:
        """Decide on what the node knows at `now_ms`, and act: at every tick, and between ticks when a report
        goes stale."""
        self._resume(now_ms)
        observation = Observation(now_ms, self.table.fresh(now_ms, self.detection),
                                  self.table.fresh(now_ms, self.detection - self.interval),
                                  self.detector.settled(now_ms),
                                  self.table.veterans(now_ms, self.detection) | {self.node}, self.finished(),
                                  tuple(self.requests), self.release, self.stalled)
        self.requests, self.release, self.stalled = [], frozenset(), 0
        self.state, decision = decide(self.spec, self.state, observation)
        self.view = decision.view_hash
        errors: List[str] = []
        actuator = self.ports.actuator
        for action in decision.actions:  # addresses first: a group's come before its other resources
            if isinstance(action, Addresses):
                errors += actuator.apply(action.held)
            elif isinstance(action, Announce):
                actuator.announce(action.labels)
            elif isinstance(action, RouteAround):
                errors += actuator.route_around(action.ifnames)
        for action in decision.actions:
            if isinstance(action, Reply):
                self.ports.log({"event": "answer", "id": action.answer.id, "ok": action.answer.ok,
                                "text": action.answer.text})
                self.ports.answer(action.answer)
            elif isinstance(action, Leave):
                self.leaving = True
            elif not isinstance(action, (Addresses, Announce, RouteAround)):
                self.ports.worker.submit(action)
        if self.drops.total != self.drops_logged:  # forged or replayed traffic: said, at most once an interval
            self.drops_logged = self.drops.total
            self.ports.log({"event": "drops", "drops": dict(self.drops.counts)})
        for event in decision.events:
            self.ports.log({"event": event.kind, "details": event.to_json(), "text": event.describe()})
            self.ports.event_scripts.raise_event(event)
        for record in self.ports.event_scripts.take():
            self.ports.log(record)
        news = [action for action in decision.actions if not isinstance(action, Probe)]  # routine, not news
        if news or errors or decision.reason != self.last_logged:
            self.last_logged = decision.reason
            self.ports.log({"event": "decision", "tick_ms": now_ms, "reason": decision.reason,
                            "view": decision.view_hash,
                            "actions": [[type(action).__name__, *action] for action in decision.actions],
                            "errors": errors, "holds": sorted(self.state.holds), "drops": dict(self.drops.counts),
                            "heard": sorted(self.report.heard) if self.report else [],
                            "carriers": sorted(self.report.carriers) if self.report else []})

    def _resume(self, now_ms: int) -> None:
        """Called first whenever the loop runs. A gap since it last ran longer than the keep threshold (and than an
        interval and a half, the most a healthy loop waits) is a stall: a pause, or a clock that jumped. The node
        heard nothing of it, so the gap is taken out of what it last heard (its report must not say it hears
        nobody, which would cut it off from peers it hears well); that its own beats stopped meanwhile is for
        `decide` (`Observation.stalled_ms`)."""
        gap, self.last_run = now_ms - self.last_run, now_ms
        if gap <= max(self.detection - self.interval, self.interval + self.interval // 2):
            return
        self.stalled = max(self.stalled, gap)
        self.detector.shift(gap)
        self.table.shift(gap)

    def finished(self) -> Tuple[object, ...]:
        """What the background executors finished, logged (a healthy probe is not news), as observations."""
        found = []
        for done, record in self.ports.worker.take():
            found.append(done)
            if done.kind != "probe" or not done.ok:
                self.ports.log(record)
            if done.kind == "acquire" and not done.ok:
                self.ports.event_scripts.raise_event(Event("rg_online", node=self.node, group=done.group),
                                                     ("failed",))
        return tuple(found)
