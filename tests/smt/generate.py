"""Random small clusters as .ha text, for property tests (hypothesis strategies)."""

from __future__ import annotations

from hypothesis import strategies as st


@st.composite
def cluster_texts(draw, max_nodes: int = 4) -> str:
    """A cluster that builds without model errors; static rules (HA2xx...) may well be broken, which the
    analysis does not mind."""
    count = draw(st.integers(2, max_nodes))
    nodes = [f"n{i}" for i in range(count)]
    quorum = draw(st.sampled_from(["none", "majority"]))
    lines = ["cluster rnd {"]
    node_lines = []
    for node in nodes:
        parts = []
        if draw(st.booleans()):
            parts.append(f"domains = [rack{draw(st.integers(0, 1))}]")
        if draw(st.booleans()):
            parts.append(f"capacity {{ cpu = {draw(st.sampled_from([2, 4, 6]))}  memory = "
                         f"{draw(st.sampled_from([4, 8]))}G }}")
        node_lines.append(f"  node {node} {{ {'  '.join(parts)} }}")
    networks, services = [], []
    for net in range(draw(st.integers(1, 2))):
        ipat = draw(st.sampled_from(["alias", "replace"]))
        body = [f"  network net{net} {{", f"    ipat = {ipat}"]
        for i, node in enumerate(nodes):
            for a in range(draw(st.integers(0, 2))):
                switch = draw(st.sampled_from(["", " switch swa", " switch swb"]))
                role = "boot" if ipat == "alias" or a == 0 else "standby"
                body.append(f"    adapter {node} e{net}{a} {role} 10.{net}.{a}.{10 + i}/24{switch}")
        for k in range(draw(st.integers(0, 3))):
            label = f"s{net}_{k}"
            address = f"10.{net}.0.{100 + k}" if ipat == "replace" else f"10.{net}.200.{10 + k}/24"
            body.append(f"    service {label} {address}")
            services.append(label)
        body.append("  }")
        networks.append("\n".join(body))
    links = []
    disk = None
    if draw(st.booleans()):
        a, b = draw(st.lists(st.sampled_from(nodes), min_size=2, max_size=2, unique=True))
        links.append(f'  link ser {{ type = rs232  {a} = "/dev/ttyS0"  {b} = "/dev/ttyS0" }}')
    if draw(st.booleans()):
        members = draw(st.lists(st.sampled_from(nodes), min_size=2, max_size=count, unique=True))
        links.append(f'  link dsk {{ type = disk  device = "/dev/hb"  nodes = [{", ".join(members)}] }}')
        disk = "dsk"
    tie = disk if quorum == "majority" and disk and draw(st.booleans()) else None
    lines.append(f'  heartbeat {{ interval = 1s  key_file = "/etc/x.key"  quorum = {quorum}'
                 + (f"  tie_breaker = {tie}" if tie else "") + " }")
    lines += node_lines + networks + links
    group_count = draw(st.integers(1, 4))
    names = [f"g{i}" for i in range(group_count)]
    free_services = list(services)
    for name in names:
        members = draw(st.lists(st.sampled_from(nodes), min_size=1, max_size=count, unique=True))
        startup = draw(st.sampled_from(["home_node", "first_available", "all_available"]))
        fallover = "bring_offline" if startup == "all_available" else draw(
            st.sampled_from(["next_priority", "least_loaded", "bring_offline"]))
        attrs = [f"nodes = [{', '.join(members)}]", f"startup = {startup}", f"fallover = {fallover}"]
        if free_services and startup != "all_available" and draw(st.booleans()):
            label = draw(st.sampled_from(free_services))
            free_services.remove(label)
            attrs.append(f"service_ips = [{label}]")
        others = [other for other in names if other != name]
        for relation in ("after", "same_node_as", "different_node_from"):
            if others and draw(st.integers(0, 3)) == 0:
                attrs.append(f"{relation} = [{draw(st.sampled_from(others))}]")
        body = "\n    ".join(attrs)
        lines.append(f"  resource_group {name} {{\n    {body}\n"
                     f"    requires {{ cpu = {draw(st.sampled_from([0, 1, 2, 3]))}  memory = "
                     f"{draw(st.sampled_from([0, 2, 4]))}G }}\n"
                     f'    application a {{ start = "/opt/a"  stop = "/opt/b"  timeout = 10s }}\n  }}')
    lines.append("}")
    return "\n".join(lines) + "\n"
