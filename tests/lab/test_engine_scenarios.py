"""The node engine on real namespaces: the compiled bundle's daemon on every node of a lab, failed for real.

Every scenario watches, from the first start to the end, which node namespaces hold each service address
(polling every 50 ms) and fails if an address is ever on two nodes that can hear each other, or (under
`quorum = majority`) on two nodes at all; and it asks the client namespace what answers.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from halang.compile import compile_source
from halang.diagnostics import SourceText
from halang.model.spec import cluster_spec
from halang.verify import load
from runtime.placement import place, startup_placement
from runtime.topology import assess
from halang.lab import Lab
from tests.lab.conftest import THREE_NODE, TWO_NODE

pytestmark = pytest.mark.root


class Cluster:
    """A lab with the engine running on its nodes, and a watcher of who holds which service address."""

    def __init__(self, lab, path: Path, tmp: Path):
        self.lab = lab
        model, _, _ = load(SourceText(path.read_text(), str(path)))
        self.spec = cluster_spec(model)
        result = compile_source(SourceText(path.read_text(), str(path)), tmp / "out", faults=0)
        assert result.bundle is not None, [f.message for f in result.report.errors]
        self.bundle = str(result.bundle)
        self.key = tmp / "cluster.key"
        self.key.write_bytes(os.urandom(32))
        self.tmp = tmp
        self.engines: dict[str, subprocess.Popen] = {}
        # The examples' scripts and volumes are not on this machine: their groups' other resources are recorded.
        self.drivers = ["--resource-drivers", "recorded"]
        self.services = {service.name: service.address for service in self.spec.service_by_name.values()}
        self.violations: list[str] = []
        self.seen: list[tuple[float, dict]] = []
        self._stop = threading.Event()
        self._watcher = threading.Thread(target=self._watch, daemon=True)

    def start(self, *nodes: str) -> None:
        for node in nodes or self.spec.node_names:
            state = self.tmp / "state" / node
            state.mkdir(parents=True, exist_ok=True)
            # To a file, never a pipe nobody reads (a full pipe would stop the daemon); read after a failure.
            with open(state / "stderr", "ab") as stderr:
                self.engines[node] = self.lab.spawn(node, [sys.executable, self.bundle, "run", "--node", node,
                                                           "--state-dir", str(state), "--key-file", str(self.key),
                                                           *self.lab.device_args(node), *self.drivers],
                                                    stdout=subprocess.DEVNULL, stderr=stderr)
        if not self._watcher.is_alive():
            self._watcher.start()

    def kill(self, node: str) -> None:
        """The daemon dies at once, as in a crash (the node's addresses stay where they are)."""
        self.engines[node].send_signal(signal.SIGKILL)
        self.engines[node].wait(timeout=10)

    def stop_all(self) -> None:
        self._stop.set()
        for process in self.engines.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.engines.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        if self._watcher.is_alive():
            self._watcher.join(timeout=5)

    def holders(self, lab=None) -> dict[str, list[str]]:
        """Service label -> the nodes whose namespace has its address now."""
        lab = lab or self.lab
        found: dict[str, list[str]] = {label: [] for label in self.services}
        for node in self.spec.node_names:
            done = lab.exec(lab.netns(node), ["ip", "-j", "addr", "show"], timeout=5)
            if done.returncode:
                continue
            addresses = {item["local"] for link in json.loads(done.stdout or "[]") for item in link.get("addr_info", ())}
            for label, address in self.services.items():
                if address in addresses:
                    found[label].append(node)
        return found

    def _watch(self) -> None:
        watching = Lab.load(self.lab.state_file)  # a Lab of its own: the test's fails and heals run beside it
        failed, healed_at = (), -1e9
        # After a heal the two sides hear each other again only with their next beats: a double holder
        # within two intervals and a tick of a heal is that, not a fault.
        grace = 3 * self.spec.heartbeat.interval_ms / 1000 + 0.3
        while not self._stop.is_set():
            holders = self.holders(watching)
            now = time.monotonic()
            self.seen.append((now, holders))
            if set(watching.failed) < set(failed):
                healed_at = now
            failed = watching.failed
            if now - healed_at < grace:
                time.sleep(0.05)
                continue
            status = assess(self.spec, failed)
            side = {node: number for number, part in enumerate(status.partitions) for node in part}
            for label, nodes in holders.items():
                live = [node for node in nodes if node in self.engines and self.engines[node].poll() is None]
                if len(live) < 2:
                    continue
                if self.spec.heartbeat.quorum == "majority" or len({side.get(node) for node in live}) < len(live):
                    self.violations.append(f"{label} on {', '.join(live)} with {list(self.lab.failed)} failed")
            time.sleep(0.05)

    def running_holders(self) -> dict[str, list[str]]:
        """`holders`, on the nodes whose daemon runs (a node whose daemon was killed with it is dead: what its
        namespace still has, nobody can reach)."""
        alive = {node for node, process in self.engines.items() if process.poll() is None}
        return {label: [node for node in nodes if node in alive] for label, nodes in self.holders().items()}

    def wait_for(self, expected: dict[str, list[str]], within: float) -> dict[str, list[str]]:
        deadline = time.monotonic() + within
        holders = self.running_holders()
        while holders != expected and time.monotonic() < deadline:
            time.sleep(0.1)
            holders = self.running_holders()
        return holders

    def expected(self, placement) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {label: [] for label in self.services}
        for name, nodes in placement.groups:
            for label in self.spec.group(name).service_ips:
                found[label] = list(nodes)
        return found

    def answers(self, label: str, network: str, wait: float = 1.0) -> bool:
        client = self.lab.client(network)
        return self.lab.ping(client.netns, self.services[label], wait=wait)

    def log(self, node: str) -> list[dict]:
        path = self.tmp / "state" / node / "events.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []

    @property
    def detection_s(self) -> float:
        return self.spec.heartbeat.interval_ms * self.spec.heartbeat.miss_limit / 1000


@pytest.fixture
def running(lab_factory, tmp_path):
    made = []

    def make(path: Path) -> Cluster:
        cluster = Cluster(lab_factory(path), path, tmp_path)
        made.append(cluster)
        cluster.start()
        return cluster

    yield make
    for cluster in made:
        cluster.stop_all()


def isolating(spec, node: str) -> list[str]:
    """The failures that cut a node off from every other on every path, leaving it running."""
    cut = [f"adapter:{node}/{adapter.ifname}" for adapter in spec.adapters_by_node[node]]
    cut += [f"linkend:{node}/{link.name}" for link in spec.links if link.disk and node in link.nodes]
    return cut + [f"link:{link.name}" for link in spec.links if not link.disk and node in link.nodes]


def settled(cluster: Cluster) -> dict[str, list[str]]:
    """Startup: every group where the startup placement puts it."""
    expected = cluster.expected(startup_placement(cluster.spec))
    holders = cluster.wait_for(expected, within=3 * cluster.detection_s + 5)
    assert holders == expected
    return holders


def test_startup_puts_every_address_where_the_placement_says(running):
    cluster = running(TWO_NODE)
    settled(cluster)
    assert cluster.answers("ledger_svc", "net_ether_01") and cluster.answers("gateway_svc", "net_ether_01")
    assert not cluster.violations


def test_node_death_moves_the_address_to_the_next_node(running):
    cluster = running(TWO_NODE)
    settled(cluster)
    cluster.kill("alpha")
    cluster.lab.fail("node:alpha")
    expected = cluster.expected(place(cluster.spec, ["node:alpha"]))
    assert cluster.wait_for(expected, within=2 * cluster.detection_s + 5) == expected
    assert cluster.answers("ledger_svc", "net_ether_01")
    assert not cluster.violations, cluster.violations
    assert any(record.get("event") == "node_down" for record in cluster.log("bravo"))


def test_an_adapter_failure_swaps_the_address_and_moves_no_group(running):
    cluster = running(TWO_NODE)
    settled(cluster)
    cluster.lab.fail("adapter:alpha/en0")
    time.sleep(cluster.detection_s + 2)
    assert cluster.holders() == cluster.expected(place(cluster.spec, ["adapter:alpha/en0"]))
    assert cluster.answers("ledger_svc", "net_ether_01")
    assert not cluster.violations, cluster.violations


def test_the_ip_network_cut_with_the_serial_line_alive_takes_nothing_over(running):
    cluster = running(TWO_NODE)
    settled(cluster)
    cluster.lab.fail("switch:sw1", "switch:sw2")
    time.sleep(2 * cluster.detection_s + 2)
    assert not cluster.violations, cluster.violations
    logged = [record["event"] for node in ("alpha", "bravo") for record in cluster.log(node)]
    assert "network_down" in logged and "node_down" not in logged


def test_a_node_cut_off_from_the_majority_releases_and_the_majority_takes_over(running):
    cluster = running(THREE_NODE)
    settled(cluster)
    cut = isolating(cluster.spec, "wh1")
    cluster.lab.fail(*cut)
    expected = cluster.expected(place(cluster.spec, cut))
    assert cluster.wait_for(expected, within=2 * cluster.detection_s + 5) == expected
    assert not cluster.violations, cluster.violations


def test_a_daemon_restarted_on_the_owner_leaves_no_double_owner(running):
    cluster = running(TWO_NODE)
    before = settled(cluster)
    cluster.kill("alpha")
    cluster.start("alpha")
    time.sleep(2 * cluster.detection_s + 2)
    holders = cluster.holders()
    assert all(len(nodes) <= 1 for nodes in holders.values()), holders
    assert set(holders["gateway_svc"]) == set(before["gateway_svc"])
    assert not cluster.violations, cluster.violations


def test_forged_and_replayed_heartbeats_are_counted_and_change_nothing(running):
    cluster = running(TWO_NODE)
    before = settled(cluster)
    client = cluster.lab.client("net_ether_01")
    port = cluster.spec.heartbeat.port
    rogue = (
        "import socket, time\n"
        "r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); r.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
        f"r.bind(('', {port})); r.settimeout(5); real = r.recv(65536)\n"
        "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)\n"
        "for i in range(20):\n"
        f"    s.sendto(b'HLG1' + bytes(60), ('10.10.1.255', {port}))\n"
        f"    s.sendto(real[:-1] + bytes([real[-1] ^ 1]), ('10.10.1.255', {port}))\n"
        f"    s.sendto(real, ('10.10.1.255', {port}))\n"
        "    time.sleep(0.02)\n")
    done = cluster.lab.exec(client.netns, [sys.executable, "-c", rogue], timeout=30)
    assert done.returncode == 0, done.stderr
    time.sleep(1)
    drops = [record["drops"] for node in ("alpha", "bravo") for record in cluster.log(node) if "drops" in record]
    assert drops and (max(d["forged"] for d in drops) > 0 or max(d["malformed"] for d in drops) > 0)
    assert max(d["replayed"] for d in drops) > 0
    assert cluster.holders() == before
    assert not cluster.violations, cluster.violations


TIE_BREAKER = """
cluster tied {
  heartbeat { interval = 200ms  miss_limit = 4  key_file = "/etc/halang/tied.key"  tie_breaker = hb_disk }
  node alpha { }
  node bravo { }
  network lan {
    ipat = alias
    adapter alpha en0 boot 10.30.1.11/24 switch sw1
    adapter alpha en1 boot 10.30.2.11/24 switch sw2
    adapter bravo en0 boot 10.30.1.12/24 switch sw1
    adapter bravo en1 boot 10.30.2.12/24 switch sw2
    service web_svc 10.30.9.10/24
  }
  link hb_disk { type = disk  device = "/dev/mapper/hb"  nodes = [alpha, bravo] }
  resource_group web { nodes = [bravo, alpha]  service_ips = [web_svc] }
}
"""


def test_the_node_holding_the_tie_breaker_disk_takes_the_group(running, tmp_path):
    """bravo is cut off from alpha on both adapters and loses its connection to the disk: each side holds half
    the nodes; alpha, which reaches the tie-breaker, has quorum and takes the group; bravo releases it."""
    path = tmp_path / "tied.ha"
    path.write_text(TIE_BREAKER)
    cluster = running(path)
    assert settled(cluster) == {"web_svc": ["bravo"]}
    cut = ["adapter:bravo/en0", "adapter:bravo/en1", "linkend:bravo/hb_disk"]
    cluster.lab.fail(*cut)
    expected = cluster.expected(place(cluster.spec, cut))
    assert expected == {"web_svc": ["alpha"]}
    assert cluster.wait_for(expected, within=2 * cluster.detection_s + 5) == expected
    assert not cluster.violations, cluster.violations


def test_when_a_partition_heals_the_owners_announce_again_and_the_client_is_not_left_dark(running):
    """wh1 is cut off from the majority, which takes its group; when the cut heals, the owners announce their
    addresses again (wh1's neighbours may still have wh1's MAC for them) and every service address answers
    the client with no gap over 1 s."""
    cluster = running(THREE_NODE)
    settled(cluster)
    cut = isolating(cluster.spec, "wh1")
    cluster.lab.fail(*cut)
    expected = cluster.expected(place(cluster.spec, cut))
    assert cluster.wait_for(expected, within=2 * cluster.detection_s + 5) == expected
    cluster.lab.heal(*cut)
    healed = time.monotonic()
    labels = [label for label, nodes in expected.items() if nodes]
    dark = {label: 0.0 for label in labels}
    last = {label: healed for label in labels}
    while time.monotonic() - healed < 2 * cluster.detection_s + 3:
        for label in labels:
            if cluster.answers(label, "net_public", wait=0.2):  # a probe every 0.2 s at most
                dark[label] = max(dark[label], time.monotonic() - last[label])
                last[label] = time.monotonic()
    dark = {label: max(gap, time.monotonic() - last[label]) for label, gap in dark.items()}
    assert all(gap <= 1.0 for gap in dark.values()), dark
    assert cluster.running_holders() == expected, "nothing moves back: fallback = never"
    announced = [record for node in cluster.spec.node_names for record in cluster.log(node)
                 if any(action[0] == "Announce" for action in record.get("actions", ()))]
    assert announced
    assert not cluster.violations, cluster.violations
