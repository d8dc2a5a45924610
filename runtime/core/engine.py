"""What a node does, decided: `decide(spec, state, observation)` -> the next state and a `Decision`.

Pure: the daemon observes (reports received, its own detector, the time),
calls `decide`, and hands the decision's actions to its executors. Actions
are data: `Acquire(group)`, `Release(group)`, and `Addresses(held)`, the
whole set of service addresses the node must hold now, each on its adapter
(the executor adds and removes to match, and announces what it adds);
`Announce(labels)` repeats the announcement when a partition heals (once the
other side has let go of what the merged plan keeps here, a few intervals
running, so that the last word the clients hear is the keeper's);
`RouteAround(ifnames)` names the node's adapters the view counts as failed,
for the executor to keep out of the routing table.

One decision, for node N, runs these phases in order:

1. **Results.** What N's executors finished since the last decision: an
   acquisition or a release changes its group's phase; a group whose
   resources failed here (rolled back, or a monitor gave up) is refused
   here until the daemon restarts; a release that failed leaves its group
   in error, held.
2. **Requests.** The operator's new requests made on N wait for their
   answer; a stop for N, asked on any node heard, is decided here.
3. **Keep.** N gives up at once every group it holds that it may not keep:
   under the view of the paths heard within `miss_limit - 1` intervals
   (`detector`), N's partition no longer runs groups (quorum), or N can no
   longer host the group. This comes first, before any agreement. So do
   the groups a deploy restarts or moves (`Observation.release`, right
   after the daemon is told to hand over to the new bundle): N releases
   those it holds, and never acquires them again (the new bundle places
   them anew); the plan keeps them here meanwhile, and N does not refuse
   them. `handover_ready` says when the daemon may hand over.
4. **Agree.** The view is that of the paths heard within the miss limit
   (`membership.observe`). N acts on it only when every member of its
   partition reports the same view hash (each report carries the hash its
   node acts on), and only once it has listened for a whole detection time
   since it started.
5. **Plan.** The partition's *leader* (its first node in file order among
   those that have led or followed an agreed view before; at a cluster's
   first start, its first node) plans for every agreed view:
   `placement.transition` from the plan in force (after a merge, or with no
   plan yet, from the groups the members report they hold: the plan of one
   side knows nothing of what the other did) from the status of the last
   view it agreed to (none at a first start: every host is new, the startup
   placement) to the new one. Fallbacks with a delay become timers; when
   one is due and `fallback_moves` still lists it, the leader makes the next
   revision of its plan, as it does for the operator's requests it carries
   out. The plan travels in the leader's reports.
6. **Follow.** Every member acts on the leader's plan for the current view:
   it releases the groups the plan puts elsewhere, and acquires the groups
   the plan gives it once no other member reports holding them (a group
   moves only after its previous holder let it go). A group held by a node
   outside the partition needs no wait: that node is dead, or on the other
   side without quorum, and has released it before this side's view
   changed (Keep, and the keep threshold).
7. **Addresses.** The node holds the service addresses of the groups it
   holds, on the adapters the plan's placement assigns (`Placement.held`);
   when an adapter fails, the plan moves its addresses to another adapter
   of the node (swap_adapter) before any fallover is considered, since
   `transition` only moves a group its node can no longer host. Without a
   plan to follow, the addresses of the groups no longer held go.
8. **Monitors.** The monitors of the applications online here that are due
   are run.
9. **Replies.** The answers to N's requests, from whichever node gave them,
   go back to the operator's commands.
10. **Leave.** A node asked to stop leaves once it holds nothing and the
   others follow a plan without it.

The decision's `reason` is one sentence saying what was decided and why.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Dict, FrozenSet, List, Mapping, NamedTuple, Optional, Set, Tuple

from runtime.core.membership import MAX_ANSWERS, MAX_REQUESTS, Observed, PlanId, Report, observe
from runtime.core.monitors import FALLOVER, RESTART, Watch, due, probed, restarted, watch
from runtime.core.operator import Answer, Refused, Request, carry_out, hold_offline
from runtime.core.placement import OFFLINE, Event, Move, Placement, PlacementError, apply_moves, events, \
    fallback_moves, make_placement, transition
from runtime.core.snapshot import ClusterSpec
from runtime.core.topology import Status, can_host_now

PlanGroups = Tuple[Tuple[str, Tuple[str, ...]], ...]


class Acquire(NamedTuple):
    group: str


class Release(NamedTuple):
    group: str


class Addresses(NamedTuple):
    """Every service address the node must hold: (label, network, ifname), networks and labels in file order."""

    held: Tuple[Tuple[str, str, str], ...]


class Announce(NamedTuple):
    labels: Tuple[str, ...]


class RouteAround(NamedTuple):
    """The node's adapters the agreed view counts as failed (ifnames, in file order): the executor keeps them out
    of the routing table, so that replies leave by a working adapter. The kernel does that by itself only when
    the carrier drops; a hung switch or a cut further away leaves the carrier up."""

    ifnames: Tuple[str, ...]


class Probe(NamedTuple):
    """Run the monitor of one application of a group online here."""

    group: str
    application: str


class Restart(NamedTuple):
    """Stop and start one application of a group online here (its monitor failed)."""

    group: str
    application: str


class Reply(NamedTuple):
    """Tell the operator's command waiting on this node's control socket how its request ended."""

    answer: Answer


class Leave(NamedTuple):
    """The node was asked to stop and holds nothing any more: the daemon exits."""

    reason: str


class Done(NamedTuple):
    """What a background executor reports back: `kind` is acquire, release, probe or restart. An acquisition
    that failed has been rolled back; `clean` says whether the rollback (or a release) left nothing up."""

    kind: str
    group: str
    ok: bool
    application: str = ""
    detail: str = ""
    clean: bool = True


ACQUIRING, ONLINE, RELEASING, ERROR = "acquiring", "online", "releasing", "error"
HEAL_ANNOUNCEMENTS = 3  # after a heal, one announcement an interval: a client that missed one hears the next


class Observation(NamedTuple):
    now_ms: int
    acquire: Mapping[str, Report]  # the fresh reports within the miss limit, this node's included
    keep: Mapping[str, Report]  # within miss_limit - 1 intervals
    settled: bool  # the node has listened for a whole detection time
    veterans: Optional[FrozenSet[str]] = None  # nodes in the partition for a detection time (membership.observe)
    done: Tuple[Done, ...] = ()  # what the executors finished since the last decision
    requests: Tuple[Request, ...] = ()  # the operator's requests that came in on this node's control socket
    # The groups a deploy restarts or moves (release.json), in the decision right after the daemon is told to hand
    # over: those held here are released, and the new bundle places them.
    release: FrozenSet[str] = frozenset()
    # How long the node did not run before this decision (a pause, a stalled machine, a clock that jumped), when
    # longer than the keep threshold: its peers may have declared it dead and taken its groups meanwhile.
    stalled_ms: int = 0


@dataclass(frozen=True)
class EngineState:
    node: str
    holds: FrozenSet[str] = frozenset()  # every group with anything up here: acquiring, online, releasing, error
    phases: Tuple[Tuple[str, str], ...] = ()  # (group, phase) of the groups held, file order
    failed: FrozenSet[str] = frozenset()  # groups whose resources failed here: refused until the daemon restarts
    hurried: FrozenSet[str] = frozenset()  # groups released because they may not be kept: addresses go at once
    watches: Tuple[Watch, ...] = ()  # the monitors of the applications of groups online here
    agreed: Optional[Status] = None  # the status of the last view this node agreed to
    agreed_hash: str = ""
    plan_id: Optional[PlanId] = None  # the plan in force, its own or the leader's it follows
    plan: Optional[Placement] = None
    timers: Tuple[Tuple[int, Move], ...] = ()  # (due, fallback) of the plan
    leading: bool = False  # the plan in force is this node's to revise (it made it, or took over its lead)
    addresses: Tuple[Tuple[str, str, str], ...] = ()
    routed_around: Tuple[str, ...] = ()
    partition: Tuple[str, ...] = ()
    agreed_partition: Tuple[str, ...] = ()  # the partition of the last agreed view
    heal_announcements: int = 0  # announcements still to make after a partition healed
    requests: Tuple[Tuple[int, Request], ...] = ()  # (made at, request) of this node's, until answered
    answers: Tuple[Tuple[int, Answer], ...] = ()  # (given at, verdict) this node gave, newest last
    offline: FrozenSet[str] = frozenset()  # the groups the operator holds offline (the plan's, as the leader says)
    stopping: str = ""  # takeover or offline: asked to stop, the node gives up its groups, then leaves
    stopping_since: int = 0
    deploying: FrozenSet[str] = frozenset()  # held when a deploy named them: released, never acquired again
    rejoin_at: int = 0  # after a stall, the node gives up its groups and listens again until then


class Decision(NamedTuple):
    actions: Tuple[object, ...]
    reason: str
    view_hash: str  # what this node's next report says it acts on
    events: Tuple[Event, ...] = ()  # what the new plan means (node_down, network_down, rg_move, ...)


@dataclass
class _Turn:
    """What one decision works on while its phases run: the phase of every group held, the groups whose
    addresses go at once (released because they may not be kept), the actions decided and what it says."""

    phases: Dict[str, str]
    hurried: Set[str]
    actions: List[object] = field(default_factory=list)
    said: List[str] = field(default_factory=list)


def decide(spec: ClusterSpec, state: EngineState, observation: Observation) -> Tuple[EngineState, Decision]:
    """One decision: the phases of the module docstring, in order."""
    turn = _Turn(dict(state.phases), set(state.hurried))
    state = _take_done(spec, state, observation, turn)
    stopping = state.stopping  # a stop decided in this decision leaves in a later one
    state = _take_requests(spec, state, observation, turn)
    acquire = observe(spec, observation.acquire, observation.veterans)
    keep = observe(spec, observation.keep, observation.veterans)
    state = _stalled(spec, state, observation, turn)
    _keep(spec, state, keep, observation.now_ms, turn)
    state = _release_for_deploy(spec, state, observation.release, turn)
    partition = acquire.view.partition_of(state.node) or (state.node,)
    members = {node: observation.acquire[node] for node in partition if node in observation.acquire}
    state, leader = _agree(spec, state, partition, members, acquire.hash,
                           observation.settled and observation.now_ms >= state.rejoin_at, turn)
    state, plan, happened = _plan(spec, state, leader, members, acquire, observation.now_ms, turn)
    if plan is not None:
        _follow(spec, state, plan, members, observation.acquire, keep.status, turn)
        state = _hold_addresses(spec, state, plan, members, acquire.status, turn)
    else:
        state = _drop_addresses(spec, state, turn)
    state = _monitor(state, observation.now_ms, turn)
    state = _replies(spec, state, observation, turn)
    _leave(spec, state, stopping, members, acquire.hash, observation.now_ms, turn)
    state = replace(state, holds=frozenset(turn.phases), hurried=frozenset(turn.hurried),
                    phases=tuple(sorted(turn.phases.items(), key=lambda item: spec.group_index[item[0]])))
    reason = "; ".join(turn.said) if turn.said else f"view {acquire.hash}: nothing to change"
    return state, Decision(tuple(turn.actions), reason, acquire.hash, happened)


def _take_done(spec: ClusterSpec, state: EngineState, observation: Observation, turn: _Turn) -> EngineState:
    """1. Results: what the executors finished. Acquisitions and releases change the group's phase; a failed
    acquisition (rolled back) or a group whose monitor gave up makes this node refuse the group; a release that
    failed leaves it in error, held, so that no other node takes what may still be up here."""
    phases, said = turn.phases, turn.said
    failed = set(state.failed)
    watches = {(item.group, item.application): item for item in state.watches}
    now = observation.now_ms
    for done in observation.done:
        phase = phases.get(done.group)
        if phase is None:
            continue
        if done.kind == "acquire" and phase == ACQUIRING:
            if done.ok:
                phases[done.group] = ONLINE
                said.append(f"{done.group} is online")
                for application in spec.group(done.group).applications:
                    item = watch(done.group, application, now)
                    if item is not None:
                        watches[(done.group, application.name)] = item
            elif done.clean:
                del phases[done.group]
                failed.add(done.group)
                said.append(f"{done.group} failed to come online here and was rolled back ({done.detail}): "
                            "refused here until this daemon restarts")
            else:
                phases[done.group] = ERROR
                failed.add(done.group)
                said.append(f"{done.group} failed to come online and its rollback failed ({done.detail}): in error, "
                            "held here")
        elif done.kind == "release" and phase in (RELEASING, ERROR):
            if done.clean:
                del phases[done.group]
                said.append(f"{done.group} is released" + ("" if done.ok else f" ({done.detail})"))
            else:
                phases[done.group] = ERROR
                said.append(f"{done.group} failed to release ({done.detail}): in error, held here")
        elif done.kind in ("probe", "restart") and phase == ONLINE:
            key = (done.group, done.application)
            item = watches.get(key)
            application = _application(spec, done.group, done.application)
            if item is None or application is None:
                continue
            if done.kind == "probe":
                item, verdict = probed(item, application, done.ok, now)
            else:
                item, verdict = restarted(item, application, done.ok, now)
            watches[key] = item
            if verdict == RESTART:
                turn.actions.append(Restart(done.group, done.application))
                said.append(f"the monitor of {done.application} ({done.group}) failed ({done.detail}): restart "
                            f"{item.restarts} of {application.monitor.restarts}")  # type: ignore[union-attr]
            elif verdict == FALLOVER:
                failed.add(done.group)
                what = "its restart failed" if done.kind == "restart" else \
                    f"its monitor failed after {item.restarts} restarts"
                said.append(f"{done.group} falls over: {done.application} {what} ({done.detail})")
    watches = {key: item for key, item in watches.items() if phases.get(key[0]) == ONLINE}
    # Only while its release runs: a group released and taken again in this decision has its addresses again.
    turn.hurried &= set(phases)
    return replace(state, failed=frozenset(failed),
                   watches=tuple(sorted(watches.values(), key=lambda item: (spec.group_index[item.group],
                                                                           item.application))))


def _take_requests(spec: ClusterSpec, state: EngineState, observation: Observation, turn: _Turn) -> EngineState:
    """2. Requests: the operator's new requests wait here for their answer (a report carries a few at most: one
    more is refused at once); a stop for this node, from here or from any node heard, is decided here."""
    pending = list(state.requests)
    for request in observation.requests:
        if len(pending) < MAX_REQUESTS:
            pending.append((observation.now_ms, request))
        else:
            turn.actions.append(Reply(Answer(
                request.id, False,
                f"{MAX_REQUESTS} requests made on {state.node} are waiting for their answers already: try again soon")))
    state = replace(state, requests=tuple(pending))
    for request in _visible_requests(state, observation.acquire):
        if request.verb != "stop" or request.target != state.node or _answered(state, request.id):
            continue
        if state.stopping:
            state = _answer(state, Answer(request.id, False, f"{state.node} is already stopping ({state.stopping})"),
                            observation.now_ms)
            continue
        state = replace(state, stopping=request.mode, stopping_since=observation.now_ms)
        what = "its groups move to the other nodes" if request.mode == "takeover" else "its groups go offline"
        state = _answer(state, Answer(request.id, True, f"{state.node} stops: {what}, then its daemon leaves"),
                        observation.now_ms)
        turn.said.append(f"asked to stop ({request.mode}): giving up every group, then leaving")
    return state


def _stalled(spec: ClusterSpec, state: EngineState, observation: Observation, turn: _Turn) -> EngineState:
    """3. Keep, after a stall: a node that did not run for longer than the keep threshold cannot know whether its
    peers declared it dead and took its groups (a partition looks the same to them), so it gives up every group
    and listens for a whole detection time before it takes any, as a node that starts; PowerHA halts such a
    node instead (its dead man switch)."""
    if not observation.stalled_ms:
        return state
    turn.said.append(f"this node did not run for {observation.stalled_ms} ms (a pause, or its clock jumped): its "
                     "peers may have taken its groups; giving them up and listening again")
    detection = spec.heartbeat.interval_ms * spec.heartbeat.miss_limit
    return replace(state, rejoin_at=observation.now_ms + detection)


def _keep(spec: ClusterSpec, state: EngineState, keep: Observed, now: int, turn: _Turn) -> None:
    """3. Keep: release at once, addresses first, the groups held that this node may not keep under the view of
    the keep threshold (no quorum, or it can no longer host them), or every group while it listens again after
    a stall; children before their parents."""
    me, rejoining = state.node, now < state.rejoin_at
    lost = sorted((group for group, phase in turn.phases.items() if phase in (ACQUIRING, ONLINE)
                   and (rejoining or not _may_keep(spec, keep.status, group, me))), key=spec.group_index.__getitem__)
    # Children go first: a parent waits for the release of its children held here (after ordering).
    lost = [group for group in lost if not _children_held(spec, group, turn.phases, {})]
    for group in lost:
        turn.phases[group] = RELEASING
        turn.hurried.add(group)
        turn.actions.append(Release(group))
    if lost:
        why = "listening again after a stall" if rejoining else _why_lost(keep, me)
        turn.said.append(f"releasing {', '.join(lost)}: {why}")


def _release_for_deploy(spec: ClusterSpec, state: EngineState, release: FrozenSet[str], turn: _Turn) -> EngineState:
    """3. Keep, for a deploy: release at once, addresses first, the groups held that a deploy restarts or moves,
    children before their parents, and never acquire them again in this process (it re-executes with the new
    bundle, which places them anew)."""
    deploying = state.deploying | (release & set(turn.phases))
    # A group named earlier and still held (a parent waiting for its children) is released once they are gone.
    ready = sorted((group for group in deploying if turn.phases.get(group) in (ACQUIRING, ONLINE)
                    and not _children_held(spec, group, turn.phases, {})), key=spec.group_index.__getitem__)
    for group in ready:
        turn.phases[group] = RELEASING
        turn.hurried.add(group)
        turn.actions.append(Release(group))
    if ready:
        turn.said.append(f"releasing {', '.join(ready)} for a deploy that restarts or moves "
                         + ("it" if len(ready) == 1 else "them"))
    return replace(state, deploying=deploying)


def _agree(spec: ClusterSpec, state: EngineState, partition: Tuple[str, ...], members: Mapping[str, Report],
           view: str, settled: bool, turn: _Turn) -> Tuple[EngineState, Optional[str]]:
    """4. Agree: the partition's leader, once this node has listened for a whole detection time and every member
    acts on its view; None before. A partition that grew has healed, which Addresses announces."""
    if state.partition and set(state.partition) < set(partition):
        # A partition healed: once the other side has let go of what the merged plan keeps here (it may have held
        # the same addresses, and its last word to the clients was its own), the keeper tells the switches and
        # clients again, a few intervals running, so that the last announcement they hear is the keeper's.
        state = replace(state, heal_announcements=HEAL_ANNOUNCEMENTS)
    state = replace(state, partition=partition)
    waiting = [node for node, report in members.items() if node != state.node and report.view != view]
    if not settled:
        turn.said.append("listening: a whole detection time has not passed since it started or stalled")
        return state, None
    if state.node not in members:  # its own report went stale: its clock jumped since it last beat
        turn.said.append("waiting for its own next report")
        return state, None
    if waiting:
        turn.said.append(f"waiting for {', '.join(waiting)} to agree on view {view}")
        return state, None
    return state, leader_of(spec, members, state.node if state.agreed_hash else None)


def _plan(spec: ClusterSpec, state: EngineState, leader: Optional[str], members: Mapping[str, Report],
          acquire: Observed, now: int, turn: _Turn) -> Tuple[EngineState, Optional[Placement], Tuple[Event, ...]]:
    """5. Plan: the leader plans for the agreed view and carries out the operator's requests on its plan; every
    member takes the plan in force (None while there is none for the view) and the events it raises if new."""
    if leader is None:
        return state, None, ()
    me, before = state.node, state
    if leader == me:
        state = _lead(spec, state, acquire, members, now, turn.said)
        if _for_view(state.plan_id, acquire.hash):
            state = _operate(spec, state, acquire, members, now, turn.said)
    plan = _plan_in_force(spec, state, leader, members, acquire)
    if plan is None:
        turn.said.append(f"waiting for the plan of {leader} for view {acquire.hash}")
        return state, None, ()
    plan_id = state.plan_id if leader == me else members[leader].plan_id
    happened: Tuple[Event, ...] = ()
    if plan_id != before.plan_id:
        happened = events(spec, before.plan or OFFLINE, plan,
                          before.agreed if before.agreed is not None else acquire.status, acquire.status)
    if leader != me:  # followed, so that this node can lead from it if it must
        state = replace(state, plan=plan, plan_id=plan_id, timers=(), leading=False,
                        offline=frozenset(members[leader].offline))
    state = replace(state, agreed=acquire.status, agreed_hash=acquire.hash, agreed_partition=state.partition)
    return state, plan, happened


def _lead(spec: ClusterSpec, state: EngineState, acquire: Observed, members: Mapping[str, Report], now: int,
          said: List[str]) -> EngineState:
    """The leader's plan for the agreed view (a new one when the view changed; the next revision when a
    fallback delay is over)."""
    if not _for_view(state.plan_id, acquire.hash):
        # After a merge the plan this node made (or followed) knows nothing of what the other side did:
        # plan from what the members hold.
        merged = not set(members) <= set(state.agreed_partition)
        current = state.plan if state.plan is not None and not merged else _holdings(spec, members)
        offline = set(state.offline)
        if merged:  # what the operator took offline on either side stays offline
            offline.update(group for report in members.values() for group in report.offline)
        offline.update(group for node, report in members.items() if report.stopping == "offline"
                       for group in current.groups_on(node))
        step = transition(spec, current, state.agreed, acquire.status)
        placement = hold_offline(spec, step.placement, acquire.status, offline)
        timers = _timers(spec, state, step.pending, placement, acquire.status, offline, now)
        said.append(f"planned view {acquire.hash}: {_describe(spec, current, placement)}")
        return replace(state, plan=placement, plan_id=(acquire.hash, 0), timers=timers, leading=True,
                       offline=frozenset(offline))
    if not state.leading and state.plan is not None:
        # The lead passed to this node (a node earlier in the file rejoined and followed first): the fallbacks
        # its previous leader was timing are not known here, so their delays start again, never shorter.
        timers = tuple((now + move.delay_ms, move) for move in fallback_moves(spec, state.plan, acquire.status))
        state = replace(state, timers=timers, leading=True)
    due = [move for at, move in state.timers if at <= now]
    if not due or state.plan is None:
        return state
    valid = [move for move in fallback_moves(spec, state.plan, acquire.status) if move in due]
    placement = apply_moves(spec, state.plan, valid, acquire.status)
    if valid:
        said.append("fallback: " + ", ".join(f"{move.group} {move.source} -> {move.target}" for move in valid))
    return replace(state, plan=placement, plan_id=_revised(state.plan_id),
                   timers=tuple(item for item in state.timers if item[1] not in due))


def _timers(spec: ClusterSpec, state: EngineState, pending: Tuple[Move, ...], placement: Placement,
            status: Status, offline: Set[str], now: int) -> Tuple[Tuple[int, Move], ...]:
    """The fallbacks a new plan times: those its transition starts, and those still due from before, which a
    view change must not lose: a leader keeps the due time it was timing; a node the lead passed to did not
    know it, so the delay starts again, never shorter."""
    timers = [(now + move.delay_ms, move) for move in pending if move.group not in offline]
    timed = {move.group for move in pending}
    before = {move.group: at for at, move in state.timers} if state.leading else {}
    for move in fallback_moves(spec, placement, status):
        if move.group in timed or move.group in offline:
            continue
        if move.group in before:
            timers.append((before[move.group], move))
        elif not state.leading:
            timers.append((now + move.delay_ms, move))
    return tuple(timers)


def _operate(spec: ClusterSpec, state: EngineState, acquire: Observed, members: Mapping[str, Report], now: int,
             said: List[str]) -> EngineState:
    """The leader carries out the partition's move, online and offline requests on its plan, or refuses them
    with the reason; what it does makes the next revision of the plan."""
    assert state.plan is not None
    plan, offline, timers = state.plan, state.offline, state.timers
    stopping = frozenset(node for node, report in members.items() if report.stopping)
    changed = False
    for request in _visible_requests(state, members):
        if request.verb == "stop" or _answered(state, request.id):
            continue
        try:
            outcome = carry_out(spec, plan, acquire.status, request, offline, stopping)
        except Refused as exc:
            state = _answer(state, Answer(request.id, False, str(exc)), now)
            said.append(f"refused {request.describe()}: {exc}")
            continue
        plan, offline, changed = outcome.placement, outcome.offline, True
        timers = tuple(item for item in timers if item[1].group != request.group)  # the operator said where
        state = _answer(state, Answer(request.id, True, outcome.text), now)
        said.append(f"operator: {outcome.text}")
    if not changed:
        return state
    return replace(state, plan=plan, offline=offline, timers=timers, plan_id=_revised(state.plan_id))


def _plan_in_force(spec: ClusterSpec, state: EngineState, leader: str, members: Mapping[str, Report],
                   acquire: Observed) -> Optional[Placement]:
    """The plan for the agreed view: this node's own if it leads, else the one the leader reports; None while
    there is none."""
    if leader == state.node:
        return state.plan if _for_view(state.plan_id, acquire.hash) else None
    report = members.get(leader)
    if report is None or not _for_view(report.plan_id, acquire.hash):
        return None
    try:
        # The plan travels as groups; the addresses follow from them under the agreed view, as the leader's
        # did (an address stays on its adapter while that adapter works).
        return make_placement(spec, {group: nodes for group, nodes in report.plan}, acquire.status, state.plan)
    except PlacementError:
        return None


def _follow(spec: ClusterSpec, state: EngineState, plan: Placement, members: Mapping[str, Report],
            heard: Mapping[str, Report], keep: Status, turn: _Turn) -> None:
    """6. Follow: release the groups the plan puts elsewhere (or that failed here, or whose parent is moving),
    children first; acquire those it gives this node once no node heard from holds them (a member, or a node
    heard outside the partition: one that restarted and does not hear this one yet, or that hears it only one
    way, is alive, not gone) and their parents are online."""
    me, phases, failed, said = state.node, turn.phases, state.failed, turn.said
    others = {node: report for node, report in members.items() if node != me}
    active = [group for group, phase in phases.items() if phase in (ACQUIRING, ONLINE)]
    gone = {group for group in active
            if me not in plan.nodes(group) or group in failed
            or any(not _parent_steady(spec, plan, parent, me, members, phases)
                   for parent in spec.group(group).after)}
    # A group whose parent goes goes too, however deep: else the parent would wait for it for ever.
    grown = True
    while grown:
        more = {group for group in active if group not in gone and set(spec.group(group).after) & gone}
        gone |= more
        grown = bool(more)
    gone = sorted((group for group in gone if not _children_held(spec, group, phases, others)),
                  key=spec.group_index.__getitem__)
    for group in gone:
        phases[group] = RELEASING
        turn.actions.append(Release(group))
    if gone:
        said.append(f"releasing {', '.join(gone)}: the plan runs them elsewhere, they failed here, or a parent "
                    "is moving")
    taken, held_elsewhere, parents_waiting, unfollowed = [], [], [], set()
    # A member still on another revision of the plan may be about to take a group itself: every member follows
    # this one first (a leader's fallback can come an interval after the plan it revises).
    behind = sorted(node for node, report in others.items() if report.plan_id != state.plan_id)
    for group in spec.groups:
        if me not in plan.nodes(group.name) or group.name in phases or group.name in failed \
                or group.name in state.deploying or not _may_keep(spec, keep, group.name, me, holding=False):
            continue
        holders = [node for node, report in heard.items() if node != me and group.name in report.holds]
        if holders and not group.concurrent:
            held_elsewhere.append(f"{group.name} (held by {', '.join(holders)})")
            continue
        if behind and not group.concurrent:
            unfollowed.update(behind)
            continue
        missing = [parent for parent in group.after if not _parent_online(spec, plan, parent, me, members, phases)]
        if missing:
            parents_waiting.append(f"{group.name} (after {', '.join(missing)})")
            continue
        if _children_held(spec, group.name, phases, others):  # a parent comes back only once they went offline
            parents_waiting.append(f"{group.name} (its children to go offline first)")
            continue
        phases[group.name] = ACQUIRING
        turn.actions.append(Acquire(group.name))
        taken.append(group.name)
    if taken:
        said.append(f"acquiring {', '.join(taken)}")
    if held_elsewhere:
        said.append(f"waiting for the release of {', '.join(held_elsewhere)}")
    if unfollowed:
        said.append(f"waiting for {', '.join(sorted(unfollowed))} to follow the plan before acquiring")
    if parents_waiting:
        said.append(f"waiting for the order of dependencies: {', '.join(parents_waiting)}")


def _hold_addresses(spec: ClusterSpec, state: EngineState, plan: Placement, members: Mapping[str, Report],
                    status: Status, turn: _Turn) -> EngineState:
    """7. Addresses: those of the groups held, where the plan puts them; the failed adapters routed around; after a
    heal, the addresses announced again."""
    # A group the plan runs elsewhere keeps its addresses here until it is released (addresses go last), also
    # while its release waits for its children's.
    leaving = {group for group, phase in turn.phases.items() if group not in turn.hurried
               and (phase == RELEASING or state.node not in plan.nodes(group))}
    stuck = {group for group, phase in turn.phases.items() if phase == ERROR}
    addresses = _addresses(spec, plan, state.node, set(turn.phases) - turn.hurried, state.addresses, leaving,
                           status, stuck)
    if addresses != state.addresses:
        turn.actions.append(Addresses(addresses))
        moved = [f"{label} to {ifname}" for label, _, ifname in addresses
                 if any(item[0] == label and item[2] != ifname for item in state.addresses)]
        if moved:
            turn.said.append(f"moved {', '.join(moved)} (an adapter failed or came back)")
        state = replace(state, addresses=addresses)
    state = _route_around(spec, state, status, turn)
    return _announce_heal(spec, state, plan, members, leaving, turn)


def _route_around(spec: ClusterSpec, state: EngineState, status: Status, turn: _Turn) -> EngineState:
    failed = _failed_adapters(spec, status, state.node)
    if failed == state.routed_around:
        return state
    turn.actions.append(RouteAround(failed))
    turn.said.append(f"routing around failed {', '.join(failed)}" if failed else
                     f"{', '.join(state.routed_around)} trusted again")
    return replace(state, routed_around=failed)


def _announce_heal(spec: ClusterSpec, state: EngineState, plan: Placement, members: Mapping[str, Report],
                   leaving: Set[str], turn: _Turn) -> EngineState:
    """After a heal, the addresses the plan keeps here, announced again once no other member holds their groups."""
    if not state.heal_announcements:
        return state
    me = state.node
    owners = {label: _owner(spec, label) or "" for label, _, _ in state.addresses}
    kept = [label for label, owner in owners.items() if owner not in leaving and me in plan.nodes(owner)]
    elsewhere = [node for node, report in members.items() if node != me
                 and any(owners[label] in report.holds for label in kept)]
    if not kept:
        return replace(state, heal_announcements=0)
    if elsewhere:
        turn.said.append(f"the partition healed: announcing once {', '.join(elsewhere)} let go")
        return state
    turn.actions.append(Announce(tuple(kept)))
    turn.said.append("the partition healed: announced the addresses again")
    return replace(state, heal_announcements=state.heal_announcements - 1)


def _drop_addresses(spec: ClusterSpec, state: EngineState, turn: _Turn) -> EngineState:
    """7. Addresses, with no plan to follow: the addresses of the groups no longer held (or hurried out) go."""
    held = set(turn.phases) - turn.hurried
    addresses = tuple(item for item in state.addresses if _owner(spec, item[0]) in held)
    if addresses == state.addresses:
        return state
    turn.actions.append(Addresses(addresses))
    return replace(state, addresses=addresses)


def _monitor(state: EngineState, now: int, turn: _Turn) -> EngineState:
    """8. Monitors: probe the applications online here whose monitor is due."""
    watches = tuple(item for item in state.watches if turn.phases.get(item.group) == ONLINE)
    watches, probing = due(watches, now)
    turn.actions.extend(Probe(item.group, item.application) for item in probing)
    return replace(state, watches=watches)


def _replies(spec: ClusterSpec, state: EngineState, observation: Observation, turn: _Turn) -> EngineState:
    """9. Replies: the answers to this node's requests, from whichever node gave them, go back to the operator's
    command; a request left unanswered too long is answered here, saying so."""
    if not state.requests:
        return state
    me = state.node
    known = {answer.id: answer for origin, report in observation.acquire.items() if origin != me
             for answer in report.answers}
    known.update((answer.id, answer) for _, answer in state.answers)
    deadline = answer_deadline_ms(spec)
    waiting = []
    for made, request in state.requests:
        answer = known.get(request.id)
        if answer is None and request.verb == "stop" and request.target not in observation.acquire:
            answer = Answer(request.id, False, f"{request.target} is not running: its daemon is not heard")
        if answer is None and observation.now_ms - made > deadline:
            answer = Answer(request.id, False, f"no answer within {deadline // 1000} s: the partition has not "
                                               "agreed on a view (see halang status)")
        if answer is None:
            waiting.append((made, request))
        else:
            turn.actions.append(Reply(answer))
    return replace(state, requests=tuple(waiting))


def _leave(spec: ClusterSpec, state: EngineState, stopping: str, members: Mapping[str, Report], view: str,
           now: int, turn: _Turn) -> None:
    """10. Leave: a node asked to stop leaves once it holds nothing, its last report said so, and the members
    follow a plan without it (or, failing that, once the answer deadline has passed)."""
    if stopping and not turn.phases and not state.holds and (
            _handed_off(state, members, view) or now - state.stopping_since > answer_deadline_ms(spec)):
        turn.actions.append(Leave(f"stopped on the operator's request ({stopping}): this node holds nothing"))
        turn.said.append("leaving: asked to stop, and nothing is held here")


def handover_ready(state: EngineState) -> bool:
    """Whether the daemon may hand over to the new bundle: no group a deploy named is still held here (a group in
    error stays held and is handed over as it is: no release would bring it down), and no acquisition or
    release is half done (the new process adopts what is held as online)."""
    return all(phase == ONLINE and group not in state.deploying or phase == ERROR for group, phase in state.phases)


def online_groups(state: EngineState) -> Tuple[str, ...]:
    """The groups whose every resource is up here, file order (what the node's report says)."""
    return tuple(group for group, phase in state.phases if phase == ONLINE)


def own_report(spec: ClusterSpec, previous: Optional[Report], state: EngineState, incarnation: int,
               heard: FrozenSet[str], carriers: FrozenSet[str], tie: bool, view: str, settled: bool,
               now_ms: int, reach: FrozenSet[str] = frozenset()) -> Report:
    """The node's report for the next interval (the counter grows by one), from what it observes and its state.
    A node that stops refuses every group of its lists, so that the plan moves them off it (or, stopping
    offline, takes them offline) before it leaves. Answers are reported while their request may still wait for
    them, so a quiet cluster's beats carry none."""
    seq = previous.seq + 1 if previous is not None and previous.incarnation == incarnation else 0
    refused = state.failed | (frozenset(spec.groups_by_node[state.node]) if state.stopping else frozenset())
    oldest = now_ms - answer_deadline_ms(spec)
    return Report(state.node, incarnation, seq, heard, carriers, tie, tuple(sorted(state.holds)), view,
                  state.plan_id, state.plan.groups if state.plan is not None else (), settled, online_groups(state),
                  tuple(sorted(refused, key=spec.group_index.__getitem__)),
                  tuple(request for _, request in state.requests),
                  tuple(answer for given, answer in state.answers if given >= oldest)[-MAX_ANSWERS:],
                  tuple(sorted(state.offline, key=spec.group_index.__getitem__)), state.stopping, reach)


def answer_deadline_ms(spec: ClusterSpec) -> int:
    """How long a request waits for its answer: the leader answers within an interval or two once the nodes
    agree on a view, and agreement takes up to a detection time or two after a change."""
    return max(10_000, 4 * spec.heartbeat.interval_ms * spec.heartbeat.miss_limit)


def leader_of(spec: ClusterSpec, members: Mapping[str, Report], me_if_experienced: Optional[str]) -> str:
    """The first member (file order) that has acted on an agreed view before; at a first start, the first."""
    order = sorted(members, key=spec.node_index.__getitem__)
    experienced = [node for node in order if members[node].plan_id is not None or node == me_if_experienced]
    return (experienced or order)[0]


def _handed_off(state: EngineState, members: Mapping[str, Report], view: str) -> bool:
    """A stopping node may leave once every member follows a plan of the current view that puts nothing on it
    (and, stopping offline, holds its groups offline): leaving sooner, the others would plan without it from
    the plan before, as after a crash."""
    plan = state.plan
    if plan is None or not _for_view(state.plan_id, view) or plan.groups_on(state.node):
        return False
    return all(report.plan_id == state.plan_id for node, report in members.items() if node != state.node)


def _visible_requests(state: EngineState, reports: Mapping[str, Report]) -> List[Request]:
    """This node's pending requests and those in the reports of the other nodes, each once."""
    found = {request.id: request for _, request in state.requests}
    for origin, report in reports.items():
        if origin != state.node:
            for request in report.requests:
                found.setdefault(request.id, request)
    return list(found.values())


def _answered(state: EngineState, request_id: str) -> bool:
    return any(answer.id == request_id for _, answer in state.answers)


def _answer(state: EngineState, answer: Answer, now_ms: int) -> EngineState:
    answer = answer._replace(text=answer.text[:MAX_TEXT])  # a beat stays well within a disk slot
    return replace(state, answers=(state.answers + ((now_ms, answer),))[-KEPT_ANSWERS:])


KEPT_ANSWERS = 64  # more than MAX_ANSWERS: a request is never decided twice while its origin still sends it
MAX_TEXT = 400


def _application(spec: ClusterSpec, group: str, name: str):
    for application in spec.group(group).applications:
        if application.name == name:
            return application
    return None


def _children(spec: ClusterSpec, group: str) -> Tuple[str, ...]:
    found = spec.derived.get("children")
    if found is None:
        found = {}
        for child in spec.groups:
            for parent in child.after:
                found.setdefault(parent, []).append(child.name)
        found = {parent: tuple(children) for parent, children in found.items()}
        spec.derived["children"] = found
    return found.get(group, ())


def _children_held(spec: ClusterSpec, group: str, phases: Mapping[str, str], members: Mapping[str, Report]) -> bool:
    """Whether a child of the group (`after`) is still held here or by a member: the parent must wait."""
    return any(child in phases or any(child in report.holds for report in members.values())
               for child in _children(spec, group))


def _may_keep(spec: ClusterSpec, status: Status, group: str, me: str, holding: bool = True) -> bool:
    """Whether this node may keep the group it holds (an adapter in doubt serves), or take one it does not hold
    (`holding` false: a working adapter is needed)."""
    return me in status.runnable_nodes and can_host_now(spec, status, spec.group(group), me, keep=holding)


def _why_lost(keep: Observed, me: str) -> str:
    if me not in keep.status.runnable_nodes:
        part = keep.view.partition_of(me) or (me,)
        return f"no quorum (the partition holds {len(part)} nodes)"
    return "this node can no longer host them"


def _for_view(plan_id: Optional[PlanId], view: str) -> bool:
    """Whether the plan was made for the view."""
    return plan_id is not None and plan_id[0] == view


def _revised(plan_id: Optional[PlanId]) -> PlanId:
    """The id of the next revision of the plan, under the same view."""
    assert plan_id is not None
    return plan_id[0], plan_id[1] + 1


def _holdings(spec: ClusterSpec, members: Mapping[str, Report]) -> Placement:
    """What the members report they hold, as a placement (a group two report is the one's that has it online,
    else the earlier one's in its list: a node holding it in error cannot run it)."""
    held: Dict[str, List[str]] = {}
    for node, report in members.items():
        for group in report.holds:
            held.setdefault(group, []).append(node)
    for group, nodes in held.items():
        if not spec.group(group).concurrent and len(nodes) > 1:
            order = spec.group(group).nodes.index
            held[group] = [min(nodes, key=lambda node: (group not in members[node].online, order(node)))]
    try:
        return make_placement(spec, held)
    except PlacementError:
        return make_placement(spec, {})


def _parent_online(spec: ClusterSpec, plan: Placement, parent: str, me: str, members: Mapping[str, Report],
                   phases: Mapping[str, str]) -> bool:
    """The parent is online where the plan puts it, and held nowhere else."""
    placed = plan.nodes(parent)
    online = [node for node in placed
              if (phases.get(parent) == ONLINE if node == me else parent in getattr(members.get(node), "online", ()))]
    return bool(online) and _parent_steady(spec, plan, parent, me, members, phases)


def _parent_steady(spec: ClusterSpec, plan: Placement, parent: str, me: str, members: Mapping[str, Report],
                   phases: Mapping[str, str]) -> bool:
    """The parent is held (in any phase) only where the plan puts it, and somewhere: a child may stay."""
    placed = set(plan.nodes(parent))
    holders = {node for node, report in members.items() if node != me and parent in report.holds}
    if parent in phases and phases[parent] != RELEASING:
        holders.add(me)
    elif parent in phases:
        return False
    return bool(placed) and bool(holders) and holders <= placed


def _addresses(spec: ClusterSpec, plan: Placement, me: str, holds: set, before: Tuple[Tuple[str, str, str], ...],
               leaving: set, status: Status, stuck: Set[str]) -> Tuple[Tuple[str, str, str], ...]:
    """The service addresses of the groups held here where the plan puts them; and those of the groups being
    released because the plan runs them elsewhere, where they are, until their other resources are down
    (addresses come first and go last), unless a `replace` adapter is wanted for an address the plan puts
    there. A group hurried out (it may not be kept) is in neither set: its addresses go at once. An address the
    plan left without an adapter, because it gave the adapter to a group that does not run here (its parent is
    not online, its holder has not let go), takes a working adapter no address here uses (found by the
    simulator, seeds 201 and 1596: a running group went without its address while a free adapter waited)."""
    found = []
    for network in spec.networks:
        for label, ifname in plan.held(me, network.name):
            if ifname is not None and _owner(spec, label) in holds and _owner(spec, label) not in stuck:
                found.append((label, network.name, ifname))
    # A group in error keeps the addresses it has and takes none: it may be up elsewhere too (a crash's leftover).
    found += [item for item in before if _owner(spec, item[0]) in stuck]
    taken = {(network, ifname) for _, network, ifname in found}
    labels = {label for label, _, _ in found}
    for label, network, ifname in before:
        if _owner(spec, label) in leaving and label not in labels \
                and (spec.network(network).ipat == "alias" or (network, ifname) not in taken):
            found.append((label, network, ifname))
            labels.add(label)
    for network in spec.networks:
        used = {ifname for _, on, ifname in found if on == network.name}
        for label, ifname in plan.held(me, network.name):
            if ifname is not None or label in labels or _owner(spec, label) not in holds - stuck:
                continue
            free = [adapter.ifname for adapter in status.working_adapters(me, network.name)
                    if network.ipat == "alias" or adapter.ifname not in used]
            if free:
                found.append((label, network.name, free[0]))
                used.add(free[0])
    found.sort(key=lambda item: (spec.network_index[item[1]], spec.service_index[item[0]]))
    return tuple(found)


def _failed_adapters(spec: ClusterSpec, status: Status, me: str) -> Tuple[str, ...]:
    usable = {adapter.ifname for network in spec.networks for adapter in status.usable_adapters(me, network.name)}
    return tuple(adapter.ifname for adapter in spec.adapters_by_node[me] if adapter.ifname not in usable)


def _owner(spec: ClusterSpec, label: str) -> Optional[str]:
    owners = spec.derived.get("service-owner")
    if owners is None:
        owners = {service: group.name for group in spec.groups for service in group.service_ips}
        spec.derived["service-owner"] = owners
    return owners.get(label)


def _describe(spec: ClusterSpec, before: Placement, after: Placement) -> str:
    moved = [f"{name} {', '.join(before.nodes(name)) or 'offline'} -> {', '.join(nodes) or 'offline'}"
             for name, nodes in after.groups if nodes != before.nodes(name)]
    return ", ".join(moved) if moved else "no group moves"
