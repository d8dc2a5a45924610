"""load_snapshot: the bundle's snapshot.json read back, strictly."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path

import pytest

from runtime.core.snapshot import SnapshotError, load_snapshot
from tests.runtime.helpers import FOUR_NODE, TWO_NODE, snapshot_json, spec

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.ha"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.stem)
def test_every_example_loads(path: Path):
    data = snapshot_json(path.read_text())
    cluster = load_snapshot(json.loads(json.dumps(data)))
    assert cluster.name == data["name"]
    assert [node.name for node in cluster.nodes] == [node["name"] for node in data["nodes"]]
    assert len(cluster.adapters) == sum(len(network["adapters"]) for network in data["networks"])


def test_indexes_and_subnets():
    cluster = spec(TWO_NODE)
    assert cluster.node_names == ("alpha", "bravo")
    assert cluster.switches == ("sw1", "sw2")
    en1 = cluster.adapter_by_key[("alpha", "en1")]
    assert (en1.network, en1.role, en1.switch, en1.label) == ("net_ether_01", "standby", "sw2", "alpha/en1")
    assert en1.subnet == (4, int.from_bytes(bytes([10, 10, 2, 0]), "big"), 24)
    assert cluster.service("app_b_svc").network == "net_ether_01"
    assert cluster.service("app_b_svc").subnet == cluster.adapter_by_key[("bravo", "en0")].subnet
    assert [adapter.ifname for adapter in cluster.adapters_by_node["bravo"]] == ["en0", "en1"]
    assert cluster.link("hb_serial").point_to_point


def test_implicit_switches_and_domains_in_order_of_appearance():
    cluster = spec(FOUR_NODE)
    assert cluster.switches == ("core", "net_rack_a", "net_rack_b")
    assert cluster.domains == ("rack_a", "rack_b")
    assert cluster.domain_nodes["rack_b"] == ("b1", "b2")
    assert cluster.link("hb_disk").nodes == ("a1", "a2", "b1", "b2")


def test_link_nodes_follow_the_file_node_order_not_the_json_key_order():
    data = snapshot_json(FOUR_NODE)
    data["links"][0]["devices"] = dict(reversed(list(data["links"][0]["devices"].items())))
    assert load_snapshot(data).link("hb_disk").nodes == ("a1", "a2", "b1", "b2")


def test_cpu_is_exact():
    data = snapshot_json(TWO_NODE)
    data["groups"][0]["requires"]["cpu"] = 1.1
    data["nodes"][0]["capacity"] = {"cpu": 2.2, "memory": None}
    cluster = load_snapshot(data)
    assert cluster.group("app_a").requires.cpu == Decimal("1.1")
    assert cluster.node("alpha").capacity.cpu == Decimal("2.2")


def test_ping_targets_are_read_and_may_be_absent():
    data = snapshot_json(TWO_NODE)
    assert "ping_targets" not in data["networks"][0]
    assert spec(TWO_NODE).network("net_ether_01").ping_targets == ()
    with_targets = TWO_NODE.replace("ipat = replace", "ipat = replace\n    ping_targets = [10.10.1.254, 10.10.2.254]")
    data = snapshot_json(with_targets)
    assert data["networks"][0]["ping_targets"] == ["10.10.1.254", "10.10.2.254"]
    assert load_snapshot(data).network("net_ether_01").ping_targets == ("10.10.1.254", "10.10.2.254")


def _set(path, value):
    def change(data):
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return change


def _delete(path):
    def change(data):
        target = data
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]
    return change


# given the TWO_NODE snapshot, when this change is made, then load_snapshot says this
BAD_SNAPSHOTS = [
    ("not an object", lambda data: data.clear() or data.update({"x": 1}), "missing keys"),
    ("unknown top key", _set(("extra",), 1), "unknown key 'extra'"),
    ("missing top key", _delete(("groups",)), "missing key 'groups'"),
    ("other format", _set(("format",), 2), "format: this runtime reads snapshot format 1, not 2"),
    ("unknown node key", _set(("nodes", 0, "weight"), 3), "nodes[0]: unknown key 'weight'"),
    ("missing adapter key", _delete(("networks", 0, "adapters", 1, "switch")),
     "networks[0].adapters[1]: missing key 'switch'"),
    ("bad role", _set(("networks", 0, "adapters", 1, "role"), "spare"),
     "networks[0].adapters[1].role: 'spare' is not one of boot, standby"),
    ("bad address", _set(("networks", 0, "adapters", 0, "address"), "10.10.1.999"),
     "networks[0].adapters[0].address: '10.10.1.999' is not an IP address"),
    ("prefix too long", _set(("networks", 0, "adapters", 0, "prefix"), 33),
     "networks[0].adapters[0].prefix: /33 is too long for IPv4"),
    ("prefix as text", _set(("networks", 0, "adapters", 0, "prefix"), "24"),
     "networks[0].adapters[0].prefix: expected an integer, got the string '24'"),
    ("boolean port", _set(("heartbeat", "port"), True), "heartbeat.port: expected an integer, got a boolean"),
    ("bad quorum", _set(("heartbeat", "quorum"), "most"), "heartbeat.quorum: 'most' is not one of majority, none"),
    ("dangling tie-breaker", _set(("heartbeat", "tie_breaker"), "hb_disk"),
     "heartbeat.tie_breaker: names no link 'hb_disk'"),
    ("adapter of no node", _set(("networks", 0, "adapters", 0, "node"), "charlie"),
     "networks[0].adapters[0].node: names no node 'charlie'"),
    ("group on no node", _set(("groups", 0, "nodes"), ["alpha", "charlie"]),
     "groups[0].nodes[1]: names no node 'charlie'"),
    ("group names a node twice", _set(("groups", 0, "nodes"), ["alpha", "alpha"]),
     "groups[0].nodes: name 'alpha' is listed twice"),
    ("unknown service", _set(("groups", 1, "service_ips"), ["web_svc"]),
     "groups[1].service_ips[0]: names no service label 'web_svc'"),
    ("unknown parent", _set(("groups", 1, "after"), ["db"]), "groups[1].after[0]: names no group 'db'"),
    ("node twice", lambda data: data["nodes"].append(copy.deepcopy(data["nodes"][0])),
     "nodes: node 'alpha' is defined twice"),
    ("adapter twice", lambda data: data["networks"][0]["adapters"].append(
        copy.deepcopy(data["networks"][0]["adapters"][0])), "networks: adapter 'alpha/en0' is defined twice"),
    ("negative cpu", _set(("groups", 0, "requires", "cpu"), -1), "groups[0].requires.cpu: -1 is not a number"),
    ("link device of no node", _set(("links", 0, "devices", "charlie"), "/dev/ttyS1"),
     "links[0].devices: names no node 'charlie'"),
    ("bad link type", _set(("links", 0, "type"), "usb"), "links[0].type: 'usb' is not one of"),
    ("list expected", _set(("nodes",), {}), "nodes: expected a list, got an object"),
    ("ping targets not a list", _set(("networks", 0, "ping_targets"), "10.10.1.254"),
     "networks[0].ping_targets: expected a list, got the string '10.10.1.254'"),
    ("ping target with a prefix", _set(("networks", 0, "ping_targets"), ["10.10.1.254/24"]),
     "networks[0].ping_targets[0]: '10.10.1.254/24' is not an IP address"),
    ("ping target as a number", _set(("networks", 0, "ping_targets"), [10]),
     "networks[0].ping_targets[0]: expected an address, got the number 10"),
    ("ping target twice", _set(("networks", 0, "ping_targets"), ["10.10.1.254", "10.10.1.254"]),
     "networks[0].ping_targets: address '10.10.1.254' is listed twice"),
]


@pytest.mark.parametrize("change, message", [row[1:] for row in BAD_SNAPSHOTS], ids=[row[0] for row in BAD_SNAPSHOTS])
def test_bad_snapshot_is_refused_with_its_path(change, message):
    data = snapshot_json(TWO_NODE)
    change(data)
    with pytest.raises(SnapshotError) as caught:
        load_snapshot(data)
    assert message in str(caught.value)


def test_not_a_dict_at_all():
    with pytest.raises(SnapshotError, match="snapshot: expected an object, got a list"):
        load_snapshot([])


def test_specs_are_frozen_and_comparable():
    first, second = spec(TWO_NODE), spec(TWO_NODE)
    assert first == second
    with pytest.raises(AttributeError):
        first.name = "other"  # type: ignore[misc]
