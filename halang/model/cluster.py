"""The resolved cluster: names checked, defaults applied, units normalised.

This is what `halang show --format json` prints and, less what only `verify`
reads (an accept's `when`), what the compiler puts in a bundle as
`snapshot.json`; the runtime reads that JSON back with its own small loader.
References stay names (every one of them resolves: a dangling one is
reported as HA102 and left out), so the JSON has one shape for every reader.
Durations are milliseconds, sizes bytes, addresses canonical text. Lists keep
the file's order, which matters: a group's `nodes` is its priority list and
groups are placed in file order.

Each object keeps, outside the JSON, the spans of its parts (`spans`: "" for
the construct itself, attribute keys for their values) so checks can point at
the line that is at fault.
"""

from __future__ import annotations

import json
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SkipValidation, model_serializer

from halang.diagnostics import NO_SPAN, Span

FORMAT_VERSION = 1
# An accept's `when` matters to `verify` alone; the runtime's snapshot format does not hold it.
_VERIFY_ONLY = {"accepts": {"__all__": {"when"}}}


def _canonical(data: dict) -> str:
    return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


class Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    # Not validated: the builder makes them from the parser's offsets, and a large file has a million.
    spans: SkipValidation[dict[str, Span]] = Field(default_factory=dict, exclude=True, repr=False)

    def span(self, part: str = "") -> Span:
        return self.spans.get(part) or self.spans.get("") or NO_SPAN


class Capacity(Model):
    cpu: float | None = None
    memory: int | None = Field(None, description="bytes")


class Ssh(Model):
    user: str | None = None
    host: str
    port: int = 22


class Node(Model):
    name: str
    capacity: Capacity | None = None
    domains: tuple[str, ...] = ()
    ssh: Ssh | None = Field(None, description="where deploy reaches the node; None: its first boot address")


class Adapter(Model):
    node: str
    ifname: str
    role: Literal["boot", "standby"]
    address: str
    prefix: int
    switch: str = Field(description="the named switch, or the network's implicit switch (the network's name)")
    version: Literal[4, 6] = Field(4, exclude=True)
    value: int = Field(0, exclude=True)


class Service(Model):
    name: str
    address: str
    prefix: int | None = Field(description="as written, else the network's boot prefix; None if neither")
    version: Literal[4, 6] = Field(4, exclude=True)
    value: int = Field(0, exclude=True)


class Network(Model):
    name: str
    type: Literal["ether", "token", "fddi", "atm", "socc", "slip"] = "ether"
    ipat: Literal["alias", "replace"] = "alias"
    adapters: tuple[Adapter, ...] = ()
    services: tuple[Service, ...] = ()
    ping_targets: tuple[str, ...] = Field(
        (), description="addresses outside the cluster the adapters probe, canonical; absent: none")

    @model_serializer(mode="wrap")
    def _without_absent_targets(self, handler):
        # No key without targets: the JSON (and every bundle's snapshot) of a file without them stays as it was.
        data = handler(self)
        if not data.get("ping_targets", ()):
            data.pop("ping_targets", None)
        return data


class Link(Model):
    name: str
    type: Literal["rs232", "disk", "tmscsi", "tmssa"]
    devices: dict[str, str] = Field(description="node name -> device path, in the order the nodes were named")

    @property
    def point_to_point(self) -> bool:
        return self.type != "disk"


class Heartbeat(Model):
    interval_ms: int = 1000
    miss_limit: int = 5
    port: int = 7400
    key_file: str | None = None
    quorum: Literal["majority", "none"]
    tie_breaker: str | None = None

    @property
    def detection_ms(self) -> int:
        return self.interval_ms * self.miss_limit


class Monitor(Model):
    command: str | None = None
    process: str | None = None
    interval_ms: int = 10_000
    timeout_ms: int = 5_000
    restarts: int = 3
    stabilization_ms: int = 0


class Application(Model):
    name: str
    start: str
    stop: str
    timeout_ms: int = 60_000
    monitor: Monitor | None = None


class Filesystem(Model):
    mount_point: str
    device: str | None = None
    fstype: str | None = None
    options: str | None = None


class Requirements(Model):
    cpu: float = 0.0
    memory: int = 0


class Group(Model):
    name: str
    nodes: tuple[str, ...]
    startup: Literal["home_node", "first_available", "all_available"] = "home_node"
    fallover: Literal["next_priority", "least_loaded", "bring_offline"] = "next_priority"
    fallback: Literal["never", "higher_priority"] = "never"
    fallback_delay_ms: int = 0
    service_ips: tuple[str, ...] = ()
    volume_groups: tuple[str, ...] = ()
    filesystems: tuple[Filesystem, ...] = ()
    applications: tuple[Application, ...] = ()
    requires: Requirements = Requirements()
    rto_ms: int | None = None
    after: tuple[str, ...] = ()
    same_node_as: tuple[str, ...] = ()
    different_node_from: tuple[str, ...] = ()

    @property
    def concurrent(self) -> bool:
        return self.startup == "all_available"


EVENT_KINDS = ("node_up", "node_down", "network_up", "network_down", "adapter_down", "adapter_up",
               "rg_online", "rg_offline", "rg_move", "split_brain")


class Event(Model):
    kind: Literal[EVENT_KINDS]  # type: ignore[valid-type]
    pre: str | None = None
    post: str | None = None
    notify: str | None = None
    recovery: str | None = None


class Accept(Model):
    code: str
    reason: str
    when: tuple[str, ...] | None = Field(
        None, description="the failure scenario whose findings it covers (component names); absent: every finding")

    @model_serializer(mode="wrap")
    def _without_absent_when(self, handler):
        # No `when` key unless the file wrote one: an accept reads as it did before `when` existed.
        data = handler(self)
        if data.get("when", ()) is None:
            del data["when"]
        return data


class Cluster(Model):
    format: int = FORMAT_VERSION
    name: str
    heartbeat: Heartbeat
    nodes: tuple[Node, ...] = ()
    networks: tuple[Network, ...] = ()
    links: tuple[Link, ...] = ()
    groups: tuple[Group, ...] = ()
    events: tuple[Event, ...] = ()
    accepts: tuple[Accept, ...] = ()

    def to_json(self) -> str:
        """The canonical JSON: sorted keys, lists in file order, stable for diffs and hashes."""
        return _canonical(self.model_dump(mode="json"))

    def snapshot(self) -> dict:
        """What the runtime reads (runtime/core/snapshot.py, format 1): the JSON without what only `verify` uses."""
        return self.model_dump(mode="json", exclude=_VERIFY_ONLY)

    def snapshot_json(self) -> str:
        """The bundle's snapshot.json: the snapshot as canonical JSON."""
        return _canonical(self.snapshot())

    def node(self, name: str) -> Node | None:
        return next((node for node in self.nodes if node.name == name), None)

    def group(self, name: str) -> Group | None:
        return next((group for group in self.groups if group.name == name), None)
