"""Membership: what the nodes of a partition report, and the view and status they act on.

Every beat carries the sender's *reports* (see `wire`): its own, and the
latest it knows of every other node, so that a node learns of the nodes it
reaches only through others (LANGUAGE.md: a node hears every live node it
can reach through a chain of paths). A report says, for one node (its
origin): its incarnation and a counter that grows once an interval, the
paths it hears, its adapters whose carrier is up, whether it reaches the
tie-breaker disk, the groups it holds (and which of them are online, which it
refuses after a failure of their resources), the hash of the view it
acts on, and the plan it follows, with its id (`PlanId`).

`Table` keeps the newest report of each origin and when it last grew; a
report that has not grown for a detection time is no longer *fresh* (its
node is dead, or cut off from this node's partition). From the fresh
reports, `observe` works out, with the decision core's own functions:

- the live nodes: the origins of the fresh reports;
- the view and the state of every adapter: `topology.view_of`, the same
  function the verifier and `halang simulate` call on what each node observes
  under a set of failures (`topology.observe_failures`). A path joins its two
  nodes when both ends report hearing it; each partition judges its members'
  adapters working, failed or in doubt from what they observe together
  (carriers, who hears whom, who reaches a ping target), with silence from a
  node that has not been in the partition for a detection time counting for
  nothing (`veterans`);
- the `Status` that `placement.transition` takes, nodes outside the view
  counted as down (their partition, if any, is not this node's to judge:
  quorum counts every node of the file either way).

Pure: times are arguments, no I/O.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Dict, FrozenSet, List, Mapping, NamedTuple, Optional, Tuple

from runtime.core.failures import Down
from runtime.core.operator import STOP_MODES, Answer, Request, request_from_data
from runtime.core.snapshot import AdapterSpec, ClusterSpec
from runtime.core.topology import DOUBT, FAILED, Status, View, status_from, view_of
from runtime.core.wire import Dropped


MAX_REQUESTS, MAX_ANSWERS = 8, 8  # a report stays well within a datagram
HASH_DIGITS = 16  # of a view's hash

PlanId = Tuple[str, int]  # (the hash of the view it was made for, its revision under that view)


def plan_text(plan_id: Optional[PlanId]) -> str:
    """A plan id as people read it: "VIEW/REVISION" ("" for no plan)."""
    return f"{plan_id[0]}/{plan_id[1]}" if plan_id is not None else ""


class Report(NamedTuple):
    origin: str
    incarnation: int
    seq: int
    heard: FrozenSet[str]  # path ids the origin hears
    carriers: FrozenSet[str]  # its adapters (ifnames) whose carrier is up
    tie: bool  # it reaches the tie-breaker disk
    holds: Tuple[str, ...]  # the groups it runs
    view: str  # the hash of the view it acts on ("" before it has one)
    plan_id: Optional[PlanId] = None  # the plan it acts on (None before it has acted on an agreed view)
    plan: Tuple[Tuple[str, Tuple[str, ...]], ...] = ()  # (group, nodes) for every group, file order
    settled: bool = True  # it has listened for a whole detection time since it started
    online: Tuple[str, ...] = ()  # of `holds`, the groups whose every resource is up
    failed: Tuple[str, ...] = ()  # the groups it failed to acquire or keep, and refuses until it restarts
    requests: Tuple[Request, ...] = ()  # the operator's requests made on this node, not answered yet
    answers: Tuple[Answer, ...] = ()  # its latest verdicts on requests (runtime.core.operator)
    offline: Tuple[str, ...] = ()  # a leader's: the groups the operator holds offline
    stopping: str = ""  # "takeover" or "offline" while the node stops on the operator's request
    reach: FrozenSet[str] = frozenset()  # its adapters (ifnames) that reached a ping target within the detection time


def report_body(reports: Mapping[str, Report]) -> Dict[str, Any]:
    """The `b` of a beat: the reports, as JSON data."""
    return {"r": {origin: [r.incarnation, r.seq, sorted(r.heard), sorted(r.carriers), r.tie, list(r.holds), r.view,
                           list(r.plan_id) if r.plan_id is not None else None,
                           [[group, list(nodes)] for group, nodes in r.plan], r.settled, list(r.online), list(r.failed),
                           [list(item) for item in r.requests], [list(item) for item in r.answers],
                           list(r.offline), r.stopping, sorted(r.reach)]
                  for origin, r in reports.items()}}


def reports_in(spec: ClusterSpec, body: Dict[str, Any],
               known: Optional[Mapping[str, Tuple[int, int]]] = None) -> List[Report]:
    """The reports of a beat's body; Dropped("malformed") for one that is not of this cluster's shape. `known`:
    origin -> (incarnation, seq) of the reports the node has already; a report no newer is left unread (a beat
    relays every fresh report, so most of what arrives is known)."""
    raw = body.get("r")
    if not isinstance(raw, dict):
        raise Dropped("malformed", "a beat without reports")
    found = []
    for origin, fields in raw.items():
        if origin not in spec.node_by_name or not isinstance(fields, list) or len(fields) != 17:
            raise Dropped("malformed", f"a report of {origin!r}")
        incarnation, seq, heard, carriers, tie, holds, seen, plan_id, plan, settled, online, failed = fields[:12]
        requests, answers, offline, stopping, reach = fields[12:]
        if isinstance(incarnation, bool) or not isinstance(incarnation, int) or isinstance(seq, bool) \
                or not isinstance(seq, int):
            raise Dropped("malformed", f"a report of {origin}")
        if known is not None and origin in known and (incarnation, seq) <= known[origin]:
            continue
        if not isinstance(tie, bool) or not isinstance(seen, str) \
                or not all(isinstance(item, list) and all(isinstance(x, str) for x in item)
                           for item in (heard, carriers, holds, online, failed, offline, reach)):
            raise Dropped("malformed", f"a report of {origin}")
        if any(group not in spec.group_by_name for group in holds + online + failed + offline):
            raise Dropped("malformed", f"{origin} reports a group this cluster does not have")
        if not isinstance(plan, list) or not isinstance(settled, bool):
            raise Dropped("malformed", f"the plan in a report of {origin}")
        placed = []
        for item in plan:
            if not (isinstance(item, list) and len(item) == 2 and item[0] in spec.group_by_name
                    and isinstance(item[1], list) and all(node in spec.node_by_name for node in item[1])):
                raise Dropped("malformed", f"the plan in a report of {origin}")
            placed.append((item[0], tuple(item[1])))
        found.append(Report(origin, incarnation, seq, frozenset(heard), frozenset(carriers), tie, tuple(holds), seen,
                            _plan_id(origin, plan_id), tuple(placed), settled, tuple(online), tuple(failed),
                            _requests(spec, origin, requests), _answers(origin, answers), tuple(offline),
                            _stopping(origin, stopping), frozenset(reach)))
    return found


def _plan_id(origin: str, raw: Any) -> Optional[PlanId]:
    if raw is None:
        return None
    if not (isinstance(raw, list) and len(raw) == 2 and isinstance(raw[0], str) and len(raw[0]) <= HASH_DIGITS
            and isinstance(raw[1], int) and not isinstance(raw[1], bool) and raw[1] >= 0):
        raise Dropped("malformed", f"the plan id in a report of {origin}")
    return raw[0], raw[1]


def _requests(spec: ClusterSpec, origin: str, raw: Any) -> Tuple[Request, ...]:
    if not isinstance(raw, list) or len(raw) > MAX_REQUESTS:
        raise Dropped("malformed", f"the requests in a report of {origin}")
    try:
        return tuple(request_from_data(spec, item) for item in raw)
    except ValueError as exc:
        raise Dropped("malformed", f"a request in a report of {origin}: {exc}") from None


def _answers(origin: str, raw: Any) -> Tuple[Answer, ...]:
    if not isinstance(raw, list) or len(raw) > MAX_ANSWERS or not all(
            isinstance(item, list) and len(item) == 3 and isinstance(item[0], str) and isinstance(item[1], bool)
            and isinstance(item[2], str) for item in raw):
        raise Dropped("malformed", f"the answers in a report of {origin}")
    return tuple(Answer(*item) for item in raw)


def _stopping(origin: str, raw: Any) -> str:
    if raw not in ("",) + STOP_MODES:
        raise Dropped("malformed", f"the stop mode in a report of {origin}")
    return raw


class Table:
    """The newest report of every origin this node knows, when each last grew (its own included), and since
    when it has been fresh without a break (`window_ms`, the detection time, is what counts as a break)."""

    def __init__(self, window_ms: int = 0) -> None:
        self.window_ms = window_ms
        self.entries: Dict[str, Tuple[Report, int, int]] = {}
        self.versions: Dict[str, Tuple[int, int]] = {}  # origin -> (incarnation, seq) of the report kept

    def learn(self, report: Report, now_ms: int) -> bool:
        """Keep the report if it is newer than the one known; True if it was."""
        known = self.entries.get(report.origin)
        if known is not None and (report.incarnation, report.seq) <= (known[0].incarnation, known[0].seq):
            return False
        back = known is None or now_ms - known[1] >= self.window_ms or report.incarnation != known[0].incarnation
        self.entries[report.origin] = (report, now_ms, now_ms if back else known[2])
        self.versions[report.origin] = (report.incarnation, report.seq)
        return True

    def shift(self, gap_ms: int) -> None:
        """The node did not run for `gap_ms`: the reports it had are as fresh as they were."""
        self.entries = {origin: (report, at + gap_ms, since + gap_ms)
                        for origin, (report, at, since) in self.entries.items()}

    def fresh(self, now_ms: int, within_ms: int) -> Dict[str, Report]:
        """The reports that grew within `within_ms`."""
        return {origin: entry[0] for origin, entry in self.entries.items() if now_ms - entry[1] < within_ms}

    def next_stale(self, now_ms: int, windows: Tuple[int, ...]) -> Optional[int]:
        """The first time after `now_ms` at which a fresh report stops being fresh under one of `windows`."""
        times = [at + window for _, at, _ in self.entries.values() for window in windows if at + window > now_ms]
        return min(times) if times else None

    def veterans(self, now_ms: int, within_ms: int) -> FrozenSet[str]:
        """The origins fresh without a break for at least `within_ms`: what they do not hear is evidence."""
        return frozenset(origin for origin, (_, at, since) in self.entries.items()
                         if now_ms - at < within_ms and now_ms - since >= within_ms)


class Observed(NamedTuple):
    view: View
    status: Status
    hash: str  # the same on every node that observes the same thing


def observe(spec: ClusterSpec, reports: Mapping[str, Report],
            veterans: Optional[FrozenSet[str]] = None) -> Observed:
    """What the fresh reports say (see the module docstring). `veterans`: the nodes whose silence on a subnet
    counts against an adapter (default all): a node that has only just come back is not heard by the others'
    adapters yet, and that shows nothing."""
    # Remembered by what it reads (a node decides twice an interval on reports whose sights rarely change).
    key = (tuple(sorted((origin, report.heard, report.carriers, report.reach, report.tie, report.settled,
                         report.failed) for origin, report in reports.items())), veterans)
    cache = spec.derived.setdefault("observed", {})
    found = cache.get(key)
    if found is None:
        if len(cache) >= OBSERVED_KEPT:
            cache.clear()
        found = cache[key] = _observe(spec, reports, veterans)
    return found


OBSERVED_KEPT = 256


def _observe(spec: ClusterSpec, reports: Mapping[str, Report], veterans: Optional[FrozenSet[str]]) -> Observed:
    live = frozenset(reports)
    seen, states = view_of(spec, reports, veterans)
    failed = frozenset(adapter.key for adapter in spec.adapters
                       if adapter.node in live and states.get(adapter.key, FAILED) == FAILED)
    doubt = frozenset(key for key, state in states.items() if state == DOUBT)
    down = Down(failed=frozenset(), nodes=frozenset(spec.node_names) - live, adapters=failed,
                switches=frozenset(), links=frozenset(), linkends=frozenset())
    refused = frozenset((group, origin) for origin, report in reports.items() for group in report.failed)
    status = status_from(spec, seen, down, states, refused)
    digest = hashlib.sha256(json.dumps([seen.partitions, seen.runnable, sorted(failed), sorted(doubt),
                                        sorted(refused)], sort_keys=True)
                            .encode("utf-8")).hexdigest()[:HASH_DIGITS]
    return Observed(seen, status, digest)
