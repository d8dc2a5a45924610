"""The node engine on real namespaces: the compiled bundle's daemon on every node of a lab, failed for real.

Every scenario watches, from the first start to the end, which node namespaces hold each service address
(polling every 50 ms) and fails if an address is ever on two nodes that can hear each other, or (under
`quorum = majority`) on two nodes at all; and it asks the client namespace what answers.
"""

from __future__ import annotations

import sys
import time

import pytest

from runtime.core.placement import place
from tests.lab.cluster import Cluster, settled  # noqa: F401  (Cluster: other tests import it from here)
from tests.lab.conftest import IPV6, THREE_NODE, TWO_NODE

pytestmark = pytest.mark.root


def isolating(spec, node: str) -> list[str]:
    """The failures that cut a node off from every other on every path, leaving it running."""
    cut = [f"adapter:{node}/{adapter.ifname}" for adapter in spec.adapters_by_node[node]]
    cut += [f"linkend:{node}/{link.name}" for link in spec.links if link.disk and node in link.nodes]
    return cut + [f"link:{link.name}" for link in spec.links if not link.disk and node in link.nodes]


def test_startup_puts_every_address_where_the_placement_says(running):
    cluster = running(TWO_NODE)
    settled(cluster)
    assert cluster.answers("ledger_svc", "net_ether_01") and cluster.answers("gateway_svc", "net_ether_01")
    assert not cluster.violations


def test_node_death_moves_the_address_to_the_next_node(running):
    cluster = running(TWO_NODE)
    settled(cluster)
    cluster.kill("alpha")
    cluster.lab.fail("node:alpha")
    expected = cluster.expected(place(cluster.spec, ["node:alpha"]))
    assert cluster.wait_for(expected, within=2 * cluster.detection_s + 5) == expected
    assert cluster.answers("ledger_svc", "net_ether_01")
    assert not cluster.violations, cluster.violations
    assert any(record.get("event") == "node_down" for record in cluster.log("bravo"))


def test_an_adapter_failure_swaps_the_address_and_moves_no_group(running):
    cluster = running(TWO_NODE)
    settled(cluster)
    cluster.lab.fail("adapter:alpha/en0")
    time.sleep(cluster.detection_s + 2)
    assert cluster.holders() == cluster.expected(place(cluster.spec, ["adapter:alpha/en0"]))
    assert cluster.answers("ledger_svc", "net_ether_01")
    assert not cluster.violations, cluster.violations


def test_the_ip_network_cut_with_the_serial_line_alive_takes_nothing_over(running):
    cluster = running(TWO_NODE)
    settled(cluster)
    cluster.lab.fail("switch:sw1", "switch:sw2")
    time.sleep(2 * cluster.detection_s + 2)
    assert not cluster.violations, cluster.violations
    logged = [record["event"] for node in ("alpha", "bravo") for record in cluster.log(node)]
    assert "network_down" in logged and "node_down" not in logged


def test_a_node_cut_off_from_the_majority_releases_and_the_majority_takes_over(running):
    cluster = running(THREE_NODE)
    settled(cluster)
    cut = isolating(cluster.spec, "wh1")
    cluster.lab.fail(*cut)
    expected = cluster.expected(place(cluster.spec, cut))
    assert cluster.wait_for(expected, within=2 * cluster.detection_s + 5) == expected
    assert not cluster.violations, cluster.violations


def test_a_daemon_restarted_on_the_owner_leaves_no_double_owner(running):
    cluster = running(TWO_NODE)
    before = settled(cluster)
    cluster.kill("alpha")
    cluster.start("alpha")
    time.sleep(2 * cluster.detection_s + 2)
    holders = cluster.holders()
    assert all(len(nodes) <= 1 for nodes in holders.values()), holders
    assert set(holders["gateway_svc"]) == set(before["gateway_svc"])
    assert not cluster.violations, cluster.violations


def test_forged_and_replayed_heartbeats_are_counted_and_change_nothing(running):
    cluster = running(TWO_NODE)
    before = settled(cluster)
    client = cluster.lab.client("net_ether_01")
    port = cluster.spec.heartbeat.port
    rogue = (
        "import socket, time\n"
        "r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); r.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
        f"r.bind(('', {port})); r.settimeout(5); real = r.recv(65536)\n"
        "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)\n"
        "for i in range(20):\n"
        f"    s.sendto(b'HLG1' + bytes(60), ('10.10.1.255', {port}))\n"
        f"    s.sendto(real[:-1] + bytes([real[-1] ^ 1]), ('10.10.1.255', {port}))\n"
        f"    s.sendto(real, ('10.10.1.255', {port}))\n"
        "    time.sleep(0.02)\n")
    done = cluster.lab.exec(client.netns, [sys.executable, "-c", rogue], timeout=30)
    assert done.returncode == 0, done.stderr
    time.sleep(1)
    drops = [record["drops"] for node in ("alpha", "bravo") for record in cluster.log(node) if "drops" in record]
    assert drops and (max(d["forged"] for d in drops) > 0 or max(d["malformed"] for d in drops) > 0)
    assert max(d["replayed"] for d in drops) > 0
    assert cluster.holders() == before
    assert not cluster.violations, cluster.violations


