"""The failure analysis: the only code in halang that imports z3.

    from halang.smt import analyse
    result = analyse(cluster, faults=2)     # AnalysisResult
    result.findings                          # Finding: code, group/node/network, scenario, message, span
    result.diagnostics()                     # the same as halang.diagnostics.Diagnostic values
    result.inconclusive, result.truncated    # what was not settled, what was cut short
    result.notes()                           # both as sentences for the report

Codes: HA213, HA301, HA302, HA306, HA406, HA502 (scenarios of at most K
failures, each reported only when minimal) and HA604 (no solver). Modules,
in pipeline order: `topology` (components and heartbeat buses), `evaluate`
(one failure set, directly), `build` and `encode` (the z3 terms),
`properties` (what is asked, per code), `search` (minimal scenarios, level
by level), `timing` (HA604), `analysis` (`analyse`).

Interpretations, where LANGUAGE.md leaves room (the runtime's placement
function must agree with the first group; the rest is about findings):

Failures and hearing
- Components: `node:N` for every node; `domain:D` for every domain some node
  names; `switch:S` for every switch an adapter hangs off (an adapter with no
  `switch` is on the switch named after its network; one name, one switch,
  cluster-wide); `adapter:N/IF`; `link:L`; `linkend:N/L` for each node of a
  `disk` link only. Point-to-point links have no ends of their own.
- An adapter is usable when it, its node and its switch are up. Two adapters
  hear each other when both are usable, on one network, and their
  address/prefix give the same subnet *and prefix* (prefixes that differ,
  HA203, never hear each other).
- Partitions are over live nodes only; a live node that hears nobody is a
  partition of one. Quorum counts every node of the file.

Placement (the same function as runtime/core/placement.py must compute)
- Startup: with nothing failed, as LANGUAGE.md says; capacity and
  dependencies play no part anywhere in placement.
- After failures: first every group whose startup node can still host it
  stays, and concurrent instances stay where they can still be hosted (else
  go offline); then the groups that must move, in file order:
  `next_priority` to the first node of its list that can host it;
  `least_loaded` to the node that can host it with the most free cpu, then
  free memory, then earliest in the list, where free = capacity minus the
  requirements of the groups placed there so far (those that stay plus those
  moved before it; a group that is leaving counts nowhere; no capacity =
  unlimited, and two unlimited values tie); `bring_offline` offline.
- A concurrent group never moves, whatever its `fallover` (which is HA404
  when it is not `bring_offline`). A group offline at startup stays offline.

Findings
- HA301/HA306 ask who *can* host a group, not where it runs: a group kept
  offline by its startup policy, or one that `bring_offline` would leave
  offline, is reported only when no node of its list can host it. A group
  that no node can host with nothing failed is never reported (HA304/305).
- Groups with the same nodes and service networks are searched once and
  reported each (one finding per group per scenario).
- HA302 only under `quorum = none`; the empty scenario is reported when the
  nodes are split with nothing failed, and then no other scenario is
  minimal.
- HA213: per node and `replace` network; distinct service addresses (by
  address) of groups placed on the node, against its usable adapters there;
  the empty scenario counts.
- HA502: per node with a capacity; cpu or memory over; a node overloaded
  with nothing failed is HA501 and gets no HA502 at all (every scenario
  contains the empty one).
- HA406: per dependency (`A same_node_as B`: wherever A runs, B runs there
  too; `A different_node_from B`: never on one node; `A after B`: while A
  runs, B runs somewhere). A offline breaks none of them. The empty
  scenario counts (the startup placement may already break one).
- HA604: detection (`interval` x `miss_limit`) + the start timeouts of the
  parents along the `after` chain with the largest total + the group's own
  applications' timeouts; a start timeout is the sum of a group's
  applications' `timeout`s (other resources have none). Reported whatever K.
- Minimality is per code family and subject (HA301 and HA306 share one:
  a group's one-failure scenarios are HA301, larger ones HA306).
- At most `max_listed` (50) scenarios per subject are findings; the rest are
  counted (to `max_counted`, 500) into a Truncation, exact or "at least".
- Anything z3 could not settle within the budget is an Inconclusive entry,
  with the number of failures up to which its subjects were complete.
"""

from halang.smt.analysis import DEFAULT_BUDGET_MS, analyse
from halang.smt.result import AnalysisResult, Finding, Inconclusive, Truncation

__all__ = ["DEFAULT_BUDGET_MS", "AnalysisResult", "Finding", "Inconclusive", "Truncation", "analyse"]
