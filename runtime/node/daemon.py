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
addresses it holds, the paths it hears and its peers' reports), releases nothing, and `python3 BUNDLE.pyz run`
re-executes itself from the same path, which after a deploy is the new
bundle behind the `current.pyz` link (docs/deploy.md). The new process, the
same pid, adopts what the handover names instead of cleaning its adapters.
A deploy whose plan restarts or moves groups writes `release.json` (the
groups) before the SIGHUP: the daemon's next decision releases those it
holds (`Observation.release`), beating on meanwhile, and it hands over the
rest once they are down, so the new configuration places them anew.

What happens between the I/O (checking and learning beats, reports,
deciding, handing actions to executors) is `runtime/node/loop.py`'s
`NodeLoop`, which the whole-cluster simulator runs too.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import time
from typing import Callable, Dict, List, Optional

from runtime.core.engine import Release
from runtime.core.operator import Request, request_problem
from runtime.core.snapshot import ClusterSpec
from runtime.core.status import cluster_status
from runtime.core.wire import Drops
from runtime.node.control import ControlServer
from runtime.node.loop import NodeLoop, Ports, adopted_state, clean_leftovers
from runtime.node.probe import TargetProber
from runtime.node.transports import DiskTransport, StreamTransport, UdpTransport, link_devices
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


def deploy_release(state_dir: str) -> frozenset:
    """The groups a deploy restarts or moves (release.json, used once), or none."""
    path = os.path.join(state_dir, RELEASE)
    try:
        with open(path) as handle:
            groups = json.load(handle).get("groups", [])
        os.unlink(path)
    except (OSError, ValueError, AttributeError):
        return frozenset()
    return frozenset(group for group in groups if isinstance(group, str)) if isinstance(groups, list) \
        else frozenset()


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
        self.spec, self.node, self.config = spec, node, config
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
        self.stopping = False
        self.reload = False  # SIGHUP: hand over and re-execute rather than release
        self.state_dir = state_dir
        self.drops = Drops()
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
        self.waiting: Dict[str, object] = {}  # request id -> the connection waiting for its answer
        self.requests_made = 0
        ports = Ports(self.udp, self.disks, self.streams, self.target_prober, actuator, self.worker,
                      self.event_scripts, self._read_carriers, self.log, self._reply)
        handover = take_handover(state_dir)
        if handover is None:
            state = clean_leftovers(spec, node, ports, driver)
        else:
            state = adopted_state(spec, node, handover)
            self.actuator.held = state.addresses
            self.log({"event": "adopt", "holds": sorted(state.holds),
                      "addresses": [list(item) for item in state.addresses]})
        self.loop = NodeLoop(spec, node, key, config, self.incarnation, self.now(), ports, state, self.drops)
        if handover is not None:
            self.loop.adopt(handover, self.now())
        write_json(os.path.join(state_dir, DAEMON_FILE),
                   {"pid": os.getpid(), "bundle": config, "incarnation": self.incarnation})

    # ------------------------------------------------------------ time and log

    def now(self) -> int:
        return int(self.clock() * 1000)

    def log(self, record: dict) -> None:
        record = {"time": time.time(), "node": self.node, **record}
        self.log_file.write(json.dumps(record, sort_keys=True, default=str) + "\n")
        self.log_file.flush()

    @property
    def state(self):
        return self.loop.state

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

    def _read_carriers(self) -> Dict[str, bool]:
        carriers = {}
        for adapter in self.spec.adapters_by_node[self.node]:
            try:
                with open(f"/sys/class/net/{adapter.ifname}/carrier") as handle:
                    carriers[adapter.ifname] = handle.read().strip() == "1"
            except OSError:
                carriers[adapter.ifname] = False  # no such interface, or it is down: no carrier either way
        return carriers

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
                self.loop.carrier(name, message.get("event") == "RTM_NEWLINK" and carrier == 1, self.now())

    def _control(self, connection, request) -> None:
        """One line from the control socket: status at once; a request to the engine, answered by `Reply`."""
        if isinstance(request, str):
            self.control.answer(connection, {"ok": False, "error": request})
            return
        operation = request.get("op")
        if operation == "status":
            now = self.now()
            self.control.answer(connection, {"ok": True, "status": cluster_status(
                self.spec, self.loop.state, self.loop.table.fresh(now, self.loop.detection))})
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
        self.loop.request(made)
        self.waiting[made.id] = connection

    def _reply(self, answer) -> None:
        connection = self.waiting.pop(answer.id, None)
        if connection is not None:
            self.control.answer(connection, {"ok": answer.ok, "text": answer.text, "id": answer.id,
                                             "node": self.node})

    # ------------------------------------------------------------ the loop

    def run(self) -> None:
        signal.signal(signal.SIGTERM, lambda *_: self.stop())
        signal.signal(signal.SIGINT, lambda *_: self.stop())
        signal.signal(signal.SIGHUP, lambda *_: self.hand_over())
        self.log({"event": "start", "incarnation": self.incarnation})
        loop = self.loop
        next_tick = self.now()
        deploying = False
        while not (self.stopping or loop.leaving):
            if self.reload and not deploying:
                deploying = True
                released = deploy_release(self.state_dir) & loop.state.holds
                if released:
                    self.log({"event": "release", "groups": sorted(released, key=self.spec.group_index.__getitem__),
                              "text": "releasing for a deploy that restarts or moves them"})
                loop.deploy(released)
                loop.decide(self.now())
            if deploying and loop.handover_ready():
                break
            wake = loop.next_wake(self.now(), next_tick)
            wait = max(0, wake - self.now()) / 1000
            for key, _ in self.selector.select(wait):
                kind, name = key.data
                if kind == "udp":
                    for data in self.udp.receive(name):
                        loop.take(data, self.now(), via_udp=name)
                elif kind == "stream":
                    for path, data in self.streams[name].read():
                        loop.take(data, self.now(), path)
                elif kind == "control":
                    for connection, request in self.control.ready(name):
                        self._control(connection, request)
                elif kind == "probe":
                    for ifname, _ in self.target_prober.receive():
                        loop.target_answered(ifname, self.now())
                else:
                    self._netlink_events()
            if self.now() >= next_tick:
                loop.tick(self.now())
                next_tick += self.interval
                if next_tick < self.now():  # a stall (the machine was suspended): no burst to catch up
                    next_tick = self.now() + self.interval
            elif self.now() >= wake:
                loop.decide(self.now())
        if self.reload:
            self.close(handover=True)
        else:
            self.leave()

    def stop(self) -> None:
        self.stopping = True

    def hand_over(self) -> None:
        self.reload = True

    def leave(self) -> None:
        """Let the actions under way finish, release everything this node holds (children first), its addresses
        last, and close."""
        self.worker.wait()
        self.loop.finished()  # logged; everything held is released below whatever its phase
        held = sorted(self.loop.state.holds,
                      key=lambda group: (-_depth(self.spec, group), -self.spec.group_index[group]))
        for group in held:
            _, record = self.worker.execute(Release(group))
            self.log(record)
        self.actuator.apply(())
        self.actuator.route_around(())
        self.log({"event": "stop", "released": held})
        self.close()

    def close(self, handover: bool = False) -> None:
        if handover:
            self.worker.wait()  # a probe or restart under way finishes before the process re-executes
            self.loop.finished()
            handover = self.loop.handover(self.now())
            write_json(os.path.join(self.state_dir, HANDOVER), {"pid": os.getpid(), **handover})
            self.log({"event": "handover", "holds": handover["holds"]})
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
