"""Labs of the examples on real namespaces: addresses, pings on every subnet, the client, ptys, the disk file."""

import ipaddress
import json
import os
import sys
from itertools import combinations

import pytest

from .conftest import IPV6, THREE_NODE, TWO_NODE, open_tty, read_for

pytestmark = pytest.mark.root

EXAMPLES = [TWO_NODE, THREE_NODE, IPV6]


def addresses_in(lab, netns, ifname):
    done = lab.exec(netns, ["ip", "-j", "address", "show", "dev", ifname], check=True)
    return {f"{item['local']}/{item['prefixlen']}" for entry in json.loads(done.stdout)
            for item in entry["addr_info"] if item.get("scope") == "global"}


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_adapter_has_its_address_in_its_nodes_namespace(lab_factory, path):
    lab = lab_factory(path)
    for adapter in lab.plan.adapters:
        assert addresses_in(lab, lab.netns(adapter.node), adapter.ifname) == {
            str(ipaddress.ip_interface(adapter.address))}
    for node in lab.plan.nodes:  # nothing but the node's own adapters (and lo)
        done = lab.exec(node.netns, ["ip", "-j", "link", "show"], check=True)
        assert {link["ifname"] for link in json.loads(done.stdout)} == {
            "lo", *(a.ifname for a in lab.plan.adapters_of(node.name))}


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_nodes_on_one_subnet_reach_each_other_over_each_adapter(lab_factory, path):
    lab = lab_factory(path)
    subnets = {}
    for adapter in lab.plan.adapters:
        subnets.setdefault(ipaddress.ip_interface(adapter.address).network, []).append(adapter)
    pairs = 0
    for adapters in subnets.values():
        for one, other in combinations(adapters, 2):
            assert lab.ping(lab.netns(one.node), other.ip, one.ifname), f"{one.label} -> {other.label}"
            assert lab.ping(lab.netns(other.node), one.ip, other.ifname), f"{other.label} -> {one.label}"
            pairs += 1
    assert pairs == {TWO_NODE: 2, THREE_NODE: 9, IPV6: 6}[path]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_the_client_reaches_every_boot_address_of_its_network(lab_factory, path):
    lab = lab_factory(path)
    for network in lab.spec.networks:
        client = lab.client(network.name)
        for address in client.addresses:  # its own addresses sit in the boot subnets, outside the file's
            assert ipaddress.ip_interface(address).ip not in {ipaddress.ip_address(a.address) for a in lab.spec.adapters}
        assert addresses_in(lab, client.netns, client.ifname) == set(client.addresses)
        for adapter in network.adapters:
            if adapter.role == "boot":
                assert lab.ping(client.netns, adapter.address), f"client of {network.name} -> {adapter.label}"


def test_the_alias_client_routes_the_service_subnets_on_its_link(lab_factory):
    lab = lab_factory(IPV6)
    client = lab.client("net_front6")
    done = lab.exec(client.netns, ["ip", "-6", "route", "show", "dev", client.ifname], check=True)
    for route in ("fd12:3456:789a:101::/64", "fd12:3456:789a:102::/64", "fd12:3456:789a:153::/64"):
        assert route in done.stdout


@pytest.mark.parametrize("path", [TWO_NODE, IPV6], ids=lambda p: p.stem)
def test_each_serial_link_is_a_pty_pair_forwarding_both_ways(lab_factory, path):
    lab = lab_factory(path)
    assert lab.plan.serials
    for serial in lab.plan.serials:
        first, second = (serial.paths[node] for node in serial.nodes)
        assert os.path.realpath(first).startswith("/dev/pts/") and os.path.realpath(second) != os.path.realpath(first)
        a, b = open_tty(first), open_tty(second)
        try:
            os.write(a, b"beat from " + serial.nodes[0].encode())
            assert read_for(b, 2, want=10 + len(serial.nodes[0])) == b"beat from " + serial.nodes[0].encode()
            payload = bytes(range(256))  # raw: every byte value passes, nothing is echoed or translated
            os.write(b, payload)
            assert read_for(a, 2, want=256) == payload
            assert read_for(b, 0.2) == b""  # no echo
        finally:
            os.close(a)
            os.close(b)
    for node in lab.plan.nodes:
        with open(lab.devices_file(node.name)) as handle:
            assert json.load(handle)["devices"] == lab.devices(node.name)


WRITE_SLOT = """
import os, sys
path, slot, text = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode()
fd = os.open(path, os.O_RDWR)
os.pwrite(fd, text.ljust(64, b"\\0"), slot * 512)
os.fsync(fd)
os.close(fd)
"""


def test_the_disk_file_is_shared_and_writable_from_every_nodes_namespace(lab_factory):
    lab = lab_factory(THREE_NODE)
    [disk] = lab.plan.disks
    for slot, node in enumerate(disk.paths):
        done = lab.exec(lab.netns(node), [sys.executable, "-c", WRITE_SLOT, disk.paths[node], str(slot), f"slot {node}"])
        assert done.returncode == 0, done.stderr
    with open(disk.paths["wh2"], "rb") as shared:
        data = shared.read()
    assert len(data) == disk.size
    for slot, node in enumerate(disk.paths):
        assert data[slot * 512:slot * 512 + 64].rstrip(b"\0") == f"slot {node}".encode()
    assert lab.devices("wh1") == {"hb_disk": disk.paths["wh1"]}


def test_the_root_namespace_gets_no_interface(lab_factory):
    from .conftest import root_links

    before = root_links()
    lab_factory(TWO_NODE)
    lab_factory(IPV6)
    assert root_links() == before


def test_two_labs_of_one_file_live_side_by_side(lab_factory):
    one, two = lab_factory(TWO_NODE), lab_factory(TWO_NODE)
    assert one.prefix != two.prefix
    assert lab_factory is not None
    assert one.ping(one.netns("alpha"), "10.10.1.12", "en0") and two.ping(two.netns("alpha"), "10.10.1.12", "en0")
    one.fail("node:bravo")
    assert not one.ping(one.netns("alpha"), "10.10.1.12", "en0", wait=0.5)
    assert two.ping(two.netns("alpha"), "10.10.1.12", "en0")


def test_the_lab_sends_only_to_its_own_addresses(lab_factory):
    from halang.lab import LabError

    lab = lab_factory(TWO_NODE)
    with pytest.raises(LabError, match="not an address of lab"):
        lab.ping(lab.netns("alpha"), "10.10.3.1")
    with pytest.raises(LabError, match="is not a namespace of lab"):
        lab.exec("some-other-netns", ["true"])
