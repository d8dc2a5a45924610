"""Monitor scheduling (runtime/core/monitors.py) as rows: given a watch, when a probe or restart reports, then."""

from __future__ import annotations

import pytest

from runtime.core.monitors import FALLOVER, HEALTHY, RESTART, Watch, due, probed, restarted, watch
from runtime.core.snapshot import ApplicationSpec, MonitorSpec


def app(restarts=2, interval=1000, stabilization=0) -> ApplicationSpec:
    return ApplicationSpec("web", "/opt/web/start", "/opt/web/stop", 60000,
                           MonitorSpec("/opt/web/check", None, interval, interval // 2, restarts, stabilization))


def test_an_application_without_a_monitor_has_no_watch():
    assert watch("shop", ApplicationSpec("web", "/a", "/b", 1000, None), 0) is None


@pytest.mark.parametrize("stabilization, interval, first_due", [
    (0, 1000, 1000),  # no stabilization: one interval after the group came online
    (5000, 1000, 5000),  # stabilization: the application is given that long
])
def test_the_first_probe_waits_for_stabilization(stabilization, interval, first_due):
    assert watch("shop", app(interval=interval, stabilization=stabilization), 0).due_ms == first_due


@pytest.mark.parametrize("given, now, then_due, probing", [
    (Watch("shop", "web", 1000), 999, False, ()),
    (Watch("shop", "web", 1000), 1000, True, ("web",)),
    (Watch("shop", "web", 1000, busy=True), 5000, True, ()),  # a probe or restart is out: nothing more
])
def test_what_is_due(given, now, then_due, probing):
    watches, found = due((given,), now)
    assert tuple(item.application for item in found) == probing
    assert watches[0].busy is then_due


@pytest.mark.parametrize("given, healthy, restarts, then, verdict", [
    # given a watch,               the probe,  restarts, then the watch,                         and the verdict
    (Watch("shop", "web", 0, 0, True), True, 2, Watch("shop", "web", 2000, 0, False), HEALTHY),
    (Watch("shop", "web", 0, 0, True), False, 2, Watch("shop", "web", 0, 1, True), RESTART),
    (Watch("shop", "web", 0, 1, True), False, 2, Watch("shop", "web", 0, 2, True), RESTART),
    (Watch("shop", "web", 0, 2, True), False, 2, Watch("shop", "web", 0, 2, False), FALLOVER),
    (Watch("shop", "web", 0, 0, True), False, 0, Watch("shop", "web", 0, 0, False), FALLOVER),
])
def test_a_probe_outcome(given, healthy, restarts, then, verdict):
    assert probed(given, app(restarts=restarts), healthy, 1000) == (then, verdict)


@pytest.mark.parametrize("ok, then, verdict", [
    (True, Watch("shop", "web", 1000 + 1000, 1, False), HEALTHY),  # probed again after stabilization (interval)
    (False, Watch("shop", "web", 0, 1, False), FALLOVER),  # the start script failed: nothing to wait for
])
def test_a_restart_outcome(ok, then, verdict):
    assert restarted(Watch("shop", "web", 0, 1, True), app(), ok, 1000) == (then, verdict)
