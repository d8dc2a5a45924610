"""`halang deploy`, `halang rollback` and `halang diff --deployed` as functions of a console and a transport.

Each returns its exit code (halang/outcome.py); what it has to say goes through the `Console` it is given,
so halang.cli stays the only module that prints. The rollout, step by step, is in docs/deploy.md.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from halang.deploy.plan import PlanError, Target, preflight_findings, running, targets
from halang.deploy.rollout import Answer, Nodes
from halang.deploy.transport import Transport
from halang.diagnostics import SourceError, read_source
from halang.diff.changes import DiffError, diff_clusters
from halang.diff.render import render_json, render_text
from halang.outcome import EXIT_FINDINGS, EXIT_OK, EXIT_TROUBLE, Outcome, trouble
from runtime.core.signing import signature


@dataclass
class Console:
    say: Callable[[str], None]  # results: standard output
    warn: Callable[[str], None]  # refusals and trouble: standard error
    progress: Callable[[str, str], None]  # (node, what happens now)
    confirm: Callable[[str], bool] | None = None  # None: there is no one to ask
    color: bool = False


class DeployError(Exception):
    """The deploy cannot start (a key file, an unreadable file); nothing was changed."""


@dataclass(frozen=True)
class Options:
    yes: bool = False
    dry_run: bool = False
    check: bool = False
    parallel: int = 4
    key_file: str | None = None
    faults: int = 1
    budget_ms: int | None = None
    reachable: bool = False
    reload_timeout: int = 60


def load_key(key_file: str | None, override: str | None) -> bytes:
    """The cluster key, to sign with; a cluster without key_file signs with nothing (HA601 warns of it)."""
    path = override or key_file
    if not path:
        return b""
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise DeployError(f"cannot read the cluster key {path}: {exc.strerror}; give --key-file PATH "
                          "(the key the nodes have); nothing was changed") from None


def short(content_hash: str | None) -> str:
    return content_hash[:12] if content_hash else "nothing"


# ------------------------------------------------------------------ what the nodes run


def fetch(session: Nodes, console: Console) -> dict[str, dict] | None:
    """Every node's status, or None (having said why) when some node cannot be read."""
    answers = session.map(list(session.targets), session.status)
    failed = [answer for answer in answers.values() if not answer.ok]
    for answer in failed:
        console.warn(f"halang: {answer.node}: cannot read what it runs: {answer.error}")
    if failed:
        console.warn("halang: nothing was changed")
        return None
    statuses = {}
    for node, answer in answers.items():
        status = dict(answer.value)
        for name in ("current", "previous"):
            if status.get(name) and "damaged" in status[name]:
                console.warn(f"halang: {node}: its {name}.pyz is damaged ({status[name]['damaged']}); "
                             "taken as no bundle")
                status[name] = None
        statuses[node] = status
    return statuses


def _hash(status: dict, name: str = "current") -> str | None:
    return (status.get(name) or {}).get("hash")


def plan_text(statuses: dict[str, dict], new: dict, title: str) -> str:
    """The diff plan from what each group of nodes runs to the new snapshot."""
    blocks = []
    for content_hash, nodes in running(statuses).items():
        where = ", ".join(nodes)
        if content_hash is None:
            blocks.append(f"{where}: nothing deployed yet: a first deploy\n")
            continue
        old = statuses[nodes[0]]["current"]["snapshot"]
        blocks.append(render_text(diff_clusters(old, new), f"{where}: {title} {short(content_hash)}"))
    return "\n".join(blocks).rstrip("\n")


# ------------------------------------------------------------------ the two phases


def released(statuses: dict[str, dict], new: dict) -> list[str]:
    """The groups the plan restarts or moves (every group for a cluster restart): the daemons release them
    before they reload, so the new configuration places them anew."""
    from halang.diff.changes import CLUSTER_RESTART

    groups: dict[str, None] = {}
    for content_hash, nodes in running(statuses).items():
        if content_hash is None:
            continue
        for change in diff_clusters(statuses[nodes[0]]["current"]["snapshot"], new):
            if change.impact.kind == CLUSTER_RESTART:
                groups.update((group["name"], None) for group in statuses[nodes[0]]["current"]["snapshot"]["groups"])
            groups.update((group, None) for group in change.impact.groups)
    return list(groups)


