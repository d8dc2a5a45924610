"""Whole groups on real namespaces: the compiled bundle's daemon with its real drivers on every node of a lab.

A filesystem on a loop device made here, an application script serving it over HTTP on the service address,
monitors, site event scripts and dependencies, failed for real. Each daemon runs in the mount namespace
`ip netns exec` gives it, so what it mounts is seen by it and its scripts only, and goes with them. The scripts
record what they do in files of the test's folder; every process they start is ended by its PID at the end.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.lab.test_engine_scenarios import Cluster

pytestmark = pytest.mark.root

PYTHON = sys.executable


# ------------------------------------------------------------------ the pieces a test is made of


@pytest.fixture
def loop_device(tmp_path):
    """An ext4 filesystem in a file, on a loop device, with one page of data; the device is detached at the
    end, passed or failed."""
    image = tmp_path / "disk.img"
    with open(image, "wb") as handle:
        handle.truncate(32 * 1024 * 1024)
    subprocess.run(["mkfs.ext4", "-q", "-F", str(image)], check=True, capture_output=True, timeout=120)
    device = subprocess.run(["losetup", "--find", "--show", str(image)], check=True, capture_output=True, text=True,
                            timeout=60).stdout.strip()
    try:
        prepare = tmp_path / "prepare"
        prepare.mkdir()
        subprocess.run(["mount", device, str(prepare)], check=True, capture_output=True, timeout=60)
        try:
            (prepare / "index.html").write_text(f"data of {tmp_path.name}\n")
        finally:
            subprocess.run(["umount", str(prepare)], check=True, capture_output=True, timeout=60)
        yield device
    finally:
        subprocess.run(["losetup", "-d", device], capture_output=True, timeout=60)


@pytest.fixture
def scripts(tmp_path):
    """The application's scripts (a web server on port 8080 of whatever node runs it), its monitor, and site
    event scripts; `flag(name, node)` makes a script of that node misbehave. The servers still running at the
    end are ended by their PIDs."""
    made = Scripts(tmp_path)
    yield made
    made.end_servers()


class Scripts:
    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.folder = tmp / "scripts"
        self.folder.mkdir()
        self.mount_point = tmp / "mnt"
        self.mount_point.mkdir()
        self.log = tmp / "scripts.log"
        self.log.touch()
        here = "ns=$(ip netns identify)\n"
        self.write("start", here + f"""
echo "start $ns" >> {self.log}
if [ -e {tmp}/refuse-$ns ]; then echo "refusing to start on $ns"; exit 1; fi
[ -e {self.mount_point}/index.html ] || {{ echo "the filesystem is not mounted"; exit 1; }}
cd /
setsid {PYTHON} -m http.server 8080 --bind 0.0.0.0 --directory {self.mount_point} > {tmp}/http-$ns.log 2>&1 < /dev/null &
echo $! > {tmp}/pid-$ns
i=0
until {PYTHON} -c 'import socket; socket.create_connection(("127.0.0.1", 8080), 1)' 2>/dev/null; do
    i=$((i + 1)); [ $i -lt 100 ] || {{ echo "the server did not listen"; exit 1; }}; sleep 0.1
done
echo "serving {self.mount_point} on $ns"
""")
        self.write("stop", here + f"""
echo "stop $ns" >> {self.log}
[ -e {tmp}/pid-$ns ] || exit 0
pid=$(cat {tmp}/pid-$ns)
kill $pid 2>/dev/null
i=0
while kill -0 $pid 2>/dev/null; do i=$((i + 1)); [ $i -lt 100 ] || exit 1; sleep 0.1; done
rm -f {tmp}/pid-$ns
""")
        self.write("check", here + f"""
