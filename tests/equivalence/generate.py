"""Small random clusters as .ha text, covering every construct that placement and the findings read.

`clusters()` draws 2 to 4 nodes with or without cpu and memory capacity and
failure domains; one or two `alias` or `replace` networks with boot and
standby adapters on named (cluster-wide) or implicit switches; point-to-point
(`rs232`, `tmscsi`, `tmssa`) and `disk` links; `quorum` majority, none or
left to its default, and a `tie_breaker` disk; one to four groups with every
startup, fallover and fallback (with and without delay), cpu and memory
requirements, service addresses, and `after`, `same_node_as` and
`different_node_from`.

Nearly every draw builds without a static error: the generator keeps the
address rules, gives every node a heartbeat path (HA305), keeps dependencies
free of cycles and contradictions (HA401..HA403) and sizes capacities from the
load the startup placement is likely to put on each node (HA501), with little
slack so that fallover overloads (HA502) and `least_loaded` has loads to
compare. The test discards the rare draw that still has an error.

Half the draws are *crowded*: every group lists every node, the nodes are
alike in capacity and groups require cpu, so that where a `least_loaded`
group lands turns on where other groups fell over first, that is on the
order of events; findings that only some order shows are rare otherwise.

Sizes are kept so that the brute-force oracle, every failure set up to K = 2
in every order of its events, stays fast: at most 4 nodes and about 24
components (nodes, adapters, switches, links, linkends, domains).
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import strategies as st

NODES = ("n0", "n1", "n2", "n3")
SWITCHES = ("", " switch swa", " switch swb")  # "": the network's implicit switch


def _pick(draw, options, weights=None):
    """One of `options`; with `weights`, option i is weights[i] times as likely as one of weight 1."""
    if weights is not None:
        options = [option for option, weight in zip(options, weights) for _ in range(weight)]
    return draw(st.sampled_from(list(options)))


def _chance(draw, tenths: int) -> bool:
    return draw(st.integers(0, 9)) < tenths


def _network(draw, number: int, nodes: list[str], present: list[str]) -> tuple[list[str], list[str]]:
    """The lines of one network whose adapters are on the `present` nodes, and its service labels."""
    ipat = _pick(draw, ("alias", "replace", "default"), (2, 3, 1))
    lines = [f"  network net{number} {{"] + ([f"    ipat = {ipat}"] if ipat != "default" else [])
    for node in present:
        host = 10 + nodes.index(node)
        # Boot adapters share subnet 1 (replace: one boot subnet; alias: the extra ones on subnets of their own).
        lines.append(f"    adapter {node} en{number}0 boot 10.{number}.1.{host}/24{_pick(draw, SWITCHES)}")
        extra = _pick(draw, (0, 1, 2), (5, 4, 1)) if number == 0 else _pick(draw, (0, 1), (3, 1))
        for more in range(1, extra + 1):
            role = "standby" if ipat == "replace" else "boot"
            lines.append(f"    adapter {node} en{number}{more} {role} 10.{number}.{1 + more}.{host}/24"
                         f"{_pick(draw, SWITCHES)}")
    labels = [f"s{number}{k}" for k in range(_pick(draw, (0, 1, 2, 3), (1, 3, 3, 1)) if present else 0)]
    for k, label in enumerate(labels):
        # replace: in the boot subnet (HA206); alias: outside every boot subnet (HA208).
        address = f"10.{number}.1.{100 + k}" if ipat == "replace" else f"10.{number}.9.{100 + k}"
        lines.append(f"    service {label} {address}")
    lines.append("  }")
    return lines, labels


def _links(draw, nodes: list[str]) -> tuple[list[str], set[str], str | None]:
    """Link lines, the nodes they join, and the disk link's name (a tie-breaker candidate) if there is one."""
    lines, joined = [], set()
    for number in range(_pick(draw, (0, 1, 2), (3, 3, 1))):
        kind = _pick(draw, ("rs232", "tmscsi", "tmssa"))
        a, b = draw(st.permutations(nodes))[:2]
        joined |= {a, b}
        lines.append(f'  link p{number} {{ type = {kind}  {a} = "/dev/tty{number}"  {b} = "/dev/tty{number}" }}')
    if not _chance(draw, 6):
        return lines, joined, None
    members = draw(st.permutations(nodes))[:draw(st.integers(2, len(nodes)))]
    joined |= set(members)
    if draw(st.booleans()):
        lines.append(f'  link dk {{ type = disk  device = "/dev/hb"  nodes = [{", ".join(members)}] }}')
    else:
        devices = "  ".join(f'{node} = "/dev/hb{index}"' for index, node in enumerate(members))
        lines.append(f"  link dk {{ type = disk  {devices} }}")
    return lines, joined, "dk"


