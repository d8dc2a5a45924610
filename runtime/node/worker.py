"""The background executors: resource actions and site scripts run here, so that heartbeats never wait.

`Worker` runs each group's actions (`Acquire`, `Release`, `Restart`,
`Probe`) in the order they were decided, one thread per group that has
work, and keeps what finished as `engine.Done` records (with the steps'
log) for the daemon to hand to the next `decide`. `EventScripts` runs the
bundle's event wrappers (`events/KIND.sh`, see docs/bundle.md) one after
another on a thread of its own: `begin` (notify, pre), then `end` (post,
notify) for each event; `failed` (notify, recovery) for a group that failed
to come online here. A failing `pre` is logged and the event goes on, as in
HACMP.
"""

from __future__ import annotations

import os
import queue
import threading
from collections import deque
from typing import Deque, Dict, List, Mapping, Optional, Sequence, Tuple

from runtime.node.drivers import Commands, Outcome
from runtime.core.engine import Acquire, Done, Probe, Release, Restart
from runtime.core.placement import Event
from runtime.core.snapshot import ClusterSpec

EVENT_TIMEOUT_S = 60  # a site command that runs longer is killed with its process group


class Worker:
    def __init__(self, spec: ClusterSpec, driver, prober) -> None:
        self.spec, self.driver, self.prober = spec, driver, prober
        self.lock = threading.Lock()
        self.pending: Dict[str, Deque[object]] = {}
        self.finished: "queue.Queue[Tuple[Done, dict]]" = queue.Queue()
        self.threads: List[threading.Thread] = []

    def submit(self, action) -> None:
        group = action.group
        with self.lock:
            work = self.pending.get(group)
            if work is not None:  # a thread for the group runs: it takes this one in turn
                work.append(action)
                return
            self.pending[group] = deque([action])
            thread = threading.Thread(target=self._run, args=(group,), name=f"halang-{group}", daemon=True)
            self.threads = [item for item in self.threads if item.is_alive()] + [thread]
        thread.start()

    def take(self) -> List[Tuple[Done, dict]]:
        """What finished since the last call: (Done, a record for the event log)."""
        found = []
        while True:
            try:
                found.append(self.finished.get_nowait())
            except queue.Empty:
                return found

    def busy(self) -> bool:
        with self.lock:
            return bool(self.pending)

    def wait(self, timeout_s: Optional[float] = None) -> None:
        """Until every submitted action has finished (the daemon leaving)."""
        for thread in list(self.threads):
            thread.join(timeout_s)

    def _run(self, group: str) -> None:
        while True:
            with self.lock:
                work = self.pending[group]
                if not work:
                    del self.pending[group]
                    return
                action = work.popleft()
            self.finished.put(self.execute(action))

    def execute(self, action) -> Tuple[Done, dict]:
        """One action, carried out now (also what the daemon calls when it leaves)."""
        try:
            return self._execute(action)
        except Exception as exc:  # a driver's bug must not kill the thread and leave the group acquiring forever
            kind = type(action).__name__.lower()
            detail = f"internal error: {type(exc).__name__}: {exc}"
            return Done(kind, action.group, False, getattr(action, "application", ""), detail, False), \
                {"event": kind, "group": action.group, "ok": False, "detail": detail}

    def _execute(self, action) -> Tuple[Done, dict]:
        if isinstance(action, Probe):
            application = _application(self.spec, action.group, action.application)
            outcome = self.prober.probe(application)
            return Done("probe", action.group, outcome.ok, action.application, outcome.detail), \
                {"event": "probe", "group": action.group, "application": action.application, "ok": outcome.ok,
                 "detail": outcome.detail, "output": outcome.output}
        if isinstance(action, Acquire):
            kind, result = "acquire", self.driver.acquire(action.group)
        elif isinstance(action, Release):
            kind, result = "release", self.driver.release(action.group)
        elif isinstance(action, Restart):
            kind, result = "restart", self.driver.restart(action.group, action.application)
        else:
            raise TypeError(f"not an action for the worker: {action!r}")
        application = getattr(action, "application", "")
        done = Done(kind, action.group, result.ok, application, result.detail, result.clean)
        return done, {"event": kind, "group": action.group, "application": application, "ok": result.ok,
                      "clean": result.clean, "detail": result.detail, "steps": list(result.log)}


def _application(spec: ClusterSpec, group: str, name: str):
    return next(app for app in spec.group(group).applications if app.name == name)


# ------------------------------------------------------------------ site scripts


def event_arguments(event: Event, names: Sequence[str], me: str) -> Optional[List[str]]:
    """The details a wrapper is called with after its phase, in the order of its plan (`NODE`, `GROUP`, ...);
    None when the event lacks one."""
    values = {"NODE": event.node, "NETWORK": event.network, "IFNAME": event.adapter, "GROUP": event.group,
              "FROM_NODE": event.source, "TO_NODE": event.target}
    found: List[str] = []
    for name in names:
        if name == "NODES...":
            found.extend(next((part for part in event.partitions if me in part), ()))
            continue
        value = values.get(name)
        if value is None:
            return None
        found.append(value)
    return found


class EventScripts:
    """Runs the event wrappers in the background, in the order the events happened."""

    def __init__(self, wrappers: Mapping[str, Tuple[str, Sequence[str]]], node: str, commands=None,
                 timeout_s: float = EVENT_TIMEOUT_S) -> None:
        self.wrappers = dict(wrappers)  # kind -> (path of the wrapper, the names of its arguments)
        self.node = node
        self.commands = commands if commands is not None else Commands()
        self.timeout_s = timeout_s
        self.queue: "queue.Queue[Optional[Tuple[str, str, List[str]]]]" = queue.Queue()
        self.finished: "queue.Queue[dict]" = queue.Queue()
        self.thread: Optional[threading.Thread] = None

    def calls(self, event: Event, phases: Sequence[str] = ("begin", "end")) -> List[Tuple[str, str, List[str]]]:
        """(kind, phase, arguments) for each wrapper call an event makes here; none without a wrapper."""
        if event.kind not in self.wrappers:
            return []
        arguments = event_arguments(event, self.wrappers[event.kind][1], self.node)
        if arguments is None:
            return []
        return [(event.kind, phase, arguments) for phase in phases]

    def raise_event(self, event: Event, phases: Sequence[str] = ("begin", "end")) -> None:
        for call in self.calls(event, phases):
            if self.thread is None:
                self.thread = threading.Thread(target=self._run, name="halang-events", daemon=True)
                self.thread.start()
            self.queue.put(call)

    def take(self) -> List[dict]:
        found = []
        while True:
            try:
                found.append(self.finished.get_nowait())
            except queue.Empty:
                return found

    def close(self, timeout_s: float = 5) -> None:
        if self.thread is not None:
            self.queue.put(None)
            self.thread.join(timeout_s)

    def _run(self) -> None:
        while True:
            call = self.queue.get()
            if call is None:
                return
            self.finished.put(self.run(*call))

    def run(self, kind: str, phase: str, arguments: List[str]) -> dict:
        env = dict(os.environ, HALANG_LOCAL_NODE=self.node)
        outcome: Outcome = self.commands.run(["/bin/sh", self.wrappers[kind][0], phase, *arguments], self.timeout_s,
                                             env)
        record = {"event": "site_script", "kind": kind, "phase": phase, "arguments": arguments, "ok": outcome.ok,
                  "output": outcome.output}
        if not outcome.ok:
            record["detail"] = outcome.detail
            if phase == "begin":
                record["text"] = f"the pre-event command of {kind} failed ({outcome.detail}): the event goes on"
        return record
