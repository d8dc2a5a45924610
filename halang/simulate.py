"""`halang simulate` as functions: a cluster, a sequence of failures and recoveries, what happens, step by step.

Like Pacemaker's `crm_simulate`: the startup placement first (or a start
given with `--from`: a placement, or a state of an earlier simulation), then
for each step, which fails or recovers components, the components failed so
far, the nodes down, the partitions and who may run groups, the events the
runtime raises, the fallbacks the step starts and what they do once their
`fallback_delay` is over, the placement after the step, the service
addresses each node holds, and what the verifier would find in that state
(overload, service addresses outnumbering adapters, broken dependencies).

Each step is one `runtime.core.placement.transition` from the previous step's
placement and failures, exactly as the runtime goes event by event; then the
step lets its fallback delays elapse: each pending fallback is carried out
when its delay is over if `fallback_moves` still lists it, so the placement
after a step is the settled one. A step may name several components at once
(`node:alpha,switch:sw2`). Failing a component that has already failed, or
recovering one that has not, is an error; failing a component that is
already down because of another (an adapter of a down node) is not.

Finding codes: an overload with nothing failed is HA501, with failures
HA502; service addresses outnumbering usable adapters on a `replace` network
is HA213; a broken dependency HA406; a service address held on an adapter
that passes no frames (a silent port the nodes could not blame) HA309. A group left on a later node of its list
than a node that can host it (a fallback nothing started) carries no code.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple

from runtime.core.failures import Component, ComponentError, expand, parse_component
from runtime.core.placement import (
    Event,
    Move,
    Placement,
    PlacementError,
    address_overloads,
    apply_moves,
    dependency_violations,
    events,
    fallback_moves,
    node_load,
    overloaded_nodes,
    placement_from_json,
    placement_to_json,
    service_address_load,
    startup_placement,
    stranded_addresses,
    transition,
)
from runtime.core.snapshot import ClusterSpec
from runtime.core.topology import WORKING, Status, assess, why_not

VERBS = ("fail", "recover")


class SimulationError(ValueError):
    """The simulation cannot run: a bad step or start; the message says which."""


class Action(NamedTuple):
    """One step asked for: `verb` is fail or recover, `components` the names as written."""

    verb: str
    components: tuple[str, ...]


def split_components(text: str) -> tuple[str, ...]:
    """The components of one step written as on the command line: `node:alpha, switch:sw2`."""
    return tuple(part.strip() for part in text.split(",") if part.strip())


@dataclass(frozen=True)
class Finding:
    code: str  # HA501, HA502, HA213, HA406, or "" for a fallback nothing started
    message: str


@dataclass(frozen=True)
class Start:
    """Where a simulation starts: a placement and the components failed in it."""

    title: str
    placement: Placement
    failed: tuple[str, ...]


@dataclass(frozen=True)
class State:
    """The cluster at one point of the simulation."""

    title: str  # "Startup", "Start (given placement)", "Step 1: fail node:alpha"
    verb: str  # "fail" or "recover"; "" at the start
    components: tuple[str, ...]  # what the step fails or recovers (none at the start)
    failed: tuple[str, ...]  # every component failed so far, in the order they failed
    status: Status
    placement: Placement  # settled: after the step's fallback delays
    events: tuple[Event, ...]  # raised at once
    pending: tuple[Move, ...]  # fallbacks the step started, each waiting for its delay
    delayed: tuple[tuple[int, tuple[Event, ...]], ...]  # (delay in ms, events once it is over), in time order
    findings: tuple[Finding, ...]


@dataclass(frozen=True)
class SimulationResult:
    cluster: ClusterSpec
    start: State
    steps: tuple[State, ...]


def simulate(spec: ClusterSpec, actions: Sequence[Action], start: Start | None = None) -> SimulationResult:
    """Run the steps on the cluster from `start` (None: the startup placement); SimulationError if it cannot."""
    if start is None:
        start = Start("Startup", startup_placement(spec), ())
    status = assess(spec, start.failed)
    first = State(start.title, "", (), start.failed, status, start.placement, (), (), (),
                  _findings(spec, start.placement, status))
    history = {name: "in the start state" for name in start.failed}  # name -> when it last failed or recovered
    states = []
    previous = first
    for number, action in enumerate(actions, start=1):
        names = _check_step(spec, action, number, previous.failed, history)
        for name in names:
            history[name] = f"at step {number}"
        if action.verb == "fail":
            failed = previous.failed + names
        else:
            failed = tuple(name for name in previous.failed if name not in names)
        status = assess(spec, failed)
        step = transition(spec, previous.placement, previous.status, status)
        happened = events(spec, previous.placement, step.placement, previous.status, status)
        placement, delayed = _let_delays_elapse(spec, step.placement, step.pending, status)
        state = State(f"Step {number}: {action.verb} {', '.join(names)}", action.verb, names, failed, status,
                      placement, happened, step.pending, delayed, _findings(spec, placement, status))
        states.append(state)
        previous = state
    return SimulationResult(spec, first, tuple(states))


def _let_delays_elapse(spec: ClusterSpec, placement: Placement, pending: tuple[Move, ...],
                       status: Status) -> tuple[Placement, tuple[tuple[int, tuple[Event, ...]], ...]]:
    """Carry out the pending fallbacks in time order, each only if `fallback_moves` still lists it then."""
    delayed = []
    for delay in sorted({move.delay_ms for move in pending}):
        valid = fallback_moves(spec, placement, status)
        due = [move for move in pending if move.delay_ms == delay and move in valid]
        if due:
            moved = apply_moves(spec, placement, due, status)
            delayed.append((delay, events(spec, placement, moved, status, status)))
            placement = moved
    return placement, tuple(delayed)


def _check_step(spec: ClusterSpec, action: Action, number: int, failed: tuple[str, ...],
                history: dict[str, str]) -> tuple[str, ...]:
    """The step's components by their canonical names; SimulationError if one cannot fail or recover now."""
    if not action.components:
        raise SimulationError(f"step {number}: no component to {action.verb}")
    names: list[str] = []
    for text in action.components:
        component = _component(spec, text, f"step {number}")
        name = component.text
        if name in names:
            raise SimulationError(f"step {number}: {name} is named twice")
        if action.verb == "fail" and name in failed:
            raise SimulationError(f"step {number}: {name} has already failed {history[name]}")
        if action.verb == "recover" and name not in failed:
            raise SimulationError(f"step {number}: {name} has not failed, so it cannot recover"
                                  + _why_not_failed(spec, component, failed, history))
        names.append(name)
    return tuple(names)