def two_phase(session: Nodes, nodes: list[str], statuses: dict[str, dict], content_hash: str,
              stage: Callable[[str], Answer], console: Console, verb: str, release: list[str]) -> int:
    """Stage on every node; only if all staged, activate on every node; if any activation fails, every node
    goes back to what it ran before. Every node's final state is said, whatever happened.

    Activation goes to every node at once, whatever --parallel says: daemons on different bundles do not
    hear each other (the wire carries the configuration), so the reloads must overlap."""
    staged = session.map(nodes, stage)
    for node, answer in staged.items():
        console.progress(node, f"staged ({answer.value['accepted']})" if answer.ok else f"NOT staged: {answer.error}")
    failed = [node for node, answer in staged.items() if not answer.ok]
    if failed:
        console.warn(f"halang: {verb}: staging failed on {', '.join(failed)}: no node was activated")
        _final(console, {node: f"unchanged: runs {short(_hash(statuses[node]))}" for node in statuses})
        return EXIT_TROUBLE
    activated = session.map(nodes, lambda node: session.activate(node, content_hash, release), at_once=True)
    for node, answer in activated.items():
        console.progress(node, f"active ({answer.value['daemon']})" if answer.ok else f"activation FAILED: {answer.error}")
    failed = [node for node, answer in activated.items() if not answer.ok]
    if not failed:
        _final(console, {node: f"runs {short(content_hash)}" + ("" if node in nodes else " (already did)")
                         for node in statuses})
        return EXIT_OK
    console.warn(f"halang: {verb}: activation failed on {', '.join(failed)}: every node goes back")
    restored = session.map(nodes, lambda node: session.restore(node, _hash(statuses[node]),
                                                               _hash(statuses[node], "previous")),
                           at_once=True)
    states = {}
    for node in statuses:
        before = short(_hash(statuses[node]))
        answer = restored.get(node)
        if answer is None:
            states[node] = f"unchanged: runs {before}"
        elif answer.ok:
            states[node] = f"back on {before} ({answer.value['daemon']})"
        else:
            states[node] = (f"NOT RESTORED: {answer.error}; it may run {short(content_hash)}: "
                            f"halang rollback, or see docs/deploy.md")
    _final(console, states)
    return EXIT_TROUBLE


def _final(console: Console, states: dict[str, str]) -> None:
    console.say("")
    console.say("Nodes now:")
    width = max(len(node) for node in states)
    for node, state in states.items():
        console.say(f"  {node.ljust(width)}  {state}")


def _confirm(console: Console, options: Options, question: str) -> bool:
    if options.yes:
        return True
    if console.confirm is None:
        console.warn("halang: no terminal to confirm on: give --yes to go ahead without asking; nothing was changed")
        return False
    if not console.confirm(question):
        console.warn("halang: not confirmed: nothing was changed")
        return False
    return True


# ------------------------------------------------------------------ the commands


def _verified(path: str, console: Console, options: Options, faults: int):
    from halang.report.text import Style, render_report
    from halang.verify import verify_source

    try:
        source = read_source(path)
    except SourceError as exc:
        raise DeployError(str(exc)) from None
    report = verify_source(source, faults=faults, budget_ms=options.budget_ms, reachable=options.reachable)
    if report.errors or report.cluster is None:
        if faults == 0:
            report.analysis_note = ""
        console.warn(render_report(report, Style(console.color)))
        console.warn(f"{path}: not deployed: fix the errors first")
        return None
    return report


