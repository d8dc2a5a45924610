"""Faults by component name on real namespaces, and that healing restores exactly what was cut."""

import json
import os
import sys

import pytest

from halang.lab import Lab, LabError

from .conftest import IPV6, THREE_NODE, TWO_NODE, open_tty, read_for

pytestmark = pytest.mark.root

NO = 0.4  # seconds to wait for an answer that must not come


def carrier(lab, node, ifname):
    done = lab.exec(lab.netns(node), ["ip", "-j", "link", "show", "dev", ifname], check=True)
    [link] = json.loads(done.stdout)
    return "NO-CARRIER" not in link["flags"] and "UP" in link["flags"]


def addresses(lab, node, ifname):
    done = lab.exec(lab.netns(node), ["ip", "-j", "address", "show", "dev", ifname], check=True)
    return [item["local"] for entry in json.loads(done.stdout) for item in entry["addr_info"]
            if item.get("scope") == "global"]


def serial_passes(lab, link):
    serial = next(s for s in lab.plan.serials if s.link == link)
    a, b = (open_tty(serial.paths[node]) for node in serial.nodes)
    try:
        read_for(a, 0.05), read_for(b, 0.05)
        os.write(a, b"ping")
        there = read_for(b, 0.5, want=4) == b"ping"
        os.write(b, b"pong")
        back = read_for(a, 0.5, want=4) == b"pong"
        return there, back
    finally:
        os.close(a)
        os.close(b)


@pytest.fixture
def two(lab_factory):
    return lab_factory(TWO_NODE)


def test_adapter_failure_cuts_that_adapter_only(two):
    alpha = two.netns("alpha")
    two.fail("adapter:alpha/en0")
    assert two.failed == ("adapter:alpha/en0",)
    assert not two.ping(alpha, "10.10.1.12", "en0", wait=NO)
    assert two.ping(alpha, "10.10.2.12", "en1")
    assert not carrier(two, "alpha", "en0") and carrier(two, "alpha", "en1")  # a pulled cable: carrier goes
    assert addresses(two, "alpha", "en0") == ["10.10.1.11"]  # the node's own configuration is left alone
    assert not two.ping(two.client("net_ether_01").netns, "10.10.1.11", wait=NO)
    assert two.ping(two.client("net_ether_01").netns, "10.10.1.12")
    two.heal("adapter:alpha/en0")
    assert two.failed == ()
    assert carrier(two, "alpha", "en0")
    assert two.ping(alpha, "10.10.1.12", "en0")


def test_switch_failure_cuts_its_subnet_and_leaves_the_other(two):
    alpha, bravo = two.netns("alpha"), two.netns("bravo")
    two.fail("switch:sw1")
    assert not two.ping(alpha, "10.10.1.12", "en0", wait=NO)
    assert not two.ping(bravo, "10.10.1.11", "en0", wait=NO)
    assert not two.ping(two.client("net_ether_01").netns, "10.10.1.11", wait=NO)
    assert two.ping(alpha, "10.10.2.12", "en1") and two.ping(bravo, "10.10.2.11", "en1")
    assert carrier(two, "alpha", "en0")  # the switch stopped forwarding; the adapters keep their carrier
    two.heal("switch:sw1")
    assert two.ping(alpha, "10.10.1.12", "en0") and two.ping(two.client("net_ether_01").netns, "10.10.1.11")


def test_a_serial_link_failure_stops_the_bytes_and_heal_restores_them(two):
    assert serial_passes(two, "hb_serial") == (True, True)
    serial = two.plan.serials[0]
    a, b = (open_tty(serial.paths[node]) for node in serial.nodes)
    try:
        two.fail("link:hb_serial")
        os.write(a, b"lost in the cut")
        assert read_for(b, NO) == b""
        os.write(b, b"lost too")
        assert read_for(a, NO) == b""
        two.heal("link:hb_serial")
        assert read_for(b, 0.2) == b""  # bytes sent during the cut never arrive late
        os.write(a, b"back")  # the same open terminals work again: the ptys never went away
        assert read_for(b, 1, want=4) == b"back"
    finally:
        os.close(a)
        os.close(b)
    assert serial_passes(two, "hb_serial") == (True, True)


def test_node_failure_cuts_all_its_adapters_and_its_links(two):
    alpha, bravo, client = two.netns("alpha"), two.netns("bravo"), two.client("net_ether_01").netns
    two.fail("node:alpha")
    assert not two.ping(alpha, "10.10.1.12", "en0", wait=NO) and not two.ping(alpha, "10.10.2.12", "en1", wait=NO)
    assert not two.ping(bravo, "10.10.1.11", "en0", wait=NO) and not two.ping(bravo, "10.10.2.11", "en1", wait=NO)
    assert not two.ping(client, "10.10.1.11", wait=NO)
    assert two.ping(client, "10.10.1.12")
    assert not carrier(two, "alpha", "en0") and not carrier(two, "alpha", "en1")
    assert serial_passes(two, "hb_serial") == (False, False)
    two.heal("node:alpha")
    assert two.ping(alpha, "10.10.1.12", "en0") and two.ping(alpha, "10.10.2.12", "en1")
    assert serial_passes(two, "hb_serial") == (True, True)


def test_overlapping_failures_heal_one_at_a_time(two):
    alpha = two.netns("alpha")
    two.fail("node:alpha", "adapter:alpha/en0")
    with pytest.raises(LabError, match="adapter:alpha/en0 has already failed"):
        two.fail("adapter:alpha/en0")
    with pytest.raises(LabError, match="adapter:alpha/en1 has not failed, so it cannot heal: it is down because "
                                       "node:alpha failed; heal node:alpha"):
        two.heal("adapter:alpha/en1")
    two.heal("node:alpha")
    assert two.failed == ("adapter:alpha/en0",)
    assert not two.ping(alpha, "10.10.1.12", "en0", wait=NO)  # still cut by the adapter's own failure
    assert two.ping(alpha, "10.10.2.12", "en1")
    two.heal("adapter:alpha/en0")
    assert two.ping(alpha, "10.10.1.12", "en0")


