"""The resource drivers (runtime/node/drivers.py) with recording fakes, the command runner on real processes, and the
background executors (runtime/node/worker.py)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from runtime.node.drivers import Commands, FakeSystem, GroupDriver, Outcome, Prober, RecordingCommands, System
from runtime.core.engine import Acquire, Probe, Release, Restart
from runtime.core.placement import Event
from runtime.core.snapshot import ApplicationSpec, MonitorSpec
from runtime.node.worker import EventScripts, Worker, event_arguments
from tests.runtime.helpers import spec

SHOP = spec("""
cluster shop {
  node alpha { }
  node bravo { }
  network net {
    ipat = replace
    adapter alpha en0 boot 10.1.1.11/24
    adapter bravo en0 boot 10.1.1.12/24
    service shop_svc 10.1.1.100
  }
  resource_group shop {
    nodes         = [alpha, bravo]
    service_ips   = [shop_svc]
    volume_groups = [shopvg]
    filesystems   = ["/srv/logs"]
    filesystem "/srv/shop" { device = "/dev/shopvg/data"  fstype = "ext4"  options = "noatime" }
    application db { start = "/opt/db/start"  stop = "/opt/db/stop"  timeout = 30s }
    application web {
      start = "/opt/web/start"
      stop  = "/opt/web/stop"
      monitor { process = "httpd"  interval = 5s }
    }
  }
}
""")

ACQUIRE = [
    ("vgchange", "-a", "y", "shopvg"),
    ("mount", "/srv/logs"),
    ("fsck", "-a", "-t", "ext4", "/dev/shopvg/data"),
    ("mount", "-t", "ext4", "-o", "noatime", "/dev/shopvg/data", "/srv/shop"),
    ("/opt/db/start",),
    ("/opt/web/start",),
]


def driver(answers=(), **system) -> GroupDriver:
    defaults = {"passno": {"/srv/logs": 0}, "block_devices": {"/dev/shopvg/data"}}
    return GroupDriver(SHOP, RecordingCommands(answers), FakeSystem(**{**defaults, **system}))


def test_a_group_is_acquired_volume_groups_filesystems_then_applications_in_the_order_written():
    made = driver()
    outcome = made.acquire("shop")
    assert outcome.ok and outcome.clean
    assert made.commands.commands == ACQUIRE
    assert made.commands.calls[4][1] == 30 and made.commands.calls[5][1] == 60  # each script's timeout


def test_a_group_is_released_in_the_reverse_order():
    made = driver(mounted={"/srv/shop", "/srv/logs"})
    assert made.release("shop").ok
    assert made.commands.commands == [("/opt/web/stop",), ("/opt/db/stop",), ("umount", "/srv/shop"),
                                      ("umount", "/srv/logs"), ("vgchange", "-a", "n", "shopvg")]


def test_a_step_that_fails_rolls_back_what_was_done_in_reverse():
    made = driver([(("/opt/db/start",), Outcome(False, "/opt/db/start exited with status 3", "no config", 3))],
                  mounted=set())
    outcome = made.acquire("shop")
    assert not outcome.ok and outcome.clean
    assert outcome.detail == "application db: /opt/db/start exited with status 3"
    assert made.commands.commands == ACQUIRE[:5] + [("vgchange", "-a", "n", "shopvg")]  # nothing was mounted
    assert [(record["step"], record["action"]) for record in outcome.log][-3:] == [
        ("filesystem /srv/shop", "rollback"), ("filesystem /srv/logs", "rollback"),
        ("volume group shopvg", "rollback")]
    assert outcome.log[3]["output"] == "no config"


def test_a_rollback_that_fails_says_so():
    made = driver([(("mount", "/srv/logs"), Outcome(False, "mount exited with status 32", "", 32)),
                   (("vgchange", "n"), Outcome(False, "vgchange exited with status 5", "", 5))])
    outcome = made.acquire("shop")
    assert not outcome.ok and not outcome.clean
    assert outcome.detail.endswith("; the rollback failed too")


@pytest.mark.parametrize("passno, expected", [
    (0, [("mount", "/srv/logs")]),
    (2, [("fsck", "-a", "/srv/logs"), ("mount", "/srv/logs")]),
])
def test_an_fstab_entry_is_checked_when_fstab_asks(passno, expected):
    made = driver(passno={"/srv/logs": passno})
    made.acquire("shop")
    assert made.commands.commands[1:1 + len(expected)] == expected


def test_an_fstab_entry_that_fstab_lacks_fails_the_acquisition():
    made = driver(passno={})
    outcome = made.acquire("shop")
    assert outcome.detail == "filesystem /srv/logs: /srv/logs has no device and no entry in /etc/fstab"


@pytest.mark.parametrize("code, ok", [(1, True), (4, False), (8, False)])
def test_fsck_corrected_errors_let_the_mount_go_on_and_worse_do_not(code, ok):
    made = driver([(("fsck",), Outcome(False, f"fsck exited with status {code}", "", code))])
    outcome = made.acquire("shop")
    assert outcome.ok is ok
    if not ok:
        assert outcome.detail.startswith(f"filesystem /srv/shop: fsck of /dev/shopvg/data: fsck exited with "
                                         f"status {code}")


def test_a_filesystem_that_is_not_a_block_device_is_mounted_without_fsck():
    made = driver(block_devices=set())
    made.acquire("shop")
    assert not any(argv[0] == "fsck" for argv in made.commands.commands)


def test_a_mount_point_mounted_already_fails_the_acquisition():
    outcome = driver(mounted={"/srv/shop"}).acquire("shop")
    assert not outcome.ok and "/srv/shop is mounted already" in outcome.detail


def test_a_busy_unmount_names_what_holds_it_and_the_release_goes_on():
    made = driver([(("umount", "/srv/shop"), Outcome(False, "umount exited with status 32", "target is busy", 32))],
                  mounted={"/srv/shop", "/srv/logs"}, holders={"/srv/shop": ["4242 (httpd)"]})
    outcome = made.release("shop")
    assert not outcome.ok and not outcome.clean
    assert outcome.detail == ("filesystem /srv/shop: umount exited with status 32: /srv/shop is busy, held by "
                              "4242 (httpd)")
    assert made.commands.commands[-1] == ("vgchange", "-a", "n", "shopvg")


def test_a_filesystem_not_mounted_counts_as_released():
    made = driver(mounted=set())
    assert made.release("shop").ok
    assert not any(argv[0] == "umount" for argv in made.commands.commands)


def test_a_group_left_mounted_by_a_daemon_that_died_is_found():
    assert driver(mounted={"/srv/shop"}).leftovers("alpha") == ["shop"]
    assert driver(mounted={"/srv/shop"}).leftovers("charlie") == []
    assert driver(mounted=set()).leftovers("alpha") == []


def test_a_restart_stops_then_starts_the_application():
    made = driver()
    assert made.restart("shop", "web").ok
    assert made.commands.commands == [("/opt/web/stop",), ("/opt/web/start",)]


def monitored(command=None, process=None) -> ApplicationSpec:
    return ApplicationSpec("web", "/a", "/b", 1000, MonitorSpec(command, process, 1000, 500, 1, 0))


@pytest.mark.parametrize("processes, ok", [({"httpd"}, True), (set(), False)])
def test_a_process_monitor_looks_for_the_process(processes, ok):
    outcome = Prober(RecordingCommands(), FakeSystem(processes=processes)).probe(monitored(process="httpd"))
    assert outcome.ok is ok
    assert ok or outcome.detail == "no process named httpd runs"


def test_a_command_monitor_runs_the_command_with_its_timeout():
    commands = RecordingCommands([(("/opt/check",), Outcome(False, "/opt/check exited with status 1", "", 1))])
    assert not Prober(commands, FakeSystem()).probe(monitored(command="/opt/check")).ok
    assert commands.calls == [(("/opt/check",), 0.5, None)]


# ------------------------------------------------------------------ real processes


def script(tmp_path: Path, name: str, body: str) -> str:
    path = tmp_path / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return str(path)


def test_a_script_s_output_is_captured_and_its_status_reported(tmp_path):
    outcome = Commands().run([script(tmp_path, "s", "echo started; echo oops >&2; exit 3\n")], 10)
    assert outcome == Outcome(False, f"{tmp_path}/s exited with status 3", "started\noops", 3)


def test_a_script_that_overruns_is_killed_with_its_process_group(tmp_path):
    pid_file = tmp_path / "child.pid"
    slow = script(tmp_path, "slow", f"sleep 300 &\necho $! > {pid_file}\necho waiting\nwait\n")
    outcome = Commands().run([slow], 1)
    assert not outcome.ok and "overran its timeout of 1s: its process group was killed" in outcome.detail
    assert outcome.output == "waiting"
    child = int(pid_file.read_text())
    deadline = time.monotonic() + 30
    while os.path.exists(f"/proc/{child}") and time.monotonic() < deadline:
        try:
            with open(f"/proc/{child}/stat") as stat:
                if stat.read().rsplit(")", 1)[1].split()[0] == "Z":
                    break
        except FileNotFoundError:
            break
        time.sleep(0.05)
    assert not os.path.exists(f"/proc/{child}/cmdline") or open(f"/proc/{child}/cmdline").read() == ""


def test_a_script_that_does_not_exist_is_a_failure_not_a_traceback(tmp_path):
    outcome = Commands().run([str(tmp_path / "missing")], 5)
    assert not outcome.ok and outcome.detail.endswith("cannot be run: No such file or directory")


def test_the_holders_of_a_busy_directory_are_found_in_proc(tmp_path):
    with open(tmp_path / "open", "w"):
        assert f"{os.getpid()} (" in " ".join(System().holders(str(tmp_path)))


# ------------------------------------------------------------------ the background executors


def wait_for(source, count: int) -> list:
    found, deadline = [], time.monotonic() + 60
    while len(found) < count and time.monotonic() < deadline:
        found += source.take()
        time.sleep(0.01)
    return found


def test_the_worker_runs_each_group_s_actions_in_order_and_reports_them():
    made = driver(mounted=set())
    worker = Worker(SHOP, made, Prober(made.commands, FakeSystem(processes={"httpd"})))
    for action in (Acquire("shop"), Probe("shop", "web"), Restart("shop", "web"), Release("shop")):
        worker.submit(action)
    found = wait_for(worker, 4)
    assert [(done.kind, done.ok) for done, _ in found] == [("acquire", True), ("probe", True), ("restart", True),
                                                           ("release", True)]
    assert found[0][1]["steps"][0] == {"step": "volume group shopvg", "action": "acquire", "ok": True}


def test_a_driver_that_raises_is_reported_as_a_failure_in_error():
    class Broken:
        def acquire(self, group):
            raise RuntimeError("bug")

    worker = Worker(SHOP, Broken(), None)
    worker.submit(Acquire("shop"))
    [(done, record)] = wait_for(worker, 1)
    assert (done.ok, done.clean, done.detail) == (False, False, "internal error: RuntimeError: bug")


@pytest.mark.parametrize("event, names, expected", [
    (Event("node_down", node="alpha"), ("NODE",), ["alpha"]),
    (Event("adapter_down", node="alpha", network="net", adapter="en0"), ("NODE", "NETWORK", "IFNAME"),
     ["alpha", "net", "en0"]),
    (Event("rg_move", group="shop", source="alpha", target="bravo"), ("GROUP", "FROM_NODE", "TO_NODE"),
     ["shop", "alpha", "bravo"]),
    (Event("rg_online", group="shop", node="bravo"), ("GROUP", "NODE"), ["shop", "bravo"]),
    (Event("split_brain", partitions=(("alpha",), ("bravo", "charlie"))), ("NODES...",), ["bravo", "charlie"]),
    (Event("rg_move", group="shop"), ("GROUP", "FROM_NODE", "TO_NODE"), None),
])
def test_an_event_s_details_in_its_wrapper_s_order(event, names, expected):
    assert event_arguments(event, names, "bravo") == expected


def test_event_scripts_run_begin_then_end_in_the_background_and_a_failing_begin_goes_on(tmp_path):
    calls = tmp_path / "calls"
    wrapper = script(tmp_path, "rg_move.sh", f'echo "$* $HALANG_LOCAL_NODE" >> {calls}\n[ "$1" != begin ]\n')
    scripts = EventScripts({"rg_move": (wrapper, ("GROUP", "FROM_NODE", "TO_NODE"))}, "bravo")
    scripts.raise_event(Event("rg_move", group="shop", source="alpha", target="bravo"))
    scripts.raise_event(Event("node_down", node="alpha"))  # no wrapper: nothing runs
    records = wait_for(scripts, 2)
    scripts.close()
    assert calls.read_text().splitlines() == ["begin shop alpha bravo bravo", "end shop alpha bravo bravo"]
    assert [(record["phase"], record["ok"]) for record in records] == [("begin", False), ("end", True)]
    assert records[0]["text"].endswith("the event goes on")
