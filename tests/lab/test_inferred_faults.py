"""Failures that keep the carrier up, for real: the seed's two nodes on a lab, their ports silenced, flapped or made
one-way, a partition healed; what a client of the ledger sees, and who holds each service address.

Every test runs examples/two_node_replace.ha at `interval = 100ms`, `miss_limit = 3` (a 300 ms detection time),
with its ping targets (the router of each subnet, answering on the lab's core) or without them, the daemons of the
compiled bundle on both nodes, the double-ownership watcher of tests/lab/cluster.py polling the namespaces every
50 ms throughout, and a client in the LAN's client namespace opening a connection to the ledger's service address
every 10 ms (a server in each node namespace answers with its node's name). tests/engine/test_inferred_faults.py
checks the same behaviour on simulated nodes.
"""

from __future__ import annotations

import time

import pytest

from tests.lab.cluster import Client, Cluster, predicted, seed_file, serve, settled, where

pytestmark = pytest.mark.root

NETWORK = "net_ether_01"
TARGETS = pytest.mark.parametrize("targets", [True, False], ids=["targets", "no-targets"])
DARK_S = 1.0  # the longest a client may go unanswered where the issue says the service stays up


@pytest.fixture
def probing():
    """`probing(cluster, label)`: a client asking the label's address every 10 ms, once it is answered (servers in
    every node namespace); stopped when the test ends."""
    made: list[Client] = []
    served: set[str] = set()

    def make(cluster: Cluster, label: str = "ledger_svc") -> Client:
        if cluster.lab.prefix not in served:
            serve(cluster.lab)
            served.add(cluster.lab.prefix)
        client = Client(cluster.lab, cluster.lab.client(NETWORK).netns, cluster.services[label])
        made.append(client)
        holder = cluster.running_holders()[label][0]
        assert client.first(holder, 0, within=10) is not None, f"the client gets no answer from {holder}"
        return client

    yield make
    for client in made:
        client.stop()


def expected_after(path, failures: list[str]) -> dict[str, set[tuple[str, str]]]:
    """service -> {(node, adapter)} after the failures, as `halang simulate FILE --fail ... --format json` says."""
    addresses, _ = predicted(path, failures)[-1]
    return {label: {place} for label, place in addresses.items()}


def settles_on(cluster: Cluster, expected: dict, within: float) -> dict:
    """Where the addresses are once they are where `expected` says, or after `within` s."""
    deadline = time.monotonic() + within
    seen = where(cluster)
    while seen != expected and time.monotonic() < deadline:
        time.sleep(0.1)
        seen = where(cluster)
    return seen


def places_of(cluster: Cluster, label: str, start: float, end: float = float("inf")) -> list[frozenset]:
    """Each place (set of (node, ifname)) the watcher saw the label's address in from `start` to `end`, in order,
    a repeat of the one before left out."""
    found: list[frozenset] = []
    for _, places in cluster.places_between(start, end):
        here = frozenset(places[label])
        if not found or found[-1] != here:
            found.append(here)
    return found


def actions_since(cluster: Cluster, node: str, since: float, kind: str) -> list:
    return [action for record in cluster.events_since(node, since) for action in record.get("actions", ())
            if action[0] == kind]


@TARGETS
def test_the_backups_ports_go_silent_and_the_ledger_stays_on_alpha_on_its_adapter(running, probing, tmp_path,
                                                                                    targets):
    """bravo's two ports pass no frame, their carriers up: with targets bravo's adapters reach no router while
    alpha's do, so they are failed and the gateway comes to alpha; without, both sides of each subnet are in doubt
    and nothing moves. Either way the ledger's client never waits over a second, and its address stays where it
    was."""
    path = seed_file(tmp_path, targets=targets)
    cluster = running(path)
    settled(cluster)
    client = probing(cluster)
    assert where(cluster)["ledger_svc"] == {("alpha", "en0")}
    failed = ["port:bravo/en0", "port:bravo/en1"]
    cut = time.monotonic()
    cluster.lab.fail(*failed)
    expected = expected_after(path, failed)
    assert settles_on(cluster, expected, within=2 * cluster.detection_s + 5) == expected
    time.sleep(cluster.detection_s + 1)
    end = time.monotonic()
    assert client.dark(cut, end) <= DARK_S, client.dark(cut, end)
    assert client.served_by(cut, end) == {"alpha"}
    assert places_of(cluster, "ledger_svc", cut) == [{("alpha", "en0")}]
    assert where(cluster) == expected
    assert not cluster.violations, cluster.violations


