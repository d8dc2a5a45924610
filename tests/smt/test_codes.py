"""Each code of the failure analysis: a case that triggers it and a near miss that does not."""

from __future__ import annotations

import pytest

from halang.diagnostics import Severity
from halang.smt import analyse
from runtime.core.failures import INFERRED_KINDS
from tests.smt.helpers import CLUSTERS, EXAMPLES, cluster_file, cluster_of, codes, scenarios

TWO_NODE = EXAMPLES / "two_node_replace.ha"


def _as_carrier(name: str) -> str:
    """The failure the carrier shows that a failure keeping the carrier up stands in for."""
    kind, _, rest = name.partition(":")
    return {"port": "adapter", "deaf": "adapter", "mute": "adapter", "hung": "switch"}.get(kind, kind) + ":" + rest


def run(path_or_text, faults, **options):
    cluster = cluster_file(path_or_text) if not isinstance(path_or_text, str) else cluster_of(path_or_text)
    result = analyse(cluster, faults, **options)
    assert not result.inconclusive, [item.message for item in result.inconclusive]
    return result


# ---------------------------------------------------------------- HA301 / HA306


def test_ha301_implicit_switch_is_a_single_point_of_failure():
    result = run(CLUSTERS / "implicit_switch_is_one_failure.ha", 1)
    [finding] = [f for f in result.findings if f.code == "HA301"]
    assert finding.scenario == ("switch:net_a",)
    assert finding.group == "web"
    assert finding.message == ("if switch net_a fails, no node can host group web "
                               "(web_svc needs an adapter on net_a)")
    assert finding.severity is Severity.ERROR
    assert finding.diagnostic().scenario == ("switch:net_a",)


def test_ha301_near_miss_two_switches():
    assert not codes(run(CLUSTERS / "two_named_switches_near_miss.ha", 1)) & {"HA301", "HA306"}


def test_ha306_two_switches_at_k2_and_not_as_ha301():
    result = run(CLUSTERS / "two_named_switches_near_miss.ha", 2)
    assert scenarios(result, "HA306", group="web") == {("node:alpha", "node:bravo"), ("switch:sw1", "switch:sw2")}
    assert not scenarios(result, "HA301")


def test_ha306_three_failures_for_a_three_node_group():
    result = run(EXAMPLES / "three_node_quorum.ha", 3)
    found = scenarios(result, "HA306", group="erp_db")
    assert ("node:wh1", "node:wh2") in found  # the third node is left without quorum
    assert all(len(s) <= 3 for s in found)
    # minimal: no reported scenario contains another one for the same group
    assert not [a for a in found for b in found if a != b and set(b) <= set(a)]


def test_ha301_quorum_loss_from_a_domain_holding_two_of_three_nodes():
    result = run(CLUSTERS / "rack_holds_two_of_three.ha", 1)
    assert scenarios(result, "HA301", group="db") == {("domain:rack_ab",)}
    assert scenarios(result, "HA301", group="batch") == {("domain:rack_ab",)}
    [db] = [f for f in result.findings if f.group == "db" and f.code == "HA301"]
    assert "charlie has no quorum (its partition holds 1 of 3 nodes)" in db.message


def test_ha301_near_miss_one_node_per_rack():
    assert not codes(run(EXAMPLES / "three_node_quorum.ha", 1))


def test_ha301_not_for_a_group_no_node_can_host_with_nothing_failed():
    text = (CLUSTERS / "implicit_switch_is_one_failure.ha").read_text().replace(
        "adapter alpha en0 boot 10.1.0.11/24\n    adapter bravo en0 boot 10.1.0.12/24\n", "")
    assert "HA301" not in codes(run(text, 1))  # that is HA304/HA305, static


def test_ha301_is_about_who_can_host_not_where_the_group_runs():
    result = run(CLUSTERS / "startup_policies.ha", 1)
    assert scenarios(result, "HA301", group="legacy") == {("adapter:bravo/en2",), ("node:bravo",), ("switch:sw3",)}
    assert scenarios(result, "HA301", group="queue") == scenarios(result, "HA301", group="legacy")
    assert not scenarios(result, "HA301", group="agent")


# ---------------------------------------------------------------- HA302


