from __future__ import annotations

from halang.checks.registry import Check
from halang.diagnostics import Severity
from halang.model.literals import format_duration

MIN_DETECTION_MS = 100


class UnworkableTiming(Check):
    """Heartbeat or monitor timing that cannot work.

    The detection time, `interval` x `miss_limit`, is how long a path may be
    silent before it counts as down. Under 100ms it is shorter than an
    ordinary scheduling hiccup, a garbage-collection pause, a switch
    re-converging or a busy interrupt queue: paths flap, nodes are declared
    dead while they are working, and the cluster moves groups back and forth
    for nothing. HACMP's fastest heartbeat settings and Corosync's token
    timeouts stay well above it.

    A monitor's `timeout` bounds one run of its check, and `interval` is how
    often the check starts. A timeout that is not below the interval lets one
    slow check run into the next, so checks pile up, or the monitor never
    gets a verdict before it starts again; the application looks healthy
    however long it hangs, or is restarted for a check that merely overlapped.
    One finding per offending heartbeat block or monitor.

    Bad:
        heartbeat { interval = 20ms  miss_limit = 3 }
        monitor { command = "/opt/app/bin/check"  interval = 5s  timeout = 5s }

    Good:
        heartbeat { interval = 200ms  miss_limit = 5 }
        monitor { command = "/opt/app/bin/check"  interval = 5s  timeout = 2s }
    """

    code = "HA603"
    name = "security.unworkable-timing"
    severity = Severity.WARNING

    def run(self, context):
        heartbeat = context.cluster.heartbeat
        if heartbeat.detection_ms < MIN_DETECTION_MS:
            span = next((heartbeat.spans[key] for key in ("interval", "miss_limit", "") if key in heartbeat.spans),
                        context.cluster.span())
            yield self.finding(
                span,
                f"heartbeat detection time is {format_duration(heartbeat.detection_ms)} "
                f"(interval {format_duration(heartbeat.interval_ms)} x miss_limit {heartbeat.miss_limit}), "
                f"under {MIN_DETECTION_MS}ms: paths will flap and healthy nodes be declared down",
                "make interval x miss_limit at least 100ms; 1s x 5 is the default, 200ms x 5 already fast")
        for group in context.cluster.groups:
            for application in group.applications:
                monitor = application.monitor
                if monitor is None or monitor.timeout_ms < monitor.interval_ms:
                    continue
                yield self.finding(
                    monitor.span("timeout") if "timeout" in monitor.spans else monitor.span("interval"),
                    f"the monitor of application '{application.name}' (resource group '{group.name}') has a "
                    f"timeout of {format_duration(monitor.timeout_ms)}, not below its interval of "
                    f"{format_duration(monitor.interval_ms)}: one check runs into the next",
                    "make the timeout shorter than the interval, about half of it (the default)")
