"""Failure detection on one node: which of its heartbeat paths it hears, from the beats and carriers it saw.

Pure: the daemon tells it what arrived and when (`beat`), and what netlink
said of a local adapter's carrier (`carrier`); it answers, for a time `now`,
which paths are heard. A path is down once `miss_limit` beats in a row are
missing, that is when no beat came on it for `interval x miss_limit`; an IP
path is down at once when the local adapter's carrier is (a pulled cable is
seen at once, not after the miss limit). A node is down for this node when
every path to it is down (`membership` works that out across the partition).

Two thresholds, so that a partition never has a group on both sides:
`heard(now)` uses the miss limit, and is what a node acquires on;
`heard(now, keep=True)` counts a path as down one beat earlier
(`miss_limit - 1` beats missed), and is what a node keeps its groups on.
When a partition forms, the side that must give a group up stops holding it
at least one interval before the other side, which waits the full miss
limit, takes it: their last beats from each other are less than one
interval apart.
"""

from __future__ import annotations

from typing import Dict, FrozenSet, Iterable, Optional

from runtime.core.paths import Path, heartbeat_paths
from runtime.core.snapshot import ClusterSpec


class Detector:
    def __init__(self, spec: ClusterSpec, node: str, started_ms: int):
        self.node = node
        self.interval_ms = spec.heartbeat.interval_ms
        self.miss_limit = spec.heartbeat.miss_limit
        self.paths: Dict[str, Path] = {path.id: path for path in heartbeat_paths(spec, node)}
        self.last: Dict[str, Optional[int]] = {path_id: None for path_id in self.paths}
        self.carrier_up: Dict[str, bool] = {adapter.ifname: True for adapter in spec.adapters_by_node[node]}
        self.started_ms = started_ms
        self.last_reply: Dict[str, int] = {}  # ifname -> when a ping target last answered through it
        self.carrier_back: Dict[str, int] = {}  # ifname -> when its carrier last came back

    def beat(self, path_id: str, now_ms: int) -> bool:
        """A checked beat from the peer on a path of this node; False for a path this node does not have."""
        if path_id not in self.last:
            return False
        self.last[path_id] = now_ms
        return True

    def carrier(self, ifname: str, up: bool, now_ms: int) -> None:
        if ifname in self.carrier_up:
            if up and not self.carrier_up[ifname] and not self.heard(now_ms):
                self.carrier_back[ifname] = now_ms  # it heard nobody: it listens again (`settled`)
            self.carrier_up[ifname] = up

    def heard(self, now_ms: int, keep: bool = False) -> FrozenSet[str]:
        """The ids of the paths heard at `now_ms` (see the module docstring for `keep`)."""
        beats = self.miss_limit - 1 if keep else self.miss_limit
        window = max(beats, 1) * self.interval_ms
        found = []
        for path_id, last in self.last.items():
            if last is None or now_ms - last >= window:
                continue
            end = self.paths[path_id].end_of(self.node)
            if end.adapter is not None and not self.carrier_up.get(end.adapter.ifname, True):
                continue
            found.append(path_id)
        return frozenset(found)

    def reply(self, ifname: str, now_ms: int) -> None:
        """A ping target of the adapter's subnet answered a probe sent from the adapter's own address."""
        if ifname in self.carrier_up:
            self.last_reply[ifname] = now_ms

    def reaching(self, now_ms: int) -> FrozenSet[str]:
        """The adapters, carrier up, that reached a ping target within the detection time (the miss limit's
        window, as for a path: one lost probe is no evidence)."""
        window = self.miss_limit * self.interval_ms
        return frozenset(ifname for ifname, at in self.last_reply.items()
                         if now_ms - at < window and self.carrier_up.get(ifname, True))

    def shift(self, gap_ms: int) -> None:
        """The node did not run for `gap_ms` (a pause, a clock that jumped): what it last heard is as recent as
        it was before (see `runtime.node.loop.NodeLoop`)."""
        self.last = {path_id: None if at is None else at + gap_ms for path_id, at in self.last.items()}
        self.last_reply = {ifname: at + gap_ms for ifname, at in self.last_reply.items()}
        self.carrier_back = {ifname: at + gap_ms for ifname, at in self.carrier_back.items()}
        self.started_ms += gap_ms

    def carriers(self) -> FrozenSet[str]:
        """The node's adapters whose carrier is up."""
        return frozenset(ifname for ifname, up in self.carrier_up.items() if up)

    def settled(self, now_ms: int) -> bool:
        """Whether the node has listened for a whole detection time since it started, and since a carrier of its
        came back while it heard nobody: before that, silence from a peer means nothing yet; a node cut off
        whose cable was plugged back in has not heard the others through it, and must not take what they hold
        as if they were gone (one that hears them on another path goes on as it was)."""
        window = self.miss_limit * self.interval_ms
        return now_ms - self.started_ms >= window and all(now_ms - at >= window for at in self.carrier_back.values())

    def peers_of(self, path_ids: Iterable[str]) -> FrozenSet[str]:
        return frozenset(self.paths[path_id].peer_of(self.node).node for path_id in path_ids)