TIE_BREAKER = """
cluster tied {
  heartbeat { interval = 200ms  miss_limit = 4  key_file = "/etc/halang/tied.key"  tie_breaker = hb_disk }
  node alpha { }
  node bravo { }
  network lan {
    ipat = alias
    adapter alpha en0 boot 10.30.1.11/24 switch sw1
    adapter alpha en1 boot 10.30.2.11/24 switch sw2
    adapter bravo en0 boot 10.30.1.12/24 switch sw1
    adapter bravo en1 boot 10.30.2.12/24 switch sw2
    service web_svc 10.30.9.10/24
  }
  link hb_disk { type = disk  device = "/dev/mapper/hb"  nodes = [alpha, bravo] }
  resource_group web { nodes = [bravo, alpha]  service_ips = [web_svc] }
}
"""


def test_the_node_holding_the_tie_breaker_disk_takes_the_group(running, tmp_path):
    """bravo is cut off from alpha on both adapters and loses its connection to the disk: each side holds half
    the nodes; alpha, which reaches the tie-breaker, has quorum and takes the group; bravo releases it."""
    path = tmp_path / "tied.ha"
    path.write_text(TIE_BREAKER)
    cluster = running(path)
    assert settled(cluster) == {"web_svc": ["bravo"]}
    cut = ["adapter:bravo/en0", "adapter:bravo/en1", "linkend:bravo/hb_disk"]
    cluster.lab.fail(*cut)
    expected = cluster.expected(place(cluster.spec, cut))
    assert expected == {"web_svc": ["alpha"]}
    assert cluster.wait_for(expected, within=2 * cluster.detection_s + 5) == expected
    assert not cluster.violations, cluster.violations


def test_when_a_partition_heals_the_owners_announce_again_and_the_client_is_not_left_dark(running):
    """wh1 is cut off from the majority, which takes its group; when the cut heals, the owners announce their
    addresses again (wh1's neighbours may still have wh1's MAC for them) and every service address answers
    the client with no gap over 1 s."""
    cluster = running(THREE_NODE)
    settled(cluster)
    cut = isolating(cluster.spec, "wh1")
    cluster.lab.fail(*cut)
    expected = cluster.expected(place(cluster.spec, cut))
    assert cluster.wait_for(expected, within=2 * cluster.detection_s + 5) == expected
    cluster.lab.heal(*cut)
    healed = time.monotonic()
    labels = [label for label, nodes in expected.items() if nodes]
    dark = {label: 0.0 for label in labels}
    last = {label: healed for label in labels}
    while time.monotonic() - healed < 2 * cluster.detection_s + 3:
        for label in labels:
            if cluster.answers(label, "net_public", wait=0.2):  # a probe every 0.2 s at most
                dark[label] = max(dark[label], time.monotonic() - last[label])
                last[label] = time.monotonic()
    dark = {label: max(gap, time.monotonic() - last[label]) for label, gap in dark.items()}
    assert all(gap <= 1.0 for gap in dark.values()), dark
    assert cluster.running_holders() == expected, "nothing moves back: fallback = never"
    announced = [record for node in cluster.spec.node_names for record in cluster.log(node)
                 if any(action[0] == "Announce" for action in record.get("actions", ()))]
    assert announced
    assert not cluster.violations, cluster.violations


def test_a_switch_failure_with_a_second_switch_swaps_addresses_and_moves_no_group(running):
    """sw1 carries both boot adapters: each node's service address swaps to its standby adapter on sw2, and every
    group stays where it runs."""
    cluster = running(TWO_NODE)
    before = settled(cluster)
    cluster.lab.fail("switch:sw1")
    expected = cluster.expected(place(cluster.spec, ["switch:sw1"]))
    assert expected == before
    time.sleep(cluster.detection_s + 2)
    assert cluster.running_holders() == expected
    assert cluster.answers("ledger_svc", "net_ether_01") and cluster.answers("gateway_svc", "net_ether_01")
    moved = [record for node in cluster.spec.node_names for record in cluster.log(node)
             if record.get("event") == "rg_move"]
    assert not moved, moved
    cluster.lab.heal("switch:sw1")
    time.sleep(cluster.detection_s + 2)
    assert cluster.running_holders() == before
    assert cluster.answers("ledger_svc", "net_ether_01") and cluster.answers("gateway_svc", "net_ether_01")
    trusted = [record for record in cluster.log("alpha") if ["RouteAround", []] in record.get("actions", ())]
    assert trusted, "en0 is routed through again once the switch is back"
    assert not cluster.violations, cluster.violations