def _component(spec: ClusterSpec, text: str, where: str) -> Component:
    try:
        return parse_component(text, spec)
    except ComponentError as exc:
        raise SimulationError(f"{where}: {exc}") from None


def _why_not_failed(spec: ClusterSpec, component: Component, failed: tuple[str, ...],
                    history: dict[str, str]) -> str:
    """What an administrator needs to hear when recovering a component that has not failed."""
    for cause in failed:
        down = expand(spec, [cause])
        if (component.kind == "node" and component.name in down.nodes
                or component.kind == "adapter" and (component.node, component.name) in down.adapters
                or component.kind == "linkend" and (component.node, component.name) in down.linkends):
            return f": it is down because {cause} failed; recover {cause}"
    if component.text in history:  # not failed now, so the last it did was recover
        return f" (it recovered {history[component.text]})"
    return ""


# ------------------------------------------------------------------ where to start


def read_start(spec: ClusterSpec, data: Any) -> Start:
    """The start `--from` gives: a document `--format json` printed (its last step, or its start when it has
    no steps), or a placement `{"groups": ..., "addresses": ...}` with an optional `"failed": [...]`."""
    if isinstance(data, dict) and "steps" in data and "start" in data:
        if data.get("cluster") != spec.name:
            raise SimulationError(f"it is a simulation of cluster {data.get('cluster')!r}, not of {spec.name!r}")
        if not isinstance(data["steps"], list) or not all(isinstance(step, dict) for step in data["steps"]):
            raise SimulationError('a simulation\'s "steps" is a list of states')
        state = data["steps"][-1] if data["steps"] else data["start"]
        if not isinstance(state, dict) or not isinstance(state.get("title"), str) or "placement" not in state:
            raise SimulationError('a simulation state is an object with a "title", "failed" and "placement"')
        title, placement = f"Start (resumed after {state['title']})", state["placement"]
        failed = state.get("failed")
    elif isinstance(data, dict) and "groups" in data:
        title, placement, failed = "Start (given placement)", data, data.get("failed", [])
    else:
        raise SimulationError('expected a placement {"groups": {"GROUP": ["NODE", ...], ...}} '
                              "or what `halang simulate --format json` prints")
    names = _start_failures(spec, failed)
    try:
        start = placement_from_json(spec, placement, names)
    except PlacementError as exc:
        raise SimulationError(f"the start placement does not fit the cluster: {exc}") from None
    status = assess(spec, names)
    for group, nodes in start.groups:
        for node in nodes:
            # A start is groups already running: each is judged as its holder keeps it (an adapter in doubt
            # serves), not as a node takes it.
            kind, words = why_not(spec, status, group, node, keep=True)
            if kind:
                raise SimulationError(f"the start placement puts {group} on {node}, which cannot host it: {words}")
    return Start(title, start, names)


