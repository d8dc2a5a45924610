"""Component names, and what a set of failures takes down."""

from __future__ import annotations

import pytest

from runtime.core.failures import Component, ComponentError, all_components, expand, parse_component
from tests.runtime.helpers import FOUR_NODE, THREE_NODE, TWO_NODE, spec

TWO = spec(TWO_NODE)
FOUR = spec(FOUR_NODE)
THREE = spec(THREE_NODE)


def test_all_components_two_node():
    assert all_components(TWO) == [
        "node:alpha", "node:bravo",
        "adapter:alpha/en0", "adapter:alpha/en1", "adapter:bravo/en0", "adapter:bravo/en1",
        "switch:sw1", "switch:sw2",
        "link:hb_serial",
        "port:alpha/en0", "port:alpha/en1", "port:bravo/en0", "port:bravo/en1",
        "deaf:alpha/en0", "deaf:alpha/en1", "deaf:bravo/en0", "deaf:bravo/en1",
        "mute:alpha/en0", "mute:alpha/en1", "mute:bravo/en0", "mute:bravo/en1",
        "hung:sw1", "hung:sw2",
    ]


def test_faults_that_keep_the_carrier_up():
    down = expand(TWO, ["port:alpha/en0", "deaf:bravo/en0", "mute:bravo/en1", "hung:sw2"])
    alpha_en0, bravo_en0, bravo_en1 = (TWO.adapter_by_key[key] for key in
                                       (("alpha", "en0"), ("bravo", "en0"), ("bravo", "en1")))
    assert down.inferred and not down.adapters and not down.switches
    assert all(down.usable(adapter) for adapter in TWO.adapters)  # every carrier stays up
    assert not down.sends(alpha_en0) and not down.receives(alpha_en0)
    assert down.sends(bravo_en0) and not down.receives(bravo_en0)
    assert not down.sends(bravo_en1) and not down.receives(bravo_en1)  # mute, and its switch hung
    assert not expand(TWO, ["adapter:alpha/en0"]).inferred


def test_all_components_with_implicit_switches_linkends_and_domains():
    assert all_components(FOUR) == [
        "node:a1", "node:a2", "node:b1", "node:b2",
        "adapter:a1/en0", "adapter:a2/en0", "adapter:b1/en0", "adapter:b2/en0",
        "adapter:a1/en1", "adapter:a2/en1", "adapter:b1/en1", "adapter:b2/en1",
        "switch:core", "switch:net_rack_a", "switch:net_rack_b",
        "link:hb_disk",
        "linkend:a1/hb_disk", "linkend:a2/hb_disk", "linkend:b1/hb_disk", "linkend:b2/hb_disk",
        "domain:rack_a", "domain:rack_b",
        *(f"{kind}:{node}/{ifname}" for kind in ("port", "deaf", "mute")
          for ifname in ("en0", "en1") for node in ("a1", "a2", "b1", "b2")),
        "hung:core", "hung:net_rack_a", "hung:net_rack_b",
    ]


def test_every_listed_component_parses_back_to_itself():
    for cluster in (TWO, FOUR, THREE):
        for name in all_components(cluster):
            assert parse_component(name, cluster).text == name


# given a name, then parse_component gives this Component
GOOD_NAMES = [
    ("node:alpha", Component("node", "alpha")),
    ("  adapter:bravo/en1 ", Component("adapter", "en1", "bravo")),
    ("switch:sw2", Component("switch", "sw2")),
    ("link:hb_serial", Component("link", "hb_serial")),
]


@pytest.mark.parametrize("text, component", GOOD_NAMES, ids=[row[0].strip() for row in GOOD_NAMES])
def test_parse_component(text, component):
    assert parse_component(text, TWO) == component


