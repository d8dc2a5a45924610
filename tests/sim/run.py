"""Random fault schedules for whole simulated clusters: drawn from a seed, run, checked, shrunk, replayed.

    python -m tests.sim.run [--seeds N] [--first K] [--time SECONDS] [--seed S] [--jobs J] [--write-cases DIR]

A seed fixes everything: the cluster (an example, or a random cluster from
the generators the property tests use, 2 to 8 nodes), the schedule (at least
20 incidents: a failure of every kind of component the cluster has, healed
or not, flaps, lossy, duplicating, reordering and corrupting paths, torn disk
writes, paused, crashed and restarted daemons, stepped clocks, drivers that
are slow, fail or hang, every operator request, deploys), and every draw the
world makes while it runs. A schedule is plain JSON (`Schedule.to_json`): a failing one is shrunk
(`shrink`) and written to tests/sim/cases/, which tests/sim/test_sim.py
replays for ever after.

After the chaos, a quiet phase: paths perfect, drivers well, every daemon
running, the failures drawn to stay kept. The cluster must then settle
within a bound (`settle_bound_ms`), and what it settles on is checked
(`check_settled`) against `halang simulate` and the runtime's own rules.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from halang.diagnostics import SourceText
from halang.simulate import SimulationError, read_start
from halang.verify import load
from runtime.core.engine import ERROR, ONLINE
from runtime.core.failures import all_components
from runtime.core.placement import fallback_moves, transition
from runtime.core.snapshot import ClusterSpec, load_snapshot
from runtime.core.topology import assess
from tests.sim.world import Quality, World

ROOT = Path(__file__).resolve().parents[2]
CASES = Path(__file__).resolve().parent / "cases"
EXAMPLES = sorted((ROOT / "examples").glob("*.ha"))
BEHAVIOURS = ("ok", "slow", "fail", "dirty", "hang")
VERBS = ("move", "online", "offline", "stop")


# ------------------------------------------------------------------ clusters


def cluster_text(seed: int) -> tuple[str, str]:
    """(where it came from, .ha text) for a seed: an example one time in five, else a random cluster."""
    rng = random.Random(seed)
    if rng.randrange(5) == 0:
        path = EXAMPLES[rng.randrange(len(EXAMPLES))]
        return str(path.relative_to(ROOT)), path.read_text()
    from hypothesis.internal.conjecture.data import ConjectureData

    from tests.equivalence.generate import clusters
    from tests.smt.generate import cluster_texts

    data = ConjectureData(random=rng)
    if rng.randrange(2):
        return "tests/equivalence/generate.py", data.draw(clusters())
    return "tests/smt/generate.py", data.draw(cluster_texts(max_nodes=8))


def load_cluster(text: str) -> ClusterSpec | None:
    """The cluster as the nodes read it, or None for a draw with a model error."""
    cluster, _, findings = load(SourceText(text, "<sim>"))
    if cluster is None or any(finding.is_error and finding.code < "HA200" for finding in findings):
        return None
    return load_snapshot(json.loads(cluster.to_json()))


# ------------------------------------------------------------------ schedules


@dataclass
class Schedule:
    seed: int
    source: str
    cluster: str
    chaos_ms: int
    events: list = field(default_factory=list)  # [at_ms, kind, *arguments], time order
    note: str = ""  # what a regression case was
    strict: bool = False  # a node hears another the moment a path joins them (Invariants)

    def to_json(self) -> dict:
        return {"seed": self.seed, "source": self.source, "note": self.note, "strict": self.strict,
                "chaos_ms": self.chaos_ms, "events": self.events, "cluster": self.cluster}

    @staticmethod
    def from_json(data: dict) -> "Schedule":
        return Schedule(data["seed"], data["source"], data["cluster"], data["chaos_ms"], data["events"],
                        data.get("note", ""), data.get("strict", False))


def draw_schedule(seed: int, incidents: int = 20, chaos_s: tuple[int, int] = (60, 150)) -> Schedule | None:
    source, text = cluster_text(seed)
    spec = load_cluster(text)
    if spec is None:
        return None
    rng = random.Random(seed * 7919 + 1)
    interval = spec.heartbeat.interval_ms
    detection = interval * spec.heartbeat.miss_limit
    chaos = max(rng.randrange(*chaos_s) * 1000, 40 * interval)
    components = all_components(spec)
    nodes = list(spec.node_names)
    groups = [group.name for group in spec.groups]
    media = [network.name for network in spec.networks] + [link.name for link in spec.links]
    events: list = []
    kinds = ["fail", "flap", "quality", "pause", "crash", "clock", "driver", "request", "deploy"]
    # Every kind of incident, a failure of every kind of component the cluster has and every operator request
    # at least once; then more, at random, up to `incidents`.
    by_kind: dict[str, list[str]] = {}
    for component in components:
        by_kind.setdefault(component.split(":")[0], []).append(component)
    drawn = [("fail", rng.choice(names)) for names in by_kind.values()]
    drawn += [("request", verb) for verb in VERBS] + [(kind, None) for kind in kinds]
    drawn += [(rng.choice(kinds), None) for _ in range(max(0, incidents - len(drawn)))]
    rng.shuffle(drawn)
    for kind, chosen in drawn:
        at = rng.randrange(detection, chaos)
        if kind == "fail":
            component = chosen or rng.choice(components)
            events.append([at, "fail", component])
            if rng.randrange(4):  # one in four stays failed into the quiet phase
                events.append([min(chaos, at + rng.randrange(interval, 20 * detection)), "recover", component])
        elif kind == "flap":
            component = rng.choice(components)
            for _ in range(rng.randrange(2, 6)):
                events.append([at, "fail", component])
                at += rng.randrange(interval // 4 + 1, 2 * detection)
                events.append([min(chaos, at), "recover", component])
                at += rng.randrange(interval // 4 + 1, 2 * detection)
        elif kind == "quality":
            medium = rng.choice(media)
            events.append([at, "quality", medium, rng.choice((0, 0.05, 0.2, 0.5)), rng.choice((0, 0.1, 0.3)),
                           rng.choice((0, 0.01, 0.1)), rng.randrange(0, interval // 2 + 1),
                           rng.randrange(0, interval + 1)])
            events.append([min(chaos, at + rng.randrange(interval, 30 * detection)), "quality", medium, 0, 0, 0, 1,
                           0])
        elif kind == "pause":
            events.append([at, "pause", rng.choice(nodes), rng.randrange(interval // 2, 3 * detection)])
        elif kind == "crash":
            node = rng.choice(nodes)
            events.append([at, "crash", node])
            events.append([min(chaos, at + rng.randrange(interval, 5 * detection)), "start", node])
        elif kind == "clock":
            events.append([at, "clock", rng.choice(nodes), rng.randrange(1, 3 * detection)])
        elif kind == "driver" and groups:
            node, group = rng.choice(nodes), rng.choice(groups)
            events.append([at, "driver", node, group, rng.choice(BEHAVIOURS[1:])])
            events.append([min(chaos, at + rng.randrange(interval, 30 * detection)), "driver", node, group, "ok"])
        elif kind == "request" and groups:
            verb = chosen or rng.choice(VERBS)
            group = rng.choice(groups) if verb != "stop" else ""
            target = rng.choice(nodes) if verb in ("move", "stop") or (verb == "online" and rng.randrange(2)) else ""
            mode = rng.choice(("takeover", "offline")) if verb == "stop" else ""
            events.append([at, "request", rng.choice(nodes), verb, group, target, mode])
            if verb == "stop":
                events.append([min(chaos, at + rng.randrange(5 * detection, 30 * detection)), "start", target])
        elif kind == "deploy" and groups:
            released = sorted(group for group in groups if rng.randrange(3) == 0)
            events.append([at, "deploy", released])
    events = sorted((event for event in events if event[0] < chaos), key=lambda event: event[0])
    return Schedule(seed, source, text, chaos, events)


# ------------------------------------------------------------------ running one


@dataclass
class Result:
    schedule: Schedule
    breaches: list
    steps: int = 0
    checks: int = 0
    simulated_ms: int = 0
    wall_s: float = 0.0
    unfenced_ms: int = 0
    trace: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.breaches

    def describe(self) -> str:
        lines = [f"seed {self.schedule.seed} ({self.schedule.source}): {len(self.breaches)} breach(es)"]
        for breach in self.breaches[:5]:
            lines.append(f"  t={breach.at_ms} ms [{breach.kind}] {breach.text}"
                         + (f" (step: {breach.step})" if breach.step else ""))
        lines.append(f"  replay: make sim SEED={self.schedule.seed}")
        return "\n".join(lines)


def settle_bound_ms(spec: ClusterSpec, world: World) -> int:
    """How long a quiet cluster may take to settle: detection times to agree (a chain of nodes learns a hop an
    interval), the slowest group's release and acquisition, twice (a move through a dependency), and the
    longest fallback delay."""
    detection = spec.heartbeat.interval_ms * spec.heartbeat.miss_limit
    slowest = max((world.timeout_ms(group.name) for group in spec.groups), default=0)
    delays = max((group.fallback_delay_ms for group in spec.groups), default=0)
    return (6 + len(spec.node_names)) * detection + 4 * slowest + delays


def run_schedule(schedule: Schedule, check_settling: bool = True) -> Result:
    started = time.perf_counter()
    spec = load_cluster(schedule.cluster)
    assert spec is not None, "a schedule's cluster builds"
    world = World(spec, schedule.seed, schedule.strict)
    for node in spec.node_names:
        world.start_daemon(node)
    for event in schedule.events:
        at, kind, arguments = event[0], event[1], event[2:]
        if at >= schedule.chaos_ms:
            continue  # the quiet phase is quiet
        world.at(at, lambda kind=kind, arguments=arguments: _apply(world, kind, arguments), f"{kind} {arguments}")
    world.run_until(schedule.chaos_ms)
    if check_settling:
        _settle(world, schedule.chaos_ms)
    invariants = world.invariants
    return Result(schedule, list(invariants.breaches), world.steps, invariants.checks, world.now,
                  time.perf_counter() - started, invariants.unfenced_ms, world.trace)


def _settle(world: World, quiet_from: int) -> None:
    """The quiet phase: run until nothing has changed for two detection times and nothing is under way (no
    action running, no fallback timed), at most the bound; then check what the cluster settled on."""
    spec = world.spec
    _quiet(world)
    bound = settle_bound_ms(spec, world)
    detection = spec.heartbeat.interval_ms * spec.heartbeat.miss_limit
    stable_since, last = quiet_from, _snapshot(world)
    while world.now < quiet_from + bound:
        world.run_until(world.now + spec.heartbeat.interval_ms)
        for node in spec.node_names:  # a daemon that left on a stop asked during the chaos is started again
            world.start_daemon(node)
        now = _snapshot(world)
        if now != last:
            stable_since, last = world.now, now
        elif world.now - stable_since >= 2 * detection and not _under_way(world):
            check_settled(world)
            return
    world.invariants.breach("unsettled", f"not settled {bound} ms after the faults stopped")


def _under_way(world: World) -> bool:
    return any(sim.loop.state.timers or sim.loop.ports.worker.queues or sim.loop.ports.worker.finished
               for sim in world.nodes.values()
               if sim.loop is not None)


def _apply(world: World, kind: str, arguments: list) -> None:
    if kind == "fail":
        world.fail(arguments[0])
    elif kind == "recover":
        world.recover(arguments[0])
    elif kind == "quality":
        medium, loss, duplicate, corrupt, delay, jitter = arguments
        world.set_quality(medium, Quality(loss, duplicate, corrupt, max(1, delay), jitter))
    elif kind == "pause":
        world.pause(arguments[0], arguments[1])
    elif kind == "crash":
        world.crash(arguments[0])
    elif kind == "start":
        world.start_daemon(arguments[0])
    elif kind == "clock":
        world.step_clock(arguments[0], arguments[1])
    elif kind == "driver":
        node, group, behaviour = arguments
        world.behaviour[(node, group)] = behaviour
    elif kind == "request":
        world.request(*arguments)
    elif kind == "deploy":
        for node in world.running():
            world.deploy(node, frozenset(arguments[0]))
    else:
        raise ValueError(f"no such event: {kind}")


def _quiet(world: World) -> None:
    """The faults stop: paths perfect, drivers well, every daemon of a node that is up running."""
    world.quality.clear()
    world.reconnect()
    world.behaviour.clear()
    for node in world.spec.node_names:
        world.start_daemon(node)


def _snapshot(world: World) -> dict:
    found = {}
    for name, sim in world.nodes.items():
        loop = sim.loop
        found[name] = None if loop is None else (loop.state.phases, loop.state.plan_id, loop.view,
                                                 loop.state.addresses, world.addresses.get(name, ()))
    return found


def check_settled(world: World) -> None:
    """What the quiet cluster settled on, against `halang simulate` and the runtime's rules: in each partition
    that may run groups, a placement simulate accepts as a start (every holder can host what it holds), with
    the addresses simulate assigns from there; where one partition runs everything, a placement from which
    the runtime moves nothing and no fallback owed to a node that joined is still to make; outside them,
    nothing held."""
    spec, invariants = world.spec, world.invariants
    failed = sorted(world.failed)
    status = assess(spec, failed)
    running = world.running()
    held: dict[str, list[str]] = {}
    stuck = set()  # in error: a release or a rollback failed, held until an operator clears it, as in PowerHA
    for node in running:
        for group, phase in world.nodes[node].loop.state.phases:
            if phase == ERROR:
                stuck.add(group)
            elif phase != ONLINE:
                invariants.breach("unsettled", f"{group} is {phase} on {node} after the faults stopped")
            held.setdefault(group, []).append(node)
    stuck |= {parent for group in set(stuck) for parent in spec.group(group).after}  # waits for its child in error
    for group, nodes in held.items():
        for node in nodes:
            if node not in status.runnable_nodes and group not in stuck:
                invariants.breach("misplaced", f"{node} holds {group} in a partition that may not run groups")
    for partition in status.runnable:
        _check_partition(world, status, failed, partition, held, stuck, alone=len(status.runnable) == 1)


def _check_partition(world: World, status, failed: list, partition, held: dict, stuck: set, alone: bool) -> None:
    spec, invariants = world.spec, world.invariants
    placed = {group: sorted((node for node in nodes if node in partition), key=spec.group(group).nodes.index)
              for group, nodes in held.items() if group not in stuck and any(node in partition for node in nodes)}
    addresses = [{"node": node, "network": network.name,
                  "services": [{"service": label, "adapter": ifname} for label, on, ifname in world.addresses[node]
                               if on == network.name]}
                 for node in sorted(world.addresses) if node in partition for network in spec.networks]
    try:
        start = read_start(spec, {"groups": placed, "failed": failed, "addresses": addresses})
    except SimulationError as exc:
        invariants.breach("misplaced", f"halang simulate refuses the settled placement {placed}: {exc}")
        return
    placement = start.placement
    # A node holding a group in error keeps whatever its failure left, and that group's addresses compete for
    # the node's adapters: its addresses are not compared.
    in_error = {node for group in stuck for node in held.get(group, ())}
    for node in partition:
        if node in in_error:
            continue
        for network in spec.networks:
            predicted = {label: ifname for label, ifname in placement.held(node, network.name) if ifname}
            actual = {label: ifname for label, on, ifname in world.addresses.get(node, ()) if on == network.name}
            if predicted != actual:
                invariants.breach("misplaced", f"{node} has {actual or 'no address'} on {network.name}; halang "
                                               f"simulate puts {predicted or 'none'} there")
    if not alone:
        return
    running = world.running()
    # Where the operator moved or brought a group it stays, as in PowerHA, until a failure moves it again.
    accepted = {answer.id for sim in world.nodes.values() for answer in sim.answers if answer.ok}
    exempt = set(stuck) | {request.group for _, request, _ in world.requests_made if request.id in accepted}
    for node in running:
        exempt |= world.nodes[node].loop.state.failed | world.nodes[node].loop.state.offline
    moved = transition(spec, placement, status, status).placement
    for group in spec.groups:
        if group.name not in exempt and moved.nodes(group.name) != placement.nodes(group.name):
            where = ", ".join(placement.nodes(group.name)) or "no node"
            target = ", ".join(moved.nodes(group.name)) or "no node"
            invariants.breach("misplaced", f"{group.name} settled on {where}, but from there the runtime would still "
                                           f"move it to {target}")
    # A fallback is owed when a node it prefers joined after the group came to where it is (PowerHA falls back
    # on a node's join, not on a fallover that chose a lower node while a higher one was up).
    owed = [move for move in fallback_moves(spec, placement, status) if move.group not in exempt
            and world.joined.get(move.target, 0) > world.acquired.get((move.source, move.group), 0)]
    if owed:
        invariants.breach("misplaced", f"fallbacks owed still not made after the quiet phase: {owed}")


# ------------------------------------------------------------------ shrinking


def shrink(schedule: Schedule, kind: str, budget_s: float = 120) -> Schedule:
    """A smaller schedule that still breaches the invariant `kind`: fewer events (halves, then one at a time),
    then a shorter chaos."""

    def fails(result: Result) -> bool:
        return any(breach.kind == kind for breach in result.breaches)

    deadline = time.monotonic() + budget_s
    best = schedule
    chunk = max(1, len(best.events) // 2)
    while chunk >= 1 and time.monotonic() < deadline:
        index, progressed = 0, False
        while index < len(best.events) and time.monotonic() < deadline:
            events = best.events[:index] + best.events[index + chunk:]
            trial = Schedule(best.seed, best.source, best.cluster, best.chaos_ms, events, best.note, best.strict)
            if fails(run_schedule(trial)):
                best, progressed = trial, True
            else:
                index += chunk
        if not progressed:
            chunk //= 2
    last = max((event[0] for event in best.events), default=0)
    shorter = Schedule(best.seed, best.source, best.cluster, max(last + 1, 1000), best.events, best.note, best.strict)
    if shorter.chaos_ms < best.chaos_ms and fails(run_schedule(shorter)):
        best = shorter
    return best


# ------------------------------------------------------------------ many


def _one(seed: int) -> dict:
    schedule = draw_schedule(seed)
    if schedule is None:
        return {"seed": seed, "skipped": True}
    result = run_schedule(schedule)
    return {"seed": seed, "ok": result.ok, "steps": result.steps, "checks": result.checks,
            "simulated_ms": result.simulated_ms, "wall_s": result.wall_s, "text": result.describe(),
            "nodes": len(load_cluster(schedule.cluster).node_names), "unfenced_ms": result.unfenced_ms}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make sim", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=1000)
    parser.add_argument("--first", type=int, default=0, help="the first seed")
    parser.add_argument("--time", type=float, default=0, help="stop after this many seconds (0: no limit)")
    parser.add_argument("--seed", type=int, help="replay one seed, shrink it if it fails, and show the result")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--write-cases", metavar="DIR", help="write each failure, shrunk, as a regression case")
    options = parser.parse_args(argv)
    if options.seed is not None:
        return _replay(options.seed, options.write_cases)
    return _soak(options)


def _replay(seed: int, directory: str | None) -> int:
    schedule = draw_schedule(seed)
    if schedule is None:
        print(f"seed {seed}: its cluster has a model error; the soak skips it")
        return 0
    result = run_schedule(schedule)
    print(result.describe())
    if result.ok:
        return 0
    small = shrink(schedule, result.breaches[0].kind)
    print(f"shrunk from {len(schedule.events)} events to {len(small.events)}, {small.chaos_ms} ms of chaos:")
    print(json.dumps(small.events))
    print(run_schedule(small).describe())
    if directory:
        path = Path(directory) / f"seed-{seed}.json"
        path.write_text(json.dumps(small.to_json(), indent=1) + "\n")
        print(f"written to {path}")
    return 1


def _soak(options) -> int:
    from concurrent.futures import ProcessPoolExecutor

    started = time.monotonic()
    seeds = range(options.first, options.first + options.seeds)
    totals = {"schedules": 0, "skipped": 0, "steps": 0, "checks": 0, "simulated_ms": 0, "failures": 0}
    failures = []
    with ProcessPoolExecutor(max_workers=options.jobs) as pool:
        for done in pool.map(_one, seeds, chunksize=4):
            if done.get("skipped"):
                totals["skipped"] += 1
                continue
            totals["schedules"] += 1
            for key in ("steps", "checks", "simulated_ms"):
                totals[key] += done[key]
            if not done["ok"]:
                totals["failures"] += 1
                failures.append(done)
                print(done["text"], flush=True)
            if totals["schedules"] % 100 == 0:
                elapsed = time.monotonic() - started
                print(f"  {totals['schedules']} schedules, {totals['failures']} failing, "
                      f"{totals['simulated_ms'] / 3_600_000:.1f} simulated hours, {elapsed:.0f} s", flush=True)
            if options.time and time.monotonic() - started > options.time:
                pool.shutdown(cancel_futures=True)
                break
    elapsed = time.monotonic() - started
    print(f"{totals['schedules']} schedules ({totals['skipped']} draws skipped: a model error), "
          f"{totals['steps']} steps, {totals['simulated_ms'] / 3_600_000:.1f} simulated hours, "
          f"{totals['checks']} invariant checks, {totals['failures']} failures, in {elapsed:.0f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
