"""The node engine's decisions, run on several simulated nodes (tests/engine/sim.py): where the groups end up is
where the decision core says, and no group is ever held twice where the nodes can hear each other, nor on both
sides of a partition when quorum protects it."""

from __future__ import annotations

from pathlib import Path

import pytest

from runtime.core.placement import place, startup_placement, transition
from runtime.core.topology import assess
from tests.engine.sim import Sim
from tests.runtime.helpers import spec

ROOT = Path(__file__).resolve().parents[2]
TWO = spec((ROOT / "examples" / "two_node_replace.ha").read_text())
THREE = spec((ROOT / "examples" / "three_node_quorum.ha").read_text())


def groups(placement) -> dict:
    return dict(placement.groups)


def running(cluster, placement) -> dict:
    """What the nodes hold of a placement: a group whose parent (`after`, at any depth) is offline is not
    brought online (LANGUAGE.md: it comes online only while its parents are)."""
    placed = dict(placement.groups)

    def up(name: str) -> bool:
        return bool(placed[name]) and all(up(parent) for parent in cluster.group(name).after)

    return {name: nodes if up(name) else () for name, nodes in placed.items()}


def started(cluster) -> Sim:
    sim = Sim(cluster)
    sim.settle()
    return sim


def test_startup_puts_every_group_where_the_startup_placement_does():
    for cluster in (TWO, THREE):
        sim = started(cluster)
        assert sim.placement() == groups(startup_placement(cluster))
        assert not sim.violations


def test_the_addresses_are_held_where_the_placement_puts_them():
    sim = started(TWO)
    expected = startup_placement(TWO)
    for node in TWO.node_names:
        assert sim.addresses(node) == dict(expected.held(node, "net_ether_01"))


def test_node_death_moves_its_group_to_the_next_node():
    sim = started(TWO)
    sim.fail("node:alpha")
    sim.run(TWO.heartbeat.miss_limit - 1)
    assert sim.holders("ledger") == [], "not before the miss limit"
    sim.settle()
    assert sim.placement() == groups(place(TWO, ["node:alpha"]))
    assert "ledger_svc" in sim.addresses("bravo")
    assert not sim.violations


def test_an_adapter_failure_swaps_the_address_and_moves_no_group():
    sim = started(TWO)
    sim.fail("adapter:alpha/en0")
    sim.settle()
    after = place(TWO, ["adapter:alpha/en0"])
    assert sim.placement() == groups(after)
    assert sim.addresses("alpha") == dict(after.held("alpha", "net_ether_01")) == {"ledger_svc": "en1"}
    assert not sim.violations


@pytest.mark.parametrize("failed", [["switch:sw1"], ["switch:sw1", "switch:sw2"], ["link:hb_serial"],
                                    ["adapter:alpha/en0", "adapter:bravo/en1"]])
def test_network_failures_end_where_the_decision_core_says(failed):
    """Groups and the adapter of every address, on the leader and on the follower alike."""
    sim = started(TWO)
    sim.fail(*failed)
    sim.settle()
    after = place(TWO, failed)
    assert sim.placement() == groups(after)
    for node in TWO.node_names:
        assert sim.addresses(node) == dict(after.held(node, "net_ether_01")), node
    assert not sim.violations


def test_with_the_ip_network_cut_and_the_serial_line_alive_nothing_is_taken_over():
    sim = started(TWO)
    sim.fail("switch:sw1", "switch:sw2")
    for _ in range(30):
        sim.tick()
        for group in ("ledger", "gateway"):
            assert len(sim.holders(group)) <= 1
    assert not sim.violations


def test_a_node_cut_off_from_a_majority_releases_and_the_majority_takes_over():
    sim = started(THREE)
    on_wh1 = [group for group, nodes in sim.placement().items() if nodes == ("wh1",)]
    assert on_wh1
    cut = [f"adapter:wh1/{adapter.ifname}" for adapter in THREE.adapters_by_node["wh1"]] + \
        [f"linkend:wh1/{link.name}" for link in THREE.links if link.disk and "wh1" in link.nodes]
    sim.fail(*cut)
    sim.settle()
    assert sim.placement() == groups(place(THREE, cut))
    assert all(group not in sim.nodes["wh1"].state.holds for group in on_wh1)
    assert not sim.violations, sim.violations


