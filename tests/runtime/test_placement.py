"""The placement function and the findings computed on a placement, as tables of given/when/then rows."""

from __future__ import annotations

import itertools
from decimal import Decimal
from pathlib import Path

import pytest

from runtime.core.failures import INFERRED_KINDS, all_components
from runtime.core.placement import (
    Move,
    Placement,
    PlacementError,
    Violation,
    address_overloads,
    dependency_violations,
    events,
    fallback_moves,
    make_placement,
    node_load,
    overloaded_nodes,
    place,
    placement_from_json,
    placement_to_json,
    service_address_load,
    startup_placement,
    transition,
)
from tests.runtime.helpers import FOUR_NODE, THREE_NODE, TWO_NODE, spec

TWO = spec(TWO_NODE)
THREE = spec(THREE_NODE)
FOUR = spec(FOUR_NODE)
G = 1 << 30

MIXED = spec("""
cluster mixed {
  heartbeat { quorum = none }
  node n1 { capacity { cpu = 8  memory = 16G } }
  node n2 { capacity { cpu = 4  memory = 32G } }
  node n3 { }
  network net {
    ipat = alias
    adapter n1 en0 boot 10.1.1.11/24 switch s1
    adapter n2 en0 boot 10.1.1.12/24 switch s2
    adapter n3 en0 boot 10.1.1.13/24 switch s3
    service svc 10.1.9.1/24
  }
  link hb { type = disk  device = "/dev/hb"  nodes = [n1, n2, n3] }
  resource_group home  { nodes = [n1, n2, n3]  service_ips = [svc] }
  resource_group first { nodes = [n2, n1, n3]  startup = first_available }
  resource_group all   { nodes = [n1, n2, n3]  startup = all_available  fallover = bring_offline }
  resource_group least { nodes = [n1, n2, n3]  fallover = least_loaded  requires { cpu = 1  memory = 1G } }
  resource_group off   { nodes = [n1, n2]  fallover = bring_offline }
}
""")


def groups(placement: Placement) -> dict:
    return {name: nodes for name, nodes in placement.groups}


# given MIXED and failed components (all at once, from startup), then where each group runs
MIXED_ROWS = [
    ("nothing failed: startup", [],
     {"home": ("n1",), "first": ("n2",), "all": ("n1", "n2", "n3"), "least": ("n1",), "off": ("n1",)}),
    ("home node down", ["node:n1"],
     {"home": ("n2",), "first": ("n2",), "all": ("n2", "n3"), "least": ("n3",), "off": ()}),
    ("home node's switch down: only the group with an address moves", ["switch:s1"],
     {"home": ("n2",), "first": ("n2",), "all": ("n1", "n2", "n3"), "least": ("n1",), "off": ("n1",)}),
    ("two nodes down", ["node:n1", "node:n2"],
     {"home": ("n3",), "first": ("n3",), "all": ("n3",), "least": ("n3",), "off": ()}),
    ("every switch down: no address can be held", ["switch:s1", "switch:s2", "switch:s3"],
     {"home": (), "first": ("n2",), "all": ("n1", "n2", "n3"), "least": ("n1",), "off": ("n1",)}),
    ("everything down", ["node:n1", "node:n2", "node:n3"],
     {"home": (), "first": (), "all": (), "least": (), "off": ()}),
]


@pytest.mark.parametrize("failed, expected", [row[1:] for row in MIXED_ROWS], ids=[row[0] for row in MIXED_ROWS])
def test_place_from_startup(failed, expected):
    assert groups(place(MIXED, failed)) == expected


def test_place_with_nothing_failed_is_the_startup_placement():
    for cluster in (TWO, THREE, FOUR, MIXED):
        assert place(cluster, ()) == startup_placement(cluster)
        assert place(cluster, (), startup_placement(cluster)) == startup_placement(cluster)


