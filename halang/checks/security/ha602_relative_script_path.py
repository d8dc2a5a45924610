from __future__ import annotations

from halang.checks.registry import Check
from halang.diagnostics import Severity

EVENT_COMMANDS = ("pre", "post", "notify", "recovery")


class RelativeScriptPath(Check):
    """A script path that is not absolute.

    Start and stop scripts, monitor commands and event commands are run by
    the node daemon as root, with no working directory and no search path a
    site can rely on: `bin/start` or `start_app` resolves against whatever
    directory and PATH the daemon happens to have, which is not what the
    administrator tested from a shell, and on a takeover the script that runs
    (if any) may not be the one meant. A relative path is also an opening: a
    file of that name placed in the daemon's directory runs as root. HACMP
    asks for the full path of application server scripts for this reason.

    The first word of each command must be an absolute path: application
    `start` and `stop`, a monitor's `command` (a monitor's `process` is a
    process name, not a path), and an event's `pre`, `post`, `notify` and
    `recovery`. Arguments after the first word may be anything.

    Bad:
        application app {
          start = "bin/start_app"
          stop  = "stop_app --now"
        }

    Good:
        application app {
          start = "/opt/app/bin/start_app"
          stop  = "/opt/app/bin/stop_app --now"
        }
    """

    code = "HA602"
    name = "security.relative-script-path"
    severity = Severity.ERROR

    def run(self, context):
        for group in context.cluster.groups:
            for application in group.applications:
                where = f"application '{application.name}' of resource group '{group.name}'"
                for key in ("start", "stop"):
                    yield from self._check(getattr(application, key), application.span(key),
                                           f"the {key} script of {where}")
                monitor = application.monitor
                if monitor is not None and monitor.command is not None:
                    yield from self._check(monitor.command, monitor.span("command"), f"the monitor command of {where}")
        for event in context.cluster.events:
            for key in EVENT_COMMANDS:
                command = getattr(event, key)
                if command is not None:
                    yield from self._check(command, event.span(key), f"the {key} command of event {event.kind}")

    def _check(self, command, span, what):
        words = command.split()
        if words and words[0].startswith("/"):
            return
        if not words:
            yield self.finding(span, f"{what} is empty",
                               'write the absolute path of the script, such as "/opt/app/bin/start"')
            return
        yield self.finding(
            span, f"{what} is '{words[0]}', not an absolute path",
            'write the full path, such as "/opt/app/bin/start": the daemon runs it as root '
            "with no working directory or PATH to rely on")