def test_unknown_components_are_refused_as_simulate_refuses_them(two):
    with pytest.raises(LabError, match="no switch named 'sw3'; did you mean"):
        two.fail("switch:sw3")
    with pytest.raises(LabError, match="node alpha has no adapter en7"):
        two.fail("adapter:alpha/en7")
    with pytest.raises(LabError, match="name a component"):
        two.fail()
    assert two.failed == ()


OPEN_DISK = """
import sys
try:
    with open(sys.argv[1], "r+b") as disk:
        disk.seek(int(sys.argv[2]) * 512)
        disk.write(sys.argv[3].encode())
    print("ok")
except OSError as exc:
    print(type(exc).__name__)
"""


def disk_use(lab, node, slot, text):
    [disk] = lab.plan.disks
    done = lab.exec(lab.netns(node), [sys.executable, "-c", OPEN_DISK, disk.paths[node], str(slot), text], check=True)
    return done.stdout.strip()


def test_disk_linkend_cuts_one_node_and_link_cuts_all(lab_factory):
    lab = lab_factory(THREE_NODE)
    [disk] = lab.plan.disks
    lab.fail("linkend:wh1/hb_disk")
    assert disk_use(lab, "wh1", 0, "wh1") == "FileNotFoundError"
    assert disk_use(lab, "wh2", 1, "wh2") == "ok" and disk_use(lab, "wh3", 2, "wh3") == "ok"
    lab.heal("linkend:wh1/hb_disk")
    assert disk_use(lab, "wh1", 0, "wh1") == "ok"
    with open(disk.file, "rb") as shared:
        data = shared.read(3 * 512)
    assert [data[n * 512:n * 512 + 3] for n in range(3)] == [b"wh1", b"wh2", b"wh3"]
    lab.fail("link:hb_disk")
    assert [disk_use(lab, node, 0, "x") for node in ("wh1", "wh2", "wh3")] == ["FileNotFoundError"] * 3
    lab.heal("link:hb_disk")
    assert [disk_use(lab, node, 0, node) for node in ("wh1", "wh2", "wh3")] == ["ok"] * 3
    assert len(os.listdir(os.path.join(lab.plan.workdir, "cut"))) == 0  # nothing written anywhere else


def test_a_domain_fails_each_of_its_nodes(lab_factory):
    lab = lab_factory(THREE_NODE)
    wh2 = lab.netns("wh2")
    lab.fail("domain:rack_a")
    assert not lab.ping(wh2, "172.20.1.11", "en0", wait=NO) and not lab.ping(wh2, "172.20.8.11", "en2", wait=NO)
    assert lab.ping(wh2, "172.20.1.13", "en0")
    assert disk_use(lab, "wh1", 0, "x") == "FileNotFoundError" and disk_use(lab, "wh2", 1, "x") == "ok"
    lab.heal("domain:rack_a")
    assert lab.ping(wh2, "172.20.1.11", "en0")


def test_ipv6_faults(lab_factory):
    lab = lab_factory(IPV6)
    oak = lab.netns("oak")
    lab.fail("switch:leaf1")
    assert not lab.ping(oak, "fd12:3456:789a:10::12", "en0", wait=NO)
    assert lab.ping(oak, "fd12:3456:789a:20::12", "en1")
    lab.heal("switch:leaf1")
    assert lab.ping(oak, "fd12:3456:789a:10::12", "en0")
    lab.fail("node:ash")
    assert serial_passes(lab, "hb_elm_ash") == (False, False) and serial_passes(lab, "hb_ash_oak") == (False, False)
    assert serial_passes(lab, "hb_oak_elm") == (True, True)


def test_faults_from_another_process_through_the_state_file(two):
    other = Lab.load(two.state_file)
    other.fail("switch:sw2")
    assert two.failed == ("switch:sw2",)  # the first process sees it too
    with pytest.raises(LabError, match="switch:sw2 has already failed"):
        two.fail("switch:sw2")
    assert not two.ping(two.netns("alpha"), "10.10.2.12", "en1", wait=NO)
    again = Lab.load(two.state_file)
    assert again.failed == ("switch:sw2",)
    again.heal("switch:sw2")
    assert two.ping(two.netns("alpha"), "10.10.2.12", "en1")


def test_a_descriptor_kept_open_across_a_cut_can_tell_by_its_path(lab_factory):
    """The contract with an engine that keeps its disk open: each beat, its path must still reach the file its
    descriptor has open (stat against fstat); while cut it does not, and after the heal it is the same file."""
    lab = lab_factory(THREE_NODE)
    [disk] = lab.plan.disks
    fd = os.open(disk.paths["wh1"], os.O_RDWR)
    try:
        mine = os.fstat(fd)

        def reaches():
            try:
                found = os.stat(disk.paths["wh1"])
            except FileNotFoundError:
                return False
            return (found.st_dev, found.st_ino) == (mine.st_dev, mine.st_ino)

        assert reaches()
        lab.fail("linkend:wh1/hb_disk")
        assert not reaches()
        lab.heal("linkend:wh1/hb_disk")
        assert reaches()
        os.pwrite(fd, b"wh1 again", 0)
        with open(disk.paths["wh3"], "rb") as other:
            assert other.read(9) == b"wh1 again"
    finally:
        os.close(fd)