[ ! -e {tmp}/broken-$ns ] || exit 1
{PYTHON} -c 'import socket; socket.create_connection(("127.0.0.1", 8080), 1)'
""")
        self.write("pre_fails", f'echo "pre $* on $HALANG_LOCAL_NODE" >> {self.log}\necho "no pager"\nexit 1\n')
        self.write("post", f'echo "post $* on $HALANG_LOCAL_NODE" >> {self.log}\n')
        for group in ("db", "app"):
            self.write(f"{group}_start", f'echo "{group} start begins" >> {self.log}\nsleep 2\n'
                                         f'echo "{group} start ends" >> {self.log}\n')
            self.write(f"{group}_stop", f'echo "{group} stop" >> {self.log}\n')

    def write(self, name: str, body: str) -> None:
        path = self.folder / name
        path.write_text("#!/bin/sh\n" + body)
        path.chmod(0o755)

    def path(self, name: str) -> str:
        return str(self.folder / name)

    def flag(self, name: str, netns: str) -> None:
        (self.tmp / f"{name}-{netns}").touch()

    def lines(self) -> list[str]:
        return self.log.read_text().splitlines()

    def end_servers(self) -> None:
        for pid_file in self.tmp.glob("pid-*"):
            try:
                pid = int(pid_file.read_text())
                with open(f"/proc/{pid}/cmdline", "rb") as handle:
                    ours = b"http.server" in handle.read()
            except (OSError, ValueError):
                continue
            if ours:
                os.kill(pid, signal.SIGKILL)


@pytest.fixture
def cluster_of(loop_device, scripts, lab_factory, tmp_path):
    """`cluster_of(text, prepare=None)`: the file written, its lab up, `prepare(lab)` called, its daemons started
    with their real drivers; stopped at the end (SIGTERM: each releases what it holds)."""
    made = []

    def make(text: str, prepare=None) -> Cluster:
        path = tmp_path / "cluster.ha"
        path.write_text(text.replace("LOOP", loop_device).replace("MNT", str(scripts.mount_point))
                        .replace("SCRIPTS", str(scripts.folder)))
        cluster = Cluster(lab_factory(path), path, tmp_path)
        cluster.drivers = "real"
        made.append(cluster)
        if prepare is not None:
            prepare(cluster.lab)
        cluster.start()
        return cluster

    yield make
    for cluster in made:
        cluster.stop_all()


WEB = """
cluster web {
  heartbeat { interval = 500ms  miss_limit = 4 }
  node alpha { }
  node bravo { }
  network net {
    ipat = replace
    adapter alpha en0 boot 10.77.1.11/24
    adapter bravo en0 boot 10.77.1.12/24
    service web_svc 10.77.1.100
  }
  resource_group web {
    nodes       = [alpha, bravo]
    service_ips = [web_svc]
    filesystem "MNT" { device = "LOOP"  fstype = "ext4" }
    application web {
      start   = "SCRIPTS/start"
      stop    = "SCRIPTS/stop"
      timeout = 30s
      monitor { command = "SCRIPTS/check"  interval = 1s  timeout = 900ms  restarts = 1 }
    }
  }
  event rg_move { pre = "SCRIPTS/pre_fails"  post = "SCRIPTS/post" }
  accept HA302 "a lab test: one network, nothing else splits it"
}
"""


def wait(condition, within: float, every: float = 0.2):
    """The condition's value once it is true, or its last value after `within` seconds (patient: the machine is
    shared)."""
    deadline = time.monotonic() + within
    value = condition()
    while not value and time.monotonic() < deadline:
        time.sleep(every)
        value = condition()
    return value


def fetch(cluster: Cluster, address: str) -> str:
    """The page the client namespace gets from the service address ("" when nothing answers)."""
    code = ("import sys, urllib.request\n"
            "try:\n"
            "    print(urllib.request.urlopen(sys.argv[1], timeout=3).read().decode(), end='')\n"
            "except OSError:\n"
            "    pass\n")
    done = cluster.lab.exec(cluster.lab.client("net").netns, [PYTHON, "-c", code, f"http://{address}:8080/index.html"],
                            timeout=30)
    return done.stdout


def mounted_in(cluster: Cluster, node: str, mount_point: Path) -> bool:
    """Whether the node's daemon (and so its mount namespace) has the filesystem mounted."""
    try:
        with open(f"/proc/{cluster.processes[node].pid}/mounts") as handle:
            return any(line.split()[1] == str(mount_point) for line in handle)
    except OSError:
        return False


def gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except OSError:
        return True


def records(cluster: Cluster, node: str, event: str) -> list[dict]:
    return [record for record in cluster.log(node) if record.get("event") == event]


def on(cluster: Cluster, node: str) -> dict[str, list[str]]:
    return {"web_svc": [node]}


def online(cluster: Cluster, node: str, group: str, within: float = 60) -> bool:
    """Whether the node's daemon says the group is online (its address comes first: that alone says little)."""
    return bool(wait(lambda: [record for record in records(cluster, node, "decision")
                              if f"{group} is online" in record["reason"]], within))


