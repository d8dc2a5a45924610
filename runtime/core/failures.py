"""What can fail, and what a set of failures takes down (LANGUAGE.md, "What a failure is").

Component names, exactly as the language writes them:

| name | what fails |
|---|---|
| `node:NAME` | the node, and with it all its adapters and its connections to disk links |
| `adapter:NODE/IFNAME` | one interface of one node |
| `switch:NAME` | one switch, cluster-wide (a name used in two networks is one switch); an adapter that names no switch hangs off its network's implicit switch, named after the network |
| `link:NAME` | one non-IP link, all of it |
| `linkend:NODE/LINK` | one node's connection to a `disk` link (point-to-point links have no separate ends) |
| `domain:NAME` | a failure domain: every node naming it |
| `port:NODE/IFNAME` | the adapter's cable or switch port passes no frames either way; its carrier stays up |
| `deaf:NODE/IFNAME` | the adapter sends but receives nothing; its carrier stays up |
| `mute:NODE/IFNAME` | the adapter receives but its frames reach nobody; its carrier stays up |
| `hung:SWITCH` | the switch passes no frames; every port on it keeps its carrier |

The last four keep the carrier up, so a node can only infer them from what it
hears (`topology.observe_failures` says what each node observes under them).

`all_components(cluster)` lists every component once, in a fixed order: nodes
(file order), adapters (network order, then line order), switches (first
appearance among the adapters), links (file order), linkends (disk links in
file order, each with its nodes in the file's node order), domains (first
appearance among the nodes), then the faults that keep the carrier up:
ports, deaf, mute (adapters in the order above each), hung switches (the
switches' order).

`expand(cluster, failed)` turns a set of failed components into `Down`:
- `nodes`: the failed nodes, and every node naming a failed domain;
- `adapters`: the failed adapters, and every adapter of a down node;
- `switches`, `links`: the failed ones;
- `linkends`: the failed linkends, and every disk-link end of a down node;
- `ports`, `deaf`, `mute` (adapter keys) and `hung` (switches): the faults
  that keep the carrier up, as named.
An adapter that is up but hangs off a down switch stays out of
`Down.adapters`: `Down.usable(adapter)` is the test that counts for hearing
and hosting (adapter up, its node up, its switch up). `Down` is pure data; no
order of failures is implied (they all happen at once).
"""

from __future__ import annotations

from dataclasses import dataclass
from difflib import get_close_matches
from typing import FrozenSet, Iterable, List, NamedTuple, Optional, Sequence, Tuple, Union

from runtime.core.snapshot import AdapterSpec, ClusterSpec

KINDS = ("node", "adapter", "switch", "link", "linkend", "domain", "port", "deaf", "mute", "hung")
FORMS = ("node:NAME, adapter:NODE/IFNAME, switch:NAME, link:NAME, linkend:NODE/LINK, domain:NAME, "
         "port:NODE/IFNAME, deaf:NODE/IFNAME, mute:NODE/IFNAME, hung:SWITCH")
ADAPTER_KINDS = ("adapter", "port", "deaf", "mute")  # named NODE/IFNAME
INFERRED_KINDS = ("port", "deaf", "mute", "hung")  # the carrier stays up: a node can only infer these


class ComponentError(ValueError):
    """A component name that does not name a component of this cluster; the message says why."""


class Component(NamedTuple):
    """A parsed component name: `kind`, its `name`, and for adapters and linkends the `node`."""

    kind: str
    name: str
    node: Optional[str] = None

    @property
    def text(self) -> str:
        if self.node is not None:
            return f"{self.kind}:{self.node}/{self.name}"
        return f"{self.kind}:{self.name}"

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Down:
    """What a set of failures takes down (see the module docstring)."""

    failed: FrozenSet[str]
    nodes: FrozenSet[str]
    adapters: FrozenSet[Tuple[str, str]]  # (node, ifname)
    switches: FrozenSet[str]
    links: FrozenSet[str]
    linkends: FrozenSet[Tuple[str, str]]  # (node, link)
    ports: FrozenSet[Tuple[str, str]] = frozenset()  # (node, ifname): silent both ways, carrier up
    deaf: FrozenSet[Tuple[str, str]] = frozenset()  # sends, receives nothing
    mute: FrozenSet[Tuple[str, str]] = frozenset()  # receives, its frames reach nobody
    hung: FrozenSet[str] = frozenset()  # switches that pass no frames, every port keeping its carrier

    @property
    def inferred(self) -> bool:
        """Some failure keeps the carrier up, so what the nodes observe must be worked out (see the docstring)."""
        return bool(self.ports or self.deaf or self.mute or self.hung)

    def node_up(self, node: str) -> bool:
        return node not in self.nodes

    def usable(self, adapter: AdapterSpec) -> bool:
        """The adapter is up, its node is up and its switch is up."""
        return (adapter.node, adapter.ifname) not in self.adapters and adapter.switch not in self.switches

    def sends(self, adapter: AdapterSpec) -> bool:
        """Its frames reach its switch and go on: carrier up, port working, not mute, switch not hung."""
        key = (adapter.node, adapter.ifname)
        return self.usable(adapter) and key not in self.ports and key not in self.mute \
            and adapter.switch not in self.hung

    def receives(self, adapter: AdapterSpec) -> bool:
        """Frames from its switch reach it: carrier up, port working, not deaf, switch not hung."""
        key = (adapter.node, adapter.ifname)
        return self.usable(adapter) and key not in self.ports and key not in self.deaf \
            and adapter.switch not in self.hung

    def link_up(self, link: str) -> bool:
        return link not in self.links

    def connected(self, node: str, link: str) -> bool:
        """The node is up and its connection to the link is up (for every link type; the link itself aside)."""
        return node not in self.nodes and (node, link) not in self.linkends


