"""Syntax tree to resolved model, reporting HA002 and HA101 to HA104 on the way.

Every problem is reported and the offending piece left out, so the rest of the
file can still be checked: a dangling reference is dropped from its list, a
bad value falls back to its default.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

from halang.diagnostics import DiagnosticSink, Related, Span
from halang.model import literals
from halang.model.cluster import (
    Accept, Adapter, Application, Capacity, Cluster, Event, Filesystem, Group, Heartbeat, Link, Monitor,
    Network, Node, Requirements, Service, Ssh,
)
from halang.model.schema import BLOCKS, EVENT_KINDS, SINGLE_BLOCKS, Attr
from halang.syntax.ast import AcceptLine, AdapterLine, Attribute, Block, ListValue, Scalar, ServiceLine

_IFNAME = re.compile(r"[A-Za-z0-9_.:-]{1,15}\Z")
_SSH = re.compile(r"(?:(?P<user>[A-Za-z0-9_.-]+)@)?(?P<host>[A-Za-z0-9_.:-]+?|\[[0-9A-Fa-f:]+\])(?::(?P<port>[0-9]+))?\Z")


class _Invalid(Exception):
    """A value that was reported and is to be left out."""


class Values(dict):
    """An attribute block's converted values, with the spans of what was written."""

    def __init__(self):
        super().__init__()
        self.spans: dict[str, Span] = {}
        self.key_spans: dict[str, Span] = {}


