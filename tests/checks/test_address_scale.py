"""The address checks at scale: a generated cluster of 2,000 nodes and 8,000 adapters with a few
planted mistakes must give exactly the planted findings.

This is a correctness test of the sort-and-sweep algorithms (HA201 by hashing, HA204, HA205 and
HA207 by sweeping sorted subnets) on a file far too large for their bugs to hide, not a timing
test. A second test compares the sweep with the obvious pairwise comparison on small random sets.
"""

from __future__ import annotations

import random

from halang.checks.address._subnets import Entry, earliest_overlaps, last_of, network_of
from halang.checks.context import CheckContext
from halang.checks.registry import all_checks
from halang.diagnostics import SourceText
from halang.verify import load

NODES = 2000
POD = 8


def pod_subnets(p: int) -> tuple[str, str]:
    """Pod p's boot and standby /24s, as their first three octets."""
    return f"10.{1 + p // 128}.{2 * (p % 128)}", f"10.{1 + p // 128}.{2 * (p % 128) + 1}"


def generate() -> tuple[str, set[tuple[str, int, int]]]:
    """The cluster text and the planted findings as (code, line, column)."""
    lines: list[str] = []
    expected: set[tuple[str, int, int]] = set()

    def add(line: str, code: str | None = None, token: str | None = None) -> None:
        lines.append(line)
        if code:
            expected.add((code, len(lines), line.index(token) + 1))

    add("cluster scale {")
    add('  heartbeat { key_file = "/etc/halang/scale.key" }')
    for n in range(NODES):
        add(f"  node n{n} {{ }}")

    # Declared first, so the pod that strays into its /16 is the one reported.
    add("  network net_mgmt {")
    add("    adapter n0 en9 boot 10.200.0.11/16")
    add("    adapter n1 en9 boot 10.200.0.12/16")
    add("  }")

    pods = [list(range(first, min(first + POD, NODES))) for first in range(0, NODES, POD)]
    for p, members in enumerate(pods):
        boot, standby = pod_subnets(p)
        add(f"  network p{p}_pub {{")
        add("    ipat = replace")
        for j, n in enumerate(members):
            add(f"    adapter n{n} en0 boot    {boot}.{11 + j}/24")
            if n == 1000:  # HA204: on pod 3's standby subnet, a different network
                address = f"{pod_subnets(3)[1]}.200/24"
                add(f"    adapter n{n} en1 standby {address}", "HA204", address)
            elif n == 333:  # HA204: inside net_mgmt's 10.200.0.0/16
                address = "10.200.5.11/24"
                add(f"    adapter n{n} en1 standby {address}", "HA204", address)
            elif n == 1999:  # HA205: a standby on its own pod's boot subnet
                address = f"{boot}.250/24"
                add(f"    adapter n{n} en1 standby {address}", "HA205", address)
            else:
                add(f"    adapter n{n} en1 standby {standby}.{11 + j}/24")
        if p == 77:  # HA201: the service reuses the first node's boot address
            address = f"{boot}.11"
            add(f"    service s{p} {address}", "HA201", address)
        else:
            add(f"    service s{p} {boot}.100")
        add("  }")

    add("  network net_app {")
    add("    ipat = alias")
    for n in range(NODES):
        en2 = f"fd00:a::{n + 1:x}/64"
        en3 = f"fd00:b::{n + 1:x}/64"
        if n == 1500:  # HA201: n700's en2 address again
            en2 = f"fd00:a::{701:x}/64"
            add(f"    adapter n{n} en2 boot {en2}", "HA201", en2)
        else:
            add(f"    adapter n{n} en2 boot {en2}")
        if n == 42:  # HA207: en3 on the same /64 as en2
            en3 = "fd00:a::ffff:42/64"
            add(f"    adapter n{n} en3 boot {en3}", "HA207", en3)
        elif n in (1900, 1901):  # HA201 twice: n5's en3 address, spelt out in full the second time
            en3 = "fd00:b::6/64" if n == 1900 else "fd00:b:0:0:0:0:0:6/64"
            add(f"    adapter n{n} en3 boot {en3}", "HA201", en3)
        else:
            add(f"    adapter n{n} en3 boot {en3}")
    for p in range(len(pods)):
        add(f"    service v6_{p} fd00:100:{p:x}::80")
    add("  }")

    # Declared last: each has one subnet that overlaps earlier networks' subnets.
    add("  network net_extra {")
    add("    adapter n3 en7 boot 10.255.255.11/8", "HA204", "10.255.255.11/8")
    add("  }")
    add("  network net_extra6 {")
    add("    adapter n4 en7 boot fd00:a::1:0:0:7/96", "HA204", "fd00:a::1:0:0:7/96")
    add("  }")

    for p, members in enumerate(pods):
        add(f"  resource_group g{p} {{")
        add(f"    nodes = [n{members[0]}, n{members[1]}]  service_ips = [s{p}, v6_{p}]")
        add("  }")
    add("}")
    return "\n".join(lines) + "\n", expected


def test_planted_findings_at_scale():
    text, expected = generate()
    source = SourceText(text, "scale.ha")
    cluster, tree, findings = load(source)
    assert not findings, [f.message for f in findings[:5]]
    # Four per node, and net_mgmt's two, net_extra's and net_extra6's.
    assert sum(len(network.adapters) for network in cluster.networks) == 4 * NODES + 4
    context = CheckContext(cluster, tree)
    found = set()
    messages = []
    for code, check in all_checks().items():
        if code.startswith("HA2") and check.phase == "static":
            for finding in check.run(context):
                location = source.locate(finding.span)
                found.add((finding.code, location.line, location.column))
                messages.append(f"{location.line}:{location.column} {finding.code} {finding.message}")
    assert found == expected, "\n".join(messages)
    assert len(messages) == len(expected), "one finding per offending construct"


def test_sweep_matches_pairwise_comparison():
    """earliest_overlaps against comparing every pair, on small random sets of subnets."""
    rng = random.Random(201)
    for _ in range(2000):
        entries = []
        for index in range(rng.randint(1, 20)):
            version = rng.choice((4, 4, 6))
            bits = 32 if version == 4 else 128
            prefix = rng.randint(bits - 6, bits) if rng.random() < 0.8 else rng.randint(0, bits)
            value = rng.randint(0, 255) if rng.random() < 0.9 else rng.getrandbits(bits)
            entries.append(Entry(version, value, prefix, rng.randint(0, 1000) * 100 + index, rng.choice("abc")))
        got = earliest_overlaps(entries)
        for index, entry in enumerate(entries):
            first, last = network_of(entry.version, entry.value, entry.prefix), last_of(*entry[:3])
            best = None
            for other_index, other in enumerate(entries):
                if other.kind == entry.kind or other.version != entry.version:
                    continue
                if network_of(*other[:3]) <= last and first <= last_of(*other[:3]):
                    if best is None or other.order < entries[best].order:
                        best = other_index
            assert got[index] == best, (entry, entries)