# given a cluster text where n1 cannot host `g` at startup (no leg on net_app), then startup puts it here
STARTUP = """
cluster startup {
  node n1 { }
  node n2 { }
  node n3 { }
  network net_admin {
    adapter n1 en0 boot 10.0.0.11/24
    adapter n2 en0 boot 10.0.0.12/24
    adapter n3 en0 boot 10.0.0.13/24
  }
  network net_app {
    adapter n2 en1 boot 10.1.1.12/24
    adapter n3 en1 boot 10.1.1.13/24
    service svc 10.1.9.1/24
  }
  resource_group g { nodes = [%s]  startup = %s  %s }
}
"""
STARTUP_ROWS = [
    ("home_node on a node that cannot host: offline", "n1, n2, n3", "home_node", "service_ips = [svc]", ()),
    ("home_node on a node that can", "n2, n1, n3", "home_node", "service_ips = [svc]", ("n2",)),
    ("first_available skips the node that cannot", "n1, n3, n2", "first_available", "service_ips = [svc]", ("n3",)),
    ("all_available on every node that can", "n1, n2, n3", "all_available", "fallover = bring_offline",
     ("n1", "n2", "n3")),
    ("all_available keeps list order", "n3, n1", "all_available", "fallover = bring_offline", ("n3", "n1")),
]


@pytest.mark.parametrize("nodes, startup, extra, expected", [row[1:] for row in STARTUP_ROWS],
                         ids=[row[0] for row in STARTUP_ROWS])
def test_startup(nodes, startup, extra, expected):
    cluster = spec(STARTUP % (nodes, startup, extra))
    assert startup_placement(cluster).nodes("g") == expected


def test_a_group_offline_at_startup_stays_offline():
    cluster = spec(STARTUP % ("n1, n2, n3", "home_node", "service_ips = [svc]"))
    assert place(cluster, ["node:n3"]).nodes("g") == ()
    assert place(cluster, ["adapter:n1/en0"]).nodes("g") == ()


def test_a_group_offline_in_the_current_placement_stays_offline():
    current = make_placement(TWO, {"app_a": ["alpha"]})
    after = place(TWO, ["node:alpha"], current)
    assert groups(after) == {"app_a": ("bravo",), "app_b": ()}


def test_a_concurrent_group_never_gains_instances():
    current = make_placement(MIXED, {"all": ["n1"], "home": ["n1"]})
    assert place(MIXED, ["node:n1"], current).nodes("all") == ()
    assert place(MIXED, ["node:n2"], current).nodes("all") == ("n1",)


def test_next_priority_may_go_back_up_the_list():
    current = make_placement(MIXED, {"home": ["n3"]})
    assert place(MIXED, ["node:n3"], current).nodes("home") == ("n1",)


LEAST = """
cluster least {
  heartbeat { quorum = none }
  node n1 { }
  node n2 { %s }
  node n3 { %s }
  node n4 { %s }
  link hb { type = disk  device = "/dev/hb"  nodes = [n1, n2, n3, n4] }
  resource_group base { nodes = [n2]  requires { cpu = 1  memory = 1G } }
  resource_group g { nodes = [n1, n2, n3, n4]  fallover = least_loaded  requires { cpu = 1  memory = 1G } }
}
"""
# given the capacities of n2, n3, n4 (base takes 1 cpu and 1G on n2), when n1 fails, then g goes to
LEAST_ROWS = [
    ("most free cpu wins", "capacity { cpu = 6  memory = 8G }", "capacity { cpu = 4  memory = 64G }",
     "capacity { cpu = 2 }", "n2"),
    ("free, not total: base counts on n2", "capacity { cpu = 4  memory = 8G }", "capacity { cpu = 4  memory = 8G }",
     "capacity { cpu = 2  memory = 8G }", "n3"),
    ("memory breaks a cpu tie", "capacity { cpu = 5  memory = 8G }", "capacity { cpu = 4  memory = 16G }",
     "capacity { cpu = 4  memory = 32G }", "n4"),
    ("a missing memory is unlimited", "capacity { cpu = 5  memory = 8G }", "capacity { cpu = 4  memory = 1T }",
     "capacity { cpu = 4 }", "n4"),
    ("a missing capacity is unlimited; ties go by list order", "capacity { cpu = 64  memory = 1T }", "", "", "n3"),
    ("full tie: list order", "capacity { cpu = 5  memory = 9G }", "capacity { cpu = 4  memory = 8G }",
     "capacity { cpu = 4  memory = 8G }", "n2"),
    ("an overloaded node has negative room", "capacity { cpu = 0 }", "capacity { cpu = 0.5 }",
     "capacity { cpu = 0.25 }", "n3"),
]