def test_ha302_split_with_quorum_none():
    result = run(CLUSTERS / "split_brain_without_quorum.ha", 1)
    assert scenarios(result, "HA302") == {("adapter:charlie/en0",), ("switch:sw1",), ("switch:sw2",),
                                          ("port:charlie/en0",), ("deaf:charlie/en0",), ("mute:charlie/en0",),
                                          ("hung:sw1",), ("hung:sw2",)}  # cut both ways, carrier up or not
    [finding] = [f for f in result.findings if f.scenario == ("switch:sw2",)]
    assert "({alpha, bravo} and {charlie})" in finding.message


def test_ha302_near_miss_serial_link_needs_three_failures():
    assert "HA302" not in codes(run(TWO_NODE, 2))
    result = run(TWO_NODE, 3, max_listed=10**6, max_counted=10**6)
    assert ("link:hb_serial", "switch:sw1", "switch:sw2") in scenarios(result, "HA302")
    assert ("hung:sw1", "hung:sw2", "link:hb_serial") in scenarios(result, "HA302")
    assert all("link:hb_serial" in s for s in scenarios(result, "HA302"))


def test_ha302_empty_scenario_when_split_with_nothing_failed():
    text = (CLUSTERS / "split_brain_without_quorum.ha").read_text().replace(
        "adapter charlie en0 boot 10.1.0.13/24 switch sw2", "adapter charlie en0 boot 10.3.0.13/24 switch sw2")
    result = run(text, 2)
    assert scenarios(result, "HA302") == {()}
    [finding] = [f for f in result.findings if f.code == "HA302"]
    assert finding.message.startswith("with nothing failed, the live nodes split into 2 partitions")


def test_ha302_never_under_majority():
    assert "HA302" not in codes(run(CLUSTERS / "rack_holds_two_of_three.ha", 3))


# ---------------------------------------------------------------- HA213


def test_ha213_two_node_seed_example_at_k2():
    result = run(TWO_NODE, 2)
    found = scenarios(result, "HA213", node="bravo", network="net_ether_01")
    assert ("adapter:bravo/en0", "node:alpha") in found  # one node down, one adapter down on the survivor
    shown = {("adapter:bravo/en0", "node:alpha"), ("adapter:bravo/en1", "node:alpha"),
             ("node:alpha", "switch:sw1"), ("node:alpha", "switch:sw2"),
             ("adapter:alpha/en0", "switch:sw2"), ("adapter:alpha/en1", "switch:sw1")}
    assert {s for s in found if not any(name.split(":")[0] in INFERRED_KINDS for name in s)} == shown
    # With a ping target on each subnet, a port that goes silent (either way) fails its adapter as a pulled cable
    # does: every other finding is one of these with such a fault in place of a cable or a switch.
    assert {tuple(sorted(_as_carrier(name) for name in s)) for s in found} == shown
    [finding] = [f for f in result.findings if f.scenario == ("adapter:bravo/en0", "node:alpha")]
    assert finding.message == ("if adapter en0 of bravo and node alpha fail, bravo must hold 2 service addresses "
                               "on net_ether_01 (ledger_svc and gateway_svc) but has 1 usable adapter there (en1); "
                               "under ipat = replace an adapter holds one service address")


def test_ha213_near_miss_one_failure():
    assert "HA213" not in codes(run(TWO_NODE, 1))


def test_ha213_empty_scenario_counts():
    result = run(CLUSTERS / "replace_adapter_holds_two_addresses.ha", 1)
    assert scenarios(result, "HA213", node="alpha") == {()}
    assert scenarios(result, "HA213", node="bravo") == {("switch:sw1",)}


def test_ha213_only_on_replace_networks():
    text = (CLUSTERS / "replace_adapter_holds_two_addresses.ha").read_text()
    text = text.replace("ipat = replace", "ipat = alias").replace("standby", "boot")
    text = text.replace("service one_svc 10.1.0.101", "service one_svc 10.9.0.101/24")
    text = text.replace("service two_svc 10.1.0.102", "service two_svc 10.9.0.102/24")
    assert "HA213" not in codes(run(text, 2))


# ---------------------------------------------------------------- HA502


def test_ha502_fallover_overloads_a_node():
    result = run(CLUSTERS / "fallover_overloads_small_node.ha", 1)
    [finding] = [f for f in result.findings if f.code == "HA502"]
    assert (finding.node, finding.scenario) == ("small", ("node:big",))
    assert "cpu 10 > 8, memory 20G > 16G" in finding.message


