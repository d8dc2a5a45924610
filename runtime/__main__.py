"""The bundle's command line: what `python3 BUNDLE.pyz ...` does on a node.

    python3 BUNDLE.pyz info [--node NAME] [--json]   the manifest, and a node's plan
    python3 BUNDLE.pyz verify                        every member against the manifest
    python3 BUNDLE.pyz run --node NAME [--state-dir DIR] [--key-file PATH] [--device LINK=PATH]...
                           [--resource-drivers real|recorded]
                                                     the node daemon (runtime/node/daemon.py)
    python3 BUNDLE.pyz preflight --node NAME [--root DIR] [--sysfs DIR]
                                                     what the node has of what it needs, as JSON
    python3 CURRENT.pyz --bundle STAGED accept --signature HEX [--root DIR]
                                                     is STAGED signed with the key CURRENT names (deploy)

Every command checks the whole bundle first and refuses a damaged one.
Exit codes: 0 done (for `run`: stopped by SIGTERM, having released what it
held); 1 the bundle is refused (damaged or tampered with); 2 bad usage
(unknown command or node, not run from a bundle); 3 `run` cannot start (its
key file cannot be read, a heartbeat device cannot be opened, no netlink). `--bundle PATH` reads another bundle, which is
also how to use this from a source tree (`python3 -m runtime info --bundle X`).
Standard library only, Python 3.9 and newer.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, Dict, List, Optional

from runtime.node.bundle import Bundle, BundleError, NoSuchNode, open_bundle, this_archive

EXIT_OK, EXIT_REFUSED, EXIT_USAGE, EXIT_CANNOT_RUN = 0, 1, 2, 3


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python3 BUNDLE.pyz", description="A halang cluster bundle.")
    parser.add_argument("--bundle", metavar="PATH", help="the bundle to read (default: the one running)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    info = commands.add_parser("info", help="print the manifest, and the plan of one node")
    info.add_argument("--node", metavar="NAME")
    info.add_argument("--json", action="store_true", help="print the manifest and plan as JSON")
    commands.add_parser("verify", help="check every member's sha256 against the manifest")
    run = commands.add_parser("run", help="run the node daemon")
    run.add_argument("--node", metavar="NAME", required=True)
    run.add_argument("--state-dir", metavar="DIR", default="/var/lib/halang",
                     help="where the incarnation and the event log are kept (default /var/lib/halang)")
    run.add_argument("--key-file", metavar="PATH", help="the cluster's key (default: the file's key_file)")
    run.add_argument("--device", action="append", default=[], metavar="LINK=PATH",
                     help="the device of a link on this node, instead of the file's (a lab's pty or disk file)")
    run.add_argument("--resource-drivers", choices=("real", "recorded"), default="real",
                     help="recorded: volume groups, filesystems, applications and monitors are only recorded in "
                          "the event log, as if they worked (a rehearsal of address takeover); default real")
    preflight = commands.add_parser("preflight", help="print, as JSON, what this node has of what the bundle needs")
    preflight.add_argument("--node", metavar="NAME", required=True)
    preflight.add_argument("--root", metavar="DIR", default="/", help="where the node's files are (default /)")
    preflight.add_argument("--sysfs", metavar="DIR", default="/sys", help="where its interfaces are (default /sys)")
    accept = commands.add_parser("accept", help="check that --bundle is signed with the key of the running bundle")
    accept.add_argument("--signature", metavar="HEX", required=True)
    accept.add_argument("--root", metavar="DIR", default="/", help="where the node's files are (default /)")
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    try:
        code = dispatch(argv)
        # Flushed here, where a reader that went away is caught, rather than by the interpreter at exit.
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (`| head`): what it did not read is not wanted. stdout now points at
        # /dev/null, so the interpreter's last flush cannot fail again (it would print a traceback, exit 120).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    return code


def dispatch(argv: Optional[List[str]]) -> int:
    args = build_parser().parse_args(argv)
    path = args.bundle or this_archive()
    if path is None:
        print("halang bundle: not running from a bundle file: give --bundle PATH", file=sys.stderr)
        return EXIT_USAGE
    try:
        bundle = open_bundle(path)
        if args.command == "info":
            return info(bundle, args.node, args.json)
        if args.command == "verify":
            print("%s: ok: %d members match the manifest; cluster %s, content sha256 %s"
                  % (bundle.path, len(bundle.members), bundle.cluster, bundle.content_hash))
            return EXIT_OK
        if args.command == "preflight":
            from runtime.node.preflight import probe

            bundle.plan(args.node)
            print(json.dumps(probe(bundle.snapshot(), args.node, args.root, args.sysfs), sort_keys=True))
            return EXIT_OK
        if args.command == "accept":
            return accept(bundle, args.signature, args.root)
        return run(bundle, args.node, args.state_dir, args.key_file, args.device, args.resource_drivers)
    except NoSuchNode as exc:
        print("halang bundle: %s" % exc, file=sys.stderr)
        return EXIT_USAGE
    except BundleError as exc:
        print("halang bundle: %s" % exc, file=sys.stderr)
        return EXIT_REFUSED


def info(bundle: Bundle, node: Optional[str], as_json: bool) -> int:
    plan = bundle.plan(node) if node is not None else None
    if as_json:
        data = {"manifest": bundle.manifest, "plan": plan} if plan is not None else {"manifest": bundle.manifest}
        print(json.dumps(data, indent=2, sort_keys=True))
        return EXIT_OK
    print(render_manifest(bundle))
    if plan is not None:
        print()
        print(render_plan(plan))
    return EXIT_OK


def accept(staged: Bundle, claimed: str, root: str) -> int:
    """The node's own check of a staged bundle: signed with the key file the bundle it runs now names."""
    from runtime.node.preflight import under
    from runtime.core.signing import signed_by

    running = this_archive()
    if running is None:
        print("halang bundle: accept runs from the node's current bundle, not from a source tree", file=sys.stderr)
        return EXIT_USAGE
    key_file = open_bundle(running).snapshot()["heartbeat"]["key_file"]
    if not key_file:
        print("accepted: the running bundle names no key_file, so bundles are not signed")
        return EXIT_OK
    try:
        key = open(under(root, key_file), "rb").read()
    except OSError as exc:
        print("halang bundle: refused: cannot read the cluster key %s: %s" % (key_file, exc.strerror), file=sys.stderr)
        return EXIT_REFUSED
    if not signed_by(key, staged.content_hash, claimed):
        print("halang bundle: refused: %s is not signed with this node's cluster key (%s)"
              % (staged.short_hash, key_file), file=sys.stderr)
        return EXIT_REFUSED
    print("accepted: signed with the cluster key %s" % key_file)
    return EXIT_OK


