"""What changed between two clusters, and what each change does to a running cluster.

`diff_clusters(old, new)` compares the canonical snapshots (`Cluster.to_json()`,
the bundle's `snapshot.json`) entity by entity, matched by name: nodes,
networks with their adapters (by node/ifname) and service labels, links,
heartbeat settings, groups with their attributes, applications (by name) and
filesystems (by mount point), dependencies, events (by kind), accepts (by
code). The order of blocks in the file is no change; the order inside a
group's priority list, its volume groups, filesystems and applications is.

Each change has one impact (docs/diff.md explains them):

- `live`: the running nodes take it without touching any group;
- `restart GROUP`: the group must stop and start: its scripts (an
  application's start or stop, an application added, removed or reordered),
  its volume groups, filesystems or service addresses changed, the address
  of a service label it holds, or the IP address takeover (`ipat`) of a
  network it holds an address on;
- `move GROUP from A to B`: the group's startup placement (LANGUAGE.md,
  "Placement", computed by runtime.core.placement for both sides) differs; a
  group added or removed moves from or to `offline`;
- `cluster restart`: every node must restart together, because the nodes of
  the old and the new cluster could not hear each other: the heartbeat port,
  the key file or the cluster's name changed.

Pure: snapshots in, changes out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable, Iterable

LIVE, RESTART, MOVE, CLUSTER_RESTART = "live", "restart", "move", "cluster restart"
IMPACT_KINDS = (LIVE, RESTART, MOVE, CLUSTER_RESTART)
ADDED, REMOVED, CHANGED = "added", "removed", "changed"
SYMBOLS = {ADDED: "+", REMOVED: "-", CHANGED: "~"}

# The order attributes are shown in: the language's order (LANGUAGE.md tables), not the JSON's alphabetical one.
_ORDER = {
    "heartbeat": ("interval_ms", "miss_limit", "port", "key_file", "quorum", "tie_breaker"),
    "node": ("capacity", "domains", "ssh"),
    "network": ("type", "ipat", "ping_targets"),
    "adapter": ("role", "address", "switch"),
    "service": ("address",),
    "link": ("type", "devices"),
    "group": ("nodes", "startup", "fallover", "fallback", "fallback_delay_ms", "service_ips", "volume_groups",
              "filesystems", "applications", "requires", "rto_ms", "after", "same_node_as", "different_node_from"),
    "application": ("start", "stop", "timeout_ms", "monitor"),
    "monitor": ("command", "process", "interval_ms", "timeout_ms", "restarts", "stabilization_ms"),
    "filesystem": ("device", "fstype", "options"),
    "event": ("pre", "post", "notify", "recovery"),
    "ssh": ("user", "host", "port"),
    "capacity": ("cpu", "memory"),
    "requires": ("cpu", "memory"),
}
# Group attributes whose change stops and starts the group (applications and filesystems are looked into).
_RESTART_KEYS = {"service_ips", "volume_groups"}


class DiffError(ValueError):
    """The two sides cannot be compared (not snapshots, or of different formats)."""


@dataclass(frozen=True)
class Impact:
    kind: str  # one of IMPACT_KINDS
    groups: tuple[str, ...] = ()  # restart: the groups; move: the one group
    source: tuple[str, ...] = ()  # move: where the group starts on the old side (() = offline)
    target: tuple[str, ...] = ()  # move: and on the new side

    @property
    def text(self) -> str:
        if self.kind == RESTART:
            return "restart " + ", ".join(self.groups)
        if self.kind == MOVE:
            return f"move {self.groups[0]} from {_where(self.source)} to {_where(self.target)}"
        return self.kind

    def to_json(self) -> dict:
        data: dict[str, Any] = {"kind": self.kind, "text": self.text}
        if self.kind in (RESTART, MOVE):
            data["groups"] = list(self.groups)
        if self.kind == MOVE:
            data["from"] = list(self.source)
            data["to"] = list(self.target)
        return data


def _where(nodes: tuple[str, ...]) -> str:
    return ", ".join(nodes) if nodes else "offline"


LIVE_IMPACT = Impact(LIVE)
CLUSTER_IMPACT = Impact(CLUSTER_RESTART)


def restart(groups: Iterable[str]) -> Impact:
    groups = tuple(dict.fromkeys(groups))
    return Impact(RESTART, groups) if groups else LIVE_IMPACT


@dataclass(frozen=True)
class Change:
    kind: str  # added, removed, changed
    path: str  # e.g. "group app_a: service_ips", in the language's words
    old: Any  # the snapshot's value (None when added)
    new: Any  # (None when removed)
    impact: Impact
    key: str = ""  # the snapshot key of the value, for showing it ("interval_ms" is a duration)

    @property
    def symbol(self) -> str:
        return SYMBOLS[self.kind]

    def to_json(self) -> dict:
        return {"kind": self.kind, "path": self.path, "old": self.old, "new": self.new, "impact": self.impact.to_json()}


def as_snapshot(side: Any) -> dict:
    """A snapshot dict from a Cluster, a snapshot dict or its JSON text."""
    if isinstance(side, dict):
        return side
    if isinstance(side, (str, bytes)):
        return json.loads(side)
    snapshot = getattr(side, "snapshot", None)
    if callable(snapshot):
        return snapshot()
    raise DiffError(f"cannot compare a {type(side).__name__}: give a Cluster or a snapshot")


def startup_placement(snapshot: dict) -> dict[str, tuple[str, ...]]:
    """Group name -> the nodes it starts on with nothing failed (() = offline), by runtime.core.placement."""
    from runtime.core.placement import startup_placement as place_at_startup
    from runtime.core.snapshot import SnapshotError, load_snapshot

    try:
        spec = load_snapshot(snapshot)
    except SnapshotError as exc:
        raise DiffError(f"not a valid snapshot: {exc}") from None
    return place_at_startup(spec).as_dict()


def label(key: str) -> str:
    """A snapshot key in the language's words: interval_ms is `interval`."""
    return key[:-3] if key.endswith("_ms") else key


