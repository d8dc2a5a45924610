"""How `halang deploy` reaches a node: run one program there, with bytes on its standard input.

    SshTransport        OpenSSH's own client, so ~/.ssh/config, agents, jump hosts and known_hosts apply
    LocalTransport      one directory per node under DIR, on this machine (`--transport local:DIR`)
    ThisMachine         this machine as the node, its root `/` (`halang start` without a file)
    RecordingTransport  a fake for tests: records every call, fails the ones it is told to, else passes on

A transport knows, per node, where the node's files are (`root`) and its interfaces (`sysfs`), and which
Python runs there. `run` raises `Unreachable` when it could not get to the node at all.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, Sequence

from halang.deploy.plan import Target


class Unreachable(Exception):
    """The node could not be reached; the message says why."""


@dataclass(frozen=True)
class Completed:
    code: int
    stdout: str
    stderr: str


class Transport(Protocol):
    python: str

    def root(self, node: str) -> str: ...

    def sysfs(self, node: str) -> str: ...

    def run(self, target: Target, argv: Sequence[str], data: bytes = b"", label: str = "") -> Completed: ...


def _completed(done: subprocess.CompletedProcess) -> Completed:
    return Completed(done.returncode, done.stdout.decode("utf-8", "replace"), done.stderr.decode("utf-8", "replace"))


class LocalTransport:
    """Each node is a directory DIR/NODE on this machine, its root; its interfaces are DIR/NODE/sys/class/net/*."""

    def __init__(self, directory: str | Path):
        self.directory = Path(directory).resolve()
        self.python = sys.executable

    def root(self, node: str) -> str:
        return str(self.directory / node)

    def sysfs(self, node: str) -> str:
        return str(self.directory / node / "sys")

    def run(self, target: Target, argv: Sequence[str], data: bytes = b"", label: str = "") -> Completed:
        if not (self.directory / target.node).is_dir():
            raise Unreachable(f"{self.directory / target.node} is not a directory (local:DIR has one per node)")
        return _completed(subprocess.run(list(argv), input=data, capture_output=True))


class ThisMachine:
    """The machine halang runs on, as the node (`halang start --node N` typed on the node itself)."""

    python = sys.executable

    def root(self, node: str) -> str:
        return "/"

    def sysfs(self, node: str) -> str:
        return "/sys"

    def run(self, target: Target, argv: Sequence[str], data: bytes = b"", label: str = "") -> Completed:
        return _completed(subprocess.run(list(argv), input=data, capture_output=True))


SSH_UNREACHABLE = 255  # ssh's own exit status when it could not connect, authenticate or check the host key


class SshTransport:
    """OpenSSH's `ssh`, never asking anything (BatchMode=yes): no password prompt in the middle of a rollout.

    StrictHostKeyChecking is the user's (`ssh -G` says what it is for each host), except that a setting that
    would let a changed host key pass (`no`) is raised to `accept-new`: a mismatched key always stops it.
    `command` and `options` are for a test's own ssh_config (`-F`) or network namespace; `roots` gives a node
    another root than `/`, where nodes share one machine's files (the lab)."""

    def __init__(self, command: Sequence[str] = ("ssh",), options: Sequence[str] = (), python: str = "python3",
                 roots: dict[str, str] | None = None, connect_timeout: int = 10):
        self.command = list(command)
        self.options = ["-o", "BatchMode=yes", "-o", f"ConnectTimeout={connect_timeout}", *options]
        self.python = python
        self.roots = roots or {}
        self._strict: dict[str, list[str]] = {}

    def root(self, node: str) -> str:
        return self.roots.get(node, "/")

    def sysfs(self, node: str) -> str:
        return "/sys"

    def destination(self, target: Target) -> list[str]:
        where = ["-p", str(target.port)] + (["-l", target.user] if target.user else [])
        return [*where, target.host]

    def _host_key_options(self, target: Target) -> list[str]:
        if target.host not in self._strict:
            done = subprocess.run([*self.command, *self.options, "-G", *self.destination(target)],
                                  capture_output=True, text=True)
            settings = dict(line.split(" ", 1) for line in done.stdout.splitlines() if " " in line)
            lax = settings.get("stricthostkeychecking", "ask") in ("false", "no", "off")
            self._strict[target.host] = ["-o", "StrictHostKeyChecking=accept-new"] if lax else []
        return self._strict[target.host]

    def run(self, target: Target, argv: Sequence[str], data: bytes = b"", label: str = "") -> Completed:
        try:
            ssh = [*self.command, *self.options, *self._host_key_options(target), *self.destination(target),
                   "--", shlex.join(argv)]
            done = subprocess.run(ssh, input=data, capture_output=True)
        except OSError as exc:
            raise Unreachable(f"cannot run {self.command[0]}: {exc.strerror}") from None
        if done.returncode == SSH_UNREACHABLE:
            why = done.stderr.decode("utf-8", "replace").strip().splitlines()
            raise Unreachable(f"ssh to {target.host}: {why[-1] if why else 'failed'}")
        return _completed(done)


def make_transport(spec: str) -> Transport:
    """`ssh`, or `local:DIR`; ValueError (a sentence) for anything else."""
    if spec == "ssh":
        return SshTransport()
    kind, colon, directory = spec.partition(":")
    if kind == "local" and colon and directory:
        return LocalTransport(directory)
    raise ValueError(f"--transport is ssh or local:DIR, not {spec!r}")


@dataclass
class RecordingTransport:
    """A fake: records (node, label) of every call; `fail[(node, label)]` answers with that error instead,
    `unreachable` nodes raise Unreachable; everything else goes to `inner` (a LocalTransport, say)."""

    inner: Transport
    fail: dict[tuple[str, str], str] = field(default_factory=dict)
    unreachable: set[str] = field(default_factory=set)
    calls: list[tuple[str, str]] = field(default_factory=list)

    @property
    def python(self) -> str:
        return self.inner.python

    def root(self, node: str) -> str:
        return self.inner.root(node)

    def sysfs(self, node: str) -> str:
        return self.inner.sysfs(node)

    def run(self, target: Target, argv: Sequence[str], data: bytes = b"", label: str = "") -> Completed:
        self.calls.append((target.node, label))
        if target.node in self.unreachable:
            raise Unreachable(f"{target.node}: unreachable (as the test said)")
        if (target.node, label) in self.fail:
            return Completed(1, json.dumps({"error": self.fail[(target.node, label)]}), "")
        return self.inner.run(target, argv, data, label)
