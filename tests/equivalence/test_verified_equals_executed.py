"""What the z3 analysis says is what the runtime's placement function does, scenario by scenario.

Hypothesis writes random small clusters. For each, every failure set of up
to K components is applied with the runtime's own functions (`assess`,
`hosts`, `place`, `address_overloads`, `overloaded_nodes`); the minimal sets
that leave a group with no host, split the nodes under quorum none, make a
node hold more service addresses than usable adapters on a replace network,
or overload a node are the expected findings. The analysis must report
exactly those, no more and no fewer. A mismatch is a bug in one of the two.
"""

from __future__ import annotations

import json
from itertools import combinations

from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from halang.diagnostics import SourceText
from halang.smt import analyse
from halang.verify import verify_source
from runtime.failures import all_components
from runtime.placement import address_overloads, overloaded_nodes, place
from runtime.snapshot import load_snapshot
from runtime.topology import assess, hosts
from tests.smt.oracle import placements

FAMILY = {"HA301": "hosting", "HA306": "hosting", "HA302": "split", "HA213": "addresses", "HA502": "capacity"}


@st.composite
def clusters(draw) -> str:
    """A small cluster with no static error (most draws; the rest are discarded)."""
    nodes = [f"n{i}" for i in range(draw(st.integers(2, 4)))]
    lines = ["cluster c {", '  heartbeat { key_file = "/etc/halang/k.key"']
    quorum = draw(st.sampled_from(["default", "none", "majority"]))
    if quorum != "default":
        lines[-1] += f"  quorum = {quorum}"
    lines[-1] += " }"
    capacities = draw(st.booleans())
    for node in nodes:
        domain = f"  domains = [rack{draw(st.integers(0, 1))}]" if draw(st.booleans()) else ""
        capacity = f"  capacity {{ cpu = {draw(st.integers(1, 4))} }}" if capacities else ""
        lines.append(f"  node {node} {{{domain}{capacity} }}")
    networks = draw(st.integers(1, 2))
    services: list[tuple[str, int]] = []
    for number in range(networks):
        ipat = draw(st.sampled_from(["replace", "alias"]))
        lines.append(f"  network net{number} {{\n    ipat = {ipat}")
        base = 10 + number * 10
        for index, node in enumerate(nodes):
            switch = draw(st.sampled_from(["", " switch swa", " switch swb"]))
            lines.append(f"    adapter {node} en{number}0 boot 10.{base}.1.{index + 1}/24{switch}")
            if draw(st.booleans()):
                role = "standby" if ipat == "replace" else "boot"
                switch = draw(st.sampled_from(["", " switch swa", " switch swb"]))
                lines.append(f"    adapter {node} en{number}1 {role} 10.{base}.2.{index + 1}/24{switch}")
        for label in range(draw(st.integers(1, 2))):
            subnet = 1 if ipat == "replace" else 3
            lines.append(f"    service s{number}_{label} 10.{base}.{subnet}.{100 + label}")
            services.append((f"s{number}_{label}", number))
        lines.append("  }")
    if draw(st.booleans()):
        lines.append(f"  link hb {{ type = disk  device = \"/dev/hb\"  nodes = [{', '.join(nodes)}] }}")
    for number, (label, _) in enumerate(services):
        members = draw(st.permutations(nodes))[:draw(st.integers(1, len(nodes)))]
        fallover = draw(st.sampled_from(["next_priority", "least_loaded", "bring_offline"]))
        startup = draw(st.sampled_from(["home_node", "first_available"]))
        requires = f"\n    requires {{ cpu = {draw(st.integers(1, 3))} }}" if capacities else ""
        lines.append(f"  resource_group g{number} {{\n    nodes = [{', '.join(members)}]\n    startup = {startup}\n"
                     f"    fallover = {fallover}\n    service_ips = [{label}]{requires}\n  }}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def runtime_findings(snapshot: dict, faults: int) -> set[tuple]:
    """(family, subject, scenario) for every minimal failure set, by the runtime's functions."""
    spec = load_snapshot(snapshot)
    components = all_components(spec)
    empty = assess(spec, ())
    hostable = {group.name for group in spec.groups if hosts(spec, empty, group)}
    start = place(spec, ())
    problems: dict[tuple, set[tuple]] = {}
    for size in range(0, faults + 1):
        for failed in combinations(components, size):
            status = assess(spec, failed)
            found = set()
            for group in spec.groups:
                if group.name in hostable and not hosts(spec, status, group):
                    found.add(("hosting", group.name))
            if spec.heartbeat.quorum == "none" and len(status.partitions) > 1:
                found.add(("split", ""))
            for placement in placements(spec, start, failed):  # every order the nodes may detect them in
                for node, network in address_overloads(spec, placement, status):
                    found.add(("addresses", f"{node}/{network}"))
                if failed:
                    for node in overloaded_nodes(spec, placement):
                        if node not in overloaded_nodes(spec, start):
                            found.add(("capacity", node))
            problems[tuple(sorted(failed))] = found
    minimal = set()
    for failed, found in problems.items():
        for problem in found:
            smaller = any(problem in problems[tuple(sorted(subset))]
                          for size in range(len(failed)) for subset in combinations(failed, size))
            if not smaller:
                minimal.add((*problem, failed))
    return minimal


def analysis_findings(cluster, faults: int) -> set[tuple]:
    result = analyse(cluster, faults, max_listed=10**6, max_counted=10**6)  # every scenario, none cut short
    assert result.complete and not result.truncated, result.notes()
    found = set()
    for finding in result.findings:
        family = FAMILY.get(finding.code)
        if family is None:
            continue
        subject = {"hosting": finding.group, "split": "", "addresses": f"{finding.node}/{finding.network}",
                   "capacity": finding.node}[family]
        found.add((family, subject, tuple(sorted(finding.scenario))))
    return found


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(clusters(), st.integers(1, 2))
def test_analysis_matches_the_placement_function(text, faults):
    report = verify_source(SourceText(text, "random.ha"), faults=0)
    assume(report.cluster is not None and not report.errors)
    snapshot = json.loads(report.cluster.to_json())
    expected = runtime_findings(snapshot, faults)
    for family in sorted({finding[0] for finding in expected}):
        event(f"shows {family}")  # --hypothesis-show-statistics: the draws reach every kind of problem
    assert analysis_findings(report.cluster, faults) == expected