def test_a_node_that_rejoins_does_not_take_its_group_back_with_fallback_never():
    sim = started(TWO)
    sim.fail("node:alpha")
    sim.settle()
    sim.recover("node:alpha")
    sim.settle()
    start = startup_placement(TWO)
    expected = transition(TWO, transition(TWO, start, (), ["node:alpha"]).placement, ["node:alpha"], ()).placement
    assert sim.placement() == groups(expected) == {"ledger": ("bravo",), "gateway": ("bravo",)}
    assert not sim.violations


def test_every_decision_says_why():
    sim = started(TWO)
    assert all(reason for node in sim.nodes.values() for reason in node.reasons)
    assert any("planned view" in reason for reason in sim.nodes["alpha"].reasons)


def _files():
    return sorted((ROOT / "examples").glob("*.ha")) + sorted((ROOT / "tests" / "smt" / "clusters").glob("*.ha"))


@pytest.mark.parametrize("path", _files(), ids=lambda path: path.stem)
def test_where_the_nodes_put_the_groups_is_what_the_verifier_predicts(path):
    """For every single failure and random pairs: the nodes settle where the decision core puts the groups
    for some order of detecting the failures (the verifier checks every order), and never hold one twice.
    A failure that splits the cluster into partitions that each run groups (quorum none: HA302) is left out
    of the comparison: there each side places the groups on its own, which is the split brain HA302 warns of;
    that no side holds a group twice is still checked."""
    import random

    from runtime.core.failures import all_components
    from tests.smt.oracle import placements

    cluster = spec(path.read_text())
    components = all_components(cluster)
    rng = random.Random(path.name)
    cases = [(c,) for c in components] + [tuple(rng.sample(components, 2)) for _ in range(8)]
    if len(cluster.node_names) > 8:  # a long chain of nodes takes many ticks to agree: a sample is enough
        cases = rng.sample(cases, 6)
    start = startup_placement(cluster)
    for failed in cases:
        sim = Sim(cluster)
        sim.settle()
        assert sim.placement() == running(cluster, start)
        sim.fail(*failed)
        sim.settle()
        assert not sim.violations, (failed, sim.violations)
        if len(assess(cluster, failed).runnable) > 1:
            continue
        possible = [running(cluster, placement) for placement in placements(cluster, start, failed)]
        assert sim.placement() in possible, (failed, sim.placement(), possible)


def test_the_events_of_a_takeover_are_raised_by_the_survivor():
    sim = started(TWO)
    sim.nodes["bravo"].events.clear()
    sim.fail("node:alpha")
    sim.settle()
    assert sim.nodes["bravo"].events == ["node_down alpha", "rg_move ledger alpha -> bravo"]


def test_an_ip_network_cut_with_the_serial_line_alive_is_network_down_not_node_down():
    sim = started(TWO)
    sim.nodes["alpha"].events.clear()
    sim.fail("switch:sw1", "switch:sw2")
    sim.settle()
    raised = sim.nodes["alpha"].events
    assert "network_down net_ether_01 on alpha" in raised and not any("node_down" in event for event in raised)


def test_a_node_cut_off_and_back_finds_its_groups_where_the_majority_put_them():
    """wh1, back from a minority of one, leads the merged partition (first in file order) but plans from what
    the members hold, not from the plan of its own side, which knew nothing of the takeover."""
    sim = started(THREE)
    cut = [f"adapter:wh1/{adapter.ifname}" for adapter in THREE.adapters_by_node["wh1"]] + \
        [f"linkend:wh1/{link.name}" for link in THREE.links if link.disk and "wh1" in link.nodes]
    sim.fail(*cut)
    sim.settle()
    sim.recover(*cut)
    sim.settle()
    start = startup_placement(THREE)
    away = transition(THREE, start, (), cut).placement
    expected = transition(THREE, away, cut, ()).placement  # its fallback waits 10 minutes
    assert sim.placement() == groups(expected)
    assert not sim.violations, sim.violations