def run(bundle: Bundle, node: str, state_dir: str, key_file: Optional[str], devices: List[str],
        resource_drivers: str = "real") -> int:
    from runtime.node.actuator import AddressActuator
    from runtime.node.daemon import Daemon, DaemonError
    from runtime.node.drivers import GroupDriver, Prober, RecordingGroupDriver
    from runtime.core.snapshot import SnapshotError, load_snapshot
    from runtime.node.worker import EventScripts

    bundle.plan(node)  # an unknown node is a usage error, said before anything else
    overrides = {}
    for item in devices:
        link, equals, path = item.partition("=")
        if not equals or not link or not path:
            print("halang bundle: --device takes LINK=PATH, not %r" % item, file=sys.stderr)
            return EXIT_USAGE
        overrides[link] = path
    try:
        spec = load_snapshot(bundle.snapshot())
    except SnapshotError as exc:
        print("halang bundle: the snapshot cannot be read: %s" % exc, file=sys.stderr)
        return EXIT_REFUSED
    path = key_file or spec.heartbeat.key_file
    try:
        key = open(path, "rb").read() if path else b""
    except OSError as exc:
        print("halang bundle: cannot read the key file %s: %s; nothing was started" % (path, exc.strerror),
              file=sys.stderr)
        return EXIT_CANNOT_RUN
    if resource_drivers == "real":
        driver, prober = GroupDriver(spec), Prober()
    else:
        driver = prober = RecordingGroupDriver(spec)
    try:
        scripts = EventScripts(write_event_wrappers(bundle, node, state_dir), node)
        actuator = AddressActuator(spec, node)
        daemon = Daemon(spec, node, key, bundle.content_hash[:16], state_dir, actuator, overrides, driver=driver,
                        prober=prober, event_scripts=scripts)
    except (DaemonError, OSError) as exc:
        print("halang bundle: node %s cannot start: %s" % (node, exc), file=sys.stderr)
        return EXIT_CANNOT_RUN
    daemon.run()
    if daemon.reload:
        # The same path again: after a deploy, `current.pyz` is the new bundle (docs/deploy.md).
        sys.stdout.flush()
        sys.stderr.flush()
        os.execv(sys.executable, [sys.executable] + sys.argv)
    return EXIT_OK


