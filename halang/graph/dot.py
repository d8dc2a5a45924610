"""The cluster drawn as Graphviz DOT: the structural sketch, optionally under failures.

- Each node is a box listing the groups placed on it, each group with its
  priority list (`alpha > bravo`); a node's capacity and failure domains are
  in small print under its name.
- Each network is a Graphviz cluster holding its adapters (interface, role,
  address) and its switches; its service addresses are listed on a note.
  Edges run node - adapter - switch. A switch named in several networks is
  one switch (LANGUAGE.md) and is drawn once, outside the networks.
- A point-to-point link is a dashed edge between its two nodes; a `disk`
  link is a cylinder joined to each of its nodes by a dashed edge.
- Groups that no node runs are listed in an `offline` box.

With failed components (`node:alpha`, `adapter:alpha/en0`, `switch:sw1`,
`link:hb`, `linkend:alpha/hb`, `domain:rack_a`), what is down is grey and
dashed, a node up but in a partition without quorum is marked so, and every
group is drawn where `runtime.core.placement.place` sends it from the startup
placement; a group that moved says where from.

Pure: a snapshot in, DOT text out (running `dot` is `render_image`'s job).
"""

from __future__ import annotations

from html import escape
from typing import Any

from halang.diff.changes import as_snapshot

GREY, GREY_FILL, MOVED = "#9a9a9a", "#eeeeee", "#c05800"
NODE_FILL, GROUP_FILL, NETWORK_FILL = "#f4f8fc", "#dcebf7", "#fbfbf4"
FONT = "Helvetica"


class GraphError(ValueError):
    """The graph cannot be drawn (a failed component that is not one); the message says why."""


def _id(*parts: str) -> str:
    text = ":".join(parts)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _h(text: Any) -> str:
    return escape(str(text), quote=True)


def _size(count: int) -> str:
    from halang.diff.render import size

    return size(count)


