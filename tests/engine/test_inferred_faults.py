"""Faults a node can only infer (LANGUAGE.md, "What a failure is": `port:`, `deaf:`, `mute:`, `hung:`), run on the
simulated nodes (tests/engine/sim.py): doubt never becomes an outage, ping targets settle it, a healed partition
ends with one holder that announces last, a flapping port moves an address at most once, and every node ends where
`halang simulate` (`runtime.core.placement.place`) says."""

from __future__ import annotations

from pathlib import Path

import pytest

from runtime.core.engine import Addresses, Announce
from runtime.core.placement import place
from tests.engine.sim import Sim
from tests.runtime.helpers import spec

ROOT = Path(__file__).resolve().parents[2]
SEED = (ROOT / "examples" / "two_node_replace.ha").read_text()
TARGETS_LINE = "    ping_targets = [10.10.1.1, 10.10.2.1]  # the router of each subnet\n"
WITH_TARGETS = spec(SEED)
WITHOUT_TARGETS = spec(SEED.replace(TARGETS_LINE, ""))
NETWORK = "net_ether_01"


def started(cluster) -> Sim:
    sim = Sim(cluster)
    sim.settle()
    return sim


def where(sim: Sim) -> dict:
    """group -> holders, and node -> {label: ifname}: what a client and an operator would look at."""
    return {**sim.placement(), **{node: sim.addresses(node) for node in sim.spec.node_names}}


def predicted(cluster, failed) -> dict:
    after = place(cluster, failed)
    return {**dict(after.groups), **{node: dict(after.held(node, NETWORK)) for node in cluster.node_names}}


def watch(sim: Sim, ticks: int) -> list[dict]:
    """Where everything is after each of `ticks` ticks, with the double-ownership check running throughout."""
    seen = []
    for _ in range(ticks):
        sim.tick()
        seen.append(where(sim))
        for group in ("ledger", "gateway"):
            assert len(sim.holders(group)) <= 1, (sim.now, group, sim.holders(group))
    assert not sim.violations
    return seen


@pytest.mark.parametrize("cluster", [WITH_TARGETS, WITHOUT_TARGETS], ids=["targets", "no-targets"])
def test_the_backups_ports_go_silent_and_the_primary_keeps_its_group_where_it_is(cluster):
    sim = started(cluster)
    before = where(sim)
    failed = ["port:bravo/en0", "port:bravo/en1"]
    sim.fail(*failed)
    for step in watch(sim, 40):
        assert step["ledger"] == ("alpha",) and step["alpha"]["ledger_svc"] == before["alpha"]["ledger_svc"]
    assert where(sim) == predicted(cluster, failed)


def test_the_primarys_ports_go_silent_and_with_targets_the_group_moves_to_the_backup_once():
    sim = started(WITH_TARGETS)
    failed = ["port:alpha/en0", "port:alpha/en1"]
    sim.fail(*failed)
    steps = watch(sim, 40)
    holders = [step["ledger"] for step in steps]
    assert holders[-1] == ("bravo",)
    assert holders.index(("bravo",)) > holders.index(()), "released before acquired"
    assert where(sim) == predicted(WITH_TARGETS, failed)


def test_the_primarys_ports_go_silent_and_without_targets_nothing_is_released():
    sim = started(WITHOUT_TARGETS)
    failed = ["port:alpha/en0", "port:alpha/en1"]
    sim.fail(*failed)
    for step in watch(sim, 40):
        assert step["ledger"] == ("alpha",) and step["gateway"] == ("bravo",)
    assert where(sim) == predicted(WITHOUT_TARGETS, failed)


@pytest.mark.parametrize("cluster", [WITH_TARGETS, WITHOUT_TARGETS], ids=["targets", "no-targets"])
@pytest.mark.parametrize("port", ["port:alpha/en0", "port:bravo/en0", "port:alpha/en1", "port:bravo/en1"])
def test_one_silent_port_swaps_nothing_on_the_other_node(cluster, port):
    sim = started(cluster)
    before = where(sim)
    sim.fail(port)
    watch(sim, 40)
    other = "bravo" if "alpha" in port else "alpha"
    assert where(sim)[other] == before[other]
    assert where(sim) == predicted(cluster, [port])


@pytest.mark.parametrize("fault", ["deaf", "mute"])
@pytest.mark.parametrize("cluster", [WITH_TARGETS, WITHOUT_TARGETS], ids=["targets", "no-targets"])
def test_one_way_loss_ends_where_simulate_says(cluster, fault):
    for adapter in ("alpha/en0", "bravo/en0", "alpha/en1"):
        failed = [f"{fault}:{adapter}"]
        sim = started(cluster)
        sim.fail(*failed)
        watch(sim, 40)
        assert where(sim) == predicted(cluster, failed), failed


def test_a_healed_partition_has_one_holder_and_the_keeper_announces_after_the_other_let_go():
    """Both sides held both groups (quorum = none, every path cut). After the heal the merged plan keeps each group
    on one node; the other node removes the address first, and the keeper's announcements come after that."""
    cut = ["hung:sw1", "hung:sw2", "link:hb_serial"]
    sim = started(WITHOUT_TARGETS)
    sim.fail(*cut)
    sim.settle()
    assert sim.holders("ledger") == ["alpha", "bravo"] and sim.holders("gateway") == ["alpha", "bravo"]
    healed_at = sim.now
    sim.recover(*cut)
    sim.settle()
    assert sim.placement() == {"ledger": ("alpha",), "gateway": ("bravo",)}
    for group, label, keeper, other in (("ledger", "ledger_svc", "alpha", "bravo"),
                                        ("gateway", "gateway_svc", "bravo", "alpha")):
        let_go = next(at for at, action in sim.nodes[other].addressing if at > healed_at
                      and isinstance(action, Addresses) and label not in {item[0] for item in action.held})
        announced = [at for at, action in sim.nodes[keeper].addressing if at > healed_at
                     and isinstance(action, Announce) and label in action.labels]
        assert len(announced) >= 2, "a client that missed one announcement hears the next"
        assert min(announced) > let_go, (group, announced, let_go)
    assert not [at for at, action in sim.nodes["bravo"].addressing if at > healed_at
                and isinstance(action, Announce) and "ledger_svc" in action.labels], "the releasing side is silent"


@pytest.mark.parametrize("cluster", [WITH_TARGETS, WITHOUT_TARGETS], ids=["targets", "no-targets"])
def test_a_flapping_port_moves_an_address_at_most_once(cluster):
    """The boot port of the ledger's node goes silent and comes back every tick or two, twenty times."""
    sim = started(cluster)
    moves = 0
    last = sim.addresses("alpha").get("ledger_svc")
    for flap in range(20):
        sim.fail("port:alpha/en0")
        for _ in range(1 + flap % 2):
            sim.tick()
        sim.recover("port:alpha/en0")
        for _ in range(1 + flap % 2):
            sim.tick()
        now = sim.addresses("alpha").get("ledger_svc")
        moves += now != last
        last = now
    sim.settle()
    assert moves <= 1
    assert sim.placement()["ledger"] == ("alpha",)
    assert not sim.violations
