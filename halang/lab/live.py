"""A lab with the node engine running on it, across processes: what `halang lab` and `make demo` drive.

    live = LiveLab.up("examples/two_node_replace.ha", base="/run/halang-lab")   # the lab, a daemon on each node
    live.fail(["node:alpha"]); live.heal(["node:alpha"])
    live.flap("port:alpha/en0", times=3, every_s=0.3)   # fail, heal, ... in the foreground, ending healed
    live.holders()                    # {"ledger_svc": [("alpha", "en0")], ...}
    LiveLab.find(base).down()         # another process, the base folder alone

`LiveLab.up` returns while the daemons run on, so each later command, a process of its own, finds what it needs
in files under the base folder (default /run/halang-lab), one current lab per base:

- `BASE/current` names the state file of the current lab (`BASE/PREFIX/lab.json`). It is written before
  the build starts, so a `lab up` killed halfway leaves a lab that `lab down` still finds and removes.
- `BASE/PREFIX/daemons.json`: each node's daemon, its PID and start time, its command line and state dir.
  A daemon is signalled only by that PID, and only while the PID's start time is still the recorded one, so
  a reused PID is never hit.
- `BASE/PREFIX/engine/`: the compiled bundle, the run's cluster key, and `state/NODE/` for each daemon
  (`events.jsonl`, `stderr`, `control.sock`). All of it goes with the lab.

Every command that changes the lab holds `BASE/current.lock` while it acts: commands on one base take turns.

What `fail node:X` does to X's daemon: it kills it (SIGKILL, a crash), then cuts the node's wiring. A failed
node, in the language and in `halang simulate`, is a node that has stopped: its beats stop on every path at
once. Cutting the wiring alone would leave its daemon running, cut off, which is the isolation of a node (fail
its adapters and links for that): a daemon that sees every peer go and acts on it. SIGTERM would be an
orderly stop that releases the groups first: no failure. `domain:D` does the same to each of its nodes.
`heal node:X` is the node booting again: its adapters get back only their own addresses (the killed daemon
left its service addresses there), its wiring heals, and its daemon starts again with the same state dir.
In that order: no stale address answers on the healed wiring, and the new daemon hears its peers from its
first beat.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import signal
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from halang.lab import DEFAULT_BASE
from halang.lab.engines import Engines, address_holders, service_addresses, spawn_daemon
from halang.lab.faults import canonical
from halang.lab.lab import Lab, flapping
from halang.lab.plan import LabError
from halang.lab.system import System, same_process, signal_process, start_time
from runtime.core.failures import all_components, expand

POINTER, LOCK, DAEMONS = "current", "current.lock", "daemons.json"
STOP_GRACE = 10.0  # seconds a daemon has after SIGTERM to release what it holds, as Engines.stop gives it
START_WITHIN = 15.0  # seconds a new daemon has to say it runs (its daemon.json): a bundle starts in well under one


class LiveLab:
    """The current lab of a base folder, and the daemons `halang lab up` started on it (None: `--no-engines`)."""

    def __init__(self, base: Path, lab: Lab, daemons: dict[str, dict[str, Any]] | None):
        self.base = base
        self.lab = lab
        self.daemons = daemons

    # ------------------------------------------------------------ finding and making one

    @classmethod
    def find(cls, base: str | os.PathLike[str] = DEFAULT_BASE) -> LiveLab | None:
        """The base's current lab, or None if there is none (no pointer, or its lab is gone)."""
        base = Path(base).resolve()
        try:
            lab = Lab.load((base / POINTER).read_text().strip())
        except (FileNotFoundError, NotADirectoryError, LabError):
            return None
        return cls(base, lab, _read_daemons(lab))

    @classmethod
    def up(cls, path: str | os.PathLike[str], base: str | os.PathLike[str] = DEFAULT_BASE,
           drivers: str = "recorded", engines: bool = True) -> LiveLab:
        """Build the lab of a file under `base` and start a daemon on every node (unless not `engines`)."""
        System().preflight()
        base = Path(base).resolve()
        with locked(base, create=True):
            current = cls.find(base)
            if current is not None:
                raise LabError(current._in_the_way())
            prefix = "hl" + secrets.token_hex(3)
            _write(base / POINTER, str(base / prefix / "lab.json") + "\n")
            lab = None
            try:
                lab = Lab.up(path, base_dir=base, prefix=prefix)
                live = cls(base, lab, None)
                if engines:
                    live._start_engines(Path(path), drivers)
                return live
            except BaseException:
                if lab is not None:
                    # Ends any daemon already started too: the lab recorded it. If this fails, the pointer stays
                    # for `lab down` to try again.
                    lab.down()
                (base / POINTER).unlink(missing_ok=True)
                raise

    def _in_the_way(self) -> str:
        how = f"take it down first: halang lab down{base_option(self.base)}"
        if self.lab.state.get("phase") != "up":
            return (f"lab {self.lab.prefix} under {self.base} was left half-built by an interrupted `halang lab up`: "
                    + how)
        return f"lab {self.lab.prefix} (of {self.lab.plan.source}) is already up under {self.base}: {how}"

    def _start_engines(self, path: Path, drivers: str) -> None:
        workdir = Path(self.lab.plan.workdir) / "engine"
        workdir.mkdir()
        engines = Engines(self.lab, path, workdir, drivers)
        self.daemons = {}
        for node in engines.spec.node_names:
            self.daemons[node] = self._spawn(node, engines.argv(node), engines.state_dir(node))
            self._save()
        for node in engines.spec.node_names:
            self._wait_started(node)

    def _spawn(self, node: str, argv: list[str], state_dir: Path) -> dict[str, Any]:
        # A session of its own: a Ctrl-C or hang-up of the terminal is for `halang lab`, not for the daemons it
        # leaves running.
        process = spawn_daemon(self.lab, node, argv, state_dir, start_new_session=True)
        began = start_time(process.pid)
        if began is None:
            raise LabError(f"the daemon of {node} ended at once: {_said(state_dir)}")
        return {"pid": process.pid, "start": began, "what": f"daemon:{node}", "argv": argv,
                "state_dir": str(state_dir)}

    def _wait_started(self, node: str) -> None:
        """Until the daemon has written its daemon.json (it has cleaned its adapters and opened its paths)."""
        record = self.daemons[node]
        written = Path(record["state_dir"]) / "daemon.json"
        deadline = time.monotonic() + START_WITHIN
        while time.monotonic() < deadline:
            if not same_process(record):
                raise LabError(f"the daemon of {node} ended: {_said(Path(record['state_dir']))}")
            try:
                if json.loads(written.read_text()).get("pid") == record["pid"]:
                    return
            except (FileNotFoundError, json.JSONDecodeError):
                pass
            time.sleep(0.02)
        raise LabError(f"the daemon of {node} did not start within {START_WITHIN:g} s: "
                       f"{_said(Path(record['state_dir']))}")

    def _save(self) -> None:
        _write(Path(self.lab.plan.workdir) / DAEMONS, json.dumps(self.daemons, indent=1, sort_keys=True) + "\n")

    # ------------------------------------------------------------ faults

    def fail(self, texts: Sequence[str]) -> list[str]:
        """Fail components by name; the nodes that go down lose their daemon first (a crash). Returns those."""
        names = self.names(texts)
        failed = self.lab.failed
        for name in names:
            if name in failed:  # as Lab.fail refuses it, but before any daemon is killed
                raise LabError(f"{name} has already failed")
        dying = sorted(self.nodes_down([*failed, *names]) - self.nodes_down(failed))
        killed = [node for node in dying if self._kill(node)]
        self.lab.fail(*names)
        return killed

    def heal(self, texts: Sequence[str]) -> list[str]:
        """Heal components by name; a node that comes back boots: its daemon starts again. Returns those nodes."""
        names = self.names(texts)
        failed = self.lab.failed
        rest = [name for name in failed if name not in names]
        back = sorted(self.nodes_down(failed) - self.nodes_down(rest))
        booting = [node for node in back if self.daemons and node in self.daemons and not self.running(node)]
        if set(names) <= set(failed):
            for node in booting:
                self.lab.reset_addresses(node)  # while still cut: no stale address ever answers on the wiring
        self.lab.heal(*names)  # refuses a component that has not failed, saying what keeps it down
        for node in booting:
            old = self.daemons[node]
            self.daemons[node] = self._spawn(node, old["argv"], Path(old["state_dir"]))
            self._save()
        for node in booting:
            self._wait_started(node)
        return booting

    def flap(self, component: str | Sequence[str], times: int, every_s: float,
             step: Callable[[float, str], None] | None = None) -> list[tuple[float, str]]:
        """`fail` and `heal` by turns, `times` times, `every_s` seconds apart, ending healed (`lab.flapping`). A node
        crashes and boots each time, and a boot waits for its daemon, so its changes may come later than planned."""
        names = self.names([component] if isinstance(component, str) else component)
        return flapping(lambda: self.fail(names), lambda: self.heal(names), times, every_s, step)

    def names(self, texts: Sequence[str]) -> list[str]:
        """The components' canonical names (several may be in one text, separated by commas); LabError, listing
        the lab's components, for one that is not."""
        names = [part.strip() for text in texts for part in text.split(",") if part.strip()]
        if not names:
            raise LabError(f"name a component: {', '.join(self.components())}")
        try:
            names = [canonical(self.lab.spec, name) for name in names]
        except LabError as exc:
            raise LabError(f"{exc}. The components of lab {self.lab.prefix}: {', '.join(self.components())}") from None
        for number, name in enumerate(names):
            if name in names[:number]:
                raise LabError(f"{name} is named twice")
        return names

    def components(self) -> list[str]:
        """Every component of the lab that can fail, in the order of `halang simulate`."""
        return all_components(self.lab.spec)

    def nodes_down(self, failed: Sequence[str]) -> set[str]:
        return set(expand(self.lab.spec, list(failed)).nodes)

    def _kill(self, node: str) -> bool:
        """SIGKILL the node's daemon if it runs, and wait until it is gone; whether it ran."""
        record = (self.daemons or {}).get(node)
        if record is None or not same_process(record):
            return False
        try:
            signal_process(record, signal.SIGKILL)
        except LabError:
            return False  # it ended on its own just now
        _wait_gone([record], 10.0)
        return True

    # ------------------------------------------------------------ looking at it

    def running(self, node: str) -> bool:
        return bool(self.daemons) and node in self.daemons and same_process(self.daemons[node])

    def holders(self) -> dict[str, list[tuple[str, str]]]:
        """Service label -> (node, ifname) of the node namespaces that have its address now."""
        return address_holders(self.lab, service_addresses(self.lab.spec))

    def state_dirs(self) -> dict[str, Path]:
        return {node: Path(record["state_dir"]) for node, record in (self.daemons or {}).items()}

    # ------------------------------------------------------------ tearing down

    def down(self) -> tuple[list[str], dict[str, Any]]:
        """Stop the daemons (SIGTERM: they release what they hold; SIGKILL after STOP_GRACE), tear the lab down,
        remove the pointer. Returns the nodes whose daemon was stopped, and the teardown's report."""
        running = {node: record for node, record in (self.daemons or {}).items() if same_process(record)}
        for record in running.values():
            try:
                signal_process(record, signal.SIGTERM)
            except LabError:
                pass  # it ended on its own just now
        left = _wait_gone(list(running.values()), STOP_GRACE)
        for record in left:
            try:
                signal_process(record, signal.SIGKILL)
            except LabError:
                pass
        _wait_gone(left, 10.0)
        report = self.lab.down()
        (self.base / POINTER).unlink(missing_ok=True)
        return sorted(running), report


