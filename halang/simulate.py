"""`halang simulate` as functions: a cluster, a list of failures, what happens, step by step.

Like Pacemaker's `crm_simulate`: the startup placement first (or a placement
given with `--from`), then for each `--fail` step the components failed so
far, the nodes down, the partitions and who may run groups, the events the
runtime raises, the placement after the step, the service addresses each
node holds, and what the verifier would find in that state (overload,
service addresses outnumbering adapters, broken dependencies, pending
fallbacks).

Steps are applied in order, each with `runtime.placement.place` from the
previous step's placement, exactly as the runtime does event by event. A step
may fail several components at once, separated by commas
(`node:alpha,switch:sw2`). Failing a component that has already failed is an
error; failing a component that is already down because of another (an
adapter of a down node) is not.

Finding codes: an overload at the start is HA501, after a step HA502;
service addresses outnumbering usable adapters on a `replace` network is
HA213; a broken dependency HA406. Pending fallbacks carry no code.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from runtime.failures import ComponentError, parse_component
from runtime.placement import (
    Event,
    Placement,
    PlacementError,
    address_overloads,
    dependency_violations,
    events,
    fallback_moves,
    node_load,
    overloaded_nodes,
    place,
    placement_from_json,
    placement_to_json,
    service_address_load,
    startup_placement,
)
from runtime.snapshot import ClusterSpec, SnapshotError, load_snapshot
from runtime.topology import Status, assess


class SimulationError(ValueError):
    """The simulation cannot run: a bad snapshot, component or start placement; the message says which."""


@dataclass(frozen=True)
class Finding:
    code: str  # HA501, HA502, HA213, HA406, or "" for a pending fallback
    message: str


@dataclass(frozen=True)
class State:
    """The cluster at one point of the simulation."""

    title: str  # "Startup", "Start (given placement)", "Step 1: fail node:alpha"
    fail: tuple[str, ...]  # components failed by this step (none at the start)
    failed: tuple[str, ...]  # every component failed so far, in the order they failed
    status: Status
    placement: Placement
    events: tuple[Event, ...]
    findings: tuple[Finding, ...]


@dataclass(frozen=True)
class SimulationResult:
    cluster: ClusterSpec
    start: State
    steps: tuple[State, ...]


def simulate(cluster_json: dict, steps: list[str], start: dict | None = None) -> SimulationResult:
    """Run the steps on the cluster (the snapshot JSON `Cluster.to_json()` writes); SimulationError if it cannot."""
    try:
        cluster = load_snapshot(cluster_json)
    except SnapshotError as exc:
        raise SimulationError(f"the cluster snapshot cannot be read: {exc}") from None
    if start is None:
        placement = startup_placement(cluster)
        title = "Startup"
    else:
        try:
            placement = placement_from_json(cluster, start)
        except PlacementError as exc:
            raise SimulationError(f"the start placement does not fit the cluster: {exc}") from None
        title = "Start (given placement)"
    status = assess(cluster, ())
    first = State(title, (), (), status, placement, (), _findings(cluster, placement, status, "HA501"))
    states = []
    failed: list[str] = []
    when: dict[str, int] = {}
    previous = first
    for number, step in enumerate(steps, start=1):
        names = _parse_step(cluster, step, number, when)
        for name in names:
            when[name] = number
        failed.extend(names)
        status = assess(cluster, failed)
        placement = place(cluster, status, previous.placement)
        happened = events(cluster, previous.placement, placement, previous.status, status)
        state = State(f"Step {number}: fail {', '.join(names)}", tuple(names), tuple(failed),
                      status, placement, happened, _findings(cluster, placement, status, "HA502"))
        states.append(state)
        previous = state
    return SimulationResult(cluster, first, tuple(states))


def _parse_step(cluster: ClusterSpec, step: str, number: int, when: dict[str, int]) -> tuple[str, ...]:
    parts = [part.strip() for part in step.split(",") if part.strip()]
    if not parts:
        raise SimulationError(f"step {number}: no component to fail")
    names = []
    for part in parts:
        try:
            name = parse_component(part, cluster).text
        except ComponentError as exc:
            raise SimulationError(f"step {number}: {exc}") from None
        if name in when:
            raise SimulationError(f"step {number}: {name} has already failed (step {when[name]})")
        if name in names:
            raise SimulationError(f"step {number}: {name} is named twice")
        names.append(name)
    return tuple(names)


def _findings(cluster: ClusterSpec, placement: Placement, status: Status, overload_code: str) -> tuple[Finding, ...]:
    found = []
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
    for move in fallback_moves(cluster, placement, status):
        found.append(Finding("", f"{move.group} falls back from {move.source} to {move.target} "
                                 f"after {_duration(move.delay_ms)}"))
    return tuple(found)


# ------------------------------------------------------------------ text


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
    if state.fail:
        lines.append(f"  Failed so far: {', '.join(state.failed)}")
        down = [node for node in cluster.node_names if node in state.status.down.nodes]
        lines.append(f"  Nodes down: {', '.join(down) if down else 'none'}")
    lines.append("  Partitions:")
    lines.extend(f"    {line}" for line in _partition_lines(cluster, state.status))
    if state.fail:
        lines.append("  Events:" if state.events else "  Events: none")
        lines.extend(f"    {event.describe()}" for event in state.events)
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
        "fail": list(state.fail),
        "failed": list(state.failed),
        "nodes_down": [node for node in cluster.node_names if node in status.down.nodes],
        "partitions": [{"nodes": list(part), "runs_groups": status.may_run(part),
                        "tie_breaker": part == status.tie_breaker} for part in status.partitions],
        "events": [event.to_json() for event in state.events],
        "placement": placement_to_json(state.placement),
        "findings": [{"code": finding.code or None, "message": finding.message} for finding in state.findings],
    }