def deploy_command(path: str, transport: Transport, console: Console, options: Options) -> int:
    from halang.compile import BundleError, CompileError, compile_cluster, read_bundle
    from halang.report.text import Style, render_report
    from halang.verify import FileReport

    try:
        report = _verified(path, console, options, options.faults)
        if report is None:
            return EXIT_FINDINGS
        cluster = report.cluster
        key = load_key(cluster.heartbeat.key_file, options.key_file)
        with tempfile.TemporaryDirectory(prefix="halang-deploy-") as out:
            bundle_path = compile_cluster(report, out)
            data = bundle_path.read_bytes()
            bundle = read_bundle(bundle_path)
        session = Nodes(transport, targets(bundle.snapshot()), options.parallel, console.progress,
                        options.reload_timeout)
    except (DeployError, PlanError, CompileError, BundleError) as exc:
        console.warn(f"halang: {exc}")
        return EXIT_TROUBLE
    statuses = fetch(session, console)
    if statuses is None:
        return EXIT_TROUBLE
    probes = session.map(list(session.targets), lambda node: session.probe(node, data))
    failed = [answer for answer in probes.values() if not answer.ok]
    for answer in failed:
        console.warn(f"halang: {answer.node}: pre-flight could not run: {answer.error}")
    if failed:
        console.warn("halang: nothing was changed")
        return EXIT_TROUBLE
    findings = preflight_findings(cluster, {node: answer.value for node, answer in probes.items()})
    if findings:
        console.warn(render_report(FileReport(report.source, findings, cluster, "skipped", ""), Style(console.color)))
    if any(finding.is_error and not finding.accepted for finding in findings):
        console.warn(f"{path}: not deployed: pre-flight found nodes not ready; nothing was changed")
        return EXIT_FINDINGS
    if options.check:
        console.say(f"pre-flight: {len(probes)} nodes ready for {bundle.file_name}")
        return EXIT_OK
    content_hash = bundle.content_hash
    release = _show_plan(console, statuses, bundle.snapshot(), f"halang: what the nodes run cannot be compared "
                                                                f"with {path}")
    if release is None:
        return EXIT_TROUBLE
    todo = [node for node in statuses if _hash(statuses[node]) != content_hash]
    if not todo:
        console.say(f"\nEvery node runs {short(content_hash)} already: nothing to deploy.")
        return EXIT_OK
    if options.dry_run:
        console.say(f"\nDry run: {bundle.file_name} would go to {', '.join(todo)}; nothing was changed.")
        return EXIT_OK
    if not _confirm(console, options, f"Deploy {bundle.file_name} to {', '.join(todo)}?"):
        return EXIT_TROUBLE
    sha256 = hashlib.sha256(data).hexdigest()
    signed = signature(key, content_hash)
    return two_phase(session, todo, statuses, content_hash,
                     lambda node: session.stage(node, content_hash, sha256, signed, data), console, "deploy", release)


def _show_plan(console: Console, statuses, snapshot, cannot: str):
    """Print the diff plan from what the nodes run to `snapshot`; the groups to release first, or None (said why)
    when the two cannot be compared."""
    try:
        console.say(plan_text(statuses, snapshot, "runs"))
        return released(statuses, snapshot)
    except DiffError as exc:
        console.warn(f"{cannot}: {exc}; nothing was changed")
        return None


def rollback_command(path: str, transport: Transport, console: Console, options: Options) -> int:
    try:
        report = _verified(path, console, options, 0)
        if report is None:
            return EXIT_FINDINGS
        cluster = report.cluster
        key = load_key(cluster.heartbeat.key_file, options.key_file)
        session = Nodes(transport, targets(cluster.snapshot()), options.parallel, console.progress,
                        options.reload_timeout)
    except (DeployError, PlanError) as exc:
        console.warn(f"halang: {exc}")
        return EXIT_TROUBLE
    statuses = fetch(session, console)
    if statuses is None:
        return EXIT_TROUBLE
    previous = {node: _hash(status, "previous") for node, status in statuses.items()}
    missing = [node for node, content_hash in previous.items() if content_hash is None]
    if missing:
        console.warn(f"halang: rollback: {', '.join(missing)} ran no bundle before this one: nothing to go back "
                     "to; nothing was changed")
        return EXIT_TROUBLE
    if len(set(previous.values())) > 1:
        shown = "; ".join(f"{node} {short(content_hash)}" for node, content_hash in previous.items())
        console.warn(f"halang: rollback: the nodes ran different bundles before ({shown}): deploy the one wanted "
                     "instead; nothing was changed")
        return EXIT_TROUBLE
    content_hash = next(iter(previous.values()))
    first = next(iter(statuses))
    release = _show_plan(console, statuses, statuses[first]["previous"]["snapshot"],
                         "halang: rollback: what the nodes run and ran cannot be compared")
    if release is None:
        return EXIT_TROUBLE
    if options.dry_run:
        console.say(f"\nDry run: every node would go back to {short(content_hash)}; nothing was changed.")
        return EXIT_OK
    if not _confirm(console, options, f"Roll every node back to {short(content_hash)}?"):
        return EXIT_TROUBLE
    signed = signature(key, content_hash)
    return two_phase(session, list(statuses), statuses, content_hash,
                     lambda node: session.accept(node, content_hash, signed), console, "rollback", release)