@pytest.mark.parametrize("n2, n3, n4, target", [row[1:] for row in LEAST_ROWS], ids=[row[0] for row in LEAST_ROWS])
def test_least_loaded(n2, n3, n4, target):
    cluster = spec(LEAST % (n2, n3, n4))
    assert place(cluster, ["node:n1"]).nodes("g") == (target,)


def test_least_loaded_counts_groups_already_moved_in_file_order():
    cluster = spec("""
    cluster order {
      heartbeat { quorum = none }
      node n1 { }
      node n2 { capacity { cpu = 8 } }
      node n3 { capacity { cpu = 6 } }
      link hb { type = disk  device = "/dev/hb"  nodes = [n1, n2, n3] }
      resource_group first  { nodes = [n1, n2]  requires { cpu = 4 } }
      resource_group second { nodes = [n1, n2, n3]  fallover = least_loaded  requires { cpu = 1 } }
      resource_group third  { nodes = [n1, n2, n3]  fallover = least_loaded  requires { cpu = 1 } }
    }
    """)
    # first moves to n2 (4 free); second sees n2 4, n3 6 -> n3; third sees n2 4, n3 5 -> n3
    assert groups(place(cluster, ["node:n1"])) == {"first": ("n2",), "second": ("n3",), "third": ("n3",)}


# ------------------------------------------------------------------ loads


def test_node_load_and_overload():
    placement = make_placement(MIXED, {"least": ["n2"], "all": ["n1", "n2"]})
    assert node_load(MIXED, placement) == {"n1": (Decimal(0), 0), "n2": (Decimal(1), G), "n3": (Decimal(0), 0)}
    assert overloaded_nodes(MIXED, placement) == ()


OVERLOAD = """
cluster load {
  heartbeat { quorum = none }
  node n1 { capacity { %s } }
  node n2 { }
  link hb { type = disk  device = "/dev/hb"  nodes = [n1, n2] }
  resource_group a { nodes = [n1, n2]  requires { cpu = 1.1  memory = 1G } }
  resource_group b { nodes = [n1, n2]  requires { cpu = 2.2  memory = 2G } }
}
"""
# given n1's capacity, with a and b both on n1, then is n1 overloaded?
OVERLOAD_ROWS = [
    ("exactly full (exact decimals)", "cpu = 3.3  memory = 3G", False),
    ("cpu over", "cpu = 3.2", True),
    ("memory over", "cpu = 8  memory = 2G", True),
    ("memory only, enough", "memory = 3G", False),
]


@pytest.mark.parametrize("capacity, over", [row[1:] for row in OVERLOAD_ROWS], ids=[row[0] for row in OVERLOAD_ROWS])
def test_overloaded_nodes(capacity, over):
    cluster = spec(OVERLOAD % capacity)
    placement = make_placement(cluster, {"a": ["n1"], "b": ["n1"]})
    assert overloaded_nodes(cluster, placement) == (("n1",) if over else ())


# given TWO_NODE after failures (from startup), then (addresses held, usable adapters) per node on the replace network
ADDRESS_ROWS = [
    ("startup", [], {("alpha", "net_ether_01"): (1, 2), ("bravo", "net_ether_01"): (1, 2)}, ()),
    ("takeover: two addresses, two adapters", ["node:bravo"], {("alpha", "net_ether_01"): (2, 2)}, ()),
    ("takeover after a swap: two addresses, one adapter", ["adapter:alpha/en0", "node:bravo"],
     {("alpha", "net_ether_01"): (2, 1)}, (("alpha", "net_ether_01"),)),
    ("takeover with the standby switch down", ["switch:sw2", "node:alpha"],
     {("bravo", "net_ether_01"): (2, 1)}, (("bravo", "net_ether_01"),)),
]


