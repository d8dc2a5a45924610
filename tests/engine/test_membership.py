"""Membership against the verifier: what the nodes of a partition would report under a set of failures, observed,
is what `assess` says of that failure set for that partition.

For each failure set of the examples (every single failure and random pairs and triples), the reports
are made as the nodes would make them: a node that is up reports the paths it would hear (both ends
working), its adapters with carrier (a failed adapter, or one on a failed switch, has none: a dead switch
drops its ports' links, and that is how the lab fails one), and whether it reaches the tie-breaker. Each
partition `assess` finds observes only its own members' reports. Then the partition, whether it may run
groups, and the usable adapters of its nodes must be the verifier's.
"""

from __future__ import annotations

import ipaddress
import random
from pathlib import Path

import pytest

from runtime.core.failures import all_components, expand
from runtime.core.failures import INFERRED_KINDS
from runtime.core.membership import Report, Table, observe, reports_in, report_body
from runtime.core.paths import alive_paths
from runtime.core.topology import DOUBT, FAILED, WORKING, assess
from runtime.core.wire import Dropped
from tests.runtime.helpers import spec

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted((ROOT / "examples").glob("*.ha")) + sorted((ROOT / "tests" / "smt" / "clusters").glob("*.ha"))


def ideal_reports(cluster, failed) -> dict[str, Report]:
    """What each live node would report, from the failures' physics: beats arrive where the receiver receives
    and the sender sends (`alive_paths` for links)."""
    down = expand(cluster, failed)
    heard: dict[str, set] = {node: set() for node in cluster.node_names}
    for path in alive_paths(cluster, down):
        if path.medium.kind != "subnet":
            for node in path.nodes:
                heard[node].add(path.id)
            continue
        for me, peer in ((path.first, path.second), (path.second, path.first)):
            if down.receives(me.adapter) and down.sends(peer.adapter):
                heard[me.node].add(path.id)
    tie = cluster.heartbeat.tie_breaker
    reports = {}
    for node in cluster.node_names:
        if not down.node_up(node):
            continue
        carriers = {a.ifname for a in cluster.adapters_by_node[node] if down.usable(a)}
        reaches = (tie is not None and down.link_up(tie) and node in cluster.link(tie).nodes
                   and down.connected(node, tie))
        targeted = {a.ifname for a in cluster.adapters_by_node[node] if down.sends(a) and down.receives(a)
                    and any(ipaddress.ip_address(target) in ipaddress.ip_network(f"{a.address}/{a.prefix}", strict=False)
                            for target in cluster.network(a.network).ping_targets)}
        reports[node] = Report(node, 1, 0, frozenset(heard[node]), frozenset(carriers), reaches, (), "",
                               reach=frozenset(targeted))
    return reports


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.stem)
def test_a_partition_observes_what_assess_says(path):
    cluster = spec(path.read_text())
    components = [c for c in all_components(cluster) if c.partition(":")[0] not in INFERRED_KINDS]
    _observe_what_assess_says(cluster, components, random.Random(path.name))


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.stem)
def test_a_partition_observes_what_assess_says_of_faults_that_keep_the_carrier_up(path):
    cluster = spec(path.read_text())
    _observe_what_assess_says(cluster, all_components(cluster), random.Random(path.name))


def _observe_what_assess_says(cluster, components, rng):
    sets = [()] + [(c,) for c in components] + [tuple(rng.sample(components, min(k, len(components))))
                                                for k in (2, 3) for _ in range(20)]
    for failed in sets:
        expected = assess(cluster, failed)
        reports = ideal_reports(cluster, failed)
        for partition in expected.partitions:
            seen = observe(cluster, {node: reports[node] for node in partition})
            assert seen.view.partitions == (partition,), failed
            assert seen.view.may_run(partition) == expected.may_run(partition), failed
            for node in partition:
                for network in {a.network for a in cluster.adapters_by_node[node]}:
                    assert [a.ifname for a in seen.status.usable_adapters(node, network)] == \
                        [a.ifname for a in expected.usable_adapters(node, network)], (failed, node, network)
                    assert [a.ifname for a in seen.status.working_adapters(node, network)] == \
                        [a.ifname for a in expected.working_adapters(node, network)], (failed, node, network)


def test_the_same_observations_give_the_same_hash_on_every_node():
    cluster = spec((ROOT / "examples" / "three_node_quorum.ha").read_text())
    reports = ideal_reports(cluster, ())
    backwards = dict(reversed(list(reports.items())))
    assert observe(cluster, reports).hash == observe(cluster, backwards).hash
    assert observe(cluster, reports).hash != observe(cluster, ideal_reports(cluster, ("node:wh3",))).hash


def test_a_report_is_fresh_while_it_grows():
    table = Table()
    report = Report("alpha", 1, 0, frozenset(), frozenset(), False, (), "")
    assert table.learn(report, 1000)
    assert not table.learn(report, 1500), "the same report again is no news"
    assert table.fresh(5999, 5000) and not table.fresh(6000, 5000)
    assert table.learn(report._replace(seq=1), 6500) and table.fresh(7000, 5000)
    assert not table.learn(report._replace(incarnation=0, seq=9), 7000), "an older incarnation"