def diff_deployed(path: str, transport: Transport, fmt: str = "text", parallel: int = 4) -> Outcome:
    """The file against what the nodes run: 0 the same, 1 changes or drift, 2 trouble."""
    from halang.diff.command import SideError, read_side

    try:
        new = read_side(path)
        session = Nodes(transport, targets(new), parallel)
    except SideError as exc:
        return trouble(str(exc)) if not exc.findings else Outcome(EXIT_FINDINGS, str(exc), True)
    except PlanError as exc:
        return trouble(f"halang: {exc}")
    lines: list[str] = []
    console = Console(lines.append, lines.append, lambda node, text: None)
    statuses = fetch(session, console)
    if statuses is None:
        return trouble("\n".join(lines))
    groups = running(statuses)
    try:
        diffs = [(content_hash, nodes, diff_clusters(statuses[nodes[0]]["current"]["snapshot"], new)
                  if content_hash else None) for content_hash, nodes in groups.items()]
    except DiffError as exc:
        return trouble(f"halang diff --deployed {path}: {exc}")
    drift = len(groups) > 1
    changed = drift or any(changes is None or changes for _, _, changes in diffs)
    code = EXIT_FINDINGS if changed else EXIT_OK
    if fmt == "json":
        data = {"file": path, "nodes": {node: _hash(status) for node, status in statuses.items()}, "drift": drift,
                "deployed": [{"hash": content_hash, "nodes": nodes,
                              "changes": None if changes is None else json.loads(render_json(changes))["changes"]}
                             for content_hash, nodes, changes in diffs]}
        return Outcome(code, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    out = []
    if drift:
        out.append("Drift: the nodes run different snapshots:")
        out += [f"  {short(content_hash)}  {', '.join(nodes)}" for content_hash, nodes, _ in diffs]
        out.append("")
    for content_hash, nodes, changes in diffs:
        if changes is None:
            out.append(f"{', '.join(nodes)}: nothing deployed yet\n")
        else:
            out.append(render_text(changes, f"halang diff --deployed {path}: {', '.join(nodes)} run "
                                            f"{short(content_hash)}"))
    return Outcome(code, "\n".join(out))


def start_command(path: str | None, node: str, transport: Transport, console: Console, timeout: int = 30) -> int:
    """`halang start --node NODE [FILE]`: start the daemon of one node, reached as deploy reaches it (without a
    file: this machine is the node)."""
    try:
        if path is None:
            known = {node: Target(node, "localhost")}
        else:
            report = _verified(path, console, Options(), 0)
            if report is None:
                return EXIT_FINDINGS
            known = targets(report.cluster.snapshot())
        if node not in known:
            raise DeployError(f"no node named {node!r} in {path} (the nodes: {', '.join(known)})")
        session = Nodes(transport, {node: known[node]}, 1, console.progress)
    except (DeployError, PlanError) as exc:
        console.warn(f"halang: {exc}")
        return EXIT_TROUBLE
    answer = session.call(node, "start", node, str(timeout))
    if not answer.ok:
        console.warn(f"halang: {node}: {answer.error}")
        return EXIT_TROUBLE
    if answer.value.get("started"):
        console.say(f"{node}: started ({answer.value['how']}), pid {answer.value['pid']}; it joins the cluster once "
                    "it has listened for a detection time (halang status)")
    else:
        console.say(f"{node}: its daemon runs already (pid {answer.value['pid']})")
    return EXIT_OK