@pytest.mark.parametrize("failed, load, over", [row[1:] for row in ADDRESS_ROWS], ids=[row[0] for row in ADDRESS_ROWS])
def test_service_address_load(failed, load, over):
    placement = place(TWO, failed)
    assert service_address_load(TWO, placement, failed) == load
    assert address_overloads(TWO, placement, failed) == over


def test_alias_networks_have_no_address_load():
    assert service_address_load(MIXED, place(MIXED, ["node:n1"]), ["node:n1"]) == {}


# ------------------------------------------------------------------ service addresses on adapters


def test_replace_takeover_goes_to_the_free_standby_and_the_swap_is_sticky():
    after_swap = place(TWO, ["adapter:alpha/en0"])
    assert after_swap.held("alpha", "net_ether_01") == (("app_a_svc", "en1"),)
    takeover = place(TWO, ["adapter:alpha/en0", "node:bravo"], after_swap)
    assert takeover.held("alpha", "net_ether_01") == (("app_a_svc", "en1"), ("app_b_svc", None))
    plain = place(TWO, ["node:bravo"])
    assert plain.held("alpha", "net_ether_01") == (("app_a_svc", "en0"), ("app_b_svc", "en1"))


def test_alias_addresses_share_an_adapter():
    placement = place(MIXED, ["node:n1"])
    assert placement.held("n2", "net") == (("svc", "en0"),)


# ------------------------------------------------------------------ dependencies


DEPS = spec("""
cluster deps {
  heartbeat { quorum = none }
  node alpha { }
  node bravo { }
  link hb { type = rs232  alpha = "/dev/ttyS0"  bravo = "/dev/ttyS0" }
  resource_group db    { nodes = [alpha, bravo] }
  resource_group app   { nodes = [alpha, bravo]  after = [db] }
  resource_group cache { nodes = [alpha, bravo]  same_node_as = [app] }
  resource_group ldap  { nodes = [alpha, bravo]  different_node_from = [db] }
}
""")
# given where the groups run, then the dependencies broken
DEPENDENCY_ROWS = [
    ("all met", {"db": ["alpha"], "app": ["bravo"], "cache": ["bravo"], "ldap": ["bravo"]}, []),
    ("child online, parent offline", {"app": ["alpha"]}, [("after", "app", "db")]),
    ("child offline, parent offline", {}, []),
    ("same_node_as on different nodes", {"db": ["alpha"], "app": ["alpha"], "cache": ["bravo"]},
     [("same_node_as", "cache", "app")]),
    ("same_node_as with the other offline: it may only run where the other runs", {"cache": ["bravo"]},
     [("same_node_as", "cache", "app")]),
    ("same_node_as with itself offline", {"db": ["alpha"], "app": ["alpha"]}, []),
    ("different_node_from on the same node", {"db": ["bravo"], "ldap": ["bravo"]},
     [("different_node_from", "ldap", "db")]),
    ("all three at once", {"app": ["alpha"], "cache": ["bravo"], "ldap": ["bravo"], "db": []},
     [("after", "app", "db"), ("same_node_as", "cache", "app")]),
]


@pytest.mark.parametrize("where, broken", [row[1:] for row in DEPENDENCY_ROWS],
                         ids=[row[0] for row in DEPENDENCY_ROWS])
def test_dependency_violations(where, broken):
    violations = dependency_violations(DEPS, make_placement(DEPS, where))
    assert [tuple(violation) for violation in violations] == broken
    assert all(isinstance(violation, Violation) for violation in violations)


# ------------------------------------------------------------------ fallback


FALLBACK = """
cluster back {
  node n1 { }
  node n2 { }
  node n3 { }
  network net {
    adapter n1 en0 boot 10.1.1.11/24
    adapter n2 en0 boot 10.1.1.12/24
    adapter n3 en0 boot 10.1.1.13/24
  }
  resource_group g { nodes = [n1, n2, n3]  fallback = %s  fallback_delay = 10m }
}
"""
# given g's fallback, where it runs and what has failed, then the moves the runtime should schedule
FALLBACK_ROWS = [
    ("on a later node, home healthy", "higher_priority", "n3", [], [("g", "n3", "n1", 600000)]),
    ("on a later node, home down: to the next", "higher_priority", "n3", ["node:n1"], [("g", "n3", "n2", 600000)]),
    ("already on the best node", "higher_priority", "n2", ["node:n1"], []),
    ("on the home node", "higher_priority", "n1", [], []),
    ("fallback never", "never", "n3", [], []),
]


