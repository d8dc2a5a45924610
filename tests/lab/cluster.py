"""The engine on a lab as its tests look at it: the daemons, a watcher of who holds which service address, what
`halang simulate` predicts, and a client that keeps asking a service address who serves it.

- `Cluster`: the compiled bundle's daemon on every node (`halang.lab.engines.Engines`), and a watcher that polls
  every node namespace's addresses every 50 ms from the first start to the end, keeps what it saw (`seen`: label
  -> nodes; `places`: label -> (node, ifname)) and records a violation whenever an address is on two nodes that
  can hear each other (or, under `quorum = majority`, on two nodes at all).
- `settled(cluster)`: startup, every group where the startup placement puts it.
- `predicted(path, failures)` and `where(cluster)`: the node and adapter of every service address after each
  step, as `halang simulate --format json` says and as the namespaces hold it.
- `Client`: a TCP server in every node namespace that answers with its node's name, and a prober in a client
  namespace that opens a new connection to one address every 10 ms (each given 100 ms), every answer kept with
  its time (the monotonic clock, the same in every namespace): who served the address when, and how long the
  client was left dark. bench/engine_bench.py measures with it too.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

from halang.lab import Lab
from halang.lab.engines import Engines, address_holders
from runtime.core.placement import startup_placement
from runtime.core.topology import assess

ROOT = Path(__file__).resolve().parents[2]


class Cluster(Engines):
    """The engines on a lab, and a watcher of who holds which service address."""

    def __init__(self, lab, path: Path, tmp: Path):
        super().__init__(lab, path, tmp)
        self.violations: list[str] = []
        self.seen: list[tuple[float, dict]] = []  # (monotonic s, label -> nodes)
        self.places: list[tuple[float, dict]] = []  # (monotonic s, label -> [(node, ifname)]), every node
        # After a heal of a split brain (`quorum = none`, each side held the group) the two holders can only meet,
        # agree on a view and let one of them release: with this set, a double holder within two detection times
        # and 5 s of a heal is no violation (the bound the heal test puts on one holder again).
        self.split_brain_heals = False
        self._stop = threading.Event()
        self._watcher = threading.Thread(target=self._watch, daemon=True)

    def start(self, *nodes: str) -> None:
        super().start(*nodes)
        if not self._watcher.is_alive():
            self._watcher.start()

    def stop_all(self) -> None:
        self._stop.set()
        self.stop()
        if self._watcher.is_alive():
            self._watcher.join(timeout=5)

    def _watch(self) -> None:
        watching = Lab.load(self.lab.state_file)  # a Lab of its own: the test's fails and heals run beside it
        failed, healed_at = (), -1e9
        # After a heal the two sides hear each other again only with their next beats: a double holder
        # within two intervals and a tick of a heal is that, not a fault.
        grace = 3 * self.spec.heartbeat.interval_ms / 1000 + 0.3
        settle = 2 * self.spec.heartbeat.interval_ms * self.spec.heartbeat.miss_limit / 1000 + 5
        while not self._stop.is_set():
            found = address_holders(watching, self.services)
            holders = {label: [node for node, _ in places] for label, places in found.items()}
            now = time.monotonic()
            self.seen.append((now, holders))
            self.places.append((now, found))
            if set(watching.failed) < set(failed):
                healed_at = now
            failed = watching.failed
            if now - healed_at < (settle if self.split_brain_heals else grace):
                time.sleep(0.05)
                continue
            status = assess(self.spec, failed)
            side = {node: number for number, part in enumerate(status.partitions) for node in part}
            for label, nodes in holders.items():
                live = [node for node in nodes if self.running(node)]
                if len(live) < 2:
                    continue
                if self.spec.heartbeat.quorum == "majority" or len({side.get(node) for node in live}) < len(live):
                    self.violations.append(f"{label} on {', '.join(live)} with {list(self.lab.failed)} failed")
            time.sleep(0.05)

    def places_between(self, start: float, end: float = float("inf")) -> list[tuple[float, dict]]:
        """What the watcher saw from `start` to `end` (monotonic s): label -> [(node, ifname)]."""
        return [(at, found) for at, found in self.places if start <= at <= end]

    def events_since(self, node: str, since: float) -> list[dict]:
        """The node's event log records decided after `since` (monotonic s, as `time.monotonic()`)."""
        return [record for record in self.log(node) if record.get("tick_ms", 0) > since * 1000]


def settled(cluster: Cluster) -> dict[str, list[str]]:
    """Startup: every group where the startup placement puts it."""
    expected = cluster.expected(startup_placement(cluster.spec))
    holders = cluster.wait_for(expected, within=3 * cluster.detection_s + 5)
    assert holders == expected
    return holders


def seed_file(folder: Path, interval: str = "100ms", miss_limit: int = 3, targets: bool = True,
              quorum: str | None = None) -> Path:
    """examples/two_node_replace.ha with another heartbeat timing, with or without its ping targets (the router
    of each subnet), and a quorum if given; written into `folder`."""
    text = (ROOT / "examples" / "two_node_replace.ha").read_text()
    text, timed = re.subn(r"(?m)^(\s*)interval(\s*)=.*$", rf"\g<1>interval\g<2>= {interval}", text, count=1)
    text, limited = re.subn(r"(?m)^(\s*)miss_limit(\s*)=.*$", rf"\g<1>miss_limit\g<2>= {miss_limit}", text, count=1)
    assert timed == limited == 1, "the seed's heartbeat block changed: interval and miss_limit not found"
    if not targets:
        text, removed = re.subn(r"(?m)^\s*ping_targets\s*=.*\n", "", text)
        assert removed == 1, "the seed has no ping_targets line to remove"
    if quorum is not None:
        text = re.sub(r"(?m)^(\s*)miss_limit(.*)$", rf"\g<0>\n\g<1>quorum = {quorum}", text, count=1)
    path = folder / f"seed_{interval}_{miss_limit}_{'targets' if targets else 'no_targets'}_{quorum or 'default'}.ha"
    path.write_text(text)
    return path


