"""Who hears whom, who may run groups, who can host a group."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from runtime.core.failures import INFERRED_KINDS, all_components, expand
from runtime.core.paths import alive_paths, heartbeat_paths, pair_id
from runtime.core.topology import assess, can_host, hosts, observe_failures, partitions, quorum_partitions, status_from, view, \
    view_of
from tests.runtime.helpers import FOUR_NODE, THREE_NODE, TWO_NODE, spec

TWO = spec(TWO_NODE)
THREE = spec(THREE_NODE)
FOUR = spec(FOUR_NODE)

# Two nodes on one network, one with a /24 and one with a /25: not the same subnet.
PREFIXES = spec("""
cluster prefixes {
  heartbeat { quorum = none }
  node x { }
  node y { }
  network net { adapter x en0 boot 10.0.0.1/24  adapter y en0 boot 10.0.0.2/25 }
}
""")

# Two networks whose adapters use the same addresses: the same subnet on another network is no path.
TWO_NETWORKS = spec("""
cluster apart {
  node x { }
  node y { }
  network net_1 { adapter x en0 boot 10.0.0.1/24 }
  network net_2 { adapter y en0 boot 10.0.0.2/24 }
}
""")

# given a cluster and failed components, then the partitions, and those that may run groups
PARTITIONS = [
    ("two nodes, nothing failed", TWO, [], [("alpha", "bravo")], [("alpha", "bravo")]),
    ("two nodes, the serial link alone joins them", TWO, ["switch:sw1", "switch:sw2"],
     [("alpha", "bravo")], [("alpha", "bravo")]),
    ("two nodes split, quorum none: both run", TWO, ["switch:sw1", "switch:sw2", "link:hb_serial"],
     [("alpha",), ("bravo",)], [("alpha",), ("bravo",)]),
    ("boot adapter down, the standby still hears", TWO, ["adapter:alpha/en0", "link:hb_serial"],
     [("alpha", "bravo")], [("alpha", "bravo")]),
    ("a boot and a standby on other subnets do not hear each other", TWO,
     ["adapter:alpha/en0", "adapter:bravo/en1", "link:hb_serial"], [("alpha",), ("bravo",)],
     [("alpha",), ("bravo",)]),
    ("a down node is in no partition", TWO, ["node:bravo"], [("alpha",)], [("alpha",)]),
    ("same addresses but other prefixes", PREFIXES, [], [("x",), ("y",)], [("x",), ("y",)]),
    ("same subnet on two networks", TWO_NETWORKS, [], [("x",), ("y",)], [("x",), ("y",)]),
    ("three nodes, nothing failed", THREE, [], [("n1", "n2", "n3")], [("n1", "n2", "n3")]),
    ("n3 off its switch still hears over the disk", THREE, ["switch:leaf1"],
     [("n1", "n2", "n3")], [("n1", "n2", "n3")]),
    ("n3 off its switch and the disk: alone, no quorum", THREE, ["switch:leaf1", "link:hb_disk"],
     [("n1", "n2"), ("n3",)], [("n1", "n2")]),
    ("n3's adapter and its disk end", THREE, ["adapter:n3/en0", "linkend:n3/hb_disk"],
     [("n1", "n2"), ("n3",)], [("n1", "n2")]),
    ("serial link keeps n1 and n2 together", THREE, ["switch:leaf1", "switch:leaf2", "link:hb_disk"],
     [("n1", "n2"), ("n3",)], [("n1", "n2")]),
    ("three ways apart: nobody runs", THREE, ["switch:leaf1", "switch:leaf2", "link:hb_disk", "link:hb_12"],
     [("n1",), ("n2",), ("n3",)], []),
    ("two of three nodes down", THREE, ["node:n1", "node:n2"], [("n3",)], []),
    ("a domain", THREE, ["domain:rack_1"], [("n2", "n3")], [("n2", "n3")]),
    ("four nodes, the disk joins the racks", FOUR, ["switch:core"], [("a1", "a2", "b1", "b2")],
     [("a1", "a2", "b1", "b2")]),
    ("even split, tie-breaker down: nobody runs", FOUR, ["switch:core", "link:hb_disk"],
     [("a1", "a2"), ("b1", "b2")], []),
    ("even split, rack A holds the tie-breaker", FOUR, ["switch:core", "linkend:b1/hb_disk", "linkend:b2/hb_disk"],
     [("a1", "a2"), ("b1", "b2")], [("a1", "a2")]),
    ("rack A down, rack B holds the tie-breaker", FOUR, ["domain:rack_a"], [("b1", "b2")], [("b1", "b2")]),
    ("rack A down, rack B off the disk", FOUR, ["domain:rack_a", "linkend:b1/hb_disk", "linkend:b2/hb_disk"],
     [("b1", "b2")], []),
    ("one node down: 3 of 4", FOUR, ["node:a1"], [("a2", "b1", "b2")], [("a2", "b1", "b2")]),
    ("a1 joins rack B over the disk, a2 alone", FOUR, ["switch:core", "switch:net_rack_a", "linkend:a2/hb_disk"],
     [("a1", "b1", "b2"), ("a2",)], [("a1", "b1", "b2")]),
]


@pytest.mark.parametrize("cluster, failed, parts, runnable", [row[1:] for row in PARTITIONS],
                         ids=[row[0] for row in PARTITIONS])
def test_partitions_and_quorum(cluster, failed, parts, runnable):
    assert list(partitions(cluster, failed)) == parts
    assert list(quorum_partitions(cluster, failed)) == runnable
    assert list(partitions(cluster, expand(cluster, failed))) == parts


def test_tie_breaker_holder():
    status = assess(FOUR, ["switch:core", "linkend:a1/hb_disk", "linkend:a2/hb_disk"])
    assert status.tie_breaker == ("b1", "b2")
    assert assess(FOUR, ["switch:core", "link:hb_disk"]).tie_breaker is None
    assert assess(TWO, []).tie_breaker is None


# given a cluster and failed components, then can the node host the group?
HOSTING = [
    ("home node, nothing failed", TWO, [], "app_a", "alpha", True),
    ("backup node, nothing failed", TWO, [], "app_a", "bravo", True),
    ("boot down, the standby carries the address", TWO, ["adapter:alpha/en0"], "app_a", "alpha", True),
    ("boot and standby down", TWO, ["adapter:alpha/en0", "adapter:alpha/en1"], "app_a", "alpha", False),
    ("boot switch down", TWO, ["switch:sw1"], "app_a", "alpha", True),
    ("both switches down", TWO, ["switch:sw1", "switch:sw2"], "app_a", "bravo", False),
    ("node down", TWO, ["node:alpha"], "app_a", "alpha", False),
    ("split under quorum none: each side may host", TWO, ["switch:sw2", "link:hb_serial", "adapter:bravo/en0"],
     "app_b", "alpha", True),
    ("not in the group's list", FOUR, [], "ga", "b2", False),
    ("no address needed, in the list", FOUR, [], "ga", "b1", True),
    ("no quorum", FOUR, ["switch:core", "link:hb_disk"], "ga", "a1", False),
    ("half with the tie-breaker", FOUR, ["switch:core", "linkend:b1/hb_disk", "linkend:b2/hb_disk"],
     "gb", "a2", True),
    ("half without the tie-breaker", FOUR, ["switch:core", "linkend:b1/hb_disk", "linkend:b2/hb_disk"],
     "gb", "b1", False),
    ("alias: one leg down, the other carries it", THREE, ["switch:leaf1"], "web", "n1", True),
    ("alias: the only leg's switch down", THREE, ["switch:leaf1"], "web", "n3", False),
]


@pytest.mark.parametrize("cluster, failed, group, node, expected", [row[1:] for row in HOSTING],
                         ids=[row[0] for row in HOSTING])
def test_can_host(cluster, failed, group, node, expected):
    assert can_host(cluster, assess(cluster, failed), group, node) is expected
    assert can_host(cluster, failed, cluster.group(group), node) is expected


def test_hosts_in_priority_order():
    assert hosts(TWO, [], "app_b") == ("bravo", "alpha")
    assert hosts(THREE, ["switch:leaf1"], "web") == ("n1", "n2")
    assert hosts(FOUR, ["switch:core", "link:hb_disk"], "ga") == ()


def test_usable_adapters_by_node_and_network():
    status = assess(TWO, ["switch:sw1"])
    assert [adapter.ifname for adapter in status.usable_adapters("alpha", "net_ether_01")] == ["en1"]
    assert status.usable_adapters("alpha", "no_such_network") == ()


def _files():
    root = Path(__file__).resolve().parents[2]
    return sorted((root / "examples").glob("*.ha")) + sorted((root / "tests" / "smt" / "clusters").glob("*.ha"))


@pytest.mark.parametrize("path", _files(), ids=lambda path: path.stem)
def test_assess_is_the_view_of_the_paths_the_failures_leave_alive(path):
    """`assess` joins each medium's working ends at once; listing every alive path one by one and handing
    them to `view`, as the node engine does with the paths it hears, gives the same partitions. (Faults that
    keep the carrier up are held to the engine's view in tests/engine/test_membership.py.)"""
    cluster = spec(path.read_text())
    components = [c for c in all_components(cluster) if c.partition(":")[0] not in INFERRED_KINDS]
    rng = random.Random(path.name)
    sets = [()] + [(c,) for c in components] + [tuple(rng.sample(components, min(3, len(components))))
                                                for _ in range(40)]
    for failed in sets:
        down = expand(cluster, failed)
        status = assess(cluster, failed)
        tie = cluster.heartbeat.tie_breaker
        reach = ()
        if tie is not None and down.link_up(tie):
            reach = [node for node in cluster.link(tie).nodes if down.connected(node, tie)]
        live = [node for node in cluster.node_names if down.node_up(node)]
        seen = view(cluster, live, alive_paths(cluster, down), reach)
        assert (seen.partitions, seen.runnable, seen.tie_breaker) == \
            (status.partitions, status.runnable, status.tie_breaker), failed


@pytest.mark.parametrize("path", _files(), ids=lambda path: path.stem)
def test_assess_is_what_the_nodes_observe(path):
    """`assess` takes short cuts: for failures that take carriers down, and for the others by counting who sends and
    receives on the subnets they touch; judging what every node observes (`observe_failures`, `view_of`), path by
    path, gives the same status."""
    cluster = spec(path.read_text())
    components = all_components(cluster)
    rng = random.Random(path.name)
    for failed in [()] + [(c,) for c in components] + \
            [tuple(rng.sample(components, min(k, len(components)))) for k in (2, 3, 4) for _ in range(40)]:
        quick = assess(cluster, failed)
        down = expand(cluster, failed)
        seen, states = view_of(cluster, observe_failures(cluster, down))
        judged = status_from(cluster, seen, down, states)
        assert (judged.partitions, judged.runnable, judged.tie_breaker, judged.degraded) == \
            (quick.partitions, quick.runnable, quick.tie_breaker, quick.degraded), failed
        for adapter in cluster.adapters:
            assert judged.adapter_state(adapter) == quick.adapter_state(adapter), (failed, adapter.key)


def test_a_pair_of_ends_is_named_as_its_path():
    for cluster in (TWO, THREE, FOUR):
        for node in cluster.node_names:
            for path in heartbeat_paths(cluster, node):
                assert pair_id(path.medium, path.first, path.second) == path.id
                assert pair_id(path.medium, path.second, path.first) == path.id