def _start_failures(spec: ClusterSpec, failed: Any) -> tuple[str, ...]:
    if not isinstance(failed, list) or not all(isinstance(name, str) for name in failed):
        raise SimulationError('"failed" is a list of component names')
    names: list[str] = []
    for text in failed:
        name = _component(spec, text, "failed").text
        if name in names:
            raise SimulationError(f"failed: {name} is named twice")
        names.append(name)
    return tuple(names)


# ------------------------------------------------------------------ batch


def read_sequence(spec: ClusterSpec, line: str) -> tuple[list[Action], Start | None]:
    """One line of a `--batch` file: `{"steps": [{"fail": [...]}, {"recover": [...]}], "from": <as --from>}`."""
    try:
        data = json.loads(line)
    except ValueError as exc:
        raise SimulationError(f"not JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("steps"), list):
        raise SimulationError('a sequence is an object {"steps": [{"fail": [COMPONENT, ...]}, ...]}')
    unknown = sorted(set(data) - {"steps", "from"})
    if unknown:
        raise SimulationError(f"unknown key {unknown[0]!r}: a sequence has \"steps\" and an optional \"from\"")
    actions = []
    for number, step in enumerate(data["steps"], start=1):
        if not isinstance(step, dict) or len(step) != 1 or next(iter(step)) not in VERBS:
            raise SimulationError(f'step {number}: expected {{"fail": [COMPONENT, ...]}} '
                                  f'or {{"recover": [COMPONENT, ...]}}')
        [(verb, names)] = step.items()
        if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
            raise SimulationError(f"step {number}: {verb}: expected a list of component names")
        actions.append(Action(verb, tuple(names)))
    start = None
    if "from" in data:
        try:
            start = read_start(spec, data["from"])
        except SimulationError as exc:
            raise SimulationError(f"from: {exc}") from None
    return actions, start


def run_sequence(spec: ClusterSpec, line: str, number: int, start: Start | None = None) -> dict[str, Any]:
    """One `--batch` line's answer: the simulation as `render_json` gives it, or `{"line": N, "error": ...}`;
    both carry the line number. `start` is used when the line gives no "from"."""
    try:
        actions, given = read_sequence(spec, line)
        result = simulate(spec, actions, given or start)
    except SimulationError as exc:
        return {"line": number, "error": str(exc)}
    return {"line": number, **render_json(result)}


def _findings(cluster: ClusterSpec, placement: Placement, status: Status) -> tuple[Finding, ...]:
    found = []
    overload_code = "HA502" if status.down.failed else "HA501"
    load = node_load(cluster, placement)
    for node in overloaded_nodes(cluster, placement):
        capacity = cluster.node(node).capacity
        cpu, memory = load[node]
        parts = []
        if capacity.cpu is not None and cpu > capacity.cpu:
            parts.append(f"cpu {_cpu(cpu)} of {_cpu(capacity.cpu)}")
        if capacity.memory is not None and memory > capacity.memory:
            parts.append(f"memory {_size(memory)} of {_size(capacity.memory)}")
        found.append(Finding(overload_code, f"{node} is overloaded: {', '.join(parts)}"))
    counts = service_address_load(cluster, placement, status)
    for node, network in address_overloads(cluster, placement, status):
        held, usable = counts[(node, network)]
        found.append(Finding("HA213", f"{node} holds {held} service addresses on {network} with "
                                      f"{usable} usable adapter{'' if usable == 1 else 's'}"))
    for violation in dependency_violations(cluster, placement):
        found.append(Finding("HA406", violation.describe(placement)))
    for node, label, ifname in stranded_addresses(cluster, placement, status):
        found.append(Finding("HA309", f"{label} stays on {node}/{ifname}, which passes no frames: the nodes cannot "
                                      "tell which end failed (ping targets on its subnet let them)"))
    # The step's own fallbacks are carried out by now: what is left was never started (runtime.core.placement, rule 3).
    for move in fallback_moves(cluster, placement, status):
        found.append(Finding("", f"{move.group} stays on {move.source} though {move.target} is earlier in its list: "
                                 f"it falls back only when an earlier node comes back"))
    return tuple(found)


# ------------------------------------------------------------------ text


def _adapters_judged(cluster: ClusterSpec, status) -> dict[str, list[str]]:
    """The adapters of live nodes that are not working, by state ("failed", "in doubt"): NODE/IFNAME, file order.
    An adapter in doubt keeps what its node holds and takes nothing (LANGUAGE.md)."""
    found: dict[str, list[str]] = {}
    for adapter in cluster.adapters:
        if adapter.node in status.down.nodes:
            continue
        state = status.adapter_state(adapter)
        if state != WORKING:
            found.setdefault(state, []).append(f"{adapter.node}/{adapter.ifname}")
    return found


def render_text(result: SimulationResult) -> str:
    cluster = result.cluster
    heartbeat = cluster.heartbeat
    quorum = f"quorum {heartbeat.quorum}"
    if heartbeat.quorum == "majority" and heartbeat.tie_breaker:
        quorum += f", tie-breaker {heartbeat.tie_breaker}"
    lines = [f"Cluster {cluster.name}: {_count(len(cluster.nodes), 'node')}, "
             f"{_count(len(cluster.groups), 'group')}, {quorum}"]
    for state in (result.start, *result.steps):
        lines.append("")
        lines.extend(_render_state(cluster, state))
    return "\n".join(lines) + "\n"


def _render_state(cluster: ClusterSpec, state: State) -> list[str]:
    lines = [state.title]
    if state.verb or state.failed:
        lines.append(f"  Failed so far: {', '.join(state.failed) if state.failed else 'none'}")
        down = [node for node in cluster.node_names if node in state.status.down.nodes]
        lines.append(f"  Nodes down: {', '.join(down) if down else 'none'}")
        judged = _adapters_judged(cluster, state.status)
        if judged:
            lines.append("  Adapters as the nodes judge them:")
            lines.extend(f"    {key}: {', '.join(names)}" for key, names in judged.items())
    lines.append("  Partitions:")
    lines.extend(f"    {line}" for line in _partition_lines(cluster, state.status))
    if state.verb:
        lines.append("  Events:" if state.events else "  Events: none")
        lines.extend(f"    {event.describe()}" for event in state.events)
    if state.pending:
        lines.append("  Fallbacks pending:")
        lines.extend(f"    {move.group} falls back from {move.source} to {move.target} after "
                     f"{_duration(move.delay_ms)} (fallback_delay)" for move in state.pending)
    for delay, happened in state.delayed:
        lines.append(f"  Then, after {_duration(delay)}:")
        lines.extend(f"    {event.describe()}" for event in happened)
    lines.append("  Placement:")
    width = max((len(group.name) for group in cluster.groups), default=0)
    for name, nodes in state.placement.groups:
        lines.append(f"    {name.ljust(width)}  {', '.join(nodes) if nodes else 'offline'}".rstrip())
    if not cluster.groups:
        lines.append("    (no groups)")
    if state.placement.addresses:
        lines.append("  Service addresses:")
        rows = []
        for holding in state.placement.addresses:
            held = ", ".join(f"{label} on {ifname}" if ifname else f"{label} on no adapter"
                             for label, ifname in holding.services)
            ipat = cluster.network(holding.network).ipat
            rows.append((holding.node, f"{holding.network} ({ipat})", held))
        first = max(len(row[0]) for row in rows)
        second = max(len(row[1]) for row in rows)
        lines.extend(f"    {node.ljust(first)}  {network.ljust(second)}  {held}" for node, network, held in rows)
    if _shows_load(cluster):
        lines.append("  Load:")
        width = max(len(node) for node in cluster.node_names)
        for node, (cpu, memory) in node_load(cluster, state.placement).items():
            lines.append(f"    {node.ljust(width)}  {_load_text(cluster, state.status, node, cpu, memory)}")
    if state.findings:
        lines.append("  Findings:")
        lines.extend(f"    {finding.code + ' ' if finding.code else 'fallback '}{finding.message}"
                     for finding in state.findings)
    return lines


def _shows_load(cluster: ClusterSpec) -> bool:
    """Load is shown when the file speaks of it: some node has a capacity or some group requires something."""
    return (any(node.capacity is not None for node in cluster.nodes)
            or any(group.requires.cpu or group.requires.memory for group in cluster.groups))


def _load_text(cluster: ClusterSpec, status: Status, node: str, cpu: Decimal, memory: int) -> str:
    if node in status.down.nodes:
        return "down"
    capacity = cluster.node(node).capacity
    cap_cpu = capacity.cpu if capacity is not None else None
    cap_memory = capacity.memory if capacity is not None else None
    cpu_text = f"cpu {_cpu(cpu)}" + (f" of {_cpu(cap_cpu)}" if cap_cpu is not None else " (no limit)")
    memory_text = f"memory {_size(memory)}" + (f" of {_size(cap_memory)}" if cap_memory is not None else " (no limit)")
    return f"{cpu_text}, {memory_text}"


def _partition_lines(cluster: ClusterSpec, status: Status) -> list[str]:
    if not status.partitions:
        return ["none: every node is down"]
    total = len(cluster.node_names)
    majority = cluster.heartbeat.quorum == "majority"
    lines = []
    for part in status.partitions:
        members = f"[{' '.join(part)}]"
        if not majority:
            lines.append(f"{members} runs groups (quorum none)")
            continue
        share = f"{len(part)} of {total} nodes"
        if 2 * len(part) == total:
            share += ", holds the tie-breaker" if part == status.tie_breaker else ", no tie-breaker"
        if status.may_run(part):
            lines.append(f"{members} runs groups ({share})")
        else:
            lines.append(f"{members} stops groups: no quorum ({share})")
    return lines


def _count(number: int, word: str) -> str:
    return f"{number} {word}{'' if number == 1 else 's'}"


def _cpu(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _size(value: int) -> str:
    for unit, scale in (("T", 1 << 40), ("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10)):
        if value and value % scale == 0:
            return f"{value // scale}{unit}"
    return f"{value} bytes" if value != 0 else "0"


def _duration(ms: int) -> str:
    for unit, scale in (("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if ms and ms % scale == 0:
            return f"{ms // scale}{unit}"
    return f"{ms}ms"


# ------------------------------------------------------------------ JSON


def render_json(result: SimulationResult) -> dict[str, Any]:
    cluster = result.cluster
    return {
        "cluster": cluster.name,
        "quorum": cluster.heartbeat.quorum,
        "tie_breaker": cluster.heartbeat.tie_breaker,
        "start": _state_json(cluster, result.start),
        "steps": [_state_json(cluster, state) for state in result.steps],
    }


def _state_json(cluster: ClusterSpec, state: State) -> dict[str, Any]:
    status = state.status
    return {
        "title": state.title,
        "fail": list(state.components) if state.verb == "fail" else [],
        "recover": list(state.components) if state.verb == "recover" else [],
        "failed": list(state.failed),
        "nodes_down": [node for node in cluster.node_names if node in status.down.nodes],
        "adapters": _adapters_judged(cluster, status),
        "partitions": [{"nodes": list(part), "runs_groups": status.may_run(part),
                        "tie_breaker": part == status.tie_breaker} for part in status.partitions],
        "events": [event.to_json() for event in state.events],
        "pending": [move._asdict() for move in state.pending],
        "after_delay": [{"delay_ms": delay, "events": [event.to_json() for event in happened]}
                        for delay, happened in state.delayed],
        "placement": placement_to_json(state.placement),
        "findings": [{"code": finding.code or None, "message": finding.message} for finding in state.findings],
    }