def test_the_primarys_ports_go_silent_and_with_targets_bravo_serves_the_ledger_within_detection_and_a_second(
        running, probing, tmp_path):
    """alpha's two ports pass no frame, the serial line stays up: alpha's adapters reach no router while bravo's
    do, so alpha's are failed, alpha releases the ledger (the two nodes still hear each other on the serial line)
    and bravo takes it, the address on no two nodes at any time."""
    path = seed_file(tmp_path, targets=True)
    cluster = running(path)
    settled(cluster)
    client = probing(cluster)
    failed = ["port:alpha/en0", "port:alpha/en1"]
    cut = time.monotonic()
    cluster.lab.fail(*failed)
    served = client.first("bravo", cut, within=cluster.detection_s + 10)
    assert served is not None, f"bravo never served the ledger; alpha: {cluster.log('alpha')[-3:]}"
    print(f"bravo served the ledger {served - cut:.3f} s after the cut")
    assert served - cut <= cluster.detection_s + 1.0, served - cut
    expected = expected_after(path, failed)
    assert settles_on(cluster, expected, within=2 * cluster.detection_s + 5) == expected
    time.sleep(cluster.detection_s + 1)
    end = time.monotonic()
    assert client.served_by(served, end) == {"bravo"}
    assert client.dark(served, end) <= DARK_S, client.dark(served, end)
    assert all(len({node for node, _ in places["ledger_svc"]}) <= 1 for _, places in cluster.places_between(cut)), \
        [places for _, places in cluster.places_between(cut) if len(places["ledger_svc"]) > 1][:3]
    assert not cluster.violations, cluster.violations


def test_the_primarys_ports_go_silent_and_without_targets_nothing_is_released(running, probing, tmp_path):
    """Without targets alpha's silence cannot be told from bravo's: every adapter of the LAN is in doubt, and doubt
    releases nothing: the ledger stays held on alpha, the gateway on bravo (HA309 is verify's word for it)."""
    path = seed_file(tmp_path, targets=False)
    cluster = running(path)
    before = settled(cluster)
    probing(cluster)
    held = where(cluster)
    failed = ["port:alpha/en0", "port:alpha/en1"]
    cut = time.monotonic()
    cluster.lab.fail(*failed)
    time.sleep(3 * cluster.detection_s + 3)
    assert cluster.running_holders() == before
    assert where(cluster) == held == expected_after(path, failed)
    for label in ("ledger_svc", "gateway_svc"):
        assert places_of(cluster, label, cut) == [held[label]], label
    released = {node: actions_since(cluster, node, cut, "Release") for node in ("alpha", "bravo")}
    assert released == {"alpha": [], "bravo": []}, released
    assert not cluster.violations, cluster.violations


@TARGETS
@pytest.mark.parametrize("port", ["port:alpha/en0", "port:bravo/en0", "port:alpha/en1", "port:bravo/en1"])
def test_one_silent_port_swaps_nothing_on_the_other_node(running, probing, tmp_path, targets, port):
    path = seed_file(tmp_path, targets=targets)
    cluster = running(path)
    settled(cluster)
    probing(cluster)
    other = "bravo" if "alpha" in port else "alpha"
    before = {label: places for label, places in where(cluster).items() if any(node == other for node, _ in places)}
    cut = time.monotonic()
    cluster.lab.fail(port)
    expected = expected_after(path, [port])
    assert settles_on(cluster, expected, within=2 * cluster.detection_s + 5) == expected
    time.sleep(cluster.detection_s + 1)
    for label, places in before.items():
        assert places_of(cluster, label, cut) == [places], (label, places_of(cluster, label, cut))
    assert where(cluster) == expected
    assert not cluster.violations, cluster.violations


HEALS = 20


