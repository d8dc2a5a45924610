"""Per-node plans: adapters, the heartbeat paths a node sends and expects, the groups it may host."""

from halang.compile import read_bundle
from halang.compile.plans import plan_nodes
from halang.diagnostics import SourceText
from halang.verify import verify_source

from .conftest import EXAMPLES


def plans_of(name: str) -> dict:
    path = EXAMPLES / name
    return plan_nodes(verify_source(SourceText(path.read_text(), str(path))).cluster)


def summary(path: dict) -> tuple:
    if path["type"] == "ip":
        return (path["peer"], "ip", f"{path['ifname']}<->{path['peer_ifname']}", path["subnet"],
                path["peer_address"], path["port"])
    return (path["peer"], path["type"], path["link"], path["device"], path["peer_device"])


def test_two_node_plan_lists_both_subnets_and_the_serial_line(two_node_bundle):
    alpha = read_bundle(two_node_bundle).plan("alpha")
    assert [summary(path) for path in alpha["paths"]] == [
        ("bravo", "ip", "en0<->en0", "10.10.1.0/24", "10.10.1.12", 7400),
        ("bravo", "ip", "en1<->en1", "10.10.2.0/24", "10.10.2.12", 7400),
        ("bravo", "rs232", "hb_serial", "/dev/ttyS1", "/dev/ttyS1"),
    ]
    assert [path["address"] for path in alpha["paths"] if path["type"] == "ip"] == ["10.10.1.11", "10.10.2.11"]


def test_both_ends_name_a_path_alike():
    plans = plans_of("two_node_replace.ha")
    assert [path["id"] for path in plans["alpha"]["paths"]] == [path["id"] for path in plans["bravo"]["paths"]] == [
        "net_ether_01:alpha/en0-bravo/en0", "net_ether_01:alpha/en1-bravo/en1", "hb_serial:alpha-bravo"]


def test_adapters_and_groups_with_priority_positions():
    alpha = plans_of("two_node_replace.ha")["alpha"]
    adapters = [(a["ifname"], a["role"], a["address"], a["prefix"], a["subnet"], a["switch"]) for a in alpha["adapters"]]
    assert adapters == [
        ("en0", "boot", "10.10.1.11", 24, "10.10.1.0/24", "sw1"),
        ("en1", "standby", "10.10.2.11", 24, "10.10.2.0/24", "sw2"),
    ]
    assert [(g["group"], g["position"], g["home"], g["nodes"]) for g in alpha["groups"]] == [
        ("ledger", 1, True, ["alpha", "bravo"]),
        ("gateway", 2, False, ["bravo", "alpha"]),
    ]
    [ledger_ip] = alpha["groups"][0]["service_ips"]
    assert ledger_ip == {"label": "ledger_svc", "address": "10.10.1.100", "prefix": 24, "network": "net_ether_01",
                         "ipat": "replace", "ifnames": ["en0", "en1"]}
    assert alpha["heartbeat"] == {"interval_ms": 500, "miss_limit": 4, "detection_ms": 2000, "port": 7400,
                                  "key_file": "/etc/halang/payments.key", "quorum": "none", "tie_breaker": None}
    assert alpha["events"] == {
        "node_down": {"wrapper": "events/node_down.sh", "arguments": ["NODE"]},
        "adapter_down": {"wrapper": "events/adapter_down.sh", "arguments": ["NODE", "NETWORK", "IFNAME"]},
    }


def test_a_disk_link_gives_each_node_its_slot_in_file_order():
    plans = plans_of("three_node_quorum.ha")
    disk = [path for path in plans["wh2"]["paths"] if path["type"] == "disk"]
    assert [(p["peer"], p["device"], p["slot"], p["peer_slot"]) for p in disk] == [
        ("wh1", "/dev/hdisk9", 1, 0), ("wh3", "/dev/hdisk9", 1, 2)]
    ip_peers = [(p["peer"], p["network"], p["ifname"]) for p in plans["wh2"]["paths"] if p["type"] == "ip"]
    assert ip_peers == [("wh1", "net_public", "en0"), ("wh1", "net_public", "en1"), ("wh1", "net_backup", "en2"),
                        ("wh3", "net_public", "en0"), ("wh3", "net_public", "en1"), ("wh3", "net_backup", "en2")]


def test_every_example_plans_symmetric_paths():
    """What one node sends on, its peer expects: every path appears once at each end."""
    for example in sorted(EXAMPLES.glob("*.ha")):
        plans = plans_of(example.name)
        seen = {}
        for node, plan in plans.items():
            for path in plan["paths"]:
                seen.setdefault(path["id"], []).append(node)
        assert all(len(ends) == 2 and ends[0] != ends[1] for ends in seen.values()), example.name


def test_only_adapters_on_the_same_subnet_pair_up():
    text = """cluster c {
      heartbeat { key_file = "/k" }
      node a { }
      node b { }
      network n {
        ipat = alias
        adapter a e0 boot 10.1.1.1/24
        adapter a e1 boot 10.1.2.1/24
        adapter b e0 boot 10.1.1.2/24
        adapter b e1 boot 10.1.3.2/24
      }
    }
    """
    cluster = verify_source(SourceText(text, "c.ha")).cluster
    plans = plan_nodes(cluster)
    assert [(p["ifname"], p["peer_ifname"]) for p in plans["a"]["paths"]] == [("e0", "e0")]
    assert [(p["ifname"], p["peer_ifname"]) for p in plans["b"]["paths"]] == [("e0", "e0")]
