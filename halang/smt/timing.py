"""HA604: worst-case takeover time against a group's `rto`. No solver: a longest path over `after`.

The worst case for group G is: the failure is detected (`interval` x
`miss_limit`), then G's parents start, one after the other along the
longest `after` chain (a parent starts only once its own parents run), then
G's own resources. A group's start time is the sum of its applications'
`timeout`s (each bounds its start script); service addresses, volume groups
and filesystems have no timeout in the language and count as zero. Parents
on parallel chains start in parallel, so only the longest chain counts.
A cycle in `after` is HA401; the walk stops where a group comes back.
"""

from __future__ import annotations

from halang.model.cluster import Cluster, Group
from halang.model.literals import format_duration
from halang.smt.result import Finding


def start_time(group: Group) -> int:
    return sum(application.timeout_ms for application in group.applications)


def longest_chain(cluster: Cluster, group: Group) -> list[Group]:
    """The parents along the longest `after` chain, outermost first (not including the group)."""
    groups = {g.name: g for g in cluster.groups}
    memo: dict[str, tuple[int, list[Group]]] = {}

    def walk(name: str, visiting: frozenset[str]) -> tuple[int, list[Group], bool]:
        """(time, chain, clean): clean when no cycle was cut below, so the answer can be remembered."""
        if name in memo:
            return memo[name] + (True,)
        best: tuple[int, list[Group]] = (0, [])
        clean = True
        for parent in groups[name].after:
            if parent not in groups:
                continue
            if parent in visiting:
                clean = False
                continue
            time, chain, parent_clean = walk(parent, visiting | {parent})
            clean = clean and parent_clean
            time += start_time(groups[parent])
            if time > best[0] or (time == best[0] and len(chain) + 1 > len(best[1])):
                best = (time, chain + [groups[parent]])
        if clean:
            memo[name] = best
        return best + (clean,)

    return walk(group.name, frozenset({group.name}))[1]


def takeover_findings(cluster: Cluster) -> list[Finding]:
    detection = cluster.heartbeat.detection_ms
    findings = []
    for group in cluster.groups:
        if group.rto_ms is None:
            continue
        chain = longest_chain(cluster, group)
        parts = [(f"{format_duration(detection)} detection", detection)]
        parts += [(f"{format_duration(start_time(parent))} to start parent group {parent.name}", start_time(parent))
                  for parent in chain]
        parts.append((f"{format_duration(start_time(group))} to start {group.name}'s applications (their start "
                      "timeouts)", start_time(group)))
        total = sum(ms for _, ms in parts)
        if total <= group.rto_ms:
            continue
        worded = " + ".join(text for text, _ in parts)
        findings.append(Finding(
            "HA604", f"group {group.name} can take {worded} = {format_duration(total)} to take over, more than its "
                     f"rto of {format_duration(group.rto_ms)}",
            group=group.name, span=group.span("rto"),
            hint="raise the rto, shorten the detection time (interval, miss_limit) or the start timeouts "
                 "along the after chain"))
    return findings
