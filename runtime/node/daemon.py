"""The node daemon: one loop that observes, calls `engine.decide`, and hands the actions to its executors.

    python3 BUNDLE.pyz run --node NAME [--state-dir DIR] [--key-file PATH] [--device LINK=PATH]...

Every interval the daemon makes its report (`membership`), sends a beat on
every adapter and link, reads the disks, and decides; it also decides the
moment a peer's report goes stale (the miss limit is reached then, not at
the next tick, which would add up to an interval to every detection).
Between, it waits on its sockets, serial lines and netlink, and takes in
what arrives:
every message is checked (`wire`), and what is dropped is counted by reason,
never acted on. A carrier change from netlink is seen at once. The actions
to the address executor (`actuator`) at once, and the rest (acquiring and
releasing groups' volume groups, filesystems and applications, monitors'
probes, site scripts) to background executors (`worker`), whose outcomes
come back as observations to the next decision: heartbeats never wait on a
script.

Each interval, beside the beats, every adapter whose subnet has ping
targets sends one ICMP echo request to the next of them (`probe`); an
answer is told to the detector, and the adapters answered within the
detection time go in the node's report (`reach`), so the decision core can
tell an adapter's own silent failure from a peer's. Replies that answer no
probe are counted with the dropped messages; what cannot be probed (no raw
socket, no such interface) is logged once.

`--state-dir` (default /var/lib/halang) holds `incarnation` (a number that
grows with every start, so peers tell a restart from a replay) and
`events.jsonl`, one JSON line per decision that changed something or said
something new (the time, the reason, the actions, and the drop counters),
per event (node_down, rg_move, ...), per resource action finished (its
steps, with the scripts' output), per failed probe and per site script run.
At start the daemon removes any service address of the cluster it finds on
its adapters (a crash leaves them behind), releases every group of its
lists that has a filesystem mounted here (the same), and logs what it
removed; on
SIGTERM it releases what it holds and leaves.

`daemon.json` in the state directory says which process runs which bundle
(`pid`, `bundle`: the first 16 hex digits of its content hash,
`incarnation`), for `halang deploy`. On SIGHUP the daemon hands over
instead of leaving: it writes `handover.json` (its pid, the groups and the
addresses it holds), releases nothing, and `python3 BUNDLE.pyz run`
re-executes itself from the same path, which after a deploy is the new
bundle behind the `current.pyz` link (docs/deploy.md). The new process, the
same pid, adopts what the handover names instead of cleaning its adapters.
A deploy whose plan restarts or moves groups writes `release.json` (the
groups) before the SIGHUP: those the daemon holds it releases first and
does not hand over, so the new configuration places them anew.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import time
from dataclasses import replace
from typing import Callable, Dict, List, Optional

from runtime.node.control import ControlServer
from runtime.core.detector import Detector
from runtime.core.engine import ONLINE, Addresses, Announce, EngineState, Leave, Observation, Probe, Release, Reply, \
    RouteAround, decide, own_report
from runtime.core.operator import Request, request_problem
from runtime.core.placement import Event
from runtime.node.probe import TargetProber
from runtime.core.membership import Report, Table, report_body, reports_in
from runtime.core.status import cluster_status
from runtime.core.snapshot import ClusterSpec
from runtime.node.transports import DiskTransport, StreamTransport, UdpTransport, link_devices
from runtime.core.wire import Dropped, Drops, Freshness, Message, decode, encode
from runtime.node.worker import EventScripts, Worker

DEFAULT_STATE_DIR = "/var/lib/halang"
HANDOVER, DAEMON_FILE, RELEASE = "handover.json", "daemon.json", "release.json"


# The control socket's keys of each request, by the field of `Request` they fill (runtime/node/control.py).
REQUEST_KEYS = {"move": {"group": "group", "target": "to"}, "online": {"group": "group", "target": "to"},
                "offline": {"group": "group"}, "stop": {"target": "node", "mode": "mode"}}


class DaemonError(Exception):
    """The daemon cannot start; the message says why."""


def write_json(path: str, data: dict) -> None:
    temporary = path + ".new"
    with open(temporary, "w") as handle:
        json.dump(data, handle, sort_keys=True)
    os.replace(temporary, path)


def take_handover(state_dir: str) -> Optional[dict]:
    """What this very process held before it re-executed itself (SIGHUP), or None; the file is used once."""
    path = os.path.join(state_dir, HANDOVER)
    try:
        with open(path) as handle:
            data = json.load(handle)
        os.unlink(path)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("pid") == os.getpid() else None


def next_incarnation(state_dir: str) -> int:
    path = os.path.join(state_dir, "incarnation")
    try:
        with open(path) as handle:
            last = int(handle.read().strip() or 0)
    except (OSError, ValueError):
        last = 0
    number = max(last + 1, time.time_ns() // 1_000_000)  # grows even if the file is lost
    temporary = path + ".new"
    with open(temporary, "w") as handle:
        handle.write(str(number))
    os.replace(temporary, path)
    return number


class Daemon:
    def __init__(self, spec: ClusterSpec, node: str, key: bytes, config: str, state_dir: str, actuator,
                 devices: Optional[Dict[str, str]] = None, clock: Callable[[], float] = time.monotonic,
                 port: Optional[int] = None, driver=None, prober=None, event_scripts: Optional[EventScripts] = None):
        self.spec, self.node, self.key, self.config = spec, node, key, config
        self.clock = clock
        self.actuator = actuator
        if driver is None:
            from runtime.node.drivers import RecordingGroupDriver

            driver = RecordingGroupDriver(spec)
        self.driver = driver
        self.worker = Worker(spec, driver, prober if prober is not None else driver)
        self.event_scripts = event_scripts if event_scripts is not None else EventScripts({}, node)
        os.makedirs(state_dir, exist_ok=True)
        self.incarnation = next_incarnation(state_dir)
        self.log_file = open(os.path.join(state_dir, "events.jsonl"), "a")
        self.interval = spec.heartbeat.interval_ms
        self.detection = spec.heartbeat.interval_ms * spec.heartbeat.miss_limit
        self.detector = Detector(spec, node, self.now())
        self.table, self.freshness, self.drops = Table(self.detection), Freshness(), Drops()
        self.state = EngineState(node)
        self.report: Optional[Report] = None
        self.view = ""
        self.seq = 0
        self.stopping = False
        self.reload = False  # SIGHUP: hand over and re-execute rather than release
        self.state_dir = state_dir
        self.tie_ok = False
        self.last_logged = ""
        self.drops_logged = 0
        try:
            self.udp = UdpTransport(spec, node, port)
            self.disks: Dict[str, DiskTransport] = {}
            self.streams: Dict[str, StreamTransport] = {}
            for link, device in link_devices(spec, node, devices).items():
                if spec.link(link).disk:
                    self.disks[link] = DiskTransport(spec, node, link, device)
                else:
                    self.streams[link] = StreamTransport(spec, node, link, device)
        except OSError as exc:
            raise DaemonError(f"cannot open a heartbeat path of node {node}: {exc}") from None
        self.target_prober = TargetProber(spec, node, self.drops)
        self.selector = selectors.DefaultSelector()
        for fileno, ifname in self.udp.fileno_map().items():
            self.selector.register(fileno, selectors.EVENT_READ, ("udp", ifname))
        for fileno, ifname in self.target_prober.fileno_map().items():
            self.selector.register(fileno, selectors.EVENT_READ, ("probe", ifname))
        for link, stream in self.streams.items():
            self.selector.register(stream.fd, selectors.EVENT_READ, ("stream", link))
        self.netlink = self._netlink()
        self._ignore_dead_links()
        try:
            self.control = ControlServer(state_dir, self.selector)
        except OSError as exc:
            raise DaemonError(f"cannot open the control socket in {state_dir}: {exc}") from None
        self.requests: List[Request] = []  # from the control socket, for the next decision
        self.waiting: Dict[str, object] = {}  # request id -> the connection waiting for its answer
        self.requests_made = 0
        self.oversized: set = set()  # disk links a beat did not fit, warned of
        handover = take_handover(state_dir)
        if handover is None:
            for found in self.actuator.clean():
                self.log({"event": "clean", "found": found})
            for group in self.driver.leftovers(node):
                _, record = self.worker.execute(Release(group))
                self.log({**record, "event": "clean", "text": f"{group} was left mounted here (a crash?): released "
                                                             "before joining"})
        else:
            # Only what the new snapshot still knows is adopted; a removed group's addresses stay where they are.
            held = tuple(tuple(item) for item in handover.get("addresses", [])
                         if item[0] in spec.service_by_name)
            holds = frozenset(group for group in handover.get("holds", []) if group in spec.group_by_name)
            self.actuator.held = held
            phases = tuple((group.name, ONLINE) for group in spec.groups if group.name in holds)
            self.state = EngineState(node, holds=holds, phases=phases, addresses=held)
            self.log({"event": "adopt", "holds": sorted(holds), "addresses": [list(item) for item in held]})
        write_json(os.path.join(state_dir, DAEMON_FILE),
                   {"pid": os.getpid(), "bundle": config, "incarnation": self.incarnation})

    # ------------------------------------------------------------ time and log

    def now(self) -> int:
        return int(self.clock() * 1000)

    def log(self, record: dict) -> None:
        record = {"time": time.time(), "node": self.node, **record}
        self.log_file.write(json.dumps(record, sort_keys=True, default=str) + "\n")
        self.log_file.flush()

    # ------------------------------------------------------------ observing

    def _netlink(self):
        """Carrier changes at once, from netlink; None where pyroute2 cannot listen (the miss limit still sees a
        dead adapter, later)."""
        try:
            from pyroute2 import IPRoute

            ipr = IPRoute()
            ipr.bind()
            self.selector.register(ipr.fileno(), selectors.EVENT_READ, ("netlink", ""))
        except Exception:  # no netlink here: carriers are read from /sys each interval instead
            return None
        return ipr

    def _ignore_dead_links(self) -> None:
        """Routes through an adapter without carrier are not used (Linux's ignore_routes_with_linkdown), so
        that when a service address moves to another adapter of the node, the replies follow it instead of
        leaving by the subnet route of the dead one."""
        for adapter in self.spec.adapters_by_node[self.node]:
            family = "ipv4" if adapter.version == 4 else "ipv6"
            try:
                with open(f"/proc/sys/net/{family}/conf/{adapter.ifname}/ignore_routes_with_linkdown", "w") as knob:
                    knob.write("1")
            except OSError as exc:
                self.log({"event": "warning", "text": f"cannot set ignore_routes_with_linkdown on "
                                                      f"{adapter.ifname}: {exc.strerror}"})

    def _read_carriers(self) -> None:
        for adapter in self.spec.adapters_by_node[self.node]:
            try:
                with open(f"/sys/class/net/{adapter.ifname}/carrier") as handle:
                    up = handle.read().strip() == "1"
            except OSError:
                up = False  # no such interface, or it is down: no carrier either way
            self.detector.carrier(adapter.ifname, up)

    def _netlink_events(self) -> None:
        try:
            messages = self.netlink.get()
        except Exception:
            return
        for message in messages:
            name = message.get_attr("IFLA_IFNAME") if message.get("event") in ("RTM_NEWLINK", "RTM_DELLINK") \
                else None
            if name is not None:
                carrier = message.get_attr("IFLA_CARRIER")
                up = message.get("event") == "RTM_NEWLINK" and carrier == 1
                self.detector.carrier(name, up)

    def take(self, data: bytes, channel: str, via_udp: Optional[str] = None) -> None:
        """One message that arrived: checked, counted if dropped, else heard and learnt."""
        now = self.now()
        try:
            message = decode(data, self.key, self.spec.name, self.config)
            if message.sender == self.node:
                return  # its own broadcast, looped back: not a drop
            if message.kind != "beat" or message.sender not in self.spec.node_by_name:
                raise Dropped("foreign", f"a {message.kind} from {message.sender}")
            path = self.udp.path_of(message.path or "", via_udp) if via_udp is not None else channel
            if not path:
                return  # a broadcast of another subnet that the switches carried here: no path, not a drop
            self.freshness.check(message, path)
            reports = reports_in(self.spec, message.body)
        except Dropped as exc:
            self.drops.add(exc.reason)
            return
        self.detector.beat(path, now)
        for report in reports:
            if report.origin != self.node:
                self.table.learn(report, now)

    # ------------------------------------------------------------ one interval

    def _message(self, path: str, body: dict) -> bytes:
        self.seq += 1
        return encode(Message(self.spec.name, self.config, self.node, self.incarnation, self.seq, "beat", path,
                              body), self.key)

    def tick(self) -> None:
        now = self.now()
        self._read_carriers()  # netlink tells at once; this each interval, in case a netlink message was lost
        tie = self.spec.heartbeat.tie_breaker
        self.report = own_report(self.spec, self.report, self.state, self.incarnation, self.detector.heard(now),
                                 self.detector.carriers(), bool(tie) and self.tie_ok, self.view,
                                 self.detector.settled(now), now, reach=self.detector.reaching(now))
        self.table.learn(self.report, now)
        body = report_body(self.table.fresh(now, self.detection))
        self.udp.send(lambda sender: self._message(sender, body))
        for link, disk in self.disks.items():
            try:
                disk.write(self._message(link, body))
                for path, data in disk.read():
                    self.take(data, path)
                if link == tie:
                    self.tie_ok = True
            except OSError:
                if link == tie:
                    self.tie_ok = False
            except ValueError as exc:  # a beat over the slot's size: this beat is lost on the disk, said once
                if link not in self.oversized:
                    self.oversized.add(link)
                    self.log({"event": "warning", "text": f"link {link}: {exc}"})
        for link, stream in self.streams.items():
            stream.write(self._message(link, body))
        self.target_prober.send(now)
        for text in self.target_prober.warnings():  # each said once
            self.log({"event": "warning", "text": text})
        self.decide(now)

    def decide(self, now: int) -> None:
        """Decide on what the node knows at `now`, and act: at every tick, and between ticks when a report
        goes stale (a peer's silence reaches a threshold then, not at the next tick)."""
        observation = Observation(now, self.table.fresh(now, self.detection),
                                  self.table.fresh(now, self.detection - self.interval), self.detector.settled(now),
                                  self.table.veterans(now, self.detection) | {self.node}, self._finished(),
                                  tuple(self.requests))
        self.requests = []
        self.state, decision = decide(self.spec, self.state, observation)
        self.view = decision.view_hash
        errors: List[str] = []
        for action in decision.actions:  # addresses first: a group's come before its other resources
            if isinstance(action, Addresses):
                errors += self.actuator.apply(action.held)
            elif isinstance(action, Announce):
                self.actuator.announce(action.labels)
            elif isinstance(action, RouteAround):
                errors += self.actuator.route_around(action.ifnames)
        for action in decision.actions:
            if isinstance(action, Reply):
                self._reply(action)
            elif isinstance(action, Leave):
                self.stopping = True
            elif not isinstance(action, (Addresses, Announce, RouteAround)):
                self.worker.submit(action)
        if self.drops.total != self.drops_logged:  # forged or replayed traffic: said, at most once an interval
            self.drops_logged = self.drops.total
            self.log({"event": "drops", "drops": dict(self.drops.counts)})
        for event in decision.events:
            self.log({"event": event.kind, "details": event.to_json(), "text": event.describe()})
            self.event_scripts.raise_event(event)
        for record in self.event_scripts.take():
            self.log(record)
        news = [action for action in decision.actions if not isinstance(action, Probe)]  # routine, not news
        if news or errors or decision.reason != self.last_logged:
            self.last_logged = decision.reason
            self.log({"event": "decision", "tick_ms": now, "reason": decision.reason, "view": decision.view_hash,
                      "actions": [[type(action).__name__, *action] for action in decision.actions],
                      "errors": errors, "holds": sorted(self.state.holds), "drops": dict(self.drops.counts),
                      "heard": sorted(self.report.heard), "carriers": sorted(self.report.carriers)})

    def _control(self, connection, request) -> None:
        """One line from the control socket: status at once; a request to the engine, answered by `Reply`."""
        if isinstance(request, str):
            self.control.answer(connection, {"ok": False, "error": request})
            return
        operation = request.get("op")
        if operation == "status":
            now = self.now()
            self.control.answer(connection, {"ok": True, "status": cluster_status(
                self.spec, self.state, self.table.fresh(now, self.detection))})
            return
        keys = REQUEST_KEYS.get(operation)
        if keys is None:
            self.control.answer(connection, {"ok": False, "error": f"unknown operation {operation!r}"})
            return
        values = {field: request.get(key, "") for field, key in keys.items()}
        if not all(isinstance(value, str) for value in values.values()):
            self.control.answer(connection, {"ok": False, "error": "the request's fields are strings"})
            return
        self.requests_made += 1
        made = Request(f"{self.node}/{self.incarnation}/{self.requests_made}", operation, **values)
        problem = request_problem(self.spec, made)
        if problem:
            self.control.answer(connection, {"ok": False, "error": problem})
            return
        self.log({"event": "request", "id": made.id, "request": made.describe()})
        self.requests.append(made)
        self.waiting[made.id] = connection

    def _reply(self, action: Reply) -> None:
        answer = action.answer
        self.log({"event": "answer", "id": answer.id, "ok": answer.ok, "text": answer.text})
        connection = self.waiting.pop(answer.id, None)
        if connection is not None:
            self.control.answer(connection, {"ok": answer.ok, "text": answer.text, "id": answer.id,
                                             "node": self.node})

    def _finished(self):
        """What the background executors finished, logged (a healthy probe is not news), as observations."""
        found = []
        for done, record in self.worker.take():
            found.append(done)
            if done.kind != "probe" or not done.ok:
                self.log(record)
            if done.kind == "acquire" and not done.ok:
                self.event_scripts.raise_event(Event("rg_online", node=self.node, group=done.group), ("failed",))
        return tuple(found)

    # ------------------------------------------------------------ the loop

    def run(self) -> None:
        signal.signal(signal.SIGTERM, lambda *_: self.stop())
        signal.signal(signal.SIGINT, lambda *_: self.stop())
        signal.signal(signal.SIGHUP, lambda *_: self.hand_over())
        self.log({"event": "start", "incarnation": self.incarnation})
        next_tick = self.now()
        while not self.stopping:
            stale = self.table.next_stale(self.now(), (self.detection, self.detection - self.interval))
            wake = next_tick if stale is None else min(next_tick, stale)
            wait = max(0, wake - self.now()) / 1000
            for key, _ in self.selector.select(wait):
                kind, name = key.data
                if kind == "udp":
                    for data in self.udp.receive(name):
                        self.take(data, "", via_udp=name)
                elif kind == "stream":
                    for path, data in self.streams[name].read():
                        self.take(data, path)
                elif kind == "control":
                    for connection, request in self.control.ready(name):
                        self._control(connection, request)
                elif kind == "probe":
                    for ifname, _ in self.target_prober.receive():
                        self.detector.reply(ifname, self.now())
                else:
                    self._netlink_events()
            if self.now() >= next_tick:
                self.tick()
                next_tick += self.interval
                if next_tick < self.now():  # a stall (the machine was suspended): no burst to catch up
                    next_tick = self.now() + self.interval
            elif stale is not None and self.now() >= stale:
                self.decide(self.now())
        if self.reload:
            self.close(handover=True)
        else:
            self.leave()

    def stop(self) -> None:
        self.stopping = True

    def hand_over(self) -> None:
        self.reload = True
        self.stopping = True

    def leave(self) -> None:
        """Let the actions under way finish, release everything this node holds (children first), its addresses
        last, and close."""
        self.worker.wait()
        self._finished()
        held = sorted(self.state.holds, key=lambda group: (-_depth(self.spec, group), -self.spec.group_index[group]))
        for group in held:
            _, record = self.worker.execute(Release(group))
            self.log(record)
        self.actuator.apply(())
        self.actuator.route_around(())
        self.log({"event": "stop", "released": held})
        self.close()

    def release_for_deploy(self) -> None:
        """Give up the groups a deploy restarts or moves (release.json), before handing over the rest."""
        path = os.path.join(self.state_dir, RELEASE)
        try:
            with open(path) as handle:
                groups = set(json.load(handle).get("groups", []))
            os.unlink(path)
        except (OSError, ValueError, AttributeError):
            return
        released = groups & set(self.state.holds)
        if not released:
            return
        steps = []
        for group in sorted(released, key=self.spec.group_index.__getitem__, reverse=True):  # children first
            steps.append(self.worker.execute(Release(group))[1])
        labels = {label for group in released for label in self.spec.group(group).service_ips}
        self.actuator.apply(tuple(item for item in self.actuator.held if item[0] not in labels))
        self.state = replace(self.state, holds=frozenset(self.state.holds) - released,
                             phases=tuple(item for item in self.state.phases if item[0] not in released))
        self.log({"event": "release", "groups": sorted(released), "steps": steps,
                  "text": "released for a deploy that restarts or moves them"})

    def close(self, handover: bool = False) -> None:
        if handover:
            self.worker.wait()  # hand over groups, not acquisitions half done
            self._finished()
            self.release_for_deploy()
            write_json(os.path.join(self.state_dir, HANDOVER),
                       {"pid": os.getpid(), "holds": sorted(self.state.holds),
                        "addresses": [list(item) for item in self.actuator.held]})
            self.log({"event": "handover", "holds": sorted(self.state.holds)})
        for connection in self.waiting.values():
            self.control.answer(connection, {"ok": False, "error": f"the daemon of {self.node} stopped before the "
                                                                   "request was answered"})
        self.control.close()
        self.event_scripts.close()
        self.udp.close()
        self.target_prober.close()
        for transport in list(self.disks.values()) + list(self.streams.values()):
            transport.close()
        self.log_file.close()


def _depth(spec: ClusterSpec, group: str) -> int:
    """How many `after` parents deep a group is: children are released before their parents."""
    parents = spec.group(group).after
    return 1 + max((_depth(spec, parent) for parent in parents), default=0)
