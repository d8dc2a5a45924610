"""Teardown leaves nothing behind: namespaces, root interfaces, files, processes; after a failed test, a failed
build, a killed build, and from another process with the state file alone."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from halang.lab import Lab, LabError, System, down, find_labs, read_state

from .conftest import IPV6, ROOT, THREE_NODE, TWO_NODE, alive, assert_nothing_left, namespaces, root_links

pytestmark = pytest.mark.root


def lab_pids(lab):
    return [record["pid"] for record in lab.processes]


@pytest.mark.parametrize("path", [TWO_NODE, THREE_NODE, IPV6], ids=lambda p: p.stem)
def test_down_removes_everything_and_twice_is_harmless(tmp_path, path):
    links = root_links()
    lab = Lab.up(path, base_dir=tmp_path)
    assert set(lab.plan.namespaces) <= namespaces()
    assert os.path.isdir(lab.plan.workdir)
    pids = lab_pids(lab)
    assert len(pids) == len(lab.plan.serials) and all(alive(pid) for pid in pids)
    lab.fail(f"node:{lab.plan.nodes[0].name}")  # a lab torn down with faults in place
    report = lab.down()
    assert sorted(report["namespaces"]) == sorted(lab.plan.namespaces) and report["processes"] == pids
    assert_nothing_left(lab.prefix, links, tmp_path, pids)
    again = lab.down()
    assert again["namespaces"] == [] and again["processes"] == []
    assert down(lab.state_file)["note"].endswith("no lab state there (torn down already, or never built)")
    with pytest.raises(LabError, match="is down, not up"):
        lab.fail("node:" + lab.plan.nodes[0].name)


def test_a_with_block_that_raises_leaves_nothing(tmp_path):
    links = root_links()
    with pytest.raises(RuntimeError, match="the test body failed"):
        with Lab.up(TWO_NODE, base_dir=tmp_path) as lab:
            pids = lab_pids(lab)
            lab.fail("switch:sw1")
            raise RuntimeError("the test body failed")
    assert_nothing_left(lab.prefix, links, tmp_path, pids)


def test_the_fixture_tears_down_when_the_test_body_raises(tmp_path):
    """An inner pytest run whose test builds two labs with `lab_factory` and then fails."""
    record = tmp_path / "record.json"
    (tmp_path / "conftest.py").write_text("from tests.lab.conftest import lab_base, lab_factory  # noqa: F401\n")
    (tmp_path / "test_inner.py").write_text(textwrap.dedent(f"""
        import json

        def test_fails_with_labs_up(lab_factory):
            labs = [lab_factory({str(TWO_NODE)!r}), lab_factory({str(IPV6)!r})]
            labs[0].fail("node:alpha")
            json.dump([[lab.prefix, lab.plan.workdir, [r["pid"] for r in lab.processes]] for lab in labs],
                      open({str(record)!r}, "w"))
            assert labs[0].ping(labs[0].netns("bravo"), "10.10.1.11", "en0", wait=0.3), "alpha is cut off"
    """))
    links = root_links()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("PYTEST_XDIST_WORKER", None)
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
                           str(tmp_path / "test_inner.py")], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "alpha is cut off" in done.stdout and "1 failed" in done.stdout
    labs = json.loads(record.read_text())
    assert len(labs) == 2
    for prefix, workdir, pids in labs:
        assert not os.path.exists(workdir)
        assert_nothing_left(prefix, links, tmp_path, pids)


class FailingSystem(System):
    """Fails the first `ip -batch` inside a node's namespace: after the namespaces and the switches exist."""

    def ip_batch(self, netns, lines):
        if netns and "-n-" in netns:
            raise LabError(f"injected failure in {netns}")
        super().ip_batch(netns, lines)


def test_a_build_that_fails_halfway_removes_what_it_made(tmp_path):
    links = root_links()
    with pytest.raises(LabError, match=r"injected failure in (hl[0-9a-f]{6})-n-wh1 \(the half-built lab \1 "
                                       r"was removed\)") as caught:
        Lab.up(THREE_NODE, base_dir=tmp_path, system=FailingSystem())
    prefix = str(caught.value).split("injected failure in ")[1][:8]
    assert_nothing_left(prefix, links, tmp_path, [])
    assert list(tmp_path.iterdir()) == []


class InterruptedSystem(System):
    def ip_batch(self, netns, lines):
        if netns and "-c-" in netns:
            raise KeyboardInterrupt
        super().ip_batch(netns, lines)


def test_an_interrupted_build_removes_what_it_made_and_goes_on_interrupting(tmp_path):
    links = root_links()
    with pytest.raises(KeyboardInterrupt):
        Lab.up(TWO_NODE, base_dir=tmp_path, system=InterruptedSystem())
    assert not any(path.name.startswith("hl") for path in tmp_path.iterdir())
    assert root_links() == links