def test_a_full_partition_heals_twenty_times_with_one_holder_after_each_and_the_client_back_within_a_second(
        running, probing, tmp_path):
    """`quorum = none`, no targets: both switches hang and the serial line is cut, so each node is alone, holds
    both groups and serves both addresses (on its own side). Once everything heals, the nodes meet, each group
    stays with one holder (the ledger on alpha, the gateway on bravo, by their lists), and the clients of both
    addresses get answers again within a second of the heal; twenty times in a row.

    A partition this short leaves the client's neighbour entries naming the nodes they named before it; after a
    longer one they would have expired, and the client would ask anew, with both sides answering for each
    address. So every other heal the client's neighbour table is flushed at once: whichever side it then reaches
    first, the keeper's announcements, made once the other side has let go, bring it to the keeper."""
    path = seed_file(tmp_path, targets=False, quorum="none")
    cluster = running(path)
    cluster.split_brain_heals = True  # both sides hold both groups when it heals: see `Cluster`
    before = settled(cluster)
    clients = {label: probing(cluster, label) for label in ("ledger_svc", "gateway_svc")}
    client_netns = cluster.lab.client(NETWORK).netns
    cut = ["hung:sw1", "hung:sw2", "link:hb_serial"]
    both = {"ledger_svc": ["alpha", "bravo"], "gateway_svc": ["alpha", "bravo"]}
    keepers = {"ledger_svc": {"alpha"}, "gateway_svc": {"bravo"}}
    within = 2 * cluster.detection_s + 5
    darkness = []
    for run in range(1, HEALS + 1):
        cluster.lab.fail(*cut)
        assert cluster.wait_for(both, within) == both, f"run {run}: each side holds both groups"
        time.sleep(cluster.detection_s)
        cluster.lab.heal(*cut)
        healed = time.monotonic()
        afresh = run % 2 == 0
        if afresh:
            cluster.lab.exec(client_netns, ["ip", "neigh", "flush", "all"], check=True)
        assert cluster.wait_for(before, within) == before, f"run {run}: one holder of each group after the heal"
        resolved = time.monotonic()
        time.sleep(max(0.0, healed + 2 * cluster.detection_s + 1.5 - time.monotonic()))
        end = time.monotonic()
        assert cluster.running_holders() == before, f"run {run}"
        dark = {label: round(client.dark(healed, end), 3) for label, client in clients.items()}
        double = [at - healed for at, holders in cluster.seen
                  if at >= healed and any(len(nodes) > 1 for nodes in holders.values())]
        darkness.append({"run": run, "flushed": afresh, **dark, "two holders until": round(max(double, default=0), 3)})
        assert all(gap <= DARK_S for gap in dark.values()), f"run {run}: dark {dark} after the heal"
        for label, client in clients.items():
            assert client.served_by(resolved + 0.1, end) == keepers[label], (run, label)
    print("after each heal (s):", *darkness, sep="\n  ")
    assert not cluster.violations, cluster.violations


@TARGETS
def test_a_port_flapping_twenty_times_moves_the_ledgers_address_at_most_once(running, probing, tmp_path, targets):
    """alpha's en0, which holds the ledger's address, goes silent and comes back every 0.4 s, twenty times (with
    targets each silence outlasts the detection time, so it is seen): the address moves at most once (to en1, where
    it stays: an address stays on its adapter until that adapter fails), and the ledger stays on alpha."""
    path = seed_file(tmp_path, targets=targets)
    cluster = running(path)
    settled(cluster)
    probing(cluster)
    start = time.monotonic()
    changes = cluster.lab.flap("port:alpha/en0", times=20, every_s=0.4)
    assert len(changes) == 40 and changes[-1][1] == "healed"
    time.sleep(2 * cluster.detection_s + 2)
    seen = places_of(cluster, "ledger_svc", start)
    print("the ledger's address was on:", *(sorted(places) for places in seen))
    assert len(seen) <= 2 and all({node for node, _ in places} == {"alpha"} for places in seen), seen
    logged = [[ifname for label, _, ifname in action[1] if label == "ledger_svc"]
              for action in actions_since(cluster, "alpha", start, "Addresses")]
    assert sum(1 for before, after in zip(logged, logged[1:]) if before != after) <= 1, logged
    assert cluster.running_holders()["ledger_svc"] == ["alpha"]
    assert not cluster.violations, cluster.violations


@TARGETS
@pytest.mark.parametrize("fault", ["deaf:alpha/en0", "mute:alpha/en0"])
def test_one_way_loss_puts_every_address_where_simulate_says(running, probing, tmp_path, targets, fault):
    path = seed_file(tmp_path, targets=targets)
    cluster = running(path)
    settled(cluster)
    probing(cluster)
    cluster.lab.fail(fault)
    expected = expected_after(path, [fault])
    assert settles_on(cluster, expected, within=2 * cluster.detection_s + 5) == expected
    time.sleep(2 * cluster.detection_s)
    assert where(cluster) == expected, "and stays there"
    assert not cluster.violations, cluster.violations