@pytest.mark.parametrize("fallback, where, failed, moves", [row[1:] for row in FALLBACK_ROWS],
                         ids=[row[0] for row in FALLBACK_ROWS])
def test_fallback_moves(fallback, where, failed, moves):
    cluster = spec(FALLBACK % fallback)
    assert fallback_moves(cluster, make_placement(cluster, {"g": [where]}), failed) == tuple(Move(*m) for m in moves)


# ------------------------------------------------------------------ events


# given TWO_NODE going from one failure set to a larger one, then the events, described
EVENT_ROWS = [
    ("nothing changes", [], [], []),
    ("node down", [], ["node:alpha"], ["node_down alpha", "rg_move app_a alpha -> bravo"]),
    ("boot adapter down: swap", [], ["adapter:alpha/en0"],
     ["adapter_down alpha/en0 on net_ether_01: app_a_svc to en1"]),
    ("standby adapter down: no swap", [], ["adapter:alpha/en1"], ["adapter_down alpha/en1 on net_ether_01"]),
    ("boot switch down: both swap", [], ["switch:sw1"],
     ["adapter_down alpha/en0 on net_ether_01: app_a_svc to en1",
      "adapter_down bravo/en0 on net_ether_01: app_b_svc to en1"]),
    ("last adapter down: network down, group moves", ["adapter:alpha/en0"], ["adapter:alpha/en0", "adapter:alpha/en1"],
     ["adapter_down alpha/en1 on net_ether_01", "network_down net_ether_01 on alpha", "rg_move app_a alpha -> bravo"]),
    ("swap with no adapter left", ["node:bravo"], ["node:bravo", "adapter:alpha/en0"],
     ["adapter_down alpha/en0 on net_ether_01: app_a_svc has no adapter left"]),
    ("split brain", ["link:hb_serial"], ["link:hb_serial", "switch:sw2", "adapter:bravo/en0"],
     ["adapter_down alpha/en1 on net_ether_01", "adapter_down bravo/en0 on net_ether_01",
      "adapter_down bravo/en1 on net_ether_01", "network_down net_ether_01 on bravo", "split_brain alpha | bravo",
      "rg_move app_b bravo -> alpha"]),
    ("repair: node up", ["node:alpha"], [], ["node_up alpha"]),
]


@pytest.mark.parametrize("failed_before, failed_after, described", [row[1:] for row in EVENT_ROWS],
                         ids=[row[0] for row in EVENT_ROWS])
def test_events(failed_before, failed_after, described):
    before = place(TWO, failed_before)
    after = place(TWO, failed_after, before)
    assert [event.describe() for event in events(TWO, before, after, failed_before, failed_after)] == described


def test_concurrent_instances_raise_one_event_per_node():
    before = place(MIXED, [])
    after = place(MIXED, ["node:n1"], before)
    kinds = [(event.kind, event.group, event.node) for event in events(MIXED, before, after, [], ["node:n1"])
             if event.group == "all"]
    assert kinds == [("rg_offline", "all", "n1")]


def test_event_json():
    before = place(TWO, [])
    after = place(TWO, ["adapter:alpha/en0"], before)
    (event,) = events(TWO, before, after, [], ["adapter:alpha/en0"])
    assert event.to_json() == {"kind": "adapter_down", "node": "alpha", "network": "net_ether_01", "adapter": "en0",
                               "swaps": [{"service": "app_a_svc", "adapter": "en1"}]}


# ------------------------------------------------------------------ placements as JSON


def test_placement_json_round_trip():
    placement = place(TWO, ["node:alpha"])
    assert placement_from_json(TWO, placement_to_json(placement), ["node:alpha"]) == placement


