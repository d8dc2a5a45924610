"""`halang lab` from the shell, each command a process of its own, and `make demo`'s live failover.

Every test has its own base folder, so tests running side by side never see each other's current lab; the
`live_base` fixture takes down whatever a test leaves there, passed or failed.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from halang.cli import main
from halang.lab import LiveLab, down, find_labs, read_state
from halang.lab.command import lab_state_dirs
from halang.lab.system import start_time
from tests.lab.conftest import ROOT, TWO_NODE, alive, assert_nothing_left, namespaces, root_links

DETECTION = 2.0  # two_node_replace.ha: interval 500 ms x miss_limit 4


@pytest.fixture
def live_base(request, tmp_path) -> Path:
    base = tmp_path / "labs"

    def tear_down() -> None:
        live = LiveLab.find(base)
        if live is not None:
            live.down()
        for state_file in find_labs(base):
            down(state_file)

    request.addfinalizer(tear_down)
    return base


def halang(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "halang.cli", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


def wait_until(check, within: float, what: str):
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    pytest.fail(f"not within {within:g} s: {what}", pytrace=False)


def holding(live: LiveLab, label: str) -> set[str]:
    return {node for node, _ in live.holders()[label]}


@pytest.mark.root
def test_up_fail_heal_down_from_the_shell(live_base):
    links = root_links()
    base = str(live_base)
    done = halang("lab", "up", str(TWO_NODE), "--base", base)
    assert done.returncode == 0, done.stderr
    prefix = re.search(r"lab (hl[0-9a-f]{6}) is up", done.stdout).group(1)
    for shown in (f"{prefix}-n-alpha", f"{prefix}-n-bravo", f"{prefix}-c-net_ether_01", "10.10.1.100",
                  "control.sock", "halang lab fail node:alpha --base"):
        assert shown in done.stdout
    live = LiveLab.find(live_base)
    first = {node: record["pid"] for node, record in live.daemons.items()}
    assert lab_state_dirs(live_base) == {node: live_base / prefix / "engine" / "state" / node
                                         for node in ("alpha", "bravo")}
    wait_until(lambda: holding(live, "ledger_svc") == {"alpha"} and holding(live, "gateway_svc") == {"bravo"},
               3 * DETECTION + 10, "the startup placement")

    done = halang("lab", "fail", "node:alpha", "--base", base)
    assert done.returncode == 0, done.stderr
    assert "the daemon of alpha was killed" in done.stdout
    assert not alive(first["alpha"]) and alive(first["bravo"])
    wait_until(lambda: "bravo" in holding(live, "ledger_svc"), 2 * DETECTION + 10, "ledger_svc moving to bravo")
    client = live.lab.client("net_ether_01").netns
    wait_until(lambda: live.lab.ping(client, "10.10.1.100"), 10, "the client answered at 10.10.1.100")
    status = halang("lab", "status", "--base", base)
    assert "failed: node:alpha" in status.stdout
    assert "node alpha: daemon not running (the node is down)" in status.stdout

    done = halang("lab", "heal", "node:alpha", "--base", base)
    assert done.returncode == 0, done.stderr
    live = LiveLab.find(live_base)
    second = live.daemons["alpha"]["pid"]
    assert second != first["alpha"] and alive(second)
    assert holding(live, "ledger_svc") == {"bravo"}, "alpha boots with only its own addresses"
    time.sleep(2 * DETECTION)
    assert holding(live, "ledger_svc") == {"bravo"}, "nothing moves back: fallback = never"
    assert live.lab.failed == ()
    relays = [record["pid"] for record in live.lab.processes if record["what"].startswith("relay:")]

    done = halang("lab", "down", "--base", base)
    assert done.returncode == 0, done.stderr
    assert f"lab {prefix} is down" in done.stdout
    assert_nothing_left(prefix, links, live_base, [*first.values(), second, *relays])
    assert not (live_base / "current").exists() and lab_state_dirs(live_base) == {}
    again = halang("lab", "down", "--base", base)
    assert again.returncode == 0 and "nothing to take down" in again.stdout


@pytest.mark.root
def test_one_lab_per_base_and_a_bad_component_named_with_the_valid_ones(live_base, capsys):
    base = str(live_base)
    assert main(["lab", "up", str(TWO_NODE), "--base", base, "--no-engines"]) == 0
    assert "No daemons (--no-engines)" in capsys.readouterr().out
    assert main(["lab", "up", str(TWO_NODE), "--base", base]) == 2
    said = capsys.readouterr().err
    assert "is already up under" in said and f"halang lab down --base {live_base}" in said
    assert main(["lab", "fail", "node:charlie", "--base", base]) == 2
    said = capsys.readouterr().err
    assert "no node named 'charlie'" in said
    assert "node:alpha, node:bravo, adapter:alpha/en0, adapter:alpha/en1" in said and "link:hb_serial" in said
    assert main(["lab", "fail", "alpha", "--base", base]) == 2
    assert "'alpha' is not a component name" in capsys.readouterr().err
    assert LiveLab.find(live_base).lab.failed == ()
    assert main(["lab", "fail", "switch:sw1", "--base", base]) == 0
    assert main(["lab", "fail", "switch:sw1", "--base", base]) == 2
    assert "switch:sw1 has already failed" in capsys.readouterr().err
    assert main(["lab", "down", "--base", base]) == 0


@pytest.mark.root
def test_up_refuses_a_file_with_errors_and_leaves_nothing(live_base, tmp_path, capsys):
    broken = tmp_path / "broken.ha"
    broken.write_text(TWO_NODE.read_text().replace("10.10.1.12/24", "10.10.1.11/24"))
    assert main(["lab", "up", str(broken), "--base", str(live_base)]) == 2
    said = capsys.readouterr().err
    assert "no lab can be built of this file until its errors are fixed" in said and "Traceback" not in said
    assert not (live_base / "current").exists() and find_labs(live_base) == []


KILLED_UP = """
import os, signal, sys
import halang.lab.live as live