KILLED_BUILD = """
import os, signal, sys
from halang.lab import Lab, System

class Killed(System):
    def ip_batch(self, netns, lines):
        if netns and netns.endswith("-n-bravo"):
            os.kill(os.getpid(), signal.SIGKILL)  # no finalizer, no except: only the state file is left
        super().ip_batch(netns, lines)

Lab.up(sys.argv[1], base_dir=sys.argv[2], system=Killed())
"""


def test_a_build_killed_halfway_is_torn_down_from_its_state_file(tmp_path):
    links = root_links()
    done = subprocess.run([sys.executable, "-c", KILLED_BUILD, str(TWO_NODE), str(tmp_path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == -signal.SIGKILL, done.stderr
    [state_file] = find_labs(tmp_path)
    state = read_state(state_file)
    assert state["phase"] == "building"
    prefix = state["plan"]["prefix"]
    assert set(state["namespaces"]) == {f"{prefix}-sw", f"{prefix}-n-alpha", f"{prefix}-n-bravo",
                                        f"{prefix}-c-net_ether_01", f"{prefix}-t-net_ether_01"}
    assert set(state["namespaces"]) <= namespaces()
    report = down(state_file)
    assert len(report["namespaces"]) == 5
    assert_nothing_left(prefix, links, tmp_path, [])


UP = """
import json, sys
from halang.lab import Lab
lab = Lab.up(sys.argv[1], base_dir=sys.argv[2])
print(json.dumps({"state": lab.state_file, "prefix": lab.prefix, "pids": [r["pid"] for r in lab.processes]}))
"""

FAIL = """
import sys
from halang.lab import Lab
Lab.load(sys.argv[1]).fail(*sys.argv[2:])
"""

DOWN = """
import json, sys
from halang.lab import down
print(json.dumps(down(sys.argv[1])))
"""


def python(code, *args):
    done = subprocess.run([sys.executable, "-c", code, *map(str, args)], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_up_fail_and_down_in_three_processes_with_the_state_file_alone(tmp_path):
    links = root_links()
    up = json.loads(python(UP, TWO_NODE, tmp_path))
    try:
        lab = Lab.load(up["state"])  # only to look: the processes that change the lab are others
        assert lab.prefix == up["prefix"] and all(alive(pid) for pid in up["pids"])  # the relay outlives `up`
        assert lab.ping(lab.netns("alpha"), "10.10.1.12", "en0")
        python(FAIL, up["state"], "link:hb_serial", "switch:sw1")
        assert Lab.load(up["state"]).failed == ("link:hb_serial", "switch:sw1")
        assert not lab.ping(lab.netns("alpha"), "10.10.1.12", "en0", wait=0.3)
    finally:
        report = json.loads(python(DOWN, up["state"]))
    assert report["prefix"] == up["prefix"] and report["processes"] == up["pids"] and len(report["namespaces"]) == 5
    assert_nothing_left(up["prefix"], links, tmp_path, up["pids"])
    assert json.loads(python(DOWN, up["state"]))["namespaces"] == []


def in_lab_namespaces(lab):
    found = set()
    for netns in lab.plan.namespaces:
        done = subprocess.run(["ip", "netns", "pids", netns], capture_output=True, text=True, check=False)
        found |= {int(word) for word in done.stdout.split()}
    return found


def test_processes_the_lab_spawned_are_ended_and_others_left_alone(tmp_path):
    links = root_links()
    lab = Lab.up(TWO_NODE, base_dir=tmp_path)
    try:
        engine = lab.spawn("alpha", ["sleep", "300"])  # what a test does with the node engine
        stranger = subprocess.Popen(["ip", "netns", "exec", lab.netns("bravo"), "sleep", "300"])
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not {engine.pid, stranger.pid} <= in_lab_namespaces(lab):
            time.sleep(0.02)
        report = lab.down()
        assert engine.pid in report["processes"] and engine.wait(5) is not None
        assert report["left_alone"] == [{"netns": lab.netns("bravo"), "pids": [stranger.pid]}]
        assert stranger.poll() is None  # not the lab's to end
    finally:
        stranger.kill()
        stranger.wait()
    assert_nothing_left(lab.prefix, links, tmp_path, [engine.pid, *lab_pids(lab)])


def test_a_prefix_in_use_is_refused_and_the_other_namespace_kept(tmp_path):
    prefix = "hl" + os.urandom(3).hex()
    subprocess.run(["ip", "netns", "add", f"{prefix}-sw"], check=True)
    try:
        with pytest.raises(LabError, match=f"lab prefix {prefix} is in use: namespace {prefix}-sw already exists"):
            Lab.up(TWO_NODE, base_dir=tmp_path, prefix=prefix)
        assert f"{prefix}-sw" in namespaces()

        class Blind(System):  # as if another program took the name between the check and the creation
            def namespaces(self):
                return set()

        with pytest.raises(LabError, match=f"network namespace {prefix}-sw already exists: another lab or program"):
            Lab.up(TWO_NODE, base_dir=tmp_path, prefix=prefix, system=Blind())
        assert f"{prefix}-sw" in namespaces()
        assert not (tmp_path / prefix).exists()
    finally:
        subprocess.run(["ip", "netns", "delete", f"{prefix}-sw"], check=True)