def settled_on(cluster: Cluster, node: str, scripts: Scripts, within: float = 60) -> None:
    """The group online on `node`: its address there, the page served from its filesystem, and its daemon
    saying so."""
    assert cluster.wait_for(on(cluster, node), within=within) == on(cluster, node)
    page = wait(lambda: fetch(cluster, "10.77.1.100"), within)
    assert page == f"data of {scripts.tmp.name}\n"
    assert online(cluster, node, "web", within)


def crash(cluster: Cluster, node: str, scripts: Scripts) -> None:
    """The node dies: its daemon and the server its script started, at once; then its links."""
    cluster.kill(node)
    pid_file = scripts.tmp / f"pid-{cluster.lab.netns(node)}"
    if pid_file.exists():
        pid = int(pid_file.read_text())
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        assert wait(lambda: gone(pid), 30)
    cluster.lab.fail(f"node:{node}")


# ------------------------------------------------------------------ the scenarios


def test_a_group_with_a_filesystem_and_a_web_server_fails_over_with_its_data(cluster_of, scripts):
    cluster = cluster_of(WEB)
    settled_on(cluster, "alpha", scripts)
    assert mounted_in(cluster, "alpha", scripts.mount_point) and not mounted_in(cluster, "bravo", scripts.mount_point)
    [acquired] = [record for record in records(cluster, "alpha", "acquire") if record["ok"]]
    assert [step["step"] for step in acquired["steps"]] == [f"filesystem {scripts.mount_point}", "application web"]
    assert acquired["steps"][1]["output"] == f"serving {scripts.mount_point} on {cluster.lab.netns('alpha')}"

    crash(cluster, "alpha", scripts)
    settled_on(cluster, "bravo", scripts, within=2 * cluster.detection_s + 60)
    assert mounted_in(cluster, "bravo", scripts.mount_point)
    assert not cluster.violations, cluster.violations


def test_an_acquisition_that_fails_on_the_first_node_is_rolled_back_and_succeeds_on_the_next(cluster_of, scripts):
    cluster = cluster_of(WEB, prepare=lambda lab: scripts.flag("refuse", lab.netns("alpha")))
    settled_on(cluster, "bravo", scripts, within=2 * cluster.detection_s + 90)
    [failed] = records(cluster, "alpha", "acquire")
    assert not failed["ok"] and failed["clean"]
    assert failed["detail"].startswith("application web: ") and "exited with status 1" in failed["detail"]
    assert [(step["step"], step["action"], step["ok"]) for step in failed["steps"]] == [
        (f"filesystem {scripts.mount_point}", "acquire", True), ("application web", "acquire", False),
        (f"filesystem {scripts.mount_point}", "rollback", True)]
    assert "refusing to start on" in failed["steps"][1]["output"]
    assert not mounted_in(cluster, "alpha", scripts.mount_point)
    assert cluster.holders()["web_svc"] == ["bravo"], "alpha's address went with the rollback"
    assert not cluster.violations, cluster.violations


def test_a_failing_monitor_restarts_the_application_then_the_group_falls_over(cluster_of, scripts):
    cluster = cluster_of(WEB)
    settled_on(cluster, "alpha", scripts)
    scripts.flag("broken", cluster.lab.netns("alpha"))
    settled_on(cluster, "bravo", scripts, within=2 * cluster.detection_s + 90)
    alpha, bravo = cluster.lab.netns("alpha"), cluster.lab.netns("bravo")
    starts = [line for line in scripts.lines() if line.startswith(("start", "stop"))]
    assert starts == [f"start {alpha}", f"stop {alpha}", f"start {alpha}", f"stop {alpha}", f"start {bravo}"]
    assert [record["ok"] for record in records(cluster, "alpha", "restart")] == [True]
    decisions = [record["reason"] for record in records(cluster, "alpha", "decision")]
    assert any("web falls over: web its monitor failed after 1 restarts" in reason for reason in decisions)
    assert not mounted_in(cluster, "alpha", scripts.mount_point)
    assert not cluster.violations, cluster.violations