FAST_TWO_NODE = """
cluster fast {
  heartbeat { interval = 100ms  miss_limit = 3  key_file = "/etc/halang/fast.key" }
  node alpha { }
  node bravo { }
  network lan {
    ipat = replace
    adapter alpha en0 boot    10.40.1.11/24 switch sw1
    adapter alpha en1 standby 10.40.2.11/24 switch sw2
    adapter bravo en0 boot    10.40.1.12/24 switch sw1
    adapter bravo en1 standby 10.40.2.12/24 switch sw2
    service ledger_svc  10.40.1.100
    service gateway_svc 10.40.1.101
  }
  link hb_serial { type = rs232  alpha = "/dev/ttyS1"  bravo = "/dev/ttyS1" }
  resource_group ledger { nodes = [alpha, bravo]  service_ips = [ledger_svc] }
  resource_group gateway { nodes = [bravo, alpha]  service_ips = [gateway_svc] }
}
"""

IP_CUTS = 30


def test_thirty_cuts_of_the_whole_ip_network_with_the_serial_line_alive_never_make_two_owners(running, tmp_path):
    """The LAN (both switches) is cut and healed 30 times at a 300 ms detection time while the serial line
    stays up: the nodes still hear each other, so nothing is taken over and no address is ever on both nodes
    (keepalived, which has no non-IP path, ends every such run with the address on both). With no adapter
    left on the network no node can host the groups (the decision core takes them offline, and `verify`
    reports it); when the LAN is back they come online where they were."""
    path = tmp_path / "fast.ha"
    path.write_text(FAST_TWO_NODE)
    cluster = running(path)
    before = settled(cluster)
    cut = ["switch:sw1", "switch:sw2"]
    during = cluster.expected(place(cluster.spec, cut))
    within = 2 * cluster.detection_s + 5
    for run in range(1, IP_CUTS + 1):
        # Each change is left to settle, detection and agreement, before the next: a heal in the middle of
        # the detection can be seen by one node before the other, and is then a different sequence of events.
        cluster.lab.fail(*cut)
        assert cluster.wait_for(during, within) == during, f"run {run}, cut"
        assert logged(cluster, "network_down", run, within), f"run {run}: network_down on both nodes"
        time.sleep(cluster.detection_s)
        cluster.lab.heal(*cut)
        assert cluster.wait_for(before, within) == before, f"run {run}, healed"
        assert logged(cluster, "network_up", run, within), f"run {run}: network_up on both nodes"
        time.sleep(cluster.detection_s)
    double = [(at, holders) for at, holders in cluster.seen if any(len(nodes) > 1 for nodes in holders.values())]
    assert not double, double[:3]
    assert not cluster.violations, cluster.violations
    events = [record["event"] for node in cluster.spec.node_names for record in cluster.log(node)]
    assert "node_down" not in events


def logged(cluster: Cluster, event: str, count: int, within: float) -> bool:
    """Whether every node's event log holds `count` records of `event` about itself ("... on NODE"), waiting up
    to `within` s."""
    deadline = time.monotonic() + within
    while True:
        found = min(sum(record.get("event") == event and record.get("text", "").endswith(f" on {node}")
                        for record in cluster.log(node)) for node in cluster.spec.node_names)
        if found >= count or time.monotonic() > deadline:
            return found >= count
        time.sleep(0.1)


def test_on_ipv6_a_dead_nodes_addresses_answer_from_the_next_node(running):
    """The IPv6 example (alias, three nodes, serial and SCSI links): oak dies; its addresses come up on the next
    node of each group's list, announced by unsolicited neighbour advertisements, and the client reaches them."""
    cluster = running(IPV6)
    before = settled(cluster)
    held = [label for label, nodes in before.items() if nodes == ["oak"]]
    assert held, before
    cluster.kill("oak")
    cluster.lab.fail("node:oak")
    expected = cluster.expected(place(cluster.spec, ["node:oak"]))
    assert cluster.wait_for(expected, within=2 * cluster.detection_s + 5) == expected
    for label in held:
        assert cluster.answers(label, "net_front6"), label
    assert not cluster.violations, cluster.violations