def test_ha502_not_for_an_overload_with_nothing_failed():
    result = run(CLUSTERS / "fallover_overloads_small_node.ha", 2)
    assert not scenarios(result, "HA502", node="tiny")  # HA501


def test_ha502_near_miss_enough_capacity():
    text = (CLUSTERS / "fallover_overloads_small_node.ha").read_text().replace(
        "node small { capacity { cpu = 8   memory = 16G } }", "node small { capacity { cpu = 12  memory = 24G } }")
    assert "HA502" not in codes(run(text, 1))


def test_ha502_capacity_example_survives_a_rack():
    assert "HA502" not in codes(run(EXAMPLES / "capacity_dependencies.ha", 1))


# ---------------------------------------------------------------- HA406


def test_ha406_different_node_from_broken_by_one_failure():
    result = run(CLUSTERS / "dependencies_broken_by_fallover.ha", 1)
    assert scenarios(result, "HA406", group="ldap_a") == {("node:bravo",), ("node:charlie",)}
    finding = next(f for f in result.findings if f.code == "HA406")
    assert finding.severity is Severity.WARNING


def test_ha406_same_node_as_and_after_at_k2():
    result = run(CLUSTERS / "dependencies_broken_by_fallover.ha", 2)
    web = {f.scenario for f in result.findings if f.code == "HA406" and f.group == "web"}
    assert ("adapter:alpha/en0", "adapter:alpha/en1") in web
    report = {f.scenario for f in result.findings if f.code == "HA406" and f.group == "report"}
    assert ("node:alpha", "node:bravo") in report
    assert any("its parent db is offline (after)" in f.message for f in result.findings if f.group == "report")


def test_ha406_near_miss_no_dependencies():
    assert "HA406" not in codes(run(TWO_NODE, 3))


# ---------------------------------------------------------------- HA604


RTO = """
cluster timing {
  heartbeat { interval = 2s  miss_limit = 5  key_file = "/etc/x.key" }
  node alpha { }
  resource_group db {
    nodes = [alpha]
    application db { start = "/opt/db/start"  stop = "/opt/db/stop"  timeout = 3m }
  }
  resource_group mq {
    nodes = [alpha]
    application mq { start = "/opt/mq/start"  stop = "/opt/mq/stop"  timeout = 30s }
  }
  resource_group app {
    nodes = [alpha]
    after = [db, mq]
    rto = RTO
    application app { start = "/opt/app/start"  stop = "/opt/app/stop" }
    application web { start = "/opt/web/start"  stop = "/opt/web/stop"  timeout = 20s }
  }
}
"""


def test_ha604_longest_after_chain_and_own_applications():
    result = run(RTO.replace("RTO", "4m"), 1)
    [finding] = [f for f in result.findings if f.code == "HA604"]
    assert finding.group == "app"
    assert finding.message == ("group app can take 10s detection + 3m to start parent group db + 80s to start "
                               "app's applications (their start timeouts) = 270s to take over, more than its rto "
                               "of 4m")


def test_ha604_near_miss():
    assert "HA604" not in codes(run(RTO.replace("RTO", "270s"), 1))


@pytest.mark.parametrize("faults", [1, 2])
def test_examples_findings_are_sorted_and_diagnostics(faults):
    result = run(EXAMPLES / "capacity_dependencies.ha", faults)
    diagnostics = result.diagnostics()
    assert len(diagnostics) == len(result.findings)
    assert all(d.span != (0, 0) for d in diagnostics)


def test_ha301_from_majority_on_two_nodes_suggests_a_tie_breaker():
    text = """
cluster two {
  heartbeat { key_file = "/etc/x.key"  quorum = majority }
  node alpha { }
  node bravo { }
  link hb { type = rs232  alpha = "/dev/ttyS0"  bravo = "/dev/ttyS0" }
  resource_group app { nodes = [alpha, bravo] }
}
"""
    found = [f for f in run(text, 1).findings if f.code == "HA301" and f.scenario == ("node:alpha",)]
    assert found and "tie_breaker" in found[0].hint and "quorum = none" in found[0].hint
    assert "has no quorum" in found[0].message