def _ordered_keys(kind: str, old: dict, new: dict, skip: tuple[str, ...]) -> list[str]:
    known = _ORDER.get(kind, ())
    rest = sorted((set(old) | set(new)) - set(known) - set(skip))
    return [key for key in known if (key in old or key in new) and key not in skip] + rest


def _by(items: list[dict], key: Callable[[dict], str]) -> dict[str, dict]:
    return {key(item): item for item in items}


def _names_in_order(old: dict, new: dict) -> list[str]:
    return list(new) + [name for name in old if name not in new]


class _Differ:
    def __init__(self, old: dict, new: dict):
        self.old, self.new = old, new
        self.changes: list[Change] = []
        self.place_old = startup_placement(old)
        self.place_new = startup_placement(new)
        self.groups_old = _by(old.get("groups", []), lambda group: group["name"])
        self.groups_new = _by(new.get("groups", []), lambda group: group["name"])

    def add(self, kind: str, path: str, old: Any, new: Any, impact: Impact, key: str = "") -> None:
        self.changes.append(Change(kind, path, old, new, impact, key))

    def compare(self, kind: str, path: str, old: dict, new: dict, impact_of: Callable[[str], Impact],
                skip: tuple[str, ...] = ("name",)) -> None:
        """Attribute by attribute; nested objects (capacity, monitor, ssh...) are looked into."""
        for key in _ordered_keys(kind, old, new, skip):
            before, after = old.get(key), new.get(key)
            if before == after:
                continue
            where = f"{path}: {label(key)}"
            impact = impact_of(key)
            if isinstance(before, dict) and isinstance(after, dict) and key in _ORDER:
                self.compare(key, where, before, after, lambda _key, impact=impact: impact, skip=())
            elif before is None:
                self.add(ADDED, where, None, after, impact, key)
            elif after is None:
                self.add(REMOVED, where, before, None, impact, key)
            else:
                self.add(CHANGED, where, before, after, impact, key)

    def keyed(self, kind: str, path: str, old: dict[str, dict], new: dict[str, dict],
              impact_of: Callable[[str, str], Impact], show: Callable[[str], str],
              compare: Callable[[str, dict, dict], None]) -> None:
        """Objects matched by name: added, removed, or compared (impact_of(name, "added"|"removed"))."""
        for name in _names_in_order(old, new):
            where = f"{path}{show(name)}"
            if name not in old:
                self.add(ADDED, where, None, new[name], impact_of(name, ADDED), kind)
            elif name not in new:
                self.add(REMOVED, where, old[name], None, impact_of(name, REMOVED), kind)
            else:
                compare(where, old[name], new[name])

    # ------------------------------------------------------------------ sections

    def run(self) -> list[Change]:
        old, new = self.old, self.new
        if old.get("name") != new.get("name"):
            self.add(CHANGED, "cluster: name", old.get("name"), new.get("name"), CLUSTER_IMPACT, "name")
        self.heartbeat()
        self.nodes()
        self.networks()
        self.links()
        self.groups()
        self.keyed("event", "", _by(old.get("events", []), lambda e: e["kind"]),
                   _by(new.get("events", []), lambda e: e["kind"]), lambda *_: LIVE_IMPACT,
                   lambda kind: f"event {kind}",
                   lambda where, a, b: self.compare("event", where, a, b, lambda _: LIVE_IMPACT, skip=("kind",)))
        self.keyed("accept", "", _by(old.get("accepts", []), lambda a: a["code"]),
                   _by(new.get("accepts", []), lambda a: a["code"]), lambda *_: LIVE_IMPACT,
                   lambda code: f"accept {code}",
                   lambda where, a, b: self.compare("accept", where, a, b, lambda _: LIVE_IMPACT, skip=("code",)))
        return self.changes

    def heartbeat(self) -> None:
        def impact(key: str) -> Impact:
            return CLUSTER_IMPACT if key in ("port", "key_file") else LIVE_IMPACT

        self.compare("heartbeat", "heartbeat", self.old.get("heartbeat", {}), self.new.get("heartbeat", {}), impact,
                     skip=())

    def nodes(self) -> None:
        self.keyed("node", "", _by(self.old.get("nodes", []), lambda n: n["name"]),
                   _by(self.new.get("nodes", []), lambda n: n["name"]), lambda *_: LIVE_IMPACT,
                   lambda name: f"node {name}",
                   lambda where, a, b: self.compare("node", where, a, b, lambda _: LIVE_IMPACT))

    def _holders(self, labels: set[str]) -> list[str]:
        """Groups on both sides holding one of the service labels (on either side), in the new file's order."""
        return [name for name, group in self.groups_new.items()
                if name in self.groups_old
                and labels & (set(group.get("service_ips", ())) | set(self.groups_old[name].get("service_ips", ())))]

    def networks(self) -> None:
        def compare_network(where: str, old: dict, new: dict) -> None:
            labels = {s["name"] for s in old.get("services", [])} | {s["name"] for s in new.get("services", [])}
            self.compare("network", where, old, new,
                         lambda key: restart(self._holders(labels)) if key == "ipat" else LIVE_IMPACT,
                         skip=("name", "adapters", "services"))
            self.keyed("adapter", f"{where}: ", _by([_with_prefix(a) for a in old.get("adapters", [])], _adapter_key),
                       _by([_with_prefix(a) for a in new.get("adapters", [])], _adapter_key), lambda *_: LIVE_IMPACT,
                       lambda key: f"adapter {key}",
                       lambda at, a, b: self.compare("adapter", at, a, b, lambda _: LIVE_IMPACT,
                                                     skip=("node", "ifname")))
            self.keyed("service", f"{where}: ", _by([_with_prefix(s) for s in old.get("services", [])], _name),
                       _by([_with_prefix(s) for s in new.get("services", [])], _name),
                       # Added or removed here but held by a group on both sides: the label changed network.
                       lambda name, _kind: restart(self._holders({name})),
                       lambda name: f"service {name}",
                       lambda at, a, b: self.compare("service", at, a, b,
                                                     lambda _key, name=a["name"]: restart(self._holders({name}))))

        self.keyed("network", "", _by(self.old.get("networks", []), _name), _by(self.new.get("networks", []), _name),
                   lambda *_: LIVE_IMPACT, lambda name: f"network {name}", compare_network)

    def links(self) -> None:
        def compare_link(where: str, old: dict, new: dict) -> None:
            self.compare("link", where, old, new, lambda _: LIVE_IMPACT, skip=("name", "devices"))
            devices_old, devices_new = old.get("devices", {}), new.get("devices", {})
            for node in _names_in_order(devices_old, devices_new):
                before, after = devices_old.get(node), devices_new.get(node)
                if before != after:
                    kind = ADDED if before is None else REMOVED if after is None else CHANGED
                    self.add(kind, f"{where}: {node}", before, after, LIVE_IMPACT, "device")

        self.keyed("link", "", _by(self.old.get("links", []), _name), _by(self.new.get("links", []), _name),
                   lambda *_: LIVE_IMPACT, lambda name: f"link {name}", compare_link)

    def groups(self) -> None:
        for name in _names_in_order(self.groups_old, self.groups_new):
            where = f"group {name}"
            if name not in self.groups_old:
                self.add(ADDED, where, None, self.groups_new[name], self._move(name, (), self.place_new.get(name, ())),
                         "group")
                continue
            if name not in self.groups_new:
                self.add(REMOVED, where, self.groups_old[name], None,
                         self._move(name, self.place_old.get(name, ()), ()), "group")
                continue
            self.group(name, where, self.groups_old[name], self.groups_new[name])
            before, after = self.place_old.get(name, ()), self.place_new.get(name, ())
            if before != after:
                self.add(CHANGED, f"{where}: placement", list(before), list(after), self._move(name, before, after),
                         "placement")

    @staticmethod
    def _move(name: str, before: tuple[str, ...], after: tuple[str, ...]) -> Impact:
        return Impact(MOVE, (name,), tuple(before), tuple(after)) if before != after else LIVE_IMPACT

    def group(self, name: str, where: str, old: dict, new: dict) -> None:
        again = restart([name])
        self.compare("group", where, old, new, lambda key: again if key in _RESTART_KEYS else LIVE_IMPACT,
                     skip=("name", "filesystems", "applications"))
        # Filesystems: any change remounts; the order is the mount order.
        filesystems_old = _by(old.get("filesystems", []), lambda f: f["mount_point"])
        filesystems_new = _by(new.get("filesystems", []), lambda f: f["mount_point"])
        self.keyed("filesystem", f"{where}: ", filesystems_old, filesystems_new, lambda *_: again,
                   lambda mount: f"filesystem {mount}",
                   lambda at, a, b: self.compare("filesystem", at, a, b, lambda _: again, skip=("mount_point",)))
        self._order(where, "filesystems", filesystems_old, filesystems_new, again)
        # Applications: new scripts restart the group; a timeout or a monitor is taken live.
        applications_old = _by(old.get("applications", []), _name)
        applications_new = _by(new.get("applications", []), _name)
        self.keyed("application", f"{where}: ", applications_old, applications_new, lambda *_: again,
                   lambda app: f"application {app}",
                   lambda at, a, b: self.compare("application", at, a, b,
                                                 lambda key: again if key in ("start", "stop") else LIVE_IMPACT))
        self._order(where, "applications", applications_old, applications_new, again)

    def _order(self, where: str, key: str, old: dict, new: dict, impact: Impact) -> None:
        """The order of the objects both sides have, if it changed (it is the order they start in)."""
        common_old = [name for name in old if name in new]
        common_new = [name for name in new if name in old]
        if common_old != common_new:
            self.add(CHANGED, f"{where}: {key} order", common_old, common_new, impact, key)


def _name(item: dict) -> str:
    return item["name"]


def _adapter_key(adapter: dict) -> str:
    return f"{adapter['node']}/{adapter['ifname']}"


def _with_prefix(item: dict) -> dict:
    """An adapter or service with its address written ADDRESS/PREFIX, as in the file."""
    item = dict(item)
    prefix = item.pop("prefix", None)
    if prefix is not None:
        item["address"] = f"{item['address']}/{prefix}"
    return item


def diff_clusters(old: Any, new: Any) -> list[Change]:
    """The changes from old to new (each a Cluster, a snapshot dict or its JSON), with their impacts."""
    before, after = as_snapshot(old), as_snapshot(new)
    if before.get("format") != after.get("format"):
        raise DiffError(f"the sides are snapshots of different formats ({before.get('format')} and "
                        f"{after.get('format')}): compile both with one halang")
    return _Differ(before, after).run()


def summary_counts(changes: list[Change]) -> dict[str, int]:
    """How many changes have each impact kind."""
    counts = {kind: 0 for kind in IMPACT_KINDS}
    for change in changes:
        counts[change.impact.kind] += 1
    return counts