def write_event_wrappers(bundle: Bundle, node: str, state_dir: str) -> Dict[str, Any]:
    """The bundle's event wrappers written to STATE_DIR/events/ (a script runs from a file): kind -> (path, the
    names of its arguments)."""
    found: Dict[str, Any] = {}
    folder = os.path.join(state_dir, "events")
    os.makedirs(folder, exist_ok=True)
    for kind, entry in bundle.plan(node)["events"].items():
        path = os.path.join(folder, kind + ".sh")
        temporary = path + ".new"
        with open(temporary, "w") as handle:
            handle.write(bundle.text(entry["wrapper"]))
        os.chmod(temporary, 0o755)
        os.replace(temporary, path)
        found[kind] = (path, tuple(entry["arguments"]))
    return found


def render_manifest(bundle: Bundle) -> str:
    rows = [
        ("bundle", bundle.path),
        ("name", bundle.file_name),
        ("cluster", bundle.cluster),
        ("content", "sha256 " + bundle.content_hash),
        ("format", str(bundle.bundle_format)),
        ("compiler", "halang " + bundle.compiler_version),
        ("members", "%d, all matching the manifest" % len(bundle.members)),
        ("nodes", ", ".join(bundle.nodes())),
        ("proved", _proved(bundle)),
    ]
    return "\n".join("%-9s %s" % row for row in rows)


def _proved(bundle: Bundle) -> str:
    """What verify proved of the file (proof.json), in words."""
    if "proof.json" not in bundle.members:
        return "not recorded (a bundle from before proof.json)"
    try:
        proof = json.loads(bundle.text("proof.json"))
        faults, complete = int(proof["faults"]), bool(proof["complete"])
        reachable, z3_version = bool(proof["reachable"]), str(proof["z3_version"])
    except (ValueError, KeyError, TypeError):
        return "proof.json cannot be read"
    if not complete:
        return "NOT COMPLETE: the failure analysis %s (--faults %d)" % (proof.get("analysis", "did not finish"), faults)
    scope = "every set of up to %d failure%s" % (faults, "" if faults == 1 else "s")
    if reachable:
        scope += ", from every reachable placement"
    return "%s (z3 %s)" % (scope, z3_version)


def render_plan(plan: Dict[str, Any]) -> str:
    lines = ["node %s (cluster %s)" % (plan["node"], plan["cluster"]), "", "adapters"]
    for adapter in plan["adapters"]:
        lines.append("  %-14s %-8s %-8s %-28s switch %s" % (
            adapter["network"], adapter["ifname"], adapter["role"],
            "%s/%d" % (adapter["address"], adapter["prefix"]), adapter["switch"]))
    if not plan["adapters"]:
        lines.append("  (none)")
    beat = plan["heartbeat"]
    signed = "signed with %s" % beat["key_file"] if beat["key_file"] else "UNSIGNED (no key_file)"
    lines += ["", "heartbeat every %dms, a path is down after %d missed beats (%dms); UDP port %d; %s; quorum %s%s"
              % (beat["interval_ms"], beat["miss_limit"], beat["detection_ms"], beat["port"], signed,
                 beat["quorum"], ", tie-breaker %s" % beat["tie_breaker"] if beat["tie_breaker"] else "")]
    lines += ["", "heartbeat paths (%d): sent and expected" % len(plan["paths"])]
    for path in plan["paths"]:
        if path["type"] == "ip":
            lines.append("  %-10s ip      %s %s <-> %s %s port %d  (%s, %s)" % (
                path["peer"], path["ifname"], path["address"], path["peer_ifname"], path["peer_address"],
                path["port"], path["network"], path["subnet"]))
        else:
            slot = "  slot %d, peer's slot %d" % (path["slot"], path["peer_slot"]) if path["slot"] is not None else ""
            lines.append("  %-10s %-7s %s <-> %s  (%s)%s" % (
                path["peer"], path["type"], path["device"], path["peer_device"], path["link"], slot))
    if not plan["paths"]:
        lines.append("  (none: this node hears no other node)")
    lines += ["", "groups it may host (%d)" % len(plan["groups"])]
    for group in plan["groups"]:
        lines.append("  %-14s %d of %d%s  priority %s; startup %s, fallover %s, fallback %s" % (
            group["group"], group["position"], len(group["nodes"]), " (home)" if group["home"] else "       ",
            ", ".join(group["nodes"]), group["startup"], group["fallover"], group["fallback"]))
        for service in group["service_ips"]:
            lines.append("  %-14s service %s %s on %s (%s)" % (
                "", service["label"], service["address"], ", ".join(service["ifnames"]) or "no adapter",
                service["network"]))
    if not plan["groups"]:
        lines.append("  (none)")
    events = plan["events"]
    lines += ["", "event wrappers (%d)" % len(events)]
    for kind in sorted(events):
        lines.append("  %-14s %s PHASE %s" % (kind, events[kind]["wrapper"], " ".join(events[kind]["arguments"])))
    if not events:
        lines.append("  (none)")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
