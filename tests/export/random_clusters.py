"""Seeded random clusters for the Pacemaker comparison: small, statically clean, with every policy of the file.

`random_cluster(seed)` gives .ha text that `verify --faults 0` passes (a draw
with a static error is drawn again from the next number of the same seed).
The failure analysis is not asked for: single points of failure are what
the comparison's node failures exercise.
"""

from __future__ import annotations

import random

from halang.diagnostics import SourceText
from halang.verify import verify_source


def _draw(rng: random.Random) -> str:
    count = rng.randint(2, 4)
    nodes = [f"n{i}" for i in range(1, count + 1)]
    quorum = rng.choice(["default", "none", "majority"])
    tie = quorum == "majority" and count % 2 == 0 and rng.random() < 0.5
    heartbeat = [f"quorum = {quorum}"] if quorum != "default" else []
    if tie:
        heartbeat.append("tie_breaker = hb_disk")
    lines = ["cluster random {", f"  heartbeat {{ {'  '.join(heartbeat)} }}"]
    capacity = rng.random() < 0.3
    for node in nodes:
        block = f"capacity {{ cpu = {rng.choice([4, 6, 8])}  memory = {rng.choice([8, 16])}G }}" if capacity else ""
        lines.append(f"  node {node} {{ {block} }}")
    ipat = rng.choice(["alias", "replace"])
    lines += ["  network net0 {", f"    ipat = {ipat}"]
    second = rng.random() < 0.4
    for index, node in enumerate(nodes, start=1):
        lines.append(f"    adapter {node} en0 boot 10.20.1.{index}/24")
        if second:
            role = "standby" if ipat == "replace" else "boot"
            lines.append(f"    adapter {node} en1 {role} 10.20.2.{index}/24")
    groups = rng.randint(1, 4)
    for number in range(groups):
        address = f"10.20.1.{100 + number}" if ipat == "replace" else f"10.20.9.{100 + number}/24"
        lines.append(f"    service s{number} {address}")
    lines.append("  }")
    lines.append(f'  link hb_disk {{ type = disk  device = "/dev/mapper/hb"  nodes = [{", ".join(nodes)}] }}')
    for number in range(groups):
        members = rng.sample(nodes, rng.randint(1, count))
        startup = rng.choices(["home_node", "first_available", "all_available"], [4, 3, 1])[0]
        attributes = [f"nodes = [{', '.join(members)}]", f"startup = {startup}"]
        if startup == "all_available":
            attributes.append("fallover = bring_offline")
        else:
            fallover = rng.choices(["next_priority", "least_loaded", "bring_offline"], [8, 1, 1])[0]
            fallback = rng.choice(["never", "higher_priority"])
            attributes += [f"fallover = {fallover}", f"fallback = {fallback}", f"service_ips = [s{number}]"]
            if fallback == "higher_priority" and rng.random() < 0.3:
                attributes.append("fallback_delay = 30s")
        if capacity and rng.random() < 0.7:
            attributes.append(f"requires {{ cpu = {rng.randint(1, 3)}  memory = {rng.choice([2, 4])}G }}")
        if number and rng.random() < 0.15:
            attributes.append(f"after = [g{rng.randrange(number)}]")
        attributes.append(f'application a{number} {{ start = "/opt/g{number}/start"  stop = "/opt/g{number}/stop" }}')
        body = "\n    ".join(attributes)
        lines.append(f"  resource_group g{number} {{\n    {body}\n  }}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def random_cluster(seed: int) -> str:
    rng = random.Random(seed)
    while True:
        text = _draw(rng)
        report = verify_source(SourceText(text, f"random-{seed}.ha"), faults=0)
        if not report.errors:
            return text