spawn = live.spawn_daemon

def spawn_then_die(*args, **kwargs):
    process = spawn(*args, **kwargs)
    os.kill(os.getpid(), signal.SIGKILL)  # no finalizer, no except: only the files are left

live.spawn_daemon = spawn_then_die
sys.exit(live.LiveLab.up(sys.argv[1], sys.argv[2]))
"""


@pytest.mark.root
def test_an_up_killed_halfway_is_taken_down_by_lab_down(live_base):
    links = root_links()
    done = subprocess.run([sys.executable, "-c", KILLED_UP, str(TWO_NODE), str(live_base)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == -signal.SIGKILL, done.stderr
    state = read_state((live_base / "current").read_text().strip())
    [daemon] = [record for record in state["processes"] if record["what"].startswith("spawn:")]
    assert start_time(daemon["pid"]) == daemon["start"], "alpha's daemon runs on, its `lab up` gone"
    again = halang("lab", "up", str(TWO_NODE), "--base", str(live_base))
    assert again.returncode == 2 and "halang lab down" in again.stderr
    done = halang("lab", "down", "--base", str(live_base))
    assert done.returncode == 0, done.stderr
    assert_nothing_left(state["plan"]["prefix"], links, live_base, [record["pid"] for record in state["processes"]])


def test_nothing_up_nothing_to_take_down_and_nothing_to_fail(tmp_path, capsys):
    base = str(tmp_path / "labs")
    assert main(["lab", "down", "--base", base]) == 0
    assert "no lab is up under" in capsys.readouterr().out
    for command in (["fail", "node:alpha"], ["heal", "node:alpha"], ["status"]):
        assert main(["lab", *command, "--base", base]) == 2
        assert f"no lab is up under {tmp_path / 'labs'}: start one with halang lab up FILE" in capsys.readouterr().err
    assert lab_state_dirs(base) == {}


def test_up_refuses_without_root(tmp_path, monkeypatch, capsys):
    """The lab's own root check (System.preflight), before anything is made."""
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert main(["lab", "up", str(TWO_NODE), "--base", str(tmp_path / "labs")]) == 2
    assert "the lab needs root" in capsys.readouterr().err
    assert not (tmp_path / "labs").exists()


# ------------------------------------------------------------------ the demo


def demo(base: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "halang.lab.demo", "--base", str(base)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def nothing_of_the_demo_left(output: str, base: Path) -> None:
    prefix = re.search(r"Lab (hl[0-9a-f]{6}) under", output).group(1)
    assert not [name for name in namespaces() if name.startswith(prefix)]
    assert not [pid for pid in map(int, re.findall(r"daemon pid (\d+)", output)) if alive(pid)]
    assert not (base / prefix).exists() and not (base / "current").exists()


@pytest.mark.root
def test_the_demo_fails_over_and_leaves_nothing(tmp_path):
    process = demo(tmp_path)
    output, errors = process.communicate(timeout=180)
    assert process.returncode == 0, output + errors
    failover = re.search(r"answered by bravo at ledger_svc 10\.10\.1\.100 (\d+\.\d\d) s after alpha died", output)
    assert failover and float(failover.group(1)) < 10 * DETECTION, output
    assert "detection time: interval 500 ms x miss_limit 4 = 2.00 s" in output
    assert "ledger_svc 10.10.1.100   answered by alpha en0" in output
    assert "ledger_svc 10.10.1.100   answered by bravo en1" in output
    assert "--drivers recorded" in output and "ip netns list shows nothing of lab" in output
    nothing_of_the_demo_left(output, tmp_path)


@pytest.mark.root
@pytest.mark.parametrize("number", [signal.SIGINT, signal.SIGTERM])
def test_the_demo_stopped_halfway_leaves_nothing(tmp_path, number):
    process = demo(tmp_path)
    seen = ""
    for line in process.stdout:
        seen += line
        if line.startswith("Before:"):
            break
    process.send_signal(number)
    output, errors = process.communicate(timeout=60)
    assert process.returncode == 130, seen + output + errors
    assert "interrupted" in output and "ip netns list shows nothing of lab" in output
    nothing_of_the_demo_left(seen + output, tmp_path)