def _policy(draw, crowded: bool) -> list[str]:
    startup = _pick(draw, ("home_node", "first_available", "all_available", "default"),
                    (2, 3, 1, 2) if crowded else (2, 3, 2, 2))
    attrs = [] if startup == "default" else [f"startup = {startup}"]
    if startup == "all_available":  # HA404: bring_offline and never, written or by default
        return attrs + (["fallover = bring_offline"] if draw(st.booleans()) else [])
    fallover = _pick(draw, ("next_priority", "least_loaded", "bring_offline", "default"),
                     (2, 5, 1, 1) if crowded else (2, 4, 2, 1))
    if fallover != "default":
        attrs.append(f"fallover = {fallover}")
    fallback = _pick(draw, ("never", "higher_priority", "default"), (1, 2, 2))
    if fallback != "default":
        attrs.append(f"fallback = {fallback}")
        if fallback == "higher_priority" and _chance(draw, 6):
            attrs.append(f"fallback_delay = {_pick(draw, ('0s', '30s', '2m'), (1, 2, 1))}")
    return attrs


def _capacity(draw, alike: bool = False) -> tuple[str, Decimal, int]:
    """A node's capacity: which resources it has, and how much more than its startup load (memory in M);
    `alike`, for every node: cpu always, so that least_loaded compares loads, with room for about one more
    group (one group falling over fits, a second may not)."""
    kind = _pick(draw, ("none", "cpu", "memory", "both"), (0, 3, 0, 1) if alike else (3, 4, 1, 2))
    cpu = _pick(draw, (Decimal(0), Decimal("0.5"), Decimal(1), Decimal(2), Decimal(4)),
                (1, 1, 3, 1, 0) if alike else (3, 1, 3, 2, 1))
    return kind, cpu, _pick(draw, (0, 1024, 2048, 8192), (0, 1, 2, 2) if alike else (3, 2, 2, 1))


def _text(value: Decimal) -> str:
    return format(value.normalize(), "f")


