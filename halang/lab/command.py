"""`halang lab up|fail|heal|status|down`: the command line of `LiveLab` (live.py; docs/lab.md, "halang lab").

    halang lab up FILE [--base DIR] [--drivers recorded|real] [--no-engines]
    halang lab fail COMPONENT... [--flap N --every DURATION]        halang lab heal COMPONENT...
    halang lab status                   halang lab down

`halang` builds its parser on every run, so this module imports the lab only inside the commands.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from contextlib import contextmanager
from pathlib import Path

from halang.lab import DEFAULT_BASE
from halang.outcome import EXIT_OK, EXIT_TROUBLE


def add_parser(commands: argparse._SubParsersAction) -> None:
    """`lab` and its verbs, on the subcommands of `halang`."""
    lab = commands.add_parser("lab", help="a lab of a .ha file on this machine (root): network namespaces with the "
                                          "node engine on every node, failed and healed by component name")
    verbs = lab.add_subparsers(dest="lab_command", required=True, metavar="up|fail|heal|status|down")

    up = verbs.add_parser("up", help="build the lab of FILE and start the node engine on every node")
    up.add_argument("file", metavar="FILE")
    up.add_argument("--drivers", choices=("recorded", "real"), default="recorded",
                    help="recorded (default): volume groups, filesystems and applications are only recorded, for "
                         "files whose scripts are not on this machine; real: run them")
    up.add_argument("--no-engines", action="store_true", help="build the lab only, start no daemon")
    up.set_defaults(run=_reporting(cmd_up))

    for verb, does, run in (("fail", "fail components: a node's daemon is killed first, as in a crash", cmd_fail),
                            ("heal", "heal failed components: a node boots, its daemon started again", cmd_heal)):
        command = verbs.add_parser(verb, help=does)
        command.add_argument("components", nargs="+", metavar="COMPONENT",
                             help="node:NAME, adapter:NODE/IFNAME, switch:NAME, link:NAME, linkend:NODE/LINK, "
                                  "domain:NAME, port:NODE/IFNAME, deaf:NODE/IFNAME, mute:NODE/IFNAME, hung:SWITCH, "
                                  "as halang simulate names them")
        command.set_defaults(run=_reporting(run))
        if verb == "fail":
            command.add_argument("--flap", type=_times, metavar="N",
                                 help="fail and heal them N times, --every DURATION apart, in the foreground; they "
                                      "end healed, also on Ctrl-C")
            command.add_argument("--every", type=_duration, metavar="DURATION",
                                 help="the time between a flap's changes: 300ms, 2s, ...")

    status = verbs.add_parser("status", help="what has failed, which daemons run, which node holds each address")
    status.set_defaults(run=_reporting(cmd_status))

    down = verbs.add_parser("down", help="stop the daemons and remove the lab (nothing up: nothing to do)")
    down.set_defaults(run=_reporting(cmd_down))

    for command in verbs.choices.values():
        command.add_argument("--base", default=DEFAULT_BASE, metavar="DIR",
                             help=f"the folder of the labs (default {DEFAULT_BASE}, emptied by a reboot)")


def lab_state_dirs(base: str | os.PathLike[str] = DEFAULT_BASE) -> dict[str, Path]:
    """Node -> its daemon's state dir (`control.sock`, `events.jsonl`) in the current lab of `base`; {} if no lab
    is up there, it runs no daemons (`--no-engines`), or this user may not read it (the lab is root's)."""
    from halang.lab.live import LiveLab
    from halang.lab.plan import LabError

    try:
        live = LiveLab.find(base)
    except (OSError, LabError):
        return {}
    return live.state_dirs() if live is not None else {}


def _reporting(command):
    """A LabError is the command's trouble: its message on standard error and exit 2, never a traceback."""
    def run(args: argparse.Namespace) -> int:
        from halang.lab.plan import LabError

        try:
            return command(args)
        except LabError as exc:
            print(f"halang: {exc}", file=sys.stderr)
            return EXIT_TROUBLE
    return run


def cmd_up(args: argparse.Namespace) -> int:
    from halang.lab.live import LiveLab

    live = LiveLab.up(args.file, args.base, args.drivers, engines=not args.no_engines)
    print(render_up(live, args.drivers))
    return EXIT_OK


def _times(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of times: write 1 or more")
    return int(text)


def _duration(text: str) -> int:
    """Milliseconds, more than 0."""
    from halang.model.literals import LiteralError, parse_duration

    try:
        milliseconds = parse_duration(text)
    except LiteralError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if milliseconds < 1:
        raise argparse.ArgumentTypeError(f"'{text}': a flap's changes must be some time apart, such as 300ms")
    return milliseconds


def cmd_fail(args: argparse.Namespace) -> int:
    from halang.lab.live import current_locked
    from halang.lab.plan import LabError

    if (args.flap is None) != (args.every is None):
        raise LabError("--flap N and --every DURATION go together, e.g. halang lab fail port:alpha/en0 --flap 3 "
                       "--every 300ms")
    if args.flap is not None:
        return _flap(args)
    with current_locked(Path(args.base).resolve()) as live:
        names = live.names(args.components)
        killed = live.fail(names)
    print(f"failed {', '.join(names)}"
          + "".join(f"; the daemon of {node} was killed (SIGKILL, a crash)" for node in killed))
    return EXIT_OK


def _flap(args: argparse.Namespace) -> int:
    from halang.lab.lab import flapping
    from halang.lab.live import current_locked
    from halang.model.literals import format_duration

    apart = format_duration(args.every)
    stop = _Stop()
    with current_locked(Path(args.base).resolve()) as live, stop.installed():
        chosen = live.names(args.components)
        names = ", ".join(chosen)
        print(f"flapping {names}: {args.flap} times, {apart} apart", flush=True)

        def step(at: float, what: str) -> None:
            print(f"  {at:8.3f} s  {what}", flush=True)
            stop.check()

        try:
            flapping(stop.whole(lambda: live.fail(chosen)), stop.whole(lambda: live.heal(chosen)), args.flap,
                     args.every / 1000, step)
        except KeyboardInterrupt:
            print(f"interrupted: {names} healed", file=sys.stderr)
            return 130
    print(f"flapped {names} {args.flap} times, {apart} apart: healed")
    return EXIT_OK


class _Stop:
    """Ctrl-C and SIGTERM stop a flap between its changes, never halfway through one (a lab half rewired): a
    signal during a change is kept until the change is done. The flap then heals what it failed."""

    def __init__(self) -> None:
        self.changing = False
        self.pending = False

    @contextmanager
    def installed(self):
        before = {number: signal.signal(number, self._signalled) for number in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for number, handler in before.items():
                signal.signal(number, handler)

    def _signalled(self, number, frame) -> None:
        if self.changing:
            self.pending = True
        else:
            raise KeyboardInterrupt

    def whole(self, change):
        def run() -> None:
            self.changing = True
            try:
                change()
            finally:
                self.changing = False
        return run

    def check(self) -> None:
        if self.pending:
            raise KeyboardInterrupt


def cmd_heal(args: argparse.Namespace) -> int:
    from halang.lab.live import current_locked

    with current_locked(Path(args.base).resolve()) as live:
        names = live.names(args.components)
        booted = live.heal(names)
    print(f"healed {', '.join(names)}"
          + "".join(f"; {node} booted: only its own addresses, its daemon started again "
                    f"(pid {live.daemons[node]['pid']})" for node in booted))
    return EXIT_OK


def cmd_status(args: argparse.Namespace) -> int:
    from halang.lab.live import current

    print(render_status(current(Path(args.base).resolve())))
    return EXIT_OK


def cmd_down(args: argparse.Namespace) -> int:
    from halang.lab.live import POINTER, LiveLab, locked
    from halang.lab.system import System

    base = Path(args.base).resolve()
    if not (base / POINTER).exists():
        print(f"no lab is up under {base}: nothing to take down")
        return EXIT_OK
    System().preflight()
    with locked(base):
        live = LiveLab.find(base)
        if live is None:
            (base / POINTER).unlink(missing_ok=True)
            print(f"the lab {base / POINTER} named is gone already: nothing to take down")
            return EXIT_OK
        stopped, report = live.down()
    print(f"lab {live.lab.prefix} is down: "
          + (f"the daemons of {', '.join(stopped)} stopped, " if stopped else "")
          + f"{len(report['namespaces'])} namespaces and {live.lab.plan.workdir} removed")
    for item in report["left_alone"]:
        print(f"left alone: processes {', '.join(map(str, item['pids']))} in {item['netns']}, which the lab did not "
              f"start; the namespace's name is gone, and it ends with them")
    return EXIT_OK


# ------------------------------------------------------------------ what the commands print


def render_up(live, drivers: str) -> str:
    from halang.lab.engines import service_addresses
    from halang.lab.live import base_option

    lab, plan = live.lab, live.lab.plan
    services = service_addresses(lab.spec)
    groups = {label: group.name for group in lab.spec.groups for label in group.service_ips}
    option = base_option(live.base)
    width = max(len(node.name) for node in plan.nodes)
    lines = [f"lab {lab.prefix} is up under {live.base}: cluster {plan.cluster} of {plan.source}", ""]
    for node in plan.nodes:
        adapters = ", ".join(f"{adapter.ifname} {adapter.address}" for adapter in plan.adapters_of(node.name))
        lines.append(f"  node {node.name:<{width}}  namespace {node.netns}  {adapters}")
        if live.daemons:
            record = live.daemons[node.name]
            lines.append(f"       {'':<{width}}  daemon pid {record['pid']}, state dir {record['state_dir']} "
                         f"(control.sock, events.jsonl, stderr)")
    for client in plan.clients:
        lines.append(f"  client of {client.network}: namespace {client.netns}  {', '.join(client.addresses)}")
    for target in plan.targets:
        lines.append(f"  ping targets of {target.network}: namespace {target.netns}  {', '.join(target.addresses)}")
    for label, address in services.items():
        lines.append(f"  service {label} {address}" + (f" (group {groups[label]})" if label in groups else ""))
    lines.append("")
    first = plan.nodes[0].name
    if live.daemons is None:
        lines.append(f"No daemons (--no-engines); start one in a node's namespace, e.g. ip netns exec "
                     f"{lab.netns(first)} python3 BUNDLE.pyz run --node {first} {' '.join(lab.device_args(first))}")
    elif drivers == "recorded":
        lines.append("The daemons only record volume groups, filesystems and applications (--drivers recorded); "
                     "the service addresses are real.")
    lines.append("")
    if live.daemons:
        state_dir = live.daemons[first]["state_dir"]
        watch = "halang status" if not option else f"halang status --state-dir {state_dir}"
        lines.append(f"  watch:  {watch}   (or tail -f {state_dir}/events.jsonl)")
    if plan.clients and services:
        lines.append(f"  probe:  ip netns exec {plan.clients[0].netns} ping {next(iter(services.values()))}")
    lines += [f"  fail:   halang lab fail node:{first}{option}   (any of: {', '.join(live.components())})",
              f"  heal:   halang lab heal node:{first}{option}",
              f"  look:   halang lab status{option}",
              f"  end:    halang lab down{option}"]
    return "\n".join(lines)


def render_status(live) -> str:
    from halang.lab.engines import service_addresses

    lab = live.lab
    failed = lab.failed
    down = live.nodes_down(failed)
    services = service_addresses(lab.spec)
    lines = [f"lab {lab.prefix} under {live.base}: cluster {lab.plan.cluster} of {lab.plan.source}",
             f"failed: {', '.join(failed) if failed else 'nothing'}"]
    for node in lab.plan.nodes:
        if live.daemons is None:
            daemon = "no daemon (--no-engines)"
        elif live.running(node.name):
            daemon = f"daemon running, pid {live.daemons[node.name]['pid']}"
        else:
            daemon = "daemon not running"
        lines.append(f"  node {node.name}: {daemon}" + (" (the node is down)" if node.name in down else ""))
    for label, places in live.holders().items():
        where = ", ".join(f"{node} {ifname}" + (" (a down node: nobody reaches it there)" if node in down else "")
                          for node, ifname in places)
        lines.append(f"  {label} {services[label]}: {where or 'on no node'}")
    return "\n".join(lines)