def _read_daemons(lab: Lab) -> dict[str, dict[str, Any]] | None:
    try:
        return json.loads((Path(lab.plan.workdir) / DAEMONS).read_text())
    except FileNotFoundError:
        return None
    except json.JSONDecodeError as exc:
        raise LabError(f"{lab.plan.workdir}/{DAEMONS}: not readable: {exc}") from None


def _wait_gone(records: list[dict[str, Any]], within: float) -> list[dict[str, Any]]:
    """Wait until the processes have ended; those still running after `within` seconds."""
    deadline = time.monotonic() + within
    left = [record for record in records if same_process(record)]
    while left and time.monotonic() < deadline:
        time.sleep(0.02)
        left = [record for record in left if same_process(record)]
    return left


def current(base: Path) -> LiveLab:
    """The current lab of a base folder; LabError, saying how to start one, if there is none."""
    if (base / POINTER).exists():
        System().preflight()  # the lab is root's: its files, namespaces and daemons
    live = LiveLab.find(base)
    if live is None:
        raise LabError(f"no lab is up under {base}: start one with halang lab up FILE{base_option(base)}")
    return live


@contextmanager
def current_locked(base: Path) -> Iterator[LiveLab]:
    """The current lab, read again once this process's turn has come (another may have changed it meanwhile)."""
    current(base)
    with locked(base):
        yield current(base)


@contextmanager
def locked(base: Path, create: bool = False) -> Iterator[None]:
    """This process's turn on the base folder: an exclusive lock on `BASE/current.lock`."""
    if create:
        base.mkdir(parents=True, exist_ok=True)
    with open(base / LOCK, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _write(path: Path, text: str) -> None:
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text)
    os.replace(temporary, path)


def _said(state_dir: Path) -> str:
    try:
        text = (state_dir / "stderr").read_text(errors="replace").strip()
    except FileNotFoundError:
        text = ""
    return text[-800:] or "it said nothing"


def base_option(base: Path) -> str:
    return "" if base == Path(DEFAULT_BASE).resolve() else f" --base {base}"