NOTHING_FAILED = Down(frozenset(), frozenset(), frozenset(), frozenset(), frozenset(), frozenset())


def all_components(cluster: ClusterSpec) -> List[str]:
    """Every component of the cluster that can fail, once each, in the order of the module docstring."""
    names = [f"node:{node}" for node in cluster.node_names]
    names += [f"adapter:{adapter.node}/{adapter.ifname}" for adapter in cluster.adapters]
    names += [f"switch:{switch}" for switch in cluster.switches]
    names += [f"link:{link.name}" for link in cluster.links]
    names += [f"linkend:{node}/{link.name}" for link in cluster.links if link.disk for node in link.nodes]
    names += [f"domain:{domain}" for domain in cluster.domains]
    for kind in ("port", "deaf", "mute"):
        names += [f"{kind}:{adapter.node}/{adapter.ifname}" for adapter in cluster.adapters]
    names += [f"hung:{switch}" for switch in cluster.switches]
    return names


def parse_component(text: str, cluster: ClusterSpec) -> Component:
    """The component a name stands for; ComponentError, with a suggestion where one helps, if there is none."""
    raw = text.strip()
    kind, colon, rest = raw.partition(":")
    if not colon or kind not in KINDS:
        raise ComponentError(f"'{raw}' is not a component name: write one of {FORMS}")
    if not rest:
        raise ComponentError(f"'{raw}': the name after '{kind}:' is missing")
    if kind == "node":
        _known(rest, cluster.node_names, "node", raw)
        return Component("node", rest)
    if kind in ("switch", "hung"):
        _known(rest, cluster.switches, "switch", raw)
        return Component(kind, rest)
    if kind == "link":
        _known(rest, [link.name for link in cluster.links], "link", raw)
        return Component("link", rest)
    if kind == "domain":
        _known(rest, cluster.domains, "failure domain", raw)
        return Component("domain", rest)
    node, slash, name = rest.partition("/")
    if not slash or not node or not name:
        form = f"{kind}:NODE/IFNAME" if kind in ADAPTER_KINDS else "linkend:NODE/LINK"
        raise ComponentError(f"'{raw}': write {form}")
    _known(node, cluster.node_names, "node", raw)
    if kind in ADAPTER_KINDS:
        if (node, name) not in cluster.adapter_by_key:
            own = [adapter.ifname for adapter in cluster.adapters_by_node[node]]
            raise ComponentError(f"'{raw}': node {node} has no adapter {name}"
                                 + (f" (its adapters: {', '.join(own)})" if own else " (it has no adapters)"))
        return Component(kind, name, node)
    link = cluster.link_by_name.get(name)
    if link is None:
        _known(name, [item.name for item in cluster.links], "link", raw)
    assert link is not None
    if not link.disk:
        raise ComponentError(f"'{raw}': {name} is a point-to-point {link.type} link, whose ends fail with it: "
                             f"write link:{name}")
    if node not in link.nodes:
        raise ComponentError(f"'{raw}': node {node} is not on disk link {name} (its nodes: {', '.join(link.nodes)})")
    return Component("linkend", name, node)


def _known(name: str, known: Sequence[str], what: str, raw: str) -> None:
    if name in known:
        return
    close = get_close_matches(name, list(known), n=1)
    hint = f"; did you mean '{close[0]}'?" if close else (f" (there are: {', '.join(known)})" if known else
                                                           f" (the cluster has no {what})")
    raise ComponentError(f"'{raw}': no {what} named '{name}'{hint}")


FailedLike = Union[Down, Iterable[Union[str, Component]]]


def expand(cluster: ClusterSpec, failed: FailedLike) -> Down:
    """What the failed components take down; ComponentError for a name that is not a component."""
    if isinstance(failed, Down):
        return failed
    components = [item if isinstance(item, Component) else parse_component(item, cluster) for item in failed]
    if not components:
        return NOTHING_FAILED
    nodes = set()
    adapters = set()
    switches = set()
    links = set()
    linkends = set()
    inferred: dict = {"port": set(), "deaf": set(), "mute": set(), "hung": set()}
    for component in components:
        if component.kind == "node":
            nodes.add(component.name)
        elif component.kind == "domain":
            nodes.update(cluster.domain_nodes[component.name])
        elif component.kind == "adapter":
            adapters.add((component.node, component.name))
        elif component.kind == "switch":
            switches.add(component.name)
        elif component.kind == "link":
            links.add(component.name)
        elif component.kind == "linkend":
            linkends.add((component.node, component.name))
        elif component.kind == "hung":
            inferred["hung"].add(component.name)
        else:
            inferred[component.kind].add((component.node, component.name))
    for node in nodes:
        adapters.update(adapter.key for adapter in cluster.adapters_by_node[node])
    for link in cluster.links:
        if link.disk:
            linkends.update((node, link.name) for node in link.nodes if node in nodes)
    return Down(failed=frozenset(component.text for component in components), nodes=frozenset(nodes),
                adapters=frozenset(adapters), switches=frozenset(switches), links=frozenset(links),
                linkends=frozenset(linkends), ports=frozenset(inferred["port"]), deaf=frozenset(inferred["deaf"]),
                mute=frozenset(inferred["mute"]), hung=frozenset(inferred["hung"]))


def canonical_order(cluster: ClusterSpec, names: Iterable[str]) -> Tuple[str, ...]:
    """Component names (already canonical) in the order of `all_components`."""
    rank = {name: number for number, name in enumerate(all_components(cluster))}
    return tuple(sorted(set(names), key=lambda name: (rank.get(name, len(rank)), name)))