def test_the_daemon_is_woken_when_a_report_goes_stale_not_at_the_next_tick():
    table = Table()
    table.learn(Report("alpha", 1, 0, frozenset(), frozenset(), False, (), ""), 1000)
    table.learn(Report("bravo", 1, 0, frozenset(), frozenset(), False, (), ""), 1040)
    assert table.next_stale(1100, (300, 200)) == 1200, "alpha's report, at the keep threshold"
    assert table.next_stale(1240, (300, 200)) == 1300
    stale = table.next_stale(1299, (300,))
    assert "alpha" in table.fresh(stale - 1, 300) and "alpha" not in table.fresh(stale, 300)
    assert table.next_stale(1340, (300, 200)) is None, "nothing fresh is left to go stale"


def test_reports_travel_in_a_beat_and_bad_ones_are_dropped():
    cluster = spec((ROOT / "examples" / "two_node_replace.ha").read_text())
    report = Report("alpha", 3, 9, frozenset({"x"}), frozenset({"en0"}), False, ("ledger",), "abc", ("abc", 0),
                    (("ledger", ("alpha",)), ("gateway", ())))
    assert reports_in(cluster, report_body({"alpha": report})) == [report]
    planless = report._replace(plan_id=None, plan=())
    assert reports_in(cluster, report_body({"alpha": planless})) == [planless]
    for body in ({}, {"r": []}, {"r": {"nobody": [1, 1, [], [], False, [], "", "", [], True]}},
                 {"r": {"alpha": [1, 1, [], [], False, ["no_such_group"], "", "", [], True]}},
                 {"r": {"alpha": [True, 1, [], [], False, [], "", "", [], True]}},
                 {"r": {"alpha": [1, 1, [], [], False, [], "", "", [["ledger", ["nobody"]]], True]}},
                 {"r": {"alpha": [1, 1, [], [], False, [], "", "", [], "yes"]}},
                 {"r": {"alpha": [1, 1, [], [], False, [], ""]}}):
        with pytest.raises(Dropped):
            reports_in(cluster, body)


@pytest.mark.parametrize("plan_id", ["abc/0", ["abc"], ["abc", 0, 1], ["abc", -1], ["abc", True], ["abc", 1.5],
                                     [7, 0], ["a" * 17, 0], {"abc": 0}])
def test_a_malformed_plan_id_drops_the_beat(plan_id):
    cluster = spec((ROOT / "examples" / "two_node_replace.ha").read_text())
    body = report_body({"alpha": Report("alpha", 1, 0, frozenset(), frozenset(), False, (), "abc", ("abc", 0))})
    body["r"]["alpha"][7] = plan_id
    with pytest.raises(Dropped):
        reports_in(cluster, body)


def test_an_adapter_whose_peers_are_down_stays_usable():
    """bravo dead: alpha hears nobody on its adapters, but nothing shows them at fault."""
    cluster = spec((ROOT / "examples" / "two_node_replace.ha").read_text())
    reports = ideal_reports(cluster, ("node:bravo",))
    status = observe(cluster, reports).status
    assert [a.ifname for a in status.working_adapters("alpha", "net_ether_01")] == ["en0", "en1"]


def test_a_switch_that_hangs_leaves_its_adapters_in_doubt_without_ping_targets_and_failed_with_them():
    """A switch that stops forwarding but keeps its ports' links up: the adapters on it have carrier and hear
    nothing while their peer is alive with carrier too. Nothing tells which end failed, so both are in doubt:
    they keep what they hold and take nothing (the verifier says the same). With a ping target on the subnet
    neither reaches it: both are failed, and the addresses move to the standby adapters."""
    text = (ROOT / "examples" / "two_node_replace.ha").read_text()
    without = spec(text.replace("    ping_targets = [10.10.1.1, 10.10.2.1]  # the router of each subnet\n", ""))
    for cluster, state in ((without, DOUBT), (spec(text), FAILED)):
        status = observe(cluster, ideal_reports(cluster, ("hung:sw1",))).status
        for node in ("alpha", "bravo"):
            en0, en1 = cluster.adapter_by_key[(node, "en0")], cluster.adapter_by_key[(node, "en1")]
            assert (status.adapter_state(en0), status.adapter_state(en1)) == (state, WORKING)
            assert [a.ifname for a in status.working_adapters(node, "net_ether_01")] == ["en1"]


def test_a_node_back_from_a_break_is_a_veteran_only_after_a_detection_time():
    table = Table(5000)
    report = Report("alpha", 1, 0, frozenset(), frozenset(), False, (), "")
    for at in range(0, 6000, 1000):
        table.learn(report._replace(seq=at), at)
    assert "alpha" in table.veterans(5500, 5000)
    table.learn(report._replace(seq=10_000), 20_000)  # heard again after a silence longer than the window
    assert "alpha" not in table.veterans(21_000, 5000) and "alpha" in table.fresh(21_000, 5000)
