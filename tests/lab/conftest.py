"""Labs for the tests: `lab_factory` builds them and its finalizer tears every one down, whatever the test did."""

import os
import select
import subprocess
import time
from pathlib import Path

import pytest

from halang.lab import Lab, LabError

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
TWO_NODE = EXAMPLES / "two_node_replace.ha"
THREE_NODE = EXAMPLES / "three_node_quorum.ha"
IPV6 = EXAMPLES / "ipv6_alias.ha"


@pytest.fixture
def lab_base(tmp_path) -> Path:
    return tmp_path / "labs"


@pytest.fixture
def lab_factory(request, lab_base):
    """`lab_factory(path_or_cluster, **kwargs)` builds a lab under the test's own folder; every lab built is torn
    down when the test ends, passed or failed (a finalizer, registered before the first lab is built)."""
    labs: list[Lab] = []

    def tear_down() -> None:
        problems = []
        for lab in reversed(labs):
            try:
                lab.down()
            except LabError as exc:
                problems.append(str(exc))
        if problems:
            pytest.fail("; ".join(problems), pytrace=False)

    request.addfinalizer(tear_down)

    def make(source, **kwargs) -> Lab:
        lab = Lab.up(source, base_dir=lab_base, **kwargs)
        labs.append(lab)
        return lab

    return make


@pytest.fixture
def running(lab_factory, tmp_path):
    """`running(path)`: a lab of the file with the engine started on every node and the double-ownership watcher
    running (tests/lab/cluster.py); the daemons stop when the test ends, before the lab is torn down."""
    from tests.lab.cluster import Cluster

    made = []

    def make(path: Path) -> "Cluster":
        workdir = tmp_path / f"engine{len(made)}"
        workdir.mkdir()
        cluster = Cluster(lab_factory(path), path, workdir)
        made.append(cluster)
        cluster.start()
        return cluster

    yield make
    for cluster in made:
        cluster.stop_all()


# ------------------------------------------------------------------ looking at the machine


def namespaces() -> set[str]:
    done = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True)
    return {line.split()[0] for line in done.stdout.splitlines() if line.strip()}


def root_links() -> set[str]:
    """The interfaces of the root namespace, by name and index (a lab must never add, remove or move one)."""
    done = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True, check=True)
    return {" ".join(line.split(":")[:2]).split("@")[0] for line in done.stdout.splitlines()}


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False


def assert_nothing_left(prefix: str, links_before: set[str], base: Path, pids) -> None:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(name.startswith(prefix) for name in namespaces()):
        time.sleep(0.05)
    assert not [name for name in namespaces() if name.startswith(prefix)]
    assert root_links() == links_before
    assert not [pid for pid in pids if alive(pid)]
    assert not base.exists() or not [path.name for path in base.iterdir() if path.name.startswith(prefix)]


# ------------------------------------------------------------------ ptys


def open_tty(path: str) -> int:
    fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    return fd


def read_for(fd: int, seconds: float, want: int | None = None) -> bytes:
    """What arrives on the terminal within `seconds` (stops early once `want` bytes have come)."""
    data = b""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and (want is None or len(data) < want):
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if ready:
            try:
                data += os.read(fd, 4096)
            except BlockingIOError:
                pass
    return data
