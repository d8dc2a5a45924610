"""The node engine running on a lab: the compiled bundle's daemon in every node namespace, and who holds what.

`Engines(lab, path, workdir)` compiles the file into a bundle under `workdir`, makes a cluster key for the
run, and starts, kills and stops the daemons (`python3 BUNDLE.pyz run --node N`, with the lab's devices);
`holders()` reads, from every node namespace, which service addresses it has. The engine's tests, `make
bench` and `halang lab` use it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from halang.compile import compile_source
from halang.diagnostics import SourceText
from halang.lab.plan import LabError
from halang.model.spec import cluster_spec
from halang.verify import load


def service_addresses(spec, network: str | None = None) -> dict[str, str]:
    """Service label -> its address, of one network or all, file order."""
    return {service.name: service.address for item in spec.networks if network in (None, item.name)
            for service in item.services}


class Engines:
    """`drivers="recorded"` (the default here): volume groups, filesystems and applications are only recorded
    (`run --resource-drivers recorded`), for files whose scripts and volumes are not on this machine."""

    def __init__(self, lab, path: Path, workdir: Path, drivers: str = "recorded"):
        self.lab = lab
        source = SourceText(Path(path).read_text(), str(path))
        model, _, _ = load(source)
        if model is None:
            raise LabError(f"{path} has errors: run halang verify on it")
        self.spec = cluster_spec(model)
        result = compile_source(source, workdir / "out", faults=0)
        if result.bundle is None:
            raise LabError(f"{path} does not compile: " + "; ".join(f.message for f in result.report.errors))
        self.bundle = str(result.bundle)
        self.key = workdir / "cluster.key"
        self.key.write_bytes(os.urandom(32))
        self.workdir = workdir
        self.drivers = drivers
        self.processes: dict[str, subprocess.Popen] = {}
        self.services = service_addresses(self.spec)

    def state_dir(self, node: str) -> Path:
        return self.workdir / "state" / node

    def argv(self, node: str) -> list[str]:
        """The daemon's command line on a node: its state dir, the run's key, the lab's devices, the drivers."""
        return [sys.executable, self.bundle, "run", "--node", node, "--state-dir", str(self.state_dir(node)),
                "--key-file", str(self.key), *self.lab.device_args(node), "--resource-drivers", self.drivers]

    def start(self, *nodes: str) -> None:
        for node in nodes or self.spec.node_names:
            self.processes[node] = spawn_daemon(self.lab, node, self.argv(node), self.state_dir(node))

    def running(self, node: str) -> bool:
        return node in self.processes and self.processes[node].poll() is None

    def kill(self, node: str) -> None:
        """The daemon dies at once, as in a crash (the node's addresses stay where they are)."""
        self.processes[node].send_signal(signal.SIGKILL)
        self.processes[node].wait(timeout=10)

    def stop(self, *nodes: str) -> None:
        """SIGTERM: each daemon releases what it holds and leaves."""
        chosen = [self.processes[node] for node in nodes or list(self.processes)]
        for process in chosen:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in chosen:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)

    def holders(self, lab=None) -> dict[str, list[str]]:
        """Service label -> the nodes whose namespace has its address now."""
        found = address_holders(lab or self.lab, self.services)
        return {label: [node for node, _ in places] for label, places in found.items()}

    def running_holders(self) -> dict[str, list[str]]:
        """`holders`, on the nodes whose daemon runs (a node whose daemon was killed is dead: what its namespace
        still has, nobody can reach)."""
        return {label: [node for node in nodes if self.running(node)] for label, nodes in self.holders().items()}

    def wait_for(self, expected: dict[str, list[str]], within: float) -> dict[str, list[str]]:
        deadline = time.monotonic() + within
        holders = self.running_holders()
        while holders != expected and time.monotonic() < deadline:
            time.sleep(0.1)
            holders = self.running_holders()
        return holders

    def expected(self, placement) -> dict[str, list[str]]:
        """Service label -> the nodes a placement puts it on."""
        found: dict[str, list[str]] = {label: [] for label in self.services}
        for name, nodes in placement.groups:
            for label in self.spec.group(name).service_ips:
                found[label] = list(nodes)
        return found

    def answers(self, label: str, network: str, wait: float = 1.0) -> bool:
        return self.lab.ping(self.lab.client(network).netns, self.services[label], wait=wait)

    def log(self, node: str) -> list[dict]:
        path = self.state_dir(node) / "events.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []

    @property
    def detection_s(self) -> float:
        return self.spec.heartbeat.interval_ms * self.spec.heartbeat.miss_limit / 1000


def spawn_daemon(lab, node: str, argv: list[str], state_dir: Path, **popen) -> subprocess.Popen:
    """Start a node's daemon in its namespace (recorded by the lab), its standard error to `STATE/stderr`."""
    state_dir.mkdir(parents=True, exist_ok=True)
    # To a file, never a pipe nobody reads (a full pipe would stop the daemon); read after a failure.
    with open(state_dir / "stderr", "ab") as stderr:
        return lab.spawn(node, argv, stdout=subprocess.DEVNULL, stderr=stderr, **popen)


def address_holders(lab, services: dict[str, str]) -> dict[str, list[tuple[str, str]]]:
    """Service label -> (node, ifname) of every node namespace that has its address now."""
    found: dict[str, list[tuple[str, str]]] = {label: [] for label in services}
    for node in lab.plan.nodes:
        done = lab.exec(node.netns, ["ip", "-j", "addr", "show"], timeout=5)
        if done.returncode:
            continue
        where = {item["local"]: link["ifname"] for link in json.loads(done.stdout or "[]")
                 for item in link.get("addr_info", ())}
        for label, address in services.items():
            if address in where:
                found[label].append((node.name, where[address]))
    return found