def predicted(path: Path, failures: list[str]) -> list[tuple[dict[str, tuple[str, str]], list[list[str]]]]:
    """Per step (the start, then each failure): service -> (node, adapter), and the partitions that run groups,
    as `halang simulate` says."""
    argv = [sys.executable, "-m", "halang.cli", "simulate", str(path), "--format", "json"]
    for failure in failures:
        argv += ["--fail", failure]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode in (0, 1), done.stderr
    result = json.loads(done.stdout)
    # An address left with no adapter (more replace addresses than adapters: an address overload) is on no
    # interface at all.
    return [({service["service"]: (holding["node"], service["adapter"]) for holding in step["placement"]["addresses"]
              for service in holding["services"] if service["adapter"] is not None},
             [part["nodes"] for part in step["partitions"] if part["runs_groups"]])
            for step in [result["start"], *result["steps"]]]


def where(cluster: Cluster) -> dict[str, set[tuple[str, str]]]:
    """service -> the (node, adapter) pairs holding it, on the nodes whose engine runs."""
    found: dict[str, set[tuple[str, str]]] = {}
    for label, places in address_holders(cluster.lab, cluster.services).items():
        for node, ifname in places:
            if cluster.running(node):
                found.setdefault(label, set()).add((node, ifname))
    return found


# ------------------------------------------------------------------ a client of the service addresses

PORT = 8080
SERVER = r"""
import socket, sys
name = sys.argv[1].encode()
server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("0.0.0.0", int(sys.argv[2])))
server.listen(128)
while True:
    connection, _ = server.accept()
    try:
        connection.sendall(name)
    except OSError:
        pass
    connection.close()
"""
# A new connection every 10 ms, each given 100 ms; prints "MONOTONIC_NS NAME" for every answer.
PROBER = r"""
import errno, selectors, socket, sys, time
address, port = sys.argv[1], int(sys.argv[2])
selector = selectors.DefaultSelector()
started = {}
next_at = time.monotonic()
while True:
    now = time.monotonic()
    if now >= next_at:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        code = sock.connect_ex((address, port))
        if code in (0, errno.EINPROGRESS):
            selector.register(sock, selectors.EVENT_READ)
            started[sock] = now
        else:
            sock.close()
        next_at = max(next_at + 0.010, now)
    for key, _ in selector.select(max(0.0, next_at - time.monotonic())):
        sock = key.fileobj
        try:
            data = sock.recv(64)
        except OSError:
            data = b""
        if data:
            print(time.monotonic_ns(), data.decode(), flush=True)
        selector.unregister(sock)
        sock.close()
        started.pop(sock, None)
    for sock, began in list(started.items()):
        if time.monotonic() - began > 0.100:
            selector.unregister(sock)
            sock.close()
            del started[sock]
"""


def serve(lab, port: int = PORT) -> list[subprocess.Popen]:
    """A server in every node namespace answering each connection with its node's name (ended with the lab)."""
    return [lab.spawn(node.name, [sys.executable, "-c", SERVER, node.name, str(port)]) for node in lab.plan.nodes]


class Client:
    """The prober in a client namespace, asking `address` every 10 ms; `answers` is [(monotonic s, node)]."""

    def __init__(self, lab, netns: str, address: str, port: int = PORT):
        self.address = address
        self.answers: list[tuple[float, str]] = []
        self._lock = threading.Lock()
        self.process = lab.spawn(netns, [sys.executable, "-u", "-c", PROBER, address, str(port)],
                                 stdout=subprocess.PIPE, text=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            at, _, name = line.strip().partition(" ")
            if at.isdigit():
                with self._lock:
                    self.answers.append((int(at) / 1e9, name))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)
        self._reader.join(timeout=5)

    def between(self, start: float, end: float = float("inf")) -> list[tuple[float, str]]:
        with self._lock:
            return [(at, name) for at, name in self.answers if start <= at <= end]

    def first(self, name: str, after: float, within: float) -> float | None:
        """When `name` first answered after `after` (monotonic s), waiting up to `within` s from now."""
        deadline = time.monotonic() + within
        while True:
            found = [at for at, who in self.between(after) if who == name]
            if found:
                return found[0]
            if time.monotonic() > deadline or self.process.poll() is not None:
                return None
            time.sleep(0.01)

    def dark(self, start: float, end: float) -> float:
        """The longest time from `start` to `end` (monotonic s) with no answer, counted from `start` to the first
        answer and from the last to `end` too."""
        times = [start] + [at for at, _ in self.between(start, end)] + [end]
        return max(later - earlier for earlier, later in zip(times, times[1:]))

    def served_by(self, start: float, end: float) -> set[str]:
        return {name for _, name in self.between(start, end)}
