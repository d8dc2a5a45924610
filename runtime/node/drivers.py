"""Resource drivers: the executors of a group's `Acquire` and `Release`, with recording fakes beside them.

A group is acquired in the order of LANGUAGE.md: its service addresses
(the address actuator, before the drivers are called), its volume groups,
its filesystems, its applications in the order written; it is released in
the reverse order. `GroupDriver.acquire` runs the steps in order; when one
fails it releases, in reverse, every step already done, so a group is never
left half up: the outcome says what failed and whether the rollback left
nothing behind.

- **Volume groups**: `vgchange -a y NAME`, and `-a n` to release.
- **Filesystems**: `fsck -a` first when the file asks for it (a filesystem
  block whose device is a block device, as PowerHA checks each filesystem
  before mounting it; an fstab entry whose sixth field, the pass number, is
  not 0), then `mount` with the device, type and options (an fstab entry:
  `mount PATH`). Release: `umount PATH`; when it fails because the
  filesystem is busy, the outcome names the processes holding it (a scan of
  /proc: their open files, working directory and root). A filesystem that
  is not mounted counts as released.
- **Applications**: the start or stop script, bounded by the application's
  timeout, its output (stdout and stderr) captured into the outcome, which
  the daemon writes into the event log. A script is run in a session of its
  own; one that overruns is killed with its whole process group (SIGTERM,
  then SIGKILL).
- **Monitors** (`Prober`): `process` is healthy when a process of that name
  (`/proc/PID/comm`, or the base name of its first argument) runs; `command`
  when it exits 0 within the monitor's timeout.

`Commands` is the one place that starts processes; `RecordingCommands`
stands in for it in the tests, answering from a table and recording every
command.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

from runtime.core.snapshot import ApplicationSpec, ClusterSpec, FilesystemSpec, GroupSpec

OUTPUT_LIMIT = 4000  # characters of a script's output kept for the event log


class Outcome(NamedTuple):
    ok: bool
    detail: str = ""  # what failed, in words ("" when ok)
    output: str = ""  # what the command printed (trimmed)
    code: Optional[int] = None  # the exit status; None when it could not run or timed out


class Commands:
    """Runs a command and waits for it, bounded: the one place drivers start processes."""

    def run(self, argv: Sequence[str], timeout_s: float, env: Optional[Dict[str, str]] = None) -> Outcome:
        try:
            process = subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                       stderr=subprocess.STDOUT, env=env, start_new_session=True)
        except OSError as exc:
            return Outcome(False, f"{argv[0]} cannot be run: {exc.strerror}")
        try:
            data, _ = process.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            data = _kill_group(process)
            return Outcome(False, f"{argv[0]} overran its timeout of {timeout_s:g}s: its process group was killed",
                           _trim(data))
        output = _trim(data)
        if process.returncode != 0:
            return Outcome(False, f"{argv[0]} exited with status {process.returncode}", output, process.returncode)
        return Outcome(True, "", output, 0)


def _kill_group(process: subprocess.Popen) -> bytes:
    """SIGTERM to the script's process group, SIGKILL a little later; what it printed so far."""
    for sig, grace in ((signal.SIGTERM, 2.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(process.pid, sig)  # the script leads its own session: its group is its pid
        except ProcessLookupError:
            pass
        try:
            data, _ = process.communicate(timeout=grace)
            return data or b""
        except subprocess.TimeoutExpired:
            continue
    return b""


def _trim(data: Optional[bytes]) -> str:
    text = (data or b"").decode("utf-8", "replace").strip()
    return text if len(text) <= OUTPUT_LIMIT else "..." + text[-OUTPUT_LIMIT:]


class RecordingCommands:
    """A fake `Commands`: records every command, and answers from `answers` (the first rule whose words all
    appear in the command, in order of the rules) or with success."""

    def __init__(self, answers: Sequence[Tuple[Sequence[str], Outcome]] = ()):
        self.answers = list(answers)
        self.calls: List[Tuple[Tuple[str, ...], float, Optional[Dict[str, str]]]] = []

    def run(self, argv: Sequence[str], timeout_s: float, env: Optional[Dict[str, str]] = None) -> Outcome:
        self.calls.append((tuple(argv), timeout_s, env))
        for words, outcome in self.answers:
            if all(word in argv for word in words):
                return outcome
        return Outcome(True, "", "", 0)

    @property
    def commands(self) -> List[Tuple[str, ...]]:
        return [argv for argv, _, _ in self.calls]


# ------------------------------------------------------------------ the machine, read


class System:
    """What the drivers read of the machine: the mount table, fstab, block devices, processes."""

    def mounted(self, path: str) -> bool:
        try:
            with open("/proc/self/mounts") as handle:
                return any(_unescape(line.split()[1]) == os.path.normpath(path) for line in handle if line.strip())
        except OSError:
            return False

    def fstab_passno(self, path: str) -> Optional[int]:
        """The pass number of the fstab entry mounted on `path`; None when fstab has no such entry."""
        try:
            with open("/etc/fstab") as handle:
                for line in handle:
                    fields = line.split("#", 1)[0].split()
                    if len(fields) >= 2 and _unescape(fields[1]) == os.path.normpath(path):
                        return int(fields[5]) if len(fields) >= 6 and fields[5].isdigit() else 0
        except OSError:
            pass
        return None

    def is_block_device(self, path: str) -> bool:
        try:
            return stat.S_ISBLK(os.stat(path).st_mode)
        except OSError:
            return False

    def holders(self, path: str) -> List[str]:
        """The processes with a file open under `path`, or their working directory or root there:
        "PID (NAME)", in PID order."""
        top = os.path.normpath(path)
        found = []
        for entry in sorted((name for name in _listdir("/proc") if name.isdigit()), key=int):
            base = f"/proc/{entry}"
            links = [f"{base}/cwd", f"{base}/root"] + [f"{base}/fd/{fd}" for fd in _listdir(f"{base}/fd")]
            for link in links:
                try:
                    target = os.readlink(link)
                except OSError:
                    continue
                if target == top or target.startswith(top + "/"):
                    found.append(f"{entry} ({_comm(entry)})")
                    break
        return found

    def process_running(self, name: str) -> bool:
        for entry in _listdir("/proc"):
            if entry.isdigit() and name in (_comm(entry), _argv0(entry)):
                return True
        return False


def _listdir(path: str) -> List[str]:
    try:
        return os.listdir(path)
    except OSError:
        return []


def _comm(pid: str) -> str:
    try:
        with open(f"/proc/{pid}/comm") as handle:
            return handle.read().strip()
    except OSError:
        return "?"


def _argv0(pid: str) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return os.path.basename(handle.read().split(b"\0", 1)[0].decode("utf-8", "replace"))
    except OSError:
        return ""


def _unescape(field: str) -> str:
    """A path as /proc/mounts and fstab write it (octal escapes for blanks)."""
    return os.path.normpath(field.replace("\\040", " ").replace("\\011", "\t").replace("\\134", "\\"))


class FakeSystem:
    """A `System` for the tests: what is mounted, fstab's pass numbers, block devices, holders, processes."""

    def __init__(self, mounted=(), passno: Optional[Dict[str, int]] = None, block_devices=(),
                 holders: Optional[Dict[str, List[str]]] = None, processes=()):
        self.mounts = set(mounted)
        self.passno = dict(passno or {})
        self.block_devices = set(block_devices)
        self.holding = dict(holders or {})
        self.processes = set(processes)

    def mounted(self, path: str) -> bool:
        return path in self.mounts

    def fstab_passno(self, path: str) -> Optional[int]:
        return self.passno.get(path)

    def is_block_device(self, path: str) -> bool:
        return path in self.block_devices

    def holders(self, path: str) -> List[str]:
        return list(self.holding.get(path, ()))

    def process_running(self, name: str) -> bool:
        return name in self.processes


# ------------------------------------------------------------------ the drivers


class Step(NamedTuple):
    kind: str  # volume_group | filesystem | application
    name: str  # the VG's name, the mount point, the application's name
    resource: object  # str | FilesystemSpec | ApplicationSpec

    def describe(self) -> str:
        return f"{self.kind.replace('_', ' ')} {self.name}"


def steps(group: GroupSpec) -> Tuple[Step, ...]:
    """A group's resources in acquisition order (its addresses come before, from the address actuator)."""
    found = [Step("volume_group", name, name) for name in group.volume_groups]
    found += [Step("filesystem", fs.mount_point, fs) for fs in group.filesystems]
    found += [Step("application", app.name, app) for app in group.applications]
    return tuple(found)


class GroupOutcome(NamedTuple):
    ok: bool
    clean: bool  # nothing of the group is left up (after a failed acquisition: the rollback worked)
    detail: str  # what failed, in words
    log: Tuple[Dict[str, object], ...]  # one record per step done: step, action, ok, detail, output


class GroupDriver:
    """Acquires and releases a group's volume groups, filesystems and applications through `commands`."""

    def __init__(self, spec: ClusterSpec, commands=None, system=None):
        self.spec = spec
        self.commands = commands if commands is not None else Commands()
        self.system = system if system is not None else System()

    # ------------------------------------------------------------ one group

    def leftovers(self, node: str) -> List[str]:
        """The groups of the node's lists with a filesystem mounted here: what a daemon that died left up, to be
        released before it joins again (else it would fail to mount them, and another node would mount them
        too)."""
        return [group.name for group in self.spec.groups if node in group.nodes
                and any(self.system.mounted(fs.mount_point) for fs in group.filesystems)]

    def acquire(self, group: str) -> GroupOutcome:
        done: List[Step] = []
        log: List[Dict[str, object]] = []
        for step in steps(self.spec.group(group)):
            outcome = self._step(step, "acquire")
            log.append(_record(step, "acquire", outcome))
            if not outcome.ok:
                failure = f"{step.describe()}: {outcome.detail}"
                clean = self._undo(done, log)
                return GroupOutcome(False, clean, failure if clean else failure + "; the rollback failed too",
                                    tuple(log))
            done.append(step)
        return GroupOutcome(True, True, "", tuple(log))

    def release(self, group: str) -> GroupOutcome:
        """Every step in reverse, all attempted: one that fails leaves the group in error, the rest still go."""
        log: List[Dict[str, object]] = []
        failures = []
        for step in reversed(steps(self.spec.group(group))):
            outcome = self._step(step, "release")
            log.append(_record(step, "release", outcome))
            if not outcome.ok:
                failures.append(f"{step.describe()}: {outcome.detail}")
        return GroupOutcome(not failures, not failures, "; ".join(failures), tuple(log))

    def restart(self, group: str, application: str) -> GroupOutcome:
        log: List[Dict[str, object]] = []
        for step in steps(self.spec.group(group)):
            if step.kind == "application" and step.name == application:
                for action in ("release", "acquire"):
                    outcome = self._step(step, action)
                    log.append(_record(step, action, outcome))
                    if not outcome.ok and action == "acquire":
                        return GroupOutcome(False, False, f"{step.describe()}: {outcome.detail}", tuple(log))
        return GroupOutcome(True, True, "", tuple(log))

    def _undo(self, done: List[Step], log: List[Dict[str, object]]) -> bool:
        clean = True
        for step in reversed(done):
            outcome = self._step(step, "release")
            log.append(_record(step, "rollback", outcome))
            clean = clean and outcome.ok
        return clean

    # ------------------------------------------------------------ one resource

    def _step(self, step: Step, action: str) -> Outcome:
        if step.kind == "volume_group":
            return self.commands.run(["vgchange", "-a", "y" if action == "acquire" else "n", step.name], 120)
        if step.kind == "filesystem":
            assert isinstance(step.resource, FilesystemSpec)
            return self._mount(step.resource) if action == "acquire" else self._unmount(step.resource)
        assert isinstance(step.resource, ApplicationSpec)
        app = step.resource
        script = app.start if action == "acquire" else app.stop
        return self.commands.run([script], app.timeout_ms / 1000)

    def _mount(self, fs: FilesystemSpec) -> Outcome:
        if self.system.mounted(fs.mount_point):
            return Outcome(False, f"{fs.mount_point} is mounted already (by whom halang does not know)")
        if fs.device is None:
            passno = self.system.fstab_passno(fs.mount_point)
            if passno is None:
                return Outcome(False, f"{fs.mount_point} has no device and no entry in /etc/fstab")
            if passno:
                checked = self.commands.run(["fsck", "-a", fs.mount_point], 600)
                if not _fsck_fine(checked):
                    return checked._replace(ok=False, detail=f"fsck of {fs.mount_point}: {checked.detail}")
            return self.commands.run(["mount", fs.mount_point], 120)
        if self.system.is_block_device(fs.device):
            checked = self.commands.run(["fsck", "-a"] + (["-t", fs.fstype] if fs.fstype else []) + [fs.device], 600)
            if not _fsck_fine(checked):
                return checked._replace(ok=False, detail=f"fsck of {fs.device}: {checked.detail}")
        argv = ["mount"] + (["-t", fs.fstype] if fs.fstype else []) + (["-o", fs.options] if fs.options else [])
        return self.commands.run(argv + [fs.device, fs.mount_point], 120)

    def _unmount(self, fs: FilesystemSpec) -> Outcome:
        if not self.system.mounted(fs.mount_point):
            return Outcome(True, "", f"{fs.mount_point} was not mounted")
        outcome = self.commands.run(["umount", fs.mount_point], 120)
        if outcome.ok:
            return outcome
        holders = self.system.holders(fs.mount_point)
        if holders:
            return outcome._replace(detail=f"{outcome.detail}: {fs.mount_point} is busy, held by "
                                           + ", ".join(holders))
        return outcome


def _fsck_fine(outcome: Outcome) -> bool:
    """fsck's status 0 (clean) and 1 (errors corrected) let the mount go on; anything else does not."""
    return outcome.ok or outcome.code == 1


def _record(step: Step, action: str, outcome: Outcome) -> Dict[str, object]:
    record: Dict[str, object] = {"step": step.describe(), "action": action, "ok": outcome.ok}
    if outcome.detail:
        record["detail"] = outcome.detail
    if outcome.output:
        record["output"] = outcome.output
    return record


class Prober:
    """Runs one application's monitor: Outcome(ok) when healthy."""

    def __init__(self, commands=None, system=None):
        self.commands = commands if commands is not None else Commands()
        self.system = system if system is not None else System()

    def probe(self, application: ApplicationSpec) -> Outcome:
        monitor = application.monitor
        if monitor is None:
            return Outcome(True)
        if monitor.process is not None:
            if self.system.process_running(monitor.process):
                return Outcome(True)
            return Outcome(False, f"no process named {monitor.process} runs")
        return self.commands.run([monitor.command or ""], monitor.timeout_ms / 1000)


class RecordingGroupDriver:
    """A stand-in for `GroupDriver` and `Prober` that acts on nothing: every acquisition, release, restart and
    probe succeeds, and is recorded (the lab's rehearsals of address takeover, and the tests)."""

    def __init__(self, spec: ClusterSpec):
        self.spec = spec
        self.calls: List[Tuple[str, ...]] = []

    def leftovers(self, node: str) -> List[str]:
        return []

    def acquire(self, group: str) -> GroupOutcome:
        self.calls.append(("acquire", group))
        return GroupOutcome(True, True, "", ({"step": "recorded", "action": "acquire", "ok": True},))

    def release(self, group: str) -> GroupOutcome:
        self.calls.append(("release", group))
        return GroupOutcome(True, True, "", ({"step": "recorded", "action": "release", "ok": True},))

    def restart(self, group: str, application: str) -> GroupOutcome:
        self.calls.append(("restart", group, application))
        return GroupOutcome(True, True, "", ())

    def probe(self, application: ApplicationSpec) -> Outcome:
        self.calls.append(("probe", application.name))
        return Outcome(True)