def test_a_failing_pre_event_script_is_logged_and_the_event_goes_on(cluster_of, scripts):
    cluster = cluster_of(WEB)
    settled_on(cluster, "alpha", scripts)
    crash(cluster, "alpha", scripts)
    settled_on(cluster, "bravo", scripts, within=2 * cluster.detection_s + 60)
    ran = wait(lambda: [record for record in records(cluster, "bravo", "site_script") if record["kind"] == "rg_move"]
               if len(records(cluster, "bravo", "site_script")) >= 2 else [], 60)
    assert [(record["phase"], record["ok"]) for record in ran] == [("begin", False), ("end", True)]
    assert ran[0]["text"].startswith("the pre-event command of rg_move failed")
    assert "no pager" in ran[0]["output"]
    assert [line for line in scripts.lines() if line.startswith(("pre", "post"))] == [
        "pre rg_move web alpha bravo on bravo", "post rg_move web alpha bravo on bravo"]


LAYERS = """
cluster layers {
  heartbeat { interval = 500ms  miss_limit = 4 }
  node alpha { }
  node bravo { }
  network net {
    ipat = replace
    adapter alpha en0 boot 10.77.1.11/24
    adapter bravo en0 boot 10.77.1.12/24
    service db_svc 10.77.1.100
    service app_svc 10.77.1.101
  }
  resource_group db {
    nodes       = [alpha, bravo]
    service_ips = [db_svc]
    application db { start = "SCRIPTS/db_start"  stop = "SCRIPTS/db_stop" }
  }
  resource_group app {
    nodes       = [bravo, alpha]
    service_ips = [app_svc]
    after       = [db]
    application app { start = "SCRIPTS/app_start"  stop = "SCRIPTS/app_stop" }
  }
  accept HA302 "a lab test: one network, nothing else splits it"
}
"""


def test_a_child_group_starts_only_once_its_parent_is_online_and_stops_first(cluster_of, scripts):
    cluster = cluster_of(LAYERS)
    expected = {"db_svc": ["alpha"], "app_svc": ["bravo"]}
    assert cluster.wait_for(expected, within=60) == expected
    assert wait(lambda: "app start ends" in scripts.lines(), 60)
    assert scripts.lines()[:4] == ["db start begins", "db start ends", "app start begins", "app start ends"]
    cluster.stop_all()  # each node releases what it holds: bravo's child, alpha's parent
    lines = scripts.lines()
    assert "app stop" in lines and "db stop" in lines


FALLBACK = """
cluster back {
  heartbeat { interval = 500ms  miss_limit = 4 }
  node alpha { }
  node bravo { }
  network net {
    ipat = replace
    adapter alpha en0 boot 10.77.1.11/24
    adapter bravo en0 boot 10.77.1.12/24
    service web_svc 10.77.1.100
  }
  resource_group web {
    nodes          = [alpha, bravo]
    service_ips    = [web_svc]
    fallback       = higher_priority
    fallback_delay = 4s
    application web { start = "SCRIPTS/db_start"  stop = "SCRIPTS/db_stop" }
  }
  accept HA302 "a lab test: one network, nothing else splits it"
}
"""


def test_a_group_falls_back_to_its_home_node_once_the_delay_is_over(cluster_of, scripts):
    cluster = cluster_of(FALLBACK)
    assert cluster.wait_for(on(cluster, "alpha"), within=60) == on(cluster, "alpha")
    assert online(cluster, "alpha", "web")
    cluster.processes["alpha"].send_signal(signal.SIGTERM)  # alpha leaves, releasing the group: bravo takes it
    cluster.processes["alpha"].wait(timeout=60)
    assert cluster.wait_for(on(cluster, "bravo"), within=60) == on(cluster, "bravo")
    cluster.start("alpha")
    assert cluster.wait_for(on(cluster, "alpha"), within=4 * cluster.detection_s + 60) == on(cluster, "alpha")
    planned = [record for record in records(cluster, "alpha", "decision") + records(cluster, "bravo", "decision")
               if "planned view" in record["reason"]]
    fallback = [record for record in records(cluster, "alpha", "decision") + records(cluster, "bravo", "decision")
                if "fallback: web bravo -> alpha" in record["reason"]]
    assert fallback, "the move back is the fallback's, not a new placement's"
    rejoined = max(record["time"] for record in planned if record["time"] < fallback[0]["time"])
    assert fallback[0]["time"] - rejoined >= 4.0, "not before the delay"
    assert not cluster.violations, cluster.violations