class _Drawing:
    def __init__(self, snapshot: dict, failed: list[str]):
        from runtime.core.failures import ComponentError, expand
        from runtime.core.placement import place, startup_placement
        from runtime.core.snapshot import SnapshotError, load_snapshot
        from runtime.core.topology import assess

        self.snapshot = snapshot
        try:
            self.spec = load_snapshot(snapshot)
        except SnapshotError as exc:
            raise GraphError(f"not a valid snapshot: {exc}") from None
        try:
            self.down = expand(self.spec, failed)
        except ComponentError as exc:
            raise GraphError(str(exc)) from None
        self.failed = list(failed)
        self.status = assess(self.spec, self.down)
        self.startup = startup_placement(self.spec).as_dict()
        self.placement = place(self.spec, self.down).as_dict() if failed else self.startup
        self.lines: list[str] = []

    def out(self, line: str, depth: int = 1) -> None:
        self.lines.append("  " * depth + line)

    # ------------------------------------------------------------------ pieces

    def node_label(self, node: dict) -> str:
        name = node["name"]
        down = not self.down.node_up(name)
        quorum_lost = not down and name not in self.status.runnable_nodes and self.failed
        colour = f' COLOR="{GREY}"' if down else ""
        title = f"<B>{_h(name)}</B>"
        if down:
            title += " (down)"
        elif quorum_lost:
            title += " (no quorum)"
        rows = [f'<TR><TD{colour}><FONT{colour}>{title}</FONT></TD></TR>']
        details = []
        capacity = node.get("capacity") or {}
        if capacity.get("cpu") is not None:
            details.append(f"cpu {capacity['cpu']:g}")
        if capacity.get("memory") is not None:
            details.append(_size(capacity["memory"]))
        if node.get("domains"):
            details.append("domains " + ", ".join(node["domains"]))
        if details:
            rows.append(f'<TR><TD><FONT POINT-SIZE="8" COLOR="{GREY if down else "#555555"}">'
                        f'{_h(" · ".join(details))}</FONT></TD></TR>')
        for group in self.snapshot.get("groups", []):
            if name in self.placement.get(group["name"], ()):
                rows.append(f"<TR><TD>{self.group_cell(group, name)}</TD></TR>")
        return "<" + '<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="2" CELLPADDING="2">' + "".join(rows) + "</TABLE>>"

    def group_cell(self, group: dict, here: str | None) -> str:
        name = group["name"]
        priority = " &gt; ".join(_h(node) for node in group.get("nodes", []))
        lines = [f"<B>{_h(name)}</B>", f'<FONT POINT-SIZE="8">{priority}</FONT>']
        before = self.startup.get(name, ())
        after = self.placement.get(name, ())
        fill = GROUP_FILL
        if here is not None and here not in before:
            where = ", ".join(before) if before else "offline"
            lines.append(f'<FONT POINT-SIZE="8" COLOR="{MOVED}">moved from {_h(where)}</FONT>')
            fill = "#fde3c8"
        elif here is None and before and not after:
            lines.append(f'<FONT POINT-SIZE="8" COLOR="{MOVED}">was on {_h(", ".join(before))}</FONT>')
        return (f'<TABLE BORDER="1" CELLBORDER="0" CELLSPACING="0" CELLPADDING="2" BGCOLOR="{fill}" '
                f'COLOR="#6f8fb0">' + "".join(f"<TR><TD>{line}</TD></TR>" for line in lines) + "</TABLE>")

    # ------------------------------------------------------------------ the graph

    def render(self) -> str:
        snapshot = self.snapshot
        title = f"cluster {snapshot['name']}"
        if self.failed:
            title += " with " + ", ".join(self.failed) + " failed"
        self.lines.append(f"graph {_id('cluster', snapshot['name'])} {{")
        self.out(f'graph [fontname="{FONT}", fontsize=12, label=<<B>{_h(title)}</B>>, labelloc=t, '
                 'newrank=true, nodesep=0.35, ranksep=0.6];')
        self.out(f'node [fontname="{FONT}", fontsize=10];')
        self.out(f'edge [fontname="{FONT}", fontsize=9, color="#4a5a6a"];')
        self.nodes()
        switch_networks: dict[str, set[str]] = {}
        for network in snapshot.get("networks", []):
            for adapter in network.get("adapters", []):
                switch_networks.setdefault(adapter["switch"], set()).add(network["name"])
        shared = {switch for switch, networks in switch_networks.items() if len(networks) > 1}
        for network in snapshot.get("networks", []):
            self.network(network, shared)
        for switch in sorted(shared, key=list(switch_networks).index):
            self.switch(switch, 1)
        for link in snapshot.get("links", []):
            self.link(link)
        self.offline()
        self.lines.append("}")
        return "\n".join(self.lines) + "\n"

    def nodes(self) -> None:
        self.out("{ rank=same;")
        for node in self.snapshot.get("nodes", []):
            down = not self.down.node_up(node["name"])
            style = (f'style="filled,dashed", fillcolor="{GREY_FILL}", color="{GREY}"' if down
                     else f'style=filled, fillcolor="{NODE_FILL}", color="#2f4f6f"')
            self.out(f"{_id('node', node['name'])} [shape=box, {style}, label={self.node_label(node)}];", 2)
        self.out("}")

    def network(self, network: dict, shared: set[str]) -> None:
        name = network["name"]
        self.out(f"subgraph {_id('cluster_network', name)} {{")
        self.out(f'label=<<B>network {_h(name)}</B><BR/><FONT POINT-SIZE="9">{_h(network.get("type", ""))}, '
                 f'ipat {_h(network.get("ipat", ""))}</FONT>>;', 2)
        self.out(f'style="rounded,filled"; fillcolor="{NETWORK_FILL}"; color="#8a8a6a"; fontsize=11;', 2)
        own_switches: list[str] = []
        for adapter in network.get("adapters", []):
            key = (adapter["node"], adapter["ifname"])
            down = key in self.down.adapters
            style = (f'style="rounded,dashed", color="{GREY}", fontcolor="{GREY}"' if down
                     else 'style="rounded,filled", fillcolor="white"')
            label = (f'<<B>{_h(adapter["node"])} {_h(adapter["ifname"])}</B><BR/>{_h(adapter["role"])} '
                     f'{_h(adapter["address"])}/{adapter["prefix"]}>')
            self.out(f"{_id('adapter', name, *key)} [shape=box, {style}, label={label}];", 2)
            if adapter["switch"] not in shared and adapter["switch"] not in own_switches:
                own_switches.append(adapter["switch"])
        for switch in own_switches:
            self.switch(switch, 2)
        services = network.get("services", [])
        if services:
            rows = "".join(f'<TR><TD ALIGN="LEFT">{_h(service["name"])}</TD><TD ALIGN="LEFT">'
                           f'{_h(service["address"])}{"/" + str(service["prefix"]) if service.get("prefix") else ""}'
                           f"</TD></TR>" for service in services)
            self.out(f"{_id('services', name)} [shape=note, fontsize=9, label=<"
                     f'<TABLE BORDER="0" CELLSPACING="0" CELLPADDING="1"><TR><TD COLSPAN="2" ALIGN="LEFT">'
                     f"<I>service addresses</I></TD></TR>{rows}</TABLE>>];", 2)
        self.out("}")
        if services and network.get("adapters"):
            # Keeps the note level with the switches, below the adapters.
            first = network["adapters"][0]
            self.out(f"{_id('adapter', name, first['node'], first['ifname'])} -- {_id('services', name)} "
                     "[style=invis];")
        for adapter in network.get("adapters", []):
            key = (adapter["node"], adapter["ifname"])
            adapter_id = _id("adapter", name, *key)
            down_adapter = key in self.down.adapters
            self.out(f"{_id('node', adapter['node'])} -- {adapter_id}{self._edge_style(down_adapter)};")
            down_switch = down_adapter or adapter["switch"] in self.down.switches
            self.out(f"{adapter_id} -- {_id('switch', adapter['switch'])}{self._edge_style(down_switch)};")

    @staticmethod
    def _edge_style(down: bool, extra: str = "") -> str:
        parts = [f'color="{GREY}"', "style=dashed"] if down else []
        if extra:
            parts.append(extra)
        return f" [{', '.join(parts)}]" if parts else ""

    def switch(self, switch: str, depth: int) -> None:
        down = switch in self.down.switches
        style = (f'style="dashed", color="{GREY}", fontcolor="{GREY}"' if down
                 else 'style=filled, fillcolor="#e8e8e8"')
        label = f"switch {switch}" + (" (down)" if down else "")
        self.out(f"{_id('switch', switch)} [shape=hexagon, {style}, label=<{_h(label)}>];", depth)

    def link(self, link: dict) -> None:
        name, kind = link["name"], link["type"]
        link_down = name in self.down.links
        devices: dict[str, str] = link.get("devices", {})
        if kind != "disk" and len(devices) == 2:
            (first, first_device), (second, second_device) = devices.items()
            down = link_down or not self.down.node_up(first) or not self.down.node_up(second)
            label = f"{name} ({kind})" + (" down" if link_down else "")
            self.out(f"{_id('node', first)} -- {_id('node', second)} "
                     f"[style=dashed, penwidth=1.5, constraint=false, label=<{_h(label)}>, "
                     f'color="{GREY if down else "#7a4a9a"}", fontcolor="{GREY if down else "#7a4a9a"}"];')
            return
        style = (f'style="dashed", color="{GREY}", fontcolor="{GREY}"' if link_down
                 else 'style=filled, fillcolor="#efe4f6", color="#7a4a9a"')
        # The device most nodes use is written on the cylinder; an edge names only a device that differs.
        paths = list(devices.values())
        common = max(paths, key=paths.count) if paths else ""
        label = (f"<B>{_h(name)}</B> ({_h(kind)})" + (" down" if link_down else "")
                 + (f'<BR/><FONT POINT-SIZE="8">{_h(common)}</FONT>' if common else ""))
        self.out(f"{_id('link', name)} [shape=cylinder, {style}, label=<{label}>];")
        for node, device in devices.items():
            down = link_down or not self.down.connected(node, name)
            colour = GREY if down else "#7a4a9a"
            text = f", fontsize=8, label=<{_h(device)}>" if device != common else ""
            self.out(f"{_id('node', node)} -- {_id('link', name)} [style=dashed, color=\"{colour}\", "
                     f"fontcolor=\"{colour}\"{text}];")

    def offline(self) -> None:
        offline = [group for group in self.snapshot.get("groups", []) if not self.placement.get(group["name"])]
        if not offline:
            return
        cells = "".join(f"<TR><TD>{self.group_cell(group, None)}</TD></TR>" for group in offline)
        self.out(f'{_id("offline")} [shape=box, style="dashed", color="{GREY}", label=<'
                 f'<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="2"><TR><TD><B>offline</B></TD></TR>{cells}'
                 "</TABLE>>];")


def render_dot(cluster: Any, failed: list[str] | tuple[str, ...] = ()) -> str:
    """DOT text for the cluster (a Cluster or a snapshot dict) with the components named in `failed` down."""
    return _Drawing(as_snapshot(cluster), list(failed)).render()