# given a name on a cluster, then parse_component refuses it saying this
BAD_NAMES = [
    ("no kind", TWO, "alpha", "'alpha' is not a component name: write one of node:NAME"),
    ("unknown kind", TWO, "host:alpha", "'host:alpha' is not a component name"),
    ("empty name", TWO, "node:", "the name after 'node:' is missing"),
    ("misspelt node", TWO, "node:alpah", "no node named 'alpah'; did you mean 'alpha'?"),
    ("adapter without slash", TWO, "adapter:alpha", "write adapter:NODE/IFNAME"),
    ("unknown adapter", TWO, "adapter:alpha/en7", "node alpha has no adapter en7 (its adapters: en0, en1)"),
    ("unknown switch", TWO, "switch:sw9", "no switch named 'sw9'"),
    ("linkend of a serial link", TWO, "linkend:alpha/hb_serial",
     "hb_serial is a point-to-point rs232 link, whose ends fail with it: write link:hb_serial"),
    ("linkend of a node off the disk", spec(THREE_NODE.replace("nodes = [n1, n2, n3]", "nodes = [n1, n2]")),
     "linkend:n3/hb_disk", "node n3 is not on disk link hb_disk"),
    ("unknown domain", TWO, "domain:rack_a", "no failure domain named 'rack_a' (the cluster has no failure domain)"),
    ("unknown link", FOUR, "link:hb_serial", "no link named 'hb_serial'"),
]


@pytest.mark.parametrize("cluster, text, message", [row[1:] for row in BAD_NAMES], ids=[row[0] for row in BAD_NAMES])
def test_parse_component_refuses(cluster, text, message):
    with pytest.raises(ComponentError) as caught:
        parse_component(text, cluster)
    assert message in str(caught.value)


# given failed components, then these nodes, adapters, switches, links and linkends are down
EXPANSIONS = [
    ("nothing", TWO, [], set(), set(), set(), set(), set()),
    ("a node takes its adapters", TWO, ["node:alpha"], {"alpha"}, {("alpha", "en0"), ("alpha", "en1")},
     set(), set(), set()),
    ("an adapter alone", TWO, ["adapter:bravo/en0"], set(), {("bravo", "en0")}, set(), set(), set()),
    ("a switch leaves its adapters up", TWO, ["switch:sw1"], set(), set(), {"sw1"}, set(), set()),
    ("a serial link", TWO, ["link:hb_serial"], set(), set(), set(), {"hb_serial"}, set()),
    ("a domain takes its nodes and their disk ends", FOUR, ["domain:rack_b"], {"b1", "b2"},
     {("b1", "en0"), ("b1", "en1"), ("b2", "en0"), ("b2", "en1")}, set(), set(),
     {("b1", "hb_disk"), ("b2", "hb_disk")}),
    ("a linkend alone", FOUR, ["linkend:a2/hb_disk"], set(), set(), set(), set(), {("a2", "hb_disk")}),
    ("an implicit switch", FOUR, ["switch:net_rack_a"], set(), set(), {"net_rack_a"}, set(), set()),
]


@pytest.mark.parametrize("cluster, failed, nodes, adapters, switches, links, linkends",
                         [row[1:] for row in EXPANSIONS], ids=[row[0] for row in EXPANSIONS])
def test_expand(cluster, failed, nodes, adapters, switches, links, linkends):
    down = expand(cluster, failed)
    assert down.failed == frozenset(failed)
    assert (set(down.nodes), set(down.adapters), set(down.switches), set(down.links), set(down.linkends)) == (
        nodes, adapters, switches, links, linkends)


def test_usable_needs_adapter_node_and_switch():
    en0 = TWO.adapter_by_key[("alpha", "en0")]
    assert expand(TWO, []).usable(en0)
    assert not expand(TWO, ["adapter:alpha/en0"]).usable(en0)
    assert not expand(TWO, ["node:alpha"]).usable(en0)
    assert not expand(TWO, ["switch:sw1"]).usable(en0)
    assert expand(TWO, ["switch:sw2"]).usable(en0)


def test_expand_refuses_unknown_components():
    with pytest.raises(ComponentError):
        expand(TWO, ["node:charlie"])


def test_canonical_order_follows_all_components():
    from runtime.core.failures import canonical_order

    assert canonical_order(FOUR, ["domain:rack_a", "switch:core", "node:b2", "linkend:a1/hb_disk"]) == (
        "node:b2", "switch:core", "linkend:a1/hb_disk", "domain:rack_a")
