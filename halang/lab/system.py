"""What the lab does to the machine: `ip` (iproute2), `sysctl` and `nft` commands, files, and its own processes.

Every command goes through `System.run`, which turns whatever can go wrong
(the tool missing, a non-zero exit, a time-out) into a `LabError` naming the
command and what it printed, never a traceback. `System.commands` keeps every
command run, in order, so a person can see (and retype) what the lab did.

Processes are ended only by the PID the lab recorded, and only while that
PID still belongs to the same process: its start time (field 22 of
`/proc/PID/stat`) is recorded beside it and checked again before any signal.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import time
from collections.abc import Sequence
from typing import Any

from halang.lab.plan import LabError

TOOLS = {"ip": "iproute2", "sysctl": "procps"}


class System:
    """Runs the lab's commands; `dry` only records them (for tests of what would be run)."""

    def __init__(self, dry: bool = False):
        self.dry = dry
        self.commands: list[list[str]] = []

    # ------------------------------------------------------------ checks

    def preflight(self) -> None:
        """LabError unless the lab can be built here: root, and the tools it runs."""
        if self.dry:
            return
        if os.geteuid() != 0:
            raise LabError("the lab needs root: it creates network namespaces, bridges and veth pairs "
                           "(run it as root, e.g. with sudo)")
        missing = [f"'{tool}' (Debian package {package})" for tool, package in TOOLS.items()
                   if shutil.which(tool) is None]
        if missing:
            raise LabError(f"the lab needs {' and '.join(missing)}: install it, e.g. apt-get install -y "
                           + " ".join(TOOLS[tool] for tool in TOOLS if shutil.which(tool) is None))
        if not os.path.isdir("/proc/self/ns") or not os.path.exists("/proc/self/ns/net"):
            raise LabError("this kernel has no network namespaces (/proc/self/ns/net is missing)")

    # ------------------------------------------------------------ commands

    def run(self, argv: Sequence[str], input: str | None = None, timeout: float = 30,
            check: bool = True) -> subprocess.CompletedProcess:
        argv = [str(arg) for arg in argv]
        self.commands.append(argv + (["<<", *input.splitlines()] if input else []))
        if self.dry:
            return subprocess.CompletedProcess(argv, 0, "", "")
        try:
            done = subprocess.run(argv, input=input, capture_output=True, text=True, timeout=timeout,
                                  check=False)
        except FileNotFoundError:
            package = TOOLS.get(argv[0])
            raise LabError(f"'{argv[0]}' is not installed" + (f" (Debian package {package})" if package else "")) \
                from None
        except subprocess.TimeoutExpired:
            raise LabError(f"`{shlex.join(argv)}` did not finish within {timeout:g} s") from None
        if check and done.returncode != 0:
            said = (done.stderr or done.stdout).strip() or f"exit status {done.returncode}"
            raise LabError(f"`{shlex.join(argv)}` failed: {said}")
        return done

    def ip(self, *args: str, netns: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
        return self.run(["ip", *(["-n", netns] if netns else []), *args], check=check)

    def ip_batch(self, netns: str | None, lines: Sequence[str]) -> None:
        """Several `ip` commands in one process (`ip -batch -`), stopping at the first that fails."""
        if not lines:
            return
        try:
            self.run(["ip", *(["-n", netns] if netns else []), "-batch", "-"], input="\n".join(lines) + "\n")
        except LabError as exc:
            raise LabError(f"{exc}{_failed_line(str(exc), lines)}") from None

    def nft(self, netns: str, script: str) -> None:
        """An nftables script, one transaction, inside a namespace: the lab's one-way drops (deaf:, mute:)."""
        if not self.dry and shutil.which("nft") is None:
            raise LabError("deaf: and mute: faults need 'nft' (Debian package nftables) to drop frames one way: "
                           "install it, e.g. apt-get install -y nftables")
        self.run(["ip", "netns", "exec", netns, "nft", "-f", "-"], input=script)

    def sysctl(self, netns: str, settings: dict[str, str]) -> None:
        self.run(["ip", "netns", "exec", netns, "sysctl", "-q", "-w",
                  *(f"{key}={value}" for key, value in settings.items())])

    # ------------------------------------------------------------ namespaces

    def namespaces(self) -> set[str]:
        if self.dry:
            return set()
        done = self.run(["ip", "netns", "list"])
        return {line.split()[0] for line in done.stdout.splitlines() if line.strip()}

    def add_namespace(self, name: str) -> None:
        self.run(["ip", "netns", "add", name])

    def delete_namespace(self, name: str) -> None:
        self.run(["ip", "netns", "delete", name])

    def namespace_pids(self, name: str) -> list[int]:
        if self.dry:
            return []
        done = self.run(["ip", "netns", "pids", name], check=False)
        return [int(word) for word in done.stdout.split() if word.isdigit()]


def _failed_line(message: str, lines: Sequence[str]) -> str:
    """`ip -batch` says 'Command failed -:N'; name the line it means."""
    found = re.search(r"Command failed -:(\d+)", message)
    if found and 0 < int(found.group(1)) <= len(lines):
        return f" (the command was `ip {lines[int(found.group(1)) - 1]}`)"
    return ""


# ------------------------------------------------------------------ processes


def start_time(pid: int) -> int | None:
    """The process's start time in clock ticks since boot; None if there is no such (living) process."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            text = stat.read()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    fields = text[text.rfind(")") + 2:].split()  # after "pid (comm) "
    if not fields or fields[0] in ("Z", "X"):  # a zombie has ended; only its parent's wait is missing
        _reap(pid)
        return None
    return int(fields[19])


def same_process(record: dict[str, Any]) -> bool:
    return start_time(int(record["pid"])) == record["start"]


def end_process(record: dict[str, Any], grace: float = 3.0) -> bool:
    """SIGTERM, then SIGKILL after `grace` seconds, the recorded process if it still runs; True if it ran."""
    pid = int(record["pid"])
    if not same_process(record):
        return False
    _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        _reap(pid)
        if start_time(pid) != record["start"]:
            return True
        time.sleep(0.01)
    if same_process(record):
        _signal(pid, signal.SIGKILL)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and start_time(pid) == record["start"]:
            _reap(pid)
            time.sleep(0.01)
    return True


def signal_process(record: dict[str, Any], number: int) -> None:
    if not same_process(record):
        raise LabError(f"the lab's process {record['pid']} ({record['what']}) is no longer running")
    _signal(int(record["pid"]), number)


def _signal(pid: int, number: int) -> None:
    try:
        os.kill(pid, number)
    except ProcessLookupError:
        pass


def _reap(pid: int) -> None:
    """Collect a child of this process that has ended (a process the lab spawned from this process)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
