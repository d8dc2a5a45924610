"""The `halang` command: the only module that reads argv, prints and picks exit codes.

Exit codes, the same for every command (halang/outcome.py, docs/cli.md): 0 success, 1 findings
(or changes) to report, 2 the command could not run (no such file, bad flags, unreadable input).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from halang import __version__, diagnostics
from halang.diagnostics import SourceText
from halang.lab import command as lab_command
from halang.outcome import EXIT_FINDINGS, EXIT_OK, EXIT_TROUBLE, Outcome


class Trouble(Exception):
    """The command cannot run; the message says why."""


def read_source(path: str) -> SourceText:
    try:
        return diagnostics.read_source(path)
    except diagnostics.SourceError as exc:
        raise Trouble(str(exc)) from None


def use_color(args) -> bool:
    return not args.no_color and "NO_COLOR" not in os.environ and sys.stdout.isatty()


def cmd_verify(args) -> int:
    from halang.report.json_report import render_json
    from halang.report.text import Style, render_report
    from halang.verify import verify_source

    reports = [verify_source(read_source(path), faults=args.faults, budget_ms=args.budget, reachable=args.reachable)
               for path in args.files]
    if args.format == "json":
        sys.stdout.write(render_json(reports))
    elif args.format == "sarif":
        from halang.report.sarif import render_sarif

        sys.stdout.write(render_sarif(reports, args.strict))
    elif args.format == "junit":
        from halang.report.junit import render_junit

        sys.stdout.write(render_junit(reports, args.strict))
    else:
        style = Style(use_color(args))
        print("\n\n".join(render_report(report, style) for report in reports))
    return EXIT_FINDINGS if any(report.failing(args.strict) for report in reports) else EXIT_OK


def cmd_show(args) -> int:
    from halang.show import render_summary
    from halang.verify import verify_source

    report = verify_source(read_source(args.file), faults=0)
    if report.errors or report.cluster is None:
        return _refuse(report, args, "shown")
    if args.format == "json":
        sys.stdout.write(report.cluster.to_json())
    else:
        print(render_summary(report.cluster))
    return EXIT_OK


def _refuse(report, args, done: str) -> int:
    """A file with errors: its findings on standard error, and nothing done."""
    from halang.report.text import Style, render_report

    if report.faults == 0:
        report.analysis_note = ""  # the command asked for no analysis: saying so would only mislead
    print(render_report(report, Style(use_color(args))), file=sys.stderr)
    print(f"{args.file}: not {done}: fix the errors first", file=sys.stderr)
    return EXIT_FINDINGS


def cmd_explain(args) -> int:
    from halang.checks.registry import all_checks, check_for
    from halang.explain import render_explanation

    if args.code is None:
        for code, check in all_checks().items():
            doc = check.doc()
            print(f"{code}  {doc.severity.value:<7}  {doc.title}")
        return EXIT_OK
    check = check_for(args.code)
    if check is None:
        raise Trouble(f"no such code: {args.code} (halang explain lists them all)")
    print(render_explanation(check.doc()))
    return EXIT_OK


def cmd_compile(args) -> int:
    from halang.compile import CompileError, compile_source
    from halang.report.text import Style, render_report

    try:
        result = compile_source(read_source(args.file), args.output, faults=args.faults, budget_ms=args.budget,
                                reachable=args.reachable)
    except CompileError as exc:
        raise Trouble(str(exc)) from None
    if result.refused:
        return _refuse(result.report, args, "compiled")
    if result.report.findings:
        print(render_report(result.report, Style(use_color(args))), file=sys.stderr)
    print(result.bundle)
    return EXIT_OK


def cmd_export(args) -> int:
    from halang.export import ExportError, export_source
    from halang.report.text import Style, render_finding, render_report

    try:
        result = export_source(read_source(args.file), args.output, faults=args.faults, budget_ms=args.budget,
                               reachable=args.reachable)
    except ExportError as exc:
        raise Trouble(str(exc)) from None
    if result.refused:
        return _refuse(result.report, args, "exported")
    style = Style(use_color(args))
    if result.report.findings:
        print(render_report(result.report, style), file=sys.stderr)
    for finding in result.findings:  # what Pacemaker cannot do as the file says; EXPORT.md lists them too
        print(render_finding(finding, result.report.source, style) + "\n", file=sys.stderr)
    for path in result.written:
        print(path)
    return EXIT_OK


def _print_result(outcome: Outcome) -> int:
    """Commands that return an Outcome: what explains a refusal or trouble goes to standard error."""
    if outcome.output:
        print(outcome.output.rstrip("\n"), file=sys.stderr if outcome.refused else sys.stdout)
    return outcome.code


def cmd_diff(args) -> int:
    from halang.diff import diff_command

    if args.deployed:
        if len(args.sides) != 1:
            raise Trouble("diff --deployed takes one FILE: the nodes are the other side")
        from halang.deploy import diff_deployed

        return _print_result(diff_deployed(args.sides[0], _transport(args), args.format, args.parallel))
    if len(args.sides) != 2:
        raise Trouble("diff takes OLD and NEW (or --deployed FILE)")
    return _print_result(diff_command(*args.sides, args.format))


def _transport(args):
    from halang.deploy import make_transport

    try:
        return make_transport(args.transport)
    except ValueError as exc:
        raise Trouble(str(exc)) from None


def _console(args):
    from halang.deploy import Console

    def say(line: str) -> None:
        print(line, flush=True)

    def warn(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    def progress(node: str, text: str) -> None:
        print(f"{node}: {text}", flush=True)

    def confirm(question: str) -> bool:
        return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")

    interactive = sys.stdin.isatty() and sys.stdout.isatty()
    return Console(say, warn, progress, confirm if interactive else None, use_color(args))


def _deploy_options(args):
    from halang.deploy import Options

    return Options(yes=args.yes, dry_run=args.dry_run, check=getattr(args, "check", False), parallel=args.parallel,
                   key_file=args.key_file, faults=getattr(args, "faults", 1), budget_ms=getattr(args, "budget", None),
                   reachable=getattr(args, "reachable", False), reload_timeout=args.reload_timeout)


def cmd_deploy(args) -> int:
    from halang.deploy import deploy_command

    return deploy_command(args.file, _transport(args), _console(args), _deploy_options(args))


def cmd_rollback(args) -> int:
    from halang.deploy import rollback_command

    return rollback_command(args.file, _transport(args), _console(args), _deploy_options(args))


def cmd_status(args) -> int:
    from halang import control

    path = control.find_socket(args.state_dir)
    show = control.status_json if args.format == "json" else control.status_text
    try:
        while True:
            seen = control.status(path)
            if args.watch:
                print("\033[H\033[2J", end="")  # as watch(1) does: the screen anew each time
            print(show(seen))
            if not args.watch:
                return EXIT_OK
            sys.stdout.flush()
            time.sleep(args.watch)
    except control.ControlError as exc:
        raise Trouble(str(exc)) from None


def cmd_request(args) -> int:
    from halang import control

    if args.op == "stop":
        message = {"op": "stop", "node": args.node, "mode": args.mode}
    else:
        message = {"op": args.op, "group": args.group}
        if getattr(args, "to", None):
            message["to"] = args.to
    try:
        return control.request(control.find_socket(args.state_dir), message, not args.no_wait, args.timeout,
                               lambda line: print(line, flush=True), lambda line: print(line, file=sys.stderr))
    except control.ControlError as exc:
        raise Trouble(str(exc)) from None


def cmd_start(args) -> int:
    from halang.deploy import start_command

    from halang.deploy.transport import ThisMachine

    transport = ThisMachine() if args.file is None else _transport(args)
    return start_command(args.file, args.node, transport, _console(args))


def cmd_fmt(args) -> int:
    from halang.fmt import fmt_command

    return max(_print_result(fmt_command(path, check=args.check)) for path in args.files)


def cmd_graph(args) -> int:
    from halang.graph import graph_command

    return _print_result(graph_command(args.file, args.output, args.fail or []))


def cmd_simulate(args) -> int:
    import json

    from halang.model.spec import cluster_spec
    from halang.simulate import (
        Action,
        SimulationError,
        read_start,
        render_json,
        render_text,
        simulate,
        split_components,
    )
    from halang.verify import verify_source
    from runtime.core.snapshot import SnapshotError

    if args.batch and (args.steps or args.format == "text"):
        raise Trouble("--batch reads the steps from its file and writes JSON lines: "
                      "leave out --fail, --recover and --format text")
    report = verify_source(read_source(args.file), faults=0)
    # Only a file halang cannot read blocks a rehearsal; other findings are what one may want to rehearse.
    unreadable = [f for f in report.errors if f.code.startswith(("HA0", "HA1"))]
    if report.cluster is None or unreadable:
        return _refuse(report, args, "simulated")
    try:
        spec = cluster_spec(report.cluster)
    except SnapshotError as exc:  # HA1xx findings say why first; this is a last guard against a traceback
        raise Trouble(f"{args.file}: the runtime cannot read this cluster: {exc}") from None
    start = None
    if args.start:
        try:
            start = read_start(spec, json.loads(read_source(args.start).text))
        except (json.JSONDecodeError, SimulationError) as exc:
            raise Trouble(f"{args.start}: cannot start from it: {exc}") from None
    if args.batch:
        return _simulate_batch(spec, read_source(args.batch).text, start)
    actions = [Action(verb, split_components(text)) for verb, text in args.steps or []]
    try:
        result = simulate(spec, actions, start)
    except SimulationError as exc:
        raise Trouble(str(exc)) from None
    if args.format == "json":
        print(json.dumps(render_json(result), indent=2, sort_keys=True))
    else:
        print(render_text(result).rstrip("\n"))
    return EXIT_OK


def _simulate_batch(spec, text: str, start) -> int:
    """One compact JSON answer a sequence; a line that cannot run says so on its own line and the batch goes on."""
    import json

    from halang.simulate import run_sequence

    bad = []
    count = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        count += 1
        answer = run_sequence(spec, line, number, start)
        if "error" in answer:
            bad.append(str(number))
        print(json.dumps(answer, separators=(",", ":"), sort_keys=True))
    if bad:
        print(f"halang: {len(bad)} of {count} sequences could not run (line {', '.join(bad)})", file=sys.stderr)
        return EXIT_TROUBLE
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="halang", description="Describe, verify, compile and deploy HA clusters.")
    parser.add_argument("--version", action="version", version=f"halang {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    verify = commands.add_parser("verify", help="check .ha files: static rules and failure analysis")
    verify.add_argument("files", nargs="+", metavar="FILE")
    verify.add_argument("--format", choices=("text", "json", "sarif", "junit"), default="text")
    verify.add_argument("--faults", type=_faults, default=1, metavar="K",
                        help="analyse every set of up to K simultaneous failures (0: static checks only)")
    _analysis_options(verify)
    verify.add_argument("--strict", action="store_true", help="warnings fail the run too")
    verify.add_argument("--no-color", action="store_true")
    verify.set_defaults(run=cmd_verify)

    show = commands.add_parser("show", help="print the resolved cluster (a summary, or canonical JSON)")
    show.add_argument("file", metavar="FILE")
    show.add_argument("--format", choices=("text", "json"), default="text")
    show.add_argument("--no-color", action="store_true")
    show.set_defaults(run=cmd_show)

    compile_ = commands.add_parser("compile", help="write the cluster's bundle: one self-contained .pyz for its nodes")
    compile_.add_argument("file", metavar="FILE")
    compile_.add_argument("-o", "--output", required=True, metavar="DIR",
                          help="the directory to write CLUSTER-SHORTHASH.pyz into (created if missing)")
    compile_.add_argument("--faults", type=_faults, default=1, metavar="K",
                          help="refuse the file if verify --faults K finds errors (default 1)")
    _analysis_options(compile_)
    compile_.add_argument("--no-color", action="store_true")
    compile_.set_defaults(run=cmd_compile)

    export = commands.add_parser("export", help="write the cluster as another stack's configuration (pacemaker: "
                                                "cib.xml, corosync.conf, OCF agents, EXPORT.md)")
    export.add_argument("target", choices=("pacemaker",), metavar="pacemaker")
    export.add_argument("file", metavar="FILE")
    export.add_argument("-o", "--output", required=True, metavar="DIR",
                        help="the directory to write the files into (created if missing)")
    export.add_argument("--faults", type=_faults, default=1, metavar="K",
                        help="refuse the file if verify --faults K finds errors (default 1)")
    _analysis_options(export)
    export.add_argument("--no-color", action="store_true")
    export.set_defaults(run=cmd_export)

    simulate = commands.add_parser("simulate", help="rehearse failures and recoveries: the placement and events "
                                                    "after each")
    simulate.add_argument("file", metavar="FILE")
    simulate.add_argument("--fail", action="append", dest="steps", type=_fail, metavar="COMPONENT",
                          help="a failure (node:NAME, adapter:NODE/IFNAME, switch:NAME, link:NAME, linkend:NODE/LINK, "
                               "domain:NAME; several at once separated by commas); repeatable, in order with "
                               "--recover")
    simulate.add_argument("--recover", action="append", dest="steps", type=_recover, metavar="COMPONENT",
                          help="a failed component comes back (named as for --fail); repeatable, in order with --fail")
    simulate.add_argument("--from", dest="start", metavar="STATE.json",
                          help="start where an earlier `simulate --format json` ended (its failures included), or "
                               'from a placement {"groups": ..., "failed": [...]}, instead of the startup one')
    simulate.add_argument("--batch", metavar="FILE.jsonl",
                          help="rehearse one sequence a line, each answered by one JSON line (see docs/cli.md)")
    simulate.add_argument("--format", choices=("text", "json"), default=None, help="text (default) or json")
    simulate.add_argument("--no-color", action="store_true")
    simulate.set_defaults(run=cmd_simulate)

    diff = commands.add_parser("diff", help="what changes between two versions (.ha or bundle), and its impact")
    diff.add_argument("sides", nargs="+", metavar="SIDE",
                      help="OLD and NEW, each a .ha file or a bundle; with --deployed, FILE alone")
    diff.add_argument("--format", choices=("text", "json"), default="text")
    diff.add_argument("--deployed", action="store_true",
                      help="compare FILE with what the nodes run now, and report drift between nodes")
    _node_options(diff)
    diff.set_defaults(run=cmd_diff)

    deploy = commands.add_parser("deploy", help="roll the file out to every node: verify, compile, pre-flight, "
                                                "plan, stage, activate (all nodes or none)")
    deploy.add_argument("file", metavar="FILE")
    deploy.add_argument("--check", action="store_true", help="only the pre-flight on the nodes (HA701-HA705)")
    deploy.add_argument("--faults", type=_faults, default=1, metavar="K",
                        help="refuse the file if verify --faults K finds errors (default 1)")
    _analysis_options(deploy)
    _rollout_options(deploy)
    deploy.set_defaults(run=cmd_deploy)

    rollback = commands.add_parser("rollback", help="every node back to the bundle it ran before (all or none)")
    rollback.add_argument("file", metavar="FILE", help="the cluster's .ha file: its nodes and key")
    _rollout_options(rollback)
    rollback.set_defaults(run=cmd_rollback)

    fmt = commands.add_parser("fmt", help="rewrite .ha files in the canonical layout, keeping comments")
    fmt.add_argument("files", nargs="+", metavar="FILE")
    fmt.add_argument("--check", action="store_true", help="change nothing; exit 1 if a file would change")
    fmt.set_defaults(run=cmd_fmt)

    graph = commands.add_parser("graph", help="draw the cluster (SVG or PNG via Graphviz, or DOT)")
    graph.add_argument("file", metavar="FILE")
    graph.add_argument("-o", "--output", required=True, metavar="OUT",
                       help="x.svg or x.png, or x.dot for the DOT source")
    graph.add_argument("--fail", action="append", metavar="COMPONENT",
                       help="draw the cluster after this failure (node:NAME, switch:NAME, ...); repeatable")
    graph.set_defaults(run=cmd_graph)

    explain = commands.add_parser("explain", help="explain a diagnostic code (no code: list them)")
    explain.add_argument("code", nargs="?", metavar="CODE")
    explain.set_defaults(run=cmd_explain)
    _operator_commands(commands)
    lab_command.add_parser(commands)
    return parser


def _operator_commands(commands) -> None:
    """The commands that steer a running cluster through the daemon on this node (docs/operations.md)."""
    status = commands.add_parser("status", help="the running cluster as this node's daemon sees it: nodes, paths, "
                                                "groups, where each runs and why (like clstat or crm_mon)")
    status.add_argument("--format", choices=("text", "json"), default="text")
    status.add_argument("--watch", type=float, metavar="SECONDS", help="show it again every SECONDS until Ctrl-C")
    _socket_option(status)
    status.set_defaults(run=cmd_status)

    move = commands.add_parser("move", help="move a group to a node (refused, with the reason, if it cannot host it)")
    move.add_argument("group", metavar="GROUP")
    move.add_argument("--to", required=True, metavar="NODE")
    _wait_options(move)
    move.set_defaults(run=cmd_request, op="move")

    online = commands.add_parser("online", help="bring a group online (on NODE, or the first node that can host it)")
    online.add_argument("group", metavar="GROUP")
    online.add_argument("--to", metavar="NODE")
    _wait_options(online)
    online.set_defaults(run=cmd_request, op="online")

    offline = commands.add_parser("offline", help="take a group offline; it stays offline until online or move")
    offline.add_argument("group", metavar="GROUP")
    _wait_options(offline)
    offline.set_defaults(run=cmd_request, op="offline")

    stop = commands.add_parser("stop", help="stop a node's daemon: its groups move to other nodes (--takeover) or "
                                            "go offline (--offline) first")
    stop.add_argument("--node", required=True, metavar="NODE")
    how = stop.add_mutually_exclusive_group(required=True)
    how.add_argument("--takeover", dest="mode", action="store_const", const="takeover")
    how.add_argument("--offline", dest="mode", action="store_const", const="offline")
    _wait_options(stop)
    stop.set_defaults(run=cmd_request, op="stop")

    start = commands.add_parser("start", help="start a node's daemon (its systemd unit, else the deployed bundle)")
    start.add_argument("file", metavar="FILE", nargs="?", help="the cluster's file, which says how to reach the node "
                                                                "(without it: the node is this machine)")
    start.add_argument("--node", required=True, metavar="NODE")
    _node_options(start)
    start.add_argument("--no-color", action="store_true")
    start.set_defaults(run=cmd_start)


def _socket_option(command: argparse.ArgumentParser) -> None:
    command.add_argument("--state-dir", metavar="DIR", help="the daemon's state directory, where its control.sock "
                                                            "is (default /var/lib/halang, else a lab's node)")


def _wait_options(command: argparse.ArgumentParser) -> None:
    _socket_option(command)
    command.add_argument("--no-wait", action="store_true", help="return once the request is accepted")
    command.add_argument("--timeout", type=_positive, default=120, metavar="SECONDS",
                         help="how long to wait for it to be done (default 120)")


def _node_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--transport", default="ssh", metavar="ssh|local:DIR",
                         help="how nodes are reached: OpenSSH (default), or local:DIR, one directory per node")
    command.add_argument("--parallel", type=_positive, default=4, metavar="N", help="nodes at a time (default 4)")


def _rollout_options(command: argparse.ArgumentParser) -> None:
    _node_options(command)
    command.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    command.add_argument("--dry-run", action="store_true", help="show the plan and change nothing")
    command.add_argument("--key-file", metavar="PATH", help="the cluster key to sign with (default: the file's "
                                                            "key_file)")
    command.add_argument("--reload-timeout", type=_positive, default=60, metavar="SECONDS",
                         help="how long a daemon may take to load the new bundle (default 60)")
    command.add_argument("--no-color", action="store_true")


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("at least 1")
    return value


def _analysis_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--budget", type=_budget, default=None, metavar="DURATION",
                         help="time the failure analysis may take (default 2m); what it cannot settle in it is "
                              "HA300, an error")
    command.add_argument("--reachable", action="store_true",
                         help="analyse the failures from every placement the nodes can reach through earlier "
                              "failures that have since recovered, not only from the startup placement")


# argparse types: --fail and --recover append to one list of steps, keeping their command-line order.
def _fail(text: str) -> tuple[str, str]:
    return ("fail", text)


def _recover(text: str) -> tuple[str, str]:
    return ("recover", text)


def _budget(text: str) -> int:
    from halang.model.literals import LiteralError, parse_duration

    try:
        return parse_duration(text)
    except LiteralError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _faults(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if not 0 <= value <= 10:
        raise argparse.ArgumentTypeError("K is 0 to 10")
    return value


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except Trouble as exc:
        print(f"halang: {exc}", file=sys.stderr)
        return EXIT_TROUBLE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK


def run() -> None:
    """The console script: main, then exit without tearing down the heap object by object.

    A large cluster leaves millions of objects; freeing them one by one at exit took longer than
    some checks. Output is flushed first, and halang registers no exit handlers."""
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    run()
