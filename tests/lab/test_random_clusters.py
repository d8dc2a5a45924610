"""Where the running nodes put every service address is what `halang simulate` predicts, on random clusters.

Each seed draws a small cluster (two or three nodes, one or two networks of either kind, standby adapters on
second switches, a serial line or a disk link, quorum or not, a few groups), builds its lab, starts the engine
on every node, and then fails two components one after the other. After the start and after each failure the
node and the adapter holding every service address, read from the namespaces, must be those of the placement
`halang simulate FILE --fail A --fail B --format json` ends each step with (in a split brain, on the side of
the predicted holder). A step whose failures a node cannot observe (`unobservable`) ends the comparison for
that seed. `HALANG_LAB_SEEDS=1,2,3` runs other seeds (a failing seed names itself in the test id).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest

from halang.lab import LabError
from runtime.failures import expand
from runtime.topology import assess
from tests.lab.test_engine_scenarios import Cluster

pytestmark = pytest.mark.root

SEEDS = [int(seed) for seed in os.environ.get("HALANG_LAB_SEEDS", ",".join(map(str, range(11, 21)))).split(",")]


def draw(seed: int) -> tuple[str, list[str]]:
    """The text of a cluster and the names of the components that may fail."""
    rng = random.Random(seed)
    nodes = [f"n{number}" for number in range(1, rng.choice((2, 3)) + 1)]
    lines = [f"cluster r{seed} {{"]
    quorum = rng.choice(("none", "majority")) if len(nodes) == 3 else "none"
    lines.append(f'  heartbeat {{ interval = 200ms  miss_limit = 3  key_file = "/etc/halang/r.key"  quorum = {quorum} }}')
    lines += [f"  node {node} {{ }}" for node in nodes]
    components, services, ifnames = [f"node:{node}" for node in nodes], [], {node: 0 for node in nodes}
    for net in range(rng.choice((1, 2))):
        ipat = rng.choice(("alias", "replace"))
        lines += [f"  network net{net} {{", f"    ipat = {ipat}"]
        standby = rng.random() < 0.6
        switches = [f"sw{net}a"] + ([f"sw{net}b"] if standby else [])
        for host, node in enumerate(nodes, start=11):
            second = "standby" if ipat == "replace" else "boot"  # under alias every adapter is boot (HA209)
            for role, subnet, switch in (("boot", 1, switches[0]), (second, 2, switches[-1]))[:1 + standby]:
                ifname = f"en{ifnames[node]}"
                ifnames[node] += 1
                lines.append(f"    adapter {node} {ifname} {role} 10.{60 + net}.{subnet}.{host}/24 switch {switch}")
                components.append(f"adapter:{node}/{ifname}")
        for number in range(rng.choice((1, 2))):
            name = f"s{net}_{number}"
            address = f"10.{60 + net}.1.{100 + number}" if ipat == "replace" else f"10.{60 + net}.9.{10 + number}/24"
            lines.append(f"    service {name} {address}")
            services.append(name)
        lines.append("  }")
        components += [f"switch:{switch}" for switch in switches]
    link = rng.choice(("rs232", "disk", None))
    if link == "rs232":
        lines.append(f'  link hb {{ type = rs232  {nodes[0]} = "/dev/ttyS1"  {nodes[1]} = "/dev/ttyS1" }}')
        components.append("link:hb")
    elif link == "disk":
        lines.append(f'  link hb {{ type = disk  device = "/dev/mapper/hb"  nodes = [{", ".join(nodes)}] }}')
        components.append(f"linkend:{nodes[0]}/hb")
    rng.shuffle(services)
    for number, service in enumerate(services[:rng.choice((1, 2, 3))]):
        order = rng.sample(nodes, len(nodes))
        lines.append(f"  resource_group g{number} {{ nodes = [{', '.join(order)}]  fallback = never  "
                     f"service_ips = [{service}] }}")
    lines.append("}")
    return "\n".join(lines) + "\n", components


def predicted(path: Path, failures: list[str]) -> list[tuple[dict[str, tuple[str, str]], list[list[str]]]]:
    """Per step (the start, then each failure): service -> (node, adapter), and the partitions that run groups,
    as `halang simulate` says."""
    argv = [sys.executable, "-m", "halang.cli", "simulate", str(path), "--format", "json"]
    for failure in failures:
        argv += ["--fail", failure]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert done.returncode in (0, 1), done.stderr
    result = json.loads(done.stdout)
    # An address left with no adapter (more replace addresses than adapters: an address overload) is on no
    # interface at all.
    return [({service["service"]: (holding["node"], service["adapter"]) for holding in step["placement"]["addresses"]
              for service in holding["services"] if service["adapter"] is not None},
             [part["nodes"] for part in step["partitions"] if part["runs_groups"]])
            for step in [result["start"], *result["steps"]]]


def where(cluster: Cluster) -> dict[str, set[tuple[str, str]]]:
    """service -> the (node, adapter) pairs holding it, on the nodes whose engine runs."""
    found: dict[str, set[tuple[str, str]]] = {}
    addresses = {address.split("/")[0]: label for label, address in cluster.services.items()}
    for node in cluster.spec.node_names:
        if not cluster.running(node):
            continue
        done = cluster.lab.exec(cluster.lab.netns(node), ["ip", "-j", "addr", "show"], timeout=5)
        for link in json.loads(done.stdout or "[]"):
            for item in link.get("addr_info", ()):
                if item["local"] in addresses:
                    found.setdefault(addresses[item["local"]], set()).add((node, link["ifname"]))
    return found


def agrees(seen: dict, expected: dict, running: list[list[str]]) -> bool:
    """Every address where simulate puts it, and nowhere else; in a split brain (several partitions run groups,
    which verify reports), a side cut off from the predicted holder may hold it too: it cannot tell a dead peer
    from a cut, and what it does is decided by what it sees."""
    if len(running) <= 1:
        return seen == {label: {holder} for label, holder in expected.items()}
    side = {node: number for number, part in enumerate(running) for node in part}
    for label in set(seen) | set(expected):
        holders = seen.get(label, set())
        if label in expected and expected[label] not in holders:
            return False
        predicted_side = side.get(expected[label][0]) if label in expected else None
        if any(side.get(node) == predicted_side for node, _ in holders if (node, _) != expected.get(label)):
            return False
    return True


def unobservable(spec, failed: list[str]) -> str | None:
    """Why a node cannot see what `failed` did to it, or None. An adapter behind a failed switch keeps its
    carrier; it is seen failed only through a live peer on its subnet that has carrier and hears nothing on it
    (`runtime.membership.adapter_health`). With no such peer in its partition, its node cannot tell the switch
    from dead peers (HACMP without a netmon.cf target cannot either), while `simulate` knows what failed."""
    down = expand(spec, failed)
    partition = {node: part for part in assess(spec, failed).partitions for node in part}
    for adapter in spec.adapters:
        if adapter.node in down.nodes or adapter.switch not in down.switches or adapter.key in down.adapters:
            continue
        peers = [other for other in spec.adapters if other.network == adapter.network and other.subnet ==
                 adapter.subnet and other.node != adapter.node and other.node in partition.get(adapter.node, ())
                 and other.key not in down.adapters]
        if not peers:
            return f"{adapter.node}/{adapter.ifname} is behind failed {adapter.switch} with no live peer to show it"
    return None


def settle_on(cluster: Cluster, expected: dict, running: list[list[str]], within: float) -> dict:
    deadline = time.monotonic() + within
    seen = where(cluster)
    while not agrees(seen, expected, running) and time.monotonic() < deadline:
        time.sleep(0.2)
        seen = where(cluster)
    return seen


@pytest.mark.parametrize("seed", SEEDS)
def test_the_nodes_put_every_address_where_simulate_says(seed, lab_factory, tmp_path):
    text, components = draw(seed)
    path = tmp_path / f"r{seed}.ha"
    path.write_text(text)
    rng = random.Random(seed * 7919)
    first = rng.choice(components)
    second = rng.choice([c for c in components if c.split(":")[1].split("/")[0] not in first])
    steps = predicted(path, [first, second])
    try:
        lab = lab_factory(path)
    except LabError as exc:
        pytest.fail(f"seed {seed}: the lab refused the drawn cluster: {exc}\n{text}")
    cluster = Cluster(lab, path, tmp_path)
    try:
        cluster.start()
        within = 3 * cluster.detection_s + 8
        for number, failure in enumerate((None, first, second)):
            if failure is not None:
                if unobservable(cluster.spec, [first, second][:number]):
                    break  # what follows is decided by what the nodes cannot see (see `unobservable`)
                lab.fail(failure)
                if failure.startswith("node:"):
                    cluster.kill(failure.split(":")[1])
            expected, running = steps[number]
            seen = settle_on(cluster, expected, running, within)
            assert agrees(seen, expected, running), \
                f"seed {seed} after {', '.join((first, second)[:number]) or 'the start'}: the nodes hold " \
                f"{seen}, simulate says {expected}\n{text}"
            # Every node follows the plan a detection time after the addresses are in place; a failure before
            # that is a different sequence (a node that never saw a group online cannot fall it over).
            time.sleep(cluster.detection_s)
        assert not cluster.violations, cluster.violations
    finally:
        cluster.stop_all()
