"""Application monitors, scheduled: when to probe, and what a probe's or a restart's outcome means.

Pure: times are arguments. The engine keeps one `Watch` per monitored
application of each group online on its node, from the moment the group is
online (`watch`). The first probe is due once `stabilization` has passed
(the application is given that long to come up; one `interval` when it is
0), then one every `interval`;
the probe itself (a process looked up by name, or a command whose exit 0 is
healthy, bounded by the monitor's `timeout`) is an executor's, in the
background. A failed probe restarts the application on the node (its stop,
then its start script) while fewer than `restarts` restarts have been made
since the group came online; the next failure makes the group fall over.
After a restart the monitor waits as after the start.
"""

from __future__ import annotations

from typing import NamedTuple, Optional, Tuple

from runtime.core.snapshot import ApplicationSpec

HEALTHY, RESTART, FALLOVER = "healthy", "restart", "fallover"


class Watch(NamedTuple):
    group: str
    application: str
    due_ms: int  # when the next probe is due
    restarts: int = 0  # restarts made since the group came online
    busy: bool = False  # a probe or a restart is out: nothing more until it reports


def watch(group: str, application: ApplicationSpec, now_ms: int) -> Optional[Watch]:
    """The watch of an application whose group just came online; None if it has no monitor."""
    if application.monitor is None:
        return None
    return Watch(group, application.name, now_ms + _settle_ms(application))


def _settle_ms(application: ApplicationSpec) -> int:
    monitor = application.monitor
    assert monitor is not None
    return monitor.stabilization_ms or monitor.interval_ms


def due(watches: Tuple[Watch, ...], now_ms: int) -> Tuple[Tuple[Watch, ...], Tuple[Watch, ...]]:
    """(the watches, those due marked busy; the ones to probe now)."""
    probing = tuple(item for item in watches if not item.busy and item.due_ms <= now_ms)
    if not probing:
        return watches, ()
    return tuple(item._replace(busy=True) if item in probing else item for item in watches), probing


def probed(item: Watch, application: ApplicationSpec, healthy: bool, now_ms: int) -> Tuple[Watch, str]:
    """A probe's outcome: the watch after it, and HEALTHY, RESTART (a restart is now out) or FALLOVER."""
    monitor = application.monitor
    assert monitor is not None
    if healthy:
        return item._replace(due_ms=now_ms + monitor.interval_ms, busy=False), HEALTHY
    if item.restarts < monitor.restarts:
        return item._replace(restarts=item.restarts + 1, busy=True), RESTART
    return item._replace(busy=False), FALLOVER


def restarted(item: Watch, application: ApplicationSpec, ok: bool, now_ms: int) -> Tuple[Watch, str]:
    """A restart's outcome: probing again after stabilization, or FALLOVER if the start script failed."""
    monitor = application.monitor
    assert monitor is not None
    if not ok:
        return item._replace(busy=False), FALLOVER
    return item._replace(due_ms=now_ms + _settle_ms(application), busy=False), HEALTHY