BAD_PLACEMENTS = [
    ("not an object", [], "a placement is an object"),
    ("no groups key", {"app_a": ["alpha"]}, "a placement is an object"),
    ("unknown group", {"groups": {"web": ["alpha"]}}, "no group named 'web'"),
    ("unknown node", {"groups": {"app_a": ["charlie"]}}, "group app_a: no node named 'charlie'"),
    ("node not in the list", {"groups": {"ga": ["b2"]}}, "group ga: node b2 is not in its list (a1, a2, b1)"),
    ("two nodes for a non-concurrent group", {"groups": {"app_a": ["alpha", "bravo"]}},
     "group app_a is not concurrent (startup = home_node) but is placed on 2 nodes"),
    ("a string for a list", {"groups": {"app_a": "alpha"}}, "group app_a: expected a list of node names"),
]


@pytest.mark.parametrize("data, message", [row[1:] for row in BAD_PLACEMENTS], ids=[row[0] for row in BAD_PLACEMENTS])
def test_bad_placement(data, message):
    cluster = FOUR if "ga" in str(data) else TWO
    with pytest.raises(PlacementError) as caught:
        placement_from_json(cluster, data)
    assert message in str(caught.value)


# ------------------------------------------------------------------ event by event is the same as all at once


EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.ha"))


def _clusters_without_least_loaded():
    clusters = [("two_node", TWO), ("three_node", THREE), ("four_node", FOUR)]
    clusters += [(path.stem, spec(path.read_text())) for path in EXAMPLES]
    return [(name, cluster) for name, cluster in clusters
            if all(group.fallover != "least_loaded" for group in cluster.groups)]


@pytest.mark.parametrize("name, cluster", _clusters_without_least_loaded(), ids=lambda value: value
                         if isinstance(value, str) else "")
def test_one_failure_after_another_places_as_both_at_once(name, cluster):
    """Failures the carrier shows only ever remove hosts, so without least_loaded their order does not matter."""
    start = startup_placement(cluster)
    shown = [c for c in all_components(cluster) if c.partition(":")[0] not in INFERRED_KINDS]
    for first, second in itertools.permutations(shown, 2):
        stepwise = place(cluster, [first, second], place(cluster, [first], start))
        assert stepwise.groups == place(cluster, [first, second]).groups, (first, second)


def test_with_a_fault_the_carrier_hides_the_order_matters():
    """web runs on n3. leaf1 dies first: web moves to n1's en1. Then n1's en1 port goes silent with its carrier
    up: n1 and n2 cannot tell whose port it is, so n1 keeps web. Both at once: n3 gives web up, and no node can
    take it on an adapter in doubt."""
    start = startup_placement(THREE)
    assert start.nodes("web") == ("n3",)
    stepwise = place(THREE, ["switch:leaf1", "port:n1/en1"], place(THREE, ["switch:leaf1"], start),
                     before=["switch:leaf1"])
    assert stepwise.nodes("web") == ("n1",)
    assert place(THREE, ["switch:leaf1", "port:n1/en1"]).nodes("web") == ()


def test_placement_json_without_addresses_assigns_them_afresh():
    placement = placement_from_json(TWO, {"groups": {"app_a": ["bravo"], "app_b": ["bravo"]}})
    assert placement.held("bravo", "net_ether_01") == (("app_a_svc", "en0"), ("app_b_svc", "en1"))


def test_placement_json_with_bad_addresses():
    with pytest.raises(PlacementError, match="addresses: expected"):
        placement_from_json(TWO, {"groups": {}, "addresses": {"alpha": "en0"}})


def test_adapter_up_says_which_address_comes_to_it():
    """After alpha fails and rejoins, bravo holds both addresses; losing en1 leaves one with no adapter, and
    when en1 comes back that address comes to it."""
    start = startup_placement(TWO)
    down = transition(TWO, start, (), ["node:alpha"]).placement
    back = transition(TWO, down, ["node:alpha"], ()).placement
    cut = transition(TWO, back, (), ["adapter:bravo/en1"]).placement
    assert dict(cut.held("bravo", "net_ether_01")) == {"app_a_svc": None, "app_b_svc": "en0"}
    mended = transition(TWO, cut, ["adapter:bravo/en1"], ()).placement
    described = [event.describe() for event in events(TWO, cut, mended, ["adapter:bravo/en1"], ())]
    assert described == ["adapter_up bravo/en1 on net_ether_01: app_a_svc to en1"]