class ModelBuilder:
    def __init__(self, sink: DiagnosticSink):
        self.sink = sink

    # ---------------------------------------------------------------- values

    def _suggest(self, word: str, choices) -> str | None:
        close = difflib.get_close_matches(word, list(choices), n=1)
        return f"did you mean '{close[0]}'?" if close else None

    def _suggest_node(self, word: str) -> str:
        """A hint for an undefined node: the closest name, else the nodes there are (a few)."""
        names = sorted(self.node_names)
        listed = ", ".join(names[:6]) + (", ..." if len(names) > 6 else "")
        return self._suggest(word, names) or f"define node {word} {{ }}, or name one of: {listed}"

    def attributes(self, block: Block, schema: dict[str, Attr], extra_keys: bool = False) -> Values:
        """Convert a block's attributes by its schema; with extra_keys, unknown keys are kept raw."""
        values = Values()
        seen: dict[str, Attribute] = {}
        for attribute in block.attributes:
            key = attribute.key
            if key in seen:
                if extra_keys and key not in schema:
                    continue  # a link naming one node twice: HA307 reports it
                self.sink.error("HA103", attribute.key_span, f"'{key}' is given twice in '{block.label()}'",
                                "keep one of the two", related=(Related(seen[key].key_span, "first given here"),))
                continue
            seen[key] = attribute
            spec = schema.get(key)
            if spec is None:
                if extra_keys:
                    values[key] = attribute.value
                    values.spans[key] = attribute.value.span
                    values.key_spans[key] = attribute.key_span
                    continue
                self.sink.error("HA104", attribute.key_span, f"'{block.kind}' has no attribute '{key}'",
                                self._suggest(key, schema) or "known: " + ", ".join(schema))
                continue
            value = attribute.value
            if spec.type in _PLAIN_STRINGS and value.kind == "string":
                values[key] = value.text  # the commonest case, without the general conversion
                values.spans[key] = Span(value.start, value.end)
                continue
            try:
                values[key] = self.convert(key, spec, value)
                values.spans[key] = value.span
            except _Invalid:
                pass
        for key in _required(schema):
            spec = schema[key]
            if key not in values and key not in seen:
                self.sink.error("HA103", block.head_span, f"'{block.label()}' needs '{key}'",
                                f"add {key} = {_example(spec)}")
        return values

    def convert(self, key: str, spec: Attr, value) -> Any:
        kind = spec.type
        if kind in ("names", "strings"):
            if not isinstance(value, ListValue):
                self._wrong(key, spec, value)
            want = "name" if kind == "names" else "string"
            items = []
            for item in value.items:
                if isinstance(item, ListValue) or item.kind != want:
                    self._wrong(key, spec, item)
                items.append(item)
            return items
        if kind == "addresses":
            if not isinstance(value, ListValue):
                self._wrong(key, spec, value)
            for item in value.items:
                # A duration or a name in the list is the wrong kind of value, not a malformed address.
                if isinstance(item, ListValue) or item.kind != "literal" or literals.kind_of(item.text) != "address":
                    self._wrong(key, spec, item)
            return list(value.items)
        if isinstance(value, ListValue):
            self._wrong(key, spec, value)
        if kind in ("string", "abspath", "command"):
            if value.kind != "string":
                self._wrong(key, spec, value)
            if kind == "abspath" and not value.text.startswith("/"):
                self.sink.error("HA104", value.span, f"'{key}' must be an absolute path, not '{value.text}'",
                                "start it with /")
                raise _Invalid
            return value.text
        if kind in ("name", "enum"):
            if value.kind != "name":
                self._wrong(key, spec, value)
            if kind == "enum" and value.text not in spec.choices:
                self.sink.error("HA104", value.span, f"'{key}' cannot be '{value.text}': it is {spec.describe()}",
                                self._suggest(value.text, spec.choices))
                raise _Invalid
            return value.text
        if value.kind != "literal":
            self._wrong(key, spec, value)
        parse = {"duration": literals.parse_duration, "integer": literals.parse_integer,
                 "number": literals.parse_number, "size": literals.parse_size}[kind]
        try:
            number = parse(value.text)
        except literals.LiteralError as exc:
            looks_like = literals.kind_of(value.text)
            if looks_like in ("integer", "decimal", "address") and looks_like != kind and not (
                    kind == "number" and looks_like in ("integer", "decimal")):
                self._wrong(key, spec, value)
            self.sink.error("HA002", value.span, str(exc))
            raise _Invalid from None
        if (spec.minimum is not None and number < spec.minimum) or (spec.maximum is not None and number > spec.maximum):
            self.sink.error("HA104", value.span, f"'{key}' = {value.text} is out of range: {_range(spec)}")
            raise _Invalid
        return number

    def _wrong(self, key: str, spec: Attr, value) -> None:
        shown = "a list" if isinstance(value, ListValue) else f"'{value.text}'"
        hint = None
        if spec.type == "duration" and not isinstance(value, ListValue) and literals.kind_of(value.text) == "integer":
            hint = f"durations have a unit: {value.text}s, or {value.text}ms"
        elif spec.type == "names" and not isinstance(value, ListValue) and value.kind == "name":
            hint = f"write a list: {key} = [{value.text}]"
        elif spec.type == "addresses" and not isinstance(value, ListValue) and value.kind == "literal" \
                and literals.kind_of(value.text) == "address":
            hint = f"write a list: {key} = [{value.text}]"
        self.sink.error("HA104", value.span, f"'{key}' takes {spec.describe()}, not {shown}", hint)
        raise _Invalid

    def _single_blocks(self, block: Block) -> dict[str, Block]:
        found: dict[str, Block] = {}
        for child in block.blocks:
            if child.kind in SINGLE_BLOCKS:
                if child.kind in found:
                    self.sink.error("HA103", child.head_span, f"'{child.kind}' is given twice in '{block.label()}'",
                                    "merge the two blocks",
                                    related=(Related(found[child.kind].head_span, "first given here"),))
                    continue
                found[child.kind] = child
        return found

    def _unique(self, kind: str, scalar: Scalar, seen: dict[str, Scalar], where: str = "",
                hint: str = "rename one of them") -> bool:
        previous = seen.get(scalar.text)
        if previous is not None:
            self.sink.error("HA101", scalar.span, f"{kind} '{scalar.text}' is defined twice{where}",
                            hint, related=(Related(previous.span, "first defined here"),))
            return False
        seen[scalar.text] = scalar
        return True

    def _address(self, scalar: Scalar) -> literals.Address | None:
        try:
            return literals.parse_address(scalar.text)
        except literals.LiteralError as exc:
            self.sink.error("HA002", scalar.span, str(exc))
            return None

    # --------------------------------------------------------------- cluster

    def build(self, tree: Block) -> Cluster:
        nodes_seen: dict[str, Scalar] = {}
        node_blocks = []
        for block in tree.blocks_of("node"):
            if self._unique("node", block.name, nodes_seen):
                node_blocks.append(block)
        if not node_blocks:
            self.sink.error("HA103", tree.head_span, f"cluster '{tree.name.text}' has no node",
                            "add node NAME { } for each machine")
        self.node_names = set(nodes_seen)
        nodes = tuple(self.node(block) for block in node_blocks)

        links_seen: dict[str, Scalar] = {}
        links = tuple(self.link(block) for block in tree.blocks_of("link")
                      if self._unique("link", block.name, links_seen))
        self.link_names = set(links_seen)
        self.links = {link.name: link for link in links if link is not None}
        links = tuple(link for link in links if link is not None)

        heartbeat_blocks = tree.blocks_of("heartbeat")
        for extra in heartbeat_blocks[1:]:
            self.sink.error("HA103", extra.head_span, "the cluster has two heartbeat blocks", "merge them into one",
                            related=(Related(heartbeat_blocks[0].head_span, "first given here"),))
        heartbeat = self.heartbeat(heartbeat_blocks[0] if heartbeat_blocks else None, len(nodes))

        networks_seen: dict[str, Scalar] = {}
        self.services_seen: dict[str, Scalar] = {}
        self.adapters_seen: dict[str, Scalar] = {}
        networks = tuple(self.network(block) for block in tree.blocks_of("network")
                         if self._unique("network", block.name, networks_seen))
        self.service_names = set(self.services_seen)

        groups_seen: dict[str, Scalar] = {}
        group_blocks = [block for block in tree.blocks_of("resource_group")
                        if self._unique("resource group", block.name, groups_seen)]
        self.group_names = set(groups_seen)
        groups = tuple(self.group(block) for block in group_blocks)

        events_seen: dict[str, Scalar] = {}
        events = tuple(event for block in tree.blocks_of("event")
                       if self._unique("event", block.name, events_seen)
                       for event in [self.event(block)] if event is not None)

        accepts = tuple(self.accept(line) for line in tree.lines)
        return Cluster(
            name=tree.name.text, heartbeat=heartbeat, nodes=nodes, networks=networks, links=links,
            groups=groups, events=events, accepts=accepts, spans={"": tree.head_span, "name": tree.name.span})

    def accept(self, line: AcceptLine) -> Accept:
        """An accept line; its `when` components are checked against the cluster by HA104's check."""
        spans = {"": line.span, "code": line.code.span}
        if line.when is None:
            return Accept(code=line.code.text, reason=line.reason.text, spans=spans)
        spans["when"] = line.when.span
        when: dict[str, Span] = {}
        for item in line.when.items:
            if isinstance(item, ListValue) or item.kind != "string":
                shown = "a list" if isinstance(item, ListValue) else item.text
                self.sink.error("HA104", item.span, f"a scenario names components as quoted strings, not {shown}",
                                'write for example when ["node:alpha", "switch:sw1"]')
            elif item.text in when:
                self.sink.error("HA104", item.span, f"'{item.text}' is named twice in the scenario", "name it once",
                                related=(Related(when[item.text], "first named here"),))
            else:
                when[item.text] = item.span
        spans.update((f"when[{number}]", span) for number, span in enumerate(when.values()))
        return Accept(code=line.code.text, reason=line.reason.text, when=tuple(when), spans=spans)

    def heartbeat(self, block: Block | None, node_count: int) -> Heartbeat:
        values = self.attributes(block, BLOCKS["heartbeat"]) if block else Values()
        tie_breaker = values.get("tie_breaker")
        if tie_breaker is not None:
            link = self.links.get(tie_breaker)
            if link is None:
                if tie_breaker not in self.link_names:  # else the link was left out, and reported (no type)
                    self.sink.error("HA102", values.spans["tie_breaker"], f"tie_breaker names no link '{tie_breaker}'",
                                    self._suggest(tie_breaker, self.link_names))
                tie_breaker = None
            elif link.type != "disk":
                self.sink.error("HA104", values.spans["tie_breaker"],
                                f"tie_breaker '{tie_breaker}' is not a disk link but {link.type}",
                                "the tie-breaker is a shared disk both sides of a split can reach")
                tie_breaker = None
        quorum = values.get("quorum") or ("majority" if node_count >= 3 or tie_breaker else "none")
        if "tie_breaker" in values and values.get("quorum") == "none":
            # One finding per construct: the tie_breaker's own faults are reported at it, this one at quorum.
            self.sink.error("HA104", values.spans["quorum"],
                            f"quorum = none ignores the tie_breaker '{values['tie_breaker']}'",
                            "remove quorum = none (a tie_breaker decides a majority quorum), or the tie_breaker",
                            related=(Related(values.spans["tie_breaker"], "the tie_breaker"),))
        spans = dict(values.spans)
        if block:
            spans[""] = block.head_span
        return Heartbeat(
            interval_ms=values.get("interval", 1000), miss_limit=values.get("miss_limit", 5),
            port=values.get("port", 7400), key_file=values.get("key_file"), quorum=quorum,
            tie_breaker=tie_breaker, spans=spans)

    def node(self, block: Block) -> Node:
        values = self.attributes(block, BLOCKS["node"])
        singles = self._single_blocks(block)
        capacity = None
        if "capacity" in singles:
            capacity_values = self.attributes(singles["capacity"], BLOCKS["capacity"])
            capacity = Capacity(cpu=capacity_values.get("cpu"), memory=capacity_values.get("memory"),
                                                spans={"": singles["capacity"].head_span, **capacity_values.spans})
        ssh = None
        if "ssh" in values:
            match = _SSH.match(values["ssh"])
            if match and (match.group("port") is None or 1 <= int(match.group("port")) <= 65535):
                ssh = Ssh(user=match.group("user"), host=match.group("host").strip("[]"),
                                          port=int(match.group("port") or 22))
            else:
                self.sink.error("HA104", values.spans["ssh"], f"ssh = \"{values['ssh']}\" is not user@host:port",
                                'write for example "root@10.0.0.1:22"; user and port are optional')
        domains = tuple(dict.fromkeys(item.text for item in values.get("domains", ())))
        return Node(name=block.name.text, capacity=capacity, domains=domains, ssh=ssh,
                                    spans={"": block.head_span, "name": block.name.span, **values.spans})

    def _node_refs(self, items: list[Scalar], where: str, report_repeats: bool = True) -> list[Scalar]:
        kept, seen = [], {}
        for item in items:
            if item.text not in self.node_names:
                self.sink.error("HA102", item.span, f"{where} names no node '{item.text}'",
                                self._suggest_node(item.text))
            elif item.text in seen:
                if report_repeats:
                    self.sink.error("HA104", item.span, f"node '{item.text}' is named twice in {where}",
                                    "name each node once, in priority order",
                                    related=(Related(seen[item.text], "first named here"),))
            else:
                seen[item.text] = item.span
                kept.append(item)
        return kept

    def link(self, block: Block) -> Link | None:
        values = self.attributes(block, BLOCKS["link"], extra_keys=True)
        devices: dict[str, str] = {}
        spans = {"": block.head_span, "name": block.name.span}
        # A node named twice is HA307, reported from the tree by the topology checks.
        listed = self._node_refs(values.get("nodes", []), f"link '{block.name.text}'", report_repeats=False)
        if listed and "device" not in values and "device" not in values.spans:
            if not all(key in values for key in (item.text for item in listed)):
                self.sink.error("HA103", values.spans["nodes"], f"link '{block.name.text}' lists nodes but no device",
                                'add device = "/dev/..." for the path on every listed node')
        for item in listed:
            if "device" in values:
                devices[item.text] = values["device"]
                spans[item.text] = item.span
        for key, value in values.items():
            if key in BLOCKS["link"]:
                continue
            if key not in self.node_names:
                self.sink.error("HA102", values.key_spans[key], f"link '{block.name.text}' names no node '{key}'",
                                self._suggest(key, list(self.node_names) + list(BLOCKS["link"]))
                                or self._suggest_node(key) + " (a link's other keys are type, device and nodes)")
                continue
            if isinstance(value, ListValue) or value.kind != "string":
                self.sink.error("HA104", value.span, f"the device of node '{key}' must be a quoted path")
                continue
            if not value.text.startswith("/"):
                self.sink.error("HA104", value.span, f"the device of node '{key}' must be an absolute path")
                continue
            devices[key] = value.text
            spans[key] = value.span
        if "type" not in values:
            return None
        spans.update({key: span for key, span in values.spans.items() if key in BLOCKS["link"]})
        return Link(name=block.name.text, type=values["type"], devices=devices, spans=spans)

    def network(self, block: Block) -> Network:
        values = self.attributes(block, BLOCKS["network"])
        name = block.name.text
        adapters = []
        for line in block.lines:
            if isinstance(line, AdapterLine):
                adapter = self.adapter(line, name)
                if adapter is not None:
                    adapters.append(adapter)
        boot_prefixes: dict[int, int] = {}
        for adapter in adapters:
            if adapter.role == "boot":
                boot_prefixes.setdefault(adapter.version, adapter.prefix)
        services = []
        for line in block.lines:
            if isinstance(line, ServiceLine):
                service = self.service(line, boot_prefixes)
                if service is not None:
                    services.append(service)
        spans = {"": block.head_span, "name": block.name.span, **values.spans}
        targets = self.ping_targets(values.get("ping_targets", []))
        spans.update((f"ping_targets[{number}]", span) for number, span in enumerate(targets.values()))
        return Network(name=name, type=values.get("type", "ether"), ipat=values.get("ipat", "alias"),
                       adapters=tuple(adapters), services=tuple(services), ping_targets=tuple(targets), spans=spans)

    def ping_targets(self, items: list[Scalar]) -> dict[str, Span]:
        """Each target's canonical address and where it is written; one that is malformed, has a /prefix or is
        named twice is reported and left out."""
        targets: dict[str, Span] = {}
        for item in items:
            address = self._address(item)
            if address is None:
                continue
            if address.prefix is not None:
                bare = item.text.partition("/")[0]
                self.sink.error("HA002", item.span, f"the ping target '{item.text}' has a /prefix",
                                f"a target is one address: write {bare}")
            elif address.text in targets:
                spelt = "" if item.text == address.text else f" (as {address.text})"
                self.sink.error("HA104", item.span, f"ping target '{item.text}' is named twice{spelt}", "name it once",
                                related=(Related(targets[address.text], "first named here"),))
            else:
                targets[address.text] = item.span
        return targets

    def adapter(self, line: AdapterLine, network: str) -> Adapter | None:
        ok = True
        if line.node.text not in self.node_names:
            self.sink.error("HA102", line.node.span, f"adapter names no node '{line.node.text}'",
                            self._suggest_node(line.node.text))
            ok = False
        if not _IFNAME.match(line.ifname.text):
            self.sink.error("HA104", line.ifname.span, f"'{line.ifname.text}' is not a Linux interface name",
                            "1 to 15 characters of letters, digits, _ . : -")
            ok = False
        elif not self._unique("adapter", Scalar("name", f"{line.node.text}/{line.ifname.text}",
                                                 line.ifname.start, line.ifname.end), self.adapters_seen,
                              hint="a node's interface has one adapter line, on one network"):
            ok = False
        if line.role.text not in ("boot", "standby"):
            self.sink.error("HA104", line.role.span, f"an adapter's role is boot or standby, not '{line.role.text}'",
                            self._suggest(line.role.text, ("boot", "standby")))
            ok = False
        address = self._address(line.address)
        if address is not None and address.prefix is None:
            self.sink.error("HA002", line.address.span, f"the adapter address '{line.address.text}' needs a /prefix",
                            f"for example {line.address.text}/{24 if address.version == 4 else 64}")
            ok = False
        if not ok or address is None:
            return None
        spans = {"": line.span, "node": line.node.span, "ifname": line.ifname.span, "role": line.role.span,
                 "address": line.address.span}
        if line.switch is not None:
            spans["switch"] = line.switch.span
        return Adapter(node=line.node.text, ifname=line.ifname.text, role=line.role.text,
                                       address=address.text, prefix=address.prefix,
                                       switch=line.switch.text if line.switch else network,
                                       version=address.version, value=address.value, spans=spans)

    def service(self, line: ServiceLine, boot_prefixes: dict[int, int]) -> Service | None:
        """A service without a prefix takes that of the network's first boot adapter of its IP version."""
        if not self._unique("service label", line.label, self.services_seen):
            return None
        address = self._address(line.address)
        if address is None:
            return None
        return Service(name=line.label.text, address=address.text,
                                       prefix=address.prefix if address.prefix is not None
                                       else boot_prefixes.get(address.version),
                                       version=address.version, value=address.value,
                                       spans={"": line.span, "name": line.label.span, "address": line.address.span})

    # ---------------------------------------------------------------- groups

    def _refs(self, items: list[Scalar], known: set[str], what: str, where: str) -> tuple[str, ...]:
        kept = []
        for item in items:
            if item.text not in known:
                self.sink.error("HA102", item.span, f"{where} names no {what} '{item.text}'",
                                self._suggest(item.text, known))
            elif item.text in kept:
                self.sink.error("HA104", item.span, f"{what} '{item.text}' is named twice in {where}",
                                "name it once")
            else:
                kept.append(item.text)
        return tuple(kept)

    def group(self, block: Block) -> Group:
        name = block.name.text
        where = f"resource group '{name}'"
        values = self.attributes(block, BLOCKS["resource_group"])
        singles = self._single_blocks(block)
        nodes = tuple(item.text for item in self._node_refs(values.get("nodes", []), where))
        if values.get("nodes") == []:
            self.sink.error("HA104", values.spans["nodes"], f"{where} lists no node",
                            "list the nodes that may host it, the home node first")
        startup = values.get("startup", "home_node")
        default_fallover = "bring_offline" if startup == "all_available" else "next_priority"
        filesystems = []
        mounts_seen: dict[str, Scalar] = {}
        for item in values.get("filesystems", []):
            if self._mount_point(item, mounts_seen, where):
                filesystems.append(Filesystem(mount_point=item.text, spans={"": item.span}))
        applications = []
        apps_seen: dict[str, Scalar] = {}
        for child in block.blocks:
            if child.kind == "filesystem" and self._mount_point(child.name, mounts_seen, where):
                fs_values = self.attributes(child, BLOCKS["filesystem"])
                filesystems.append(Filesystem(
                    mount_point=child.name.text, device=fs_values.get("device"), fstype=fs_values.get("fstype"),
                    options=fs_values.get("options"),
                    spans={"": child.head_span, "mount_point": child.name.span, **fs_values.spans}))
            elif child.kind == "application" and self._unique("application", child.name, apps_seen, f" in {where}"):
                application = self.application(child)
                if application is not None:
                    applications.append(application)
        # Only what the file says is passed: pydantic fills the defaults, which is much cheaper here.
        optional = {}
        if "requires" in singles:
            req = self.attributes(singles["requires"], BLOCKS["requires"])
            optional["requires"] = Requirements(cpu=req.get("cpu", 0.0), memory=req.get("memory", 0),
                                                spans={"": singles["requires"].head_span, **req.spans})
        for key, field in (("fallback", "fallback"), ("fallback_delay", "fallback_delay_ms"), ("rto", "rto_ms")):
            if key in values:
                optional[field] = values[key]
        if "service_ips" in values:
            optional["service_ips"] = self._refs(values["service_ips"], self.service_names, "service label", where)
        if "volume_groups" in values:
            optional["volume_groups"] = tuple(dict.fromkeys(item.text for item in values["volume_groups"]))
        for key in ("after", "same_node_as", "different_node_from"):
            if key in values:
                optional[key] = self._refs(values[key], self.group_names, "resource group", where)
        if filesystems:
            optional["filesystems"] = tuple(filesystems)
        if applications:
            optional["applications"] = tuple(applications)
        spans = {"": block.head_span, "name": block.name.span, **values.spans}
        return Group(name=name, nodes=nodes, startup=startup, fallover=values.get("fallover", default_fallover),
                     spans=spans, **optional)

    def _mount_point(self, item: Scalar, seen: dict[str, Scalar], where: str) -> bool:
        if not item.text.startswith("/"):
            self.sink.error("HA104", item.span, f"the mount point '{item.text}' is not an absolute path")
            return False
        return self._unique("filesystem", item, seen, f" in {where}")

    def application(self, block: Block) -> Application | None:
        values = self.attributes(block, BLOCKS["application"])
        singles = self._single_blocks(block)
        monitor = None
        if "monitor" in singles:
            monitor = self.monitor(singles["monitor"])
        if "start" not in values or "stop" not in values:
            return None
        return Application(name=block.name.text, start=values["start"], stop=values["stop"],
                                           timeout_ms=values.get("timeout", 60_000), monitor=monitor,
                                           spans={"": block.head_span, "name": block.name.span, **values.spans})

    def monitor(self, block: Block) -> Monitor | None:
        values = self.attributes(block, BLOCKS["monitor"])
        if ("command" in values) == ("process" in values):
            if "command" in values:
                self.sink.error("HA104", values.spans["process"], "a monitor has a command or a process, not both")
            else:
                self.sink.error("HA103", block.head_span, "the monitor needs a command or a process",
                                'add command = "/path/to/check" or process = "name"')
            return None
        interval = values.get("interval", 10_000)
        return Monitor(
            command=values.get("command"), process=values.get("process"), interval_ms=interval,
            timeout_ms=values.get("timeout", interval // 2), restarts=values.get("restarts", 3),
            stabilization_ms=values.get("stabilization", 0), spans={"": block.head_span, **values.spans})

    def event(self, block: Block) -> Event | None:
        values = self.attributes(block, BLOCKS["event"])
        if block.name.text not in EVENT_KINDS:
            self.sink.error("HA104", block.name.span, f"there is no event '{block.name.text}'",
                            self._suggest(block.name.text, EVENT_KINDS) or "events: " + ", ".join(EVENT_KINDS))
            return None
        return Event(kind=block.name.text, pre=values.get("pre"), post=values.get("post"),
                                     notify=values.get("notify"), recovery=values.get("recovery"),
                                     spans={"": block.head_span, **values.spans})


_PLAIN_STRINGS = frozenset({"string", "command"})
_REQUIRED: dict[int, tuple[str, ...]] = {}


def _required(schema: dict[str, Attr]) -> tuple[str, ...]:
    keys = _REQUIRED.get(id(schema))
    if keys is None:
        keys = _REQUIRED[id(schema)] = tuple(key for key, spec in schema.items() if spec.required)
    return keys


def _range(spec: Attr) -> str:
    if spec.type == "duration":
        low = literals.format_duration(spec.minimum) if spec.minimum is not None else None
        high = literals.format_duration(spec.maximum) if spec.maximum is not None else None
    else:
        low, high = spec.minimum, spec.maximum
    if high is None:
        return f"at least {low}"
    return f"{low} to {high}"


def _example(spec: Attr) -> str:
    if spec.type == "enum" and spec.choices:
        return spec.choices[0] + (f" (or {', '.join(spec.choices[1:])})" if len(spec.choices) > 1 else "")
    return {"names": "[...]", "command": '"/path/to/script"'}.get(spec.type, "...")


def build_model(tree: Block, sink: DiagnosticSink) -> Cluster:
    return ModelBuilder(sink).build(tree)