@st.composite
def clusters(draw, sizes: tuple[int, ...] = (2, 3, 4)) -> str:
    """The .ha text of a small cluster of one of `sizes` nodes; most draws have no static error."""
    nodes = list(NODES[:_pick(draw, sizes, [size - 1 for size in sizes])])
    # Crowded (see the module docstring): the first network reaches every node and groups take only its
    # addresses, so no address narrows a group's list.
    crowded = draw(st.booleans())
    links, joined, disk = _links(draw, nodes)

    networks, services, on_network = [], [], {}
    for number in range(_pick(draw, (1, 2), (3, 2))):
        # The first network reaches most nodes, and every node no link joins (HA305); the second is sparser.
        present = [node for node in nodes if _chance(draw, 9 if number == 0 else 6)
                   or (number == 0 and (crowded or node not in joined))]
        if number == 0 and len(present) == 1 and not joined:
            present = nodes
        lines, labels = _network(draw, number, nodes, present)
        networks += lines
        services += labels if number == 0 or not crowded else []
        on_network.update((label, set(present)) for label in labels)

    names = [f"g{i}" for i in range(_pick(draw, (1, 2, 3, 4), (0, 1, 2, 3) if crowded else (1, 2, 3, 3)))]
    groups: dict[str, list[str]] = {}
    lists: dict[str, list[str]] = {}
    demand: dict[str, tuple[Decimal, int]] = {}  # group -> (cpu, memory in M)
    free = list(services)
    for name in names:
        attrs = _policy(draw, crowded)
        members = draw(st.permutations(nodes))
        if not crowded:
            members = members[:_pick(draw, range(1, len(nodes) + 1), range(1, len(nodes) + 1))]
        if free and "startup = all_available" not in attrs and _chance(draw, 7):  # HA404: no address on many nodes
            wanted = draw(st.lists(st.sampled_from(free), min_size=1, max_size=2, unique=True))
            reach = [node for node in members if all(node in on_network[label] for label in wanted)]
            if reach:  # HA304: only nodes with an adapter on each address's network
                members = reach
                attrs.append(f"service_ips = [{', '.join(wanted)}]")
                free = [label for label in free if label not in wanted]
        lists[name] = members
        cpu = _pick(draw, (Decimal(0), Decimal(1), Decimal(2), Decimal(3), Decimal("0.5")),
                    (0, 3, 1, 0, 1) if crowded else (2, 3, 3, 1, 1))
        memory = _pick(draw, (0, 1024, 2048, 4096), (4, 2, 2, 1))
        demand[name] = (cpu, memory)
        parts = ([f"cpu = {_text(cpu)}"] if cpu else []) + ([f"memory = {memory // 1024}G"] if memory else [])
        groups[name] = [f"nodes = [{', '.join(members)}]"] + attrs + (
            [f"requires {{ {'  '.join(parts)} }}"] if parts else [])
    _dependencies(draw, names, lists, groups)

    load = {node: [Decimal(0), 0] for node in nodes}  # what the startup placement is likely to put there
    for name, attrs in groups.items():
        for node in lists[name] if "startup = all_available" in attrs else lists[name][:1]:
            load[node][0] += demand[name][0]
            load[node][1] += demand[name][1]
    # Alike nodes (one capacity kind, one slack) make least_loaded ties, which the order of events breaks.
    alike = _capacity(draw, alike=True) if crowded or draw(st.booleans()) else None
    node_lines = []
    for node in nodes:
        kind, cpu_slack, memory_slack = alike or _capacity(draw)
        parts = []
        if kind in ("cpu", "both"):
            parts.append(f"cpu = {_text(max(load[node][0] + cpu_slack, Decimal(1)))}")
        if kind in ("memory", "both"):
            parts.append(f"memory = {max(load[node][1] + memory_slack, 1024)}M")
        capacity = [f"capacity {{ {'  '.join(parts)} }}"] if parts else []
        domain = _pick(draw, ("", "[rack0]", "[rack1]", "[rack0, rack1]"), (6, 2, 2, 1))
        node_lines.append(f"  node {node} {{ {'  '.join(capacity + ([f'domains = {domain}'] if domain else []))} }}")

    quorum = _pick(draw, ("default", "none", "majority"), (1, 2, 1) if crowded else (2, 2, 1))
    beat = ['key_file = "/etc/halang/k.key"'] + ([f"quorum = {quorum}"] if quorum != "default" else [])
    if disk and quorum != "none" and _chance(draw, 7):  # HA104: a tie-breaker needs a majority quorum
        beat.append(f"tie_breaker = {disk}")

    lines = ["cluster rnd {", f"  heartbeat {{ {'  '.join(beat)} }}"] + node_lines + networks + links
    for name, attrs in groups.items():
        lines += [f"  resource_group {name} {{"] + [f"    {attr}" for attr in attrs] + ["  }"]
    return "\n".join(lines + ["}"]) + "\n"


def _dependencies(draw, names: list[str], lists: dict[str, list[str]], groups: dict[str, list[str]]) -> None:
    """`after`, `same_node_as` and `different_node_from` lines, with no cycle (HA401), no contradiction
    (HA402) and a node common to every `same_node_as` chain (HA403)."""
    together = {name: {name} for name in names}  # same_node_as chains, each name -> its chain's set
    parents: dict[str, set[str]] = {name: set() for name in names}
    kept_apart: set[frozenset[str]] = set()

    def ancestors(name: str) -> set[str]:
        found, todo = set(), [name]
        while todo:
            for parent in parents[todo.pop()]:
                if parent not in found:
                    found.add(parent)
                    todo.append(parent)
        return found

    for name in names:
        chain = together[name]
        same = [other for other in names if other not in chain
                and set.intersection(*(set(lists[member]) for member in chain | together[other]))
                and not any(pair <= chain | together[other] for pair in kept_apart)]
        if same and _chance(draw, 3):
            other = _pick(draw, same)
            groups[name].append(f"same_node_as = [{other}]")
            merged = chain | together[other]
            for member in merged:
                together[member] = merged
        apart = [other for other in names if other not in together[name]]
        if apart and _chance(draw, 3):
            other = _pick(draw, apart)
            kept_apart.add(frozenset((name, other)))
            groups[name].append(f"different_node_from = [{other}]")
        acyclic = [other for other in names if other != name and name not in ancestors(other)]
        if acyclic and _chance(draw, 3):
            parent = _pick(draw, acyclic)
            parents[name].add(parent)
            groups[name].append(f"after = [{parent}]")
