"""Faults by component name on real namespaces, and that healing restores exactly what was cut."""

import json
import os
import signal
import subprocess
import sys

import pytest

from halang.lab import Lab, LabError, LiveLab

from .conftest import (IPV6, ROOT, THREE_NODE, TWO_NODE, assert_nothing_left, namespaces, open_tty, read_for,
                       root_links)
from .targets import give_ping_targets

pytestmark = pytest.mark.root

NO = 0.4  # seconds to wait for an answer that must not come
# After a heal that kept the carrier up, the node's neighbour entry for the peer may still be failed; the kernel
# asks again about once a second, so an answer may take that long.
HEALED = 3.0


def carrier(lab, node, ifname):
    """What the node's kernel says of the adapter's carrier (1 or 0)."""
    done = lab.exec(lab.netns(node), ["cat", f"/sys/class/net/{ifname}/carrier"], check=True)
    return int(done.stdout)


LISTEN = """
import select, socket, sys
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, sys.argv[1].encode())
sock.bind(("", int(sys.argv[2])))
print("ready", flush=True)
sys.stdin.readline()  # the sender is done
print(sock.recv(100).decode() if select.select([sock], [], [], 0.3)[0] else "nothing", flush=True)
"""

SEND = """
import socket, sys, time
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, sys.argv[1].encode())
for _ in range(3):
    sock.sendto(b"beat", (sys.argv[3], int(sys.argv[2])))
    time.sleep(0.02)
"""


def heard(lab, sender, receiver, ifname="en0", broadcast="10.10.1.255"):
    """Whether a broadcast datagram that `sender` sends from its `ifname` arrives at `receiver`'s `ifname`: frames
    one way only, as a heartbeat goes (no ARP, no answer)."""
    listener = subprocess.Popen(["ip", "netns", "exec", lab.netns(receiver), sys.executable, "-c", LISTEN, ifname,
                                 "5405"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert listener.stdout.readline().strip() == "ready"
        lab.exec(lab.netns(sender), [sys.executable, "-c", SEND, ifname, "5405", broadcast], check=True)
        said, _ = listener.communicate("done\n", timeout=10)
        return said.strip() == "beat"
    finally:
        if listener.poll() is None:
            listener.kill()
            listener.wait()


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


def test_a_dead_switch_takes_the_carrier_of_every_adapter_on_it(two):
    alpha, bravo = two.netns("alpha"), two.netns("bravo")
    two.fail("switch:sw1")
    assert (carrier(two, "alpha", "en0"), carrier(two, "bravo", "en0")) == (0, 0)
    assert (carrier(two, "alpha", "en1"), carrier(two, "bravo", "en1")) == (1, 1)
    assert not two.ping(alpha, "10.10.1.12", "en0", wait=NO)
    assert not two.ping(bravo, "10.10.1.11", "en0", wait=NO)
    assert not two.ping(two.client("net_ether_01").netns, "10.10.1.11", wait=NO)
    assert two.ping(alpha, "10.10.2.12", "en1") and two.ping(bravo, "10.10.2.11", "en1")
    with pytest.raises(LabError, match="it is down because switch:sw1 failed; heal switch:sw1"):
        two.heal("adapter:alpha/en0")
    two.heal("switch:sw1")
    assert (carrier(two, "alpha", "en0"), carrier(two, "bravo", "en0")) == (1, 1)
    assert two.ping(alpha, "10.10.1.12", "en0") and two.ping(two.client("net_ether_01").netns, "10.10.1.11")


def test_a_failed_port_passes_nothing_either_way_and_keeps_the_carrier(two):
    alpha, bravo, client = two.netns("alpha"), two.netns("bravo"), two.client("net_ether_01").netns
    two.fail("port:alpha/en0")
    assert carrier(two, "alpha", "en0") == 1
    assert not heard(two, "alpha", "bravo") and not heard(two, "bravo", "alpha")
    assert not two.ping(alpha, "10.10.1.12", "en0", wait=NO) and not two.ping(client, "10.10.1.11", wait=NO)
    assert two.ping(client, "10.10.1.12") and two.ping(alpha, "10.10.2.12", "en1")  # only that port
    two.heal("port:alpha/en0")
    assert heard(two, "alpha", "bravo") and heard(two, "bravo", "alpha")
    assert two.ping(alpha, "10.10.1.12", "en0", wait=HEALED) and two.ping(client, "10.10.1.11", wait=HEALED)


def test_a_deaf_adapter_is_heard_and_hears_nothing(two):
    alpha, client = two.netns("alpha"), two.client("net_ether_01").netns
    assert heard(two, "alpha", "bravo") and heard(two, "bravo", "alpha")
    two.fail("deaf:alpha/en0")
    assert carrier(two, "alpha", "en0") == 1
    assert heard(two, "alpha", "bravo") and not heard(two, "bravo", "alpha")
    assert heard(two, "bravo", "alpha", "en1", "10.10.2.255")  # its other adapter hears
    assert not two.ping(alpha, "10.10.1.12", "en0", wait=NO)  # a ping needs both ways
    two.heal("deaf:alpha/en0")
    assert heard(two, "alpha", "bravo") and heard(two, "bravo", "alpha")
    assert two.ping(alpha, "10.10.1.12", "en0", wait=HEALED) and two.ping(client, "10.10.1.11", wait=HEALED)


def test_a_mute_adapter_hears_and_is_not_heard(two):
    alpha = two.netns("alpha")
    two.fail("mute:alpha/en0")
    assert carrier(two, "alpha", "en0") == 1
    assert heard(two, "bravo", "alpha") and not heard(two, "alpha", "bravo")
    assert not two.ping(alpha, "10.10.1.12", "en0", wait=NO)
    two.fail("deaf:alpha/en0")  # mute and deaf at once: nothing either way, each healing on its own
    assert not heard(two, "bravo", "alpha") and not heard(two, "alpha", "bravo")
    two.heal("mute:alpha/en0")
    assert heard(two, "alpha", "bravo") and not heard(two, "bravo", "alpha")
    two.heal("deaf:alpha/en0")
    assert heard(two, "alpha", "bravo") and heard(two, "bravo", "alpha")
    assert two.ping(alpha, "10.10.1.12", "en0", wait=HEALED)


def test_a_hung_switch_passes_nothing_and_every_port_keeps_its_carrier(two):
    alpha, bravo, client = two.netns("alpha"), two.netns("bravo"), two.client("net_ether_01").netns
    two.fail("hung:sw1")
    assert (carrier(two, "alpha", "en0"), carrier(two, "bravo", "en0")) == (1, 1)
    assert not heard(two, "alpha", "bravo") and not heard(two, "bravo", "alpha")
    assert not two.ping(alpha, "10.10.1.12", "en0", wait=NO) and not two.ping(bravo, "10.10.1.11", "en0", wait=NO)
    assert not two.ping(client, "10.10.1.11", wait=NO) and not two.ping(client, "10.10.1.12", wait=NO)
    assert two.ping(alpha, "10.10.2.12", "en1")
    two.heal("hung:sw1")
    assert heard(two, "alpha", "bravo") and heard(two, "bravo", "alpha")
    assert two.ping(alpha, "10.10.1.12", "en0", wait=HEALED) and two.ping(client, "10.10.1.11", wait=HEALED)


def test_a_flap_fails_and_heals_on_time_and_ends_healed(two):
    seen = []
    changes = two.flap("switch:sw1", 2, 0.3, step=lambda at, what: seen.append((what, carrier(two, "alpha", "en0"))))
    assert seen == [("failed", 0), ("healed", 1), ("failed", 0), ("healed", 1)]
    assert [round(at / 0.3) for at, _ in changes] == [0, 1, 2, 3]
    assert two.failed == ()
    two.flap("port:alpha/en0", 3, 0.1)
    assert two.failed == () and carrier(two, "alpha", "en0") == 1
    assert two.ping(two.netns("alpha"), "10.10.1.12", "en0", wait=HEALED)
    two.fail("hung:sw2")
    with pytest.raises(LabError, match="hung:sw2 has already failed"):
        two.flap("hung:sw2", 2, 0.1)
    assert two.failed == ("hung:sw2",)  # a flap of what has failed changes nothing


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


# ------------------------------------------------------------------ ping targets


@pytest.fixture
def targeted(lab_factory, monkeypatch):
    give_ping_targets(monkeypatch, {"net_ether_01": ("10.10.1.1", "10.10.2.1")})  # boot and standby subnets
    return lab_factory(TWO_NODE)


def test_a_ping_target_answers_every_adapter_of_its_subnet(targeted):
    lab = targeted
    for node in ("alpha", "bravo"):
        assert lab.ping(lab.netns(node), "10.10.1.1", "en0") and lab.ping(lab.netns(node), "10.10.2.1", "en1")


def test_a_ping_target_stops_answering_past_a_cut_port_or_a_hung_switch(targeted):
    lab = targeted
    alpha, bravo = lab.netns("alpha"), lab.netns("bravo")
    for fault in ("port:alpha/en0", "deaf:alpha/en0", "mute:alpha/en0"):
        lab.fail(fault)
        assert not lab.ping(alpha, "10.10.1.1", "en0", wait=NO), fault
        assert lab.ping(bravo, "10.10.1.1", "en0"), fault  # the target itself never fails
        lab.heal(fault)
        assert lab.ping(alpha, "10.10.1.1", "en0", wait=HEALED), fault
    lab.fail("hung:sw1")
    assert not lab.ping(alpha, "10.10.1.1", "en0", wait=NO) and not lab.ping(bravo, "10.10.1.1", "en0", wait=NO)
    assert lab.ping(alpha, "10.10.2.1", "en1")  # the standby subnet's target, through sw2
    lab.heal("hung:sw1")
    assert lab.ping(alpha, "10.10.1.1", "en0", wait=HEALED) and lab.ping(bravo, "10.10.1.1", "en0", wait=HEALED)


def test_an_ipv6_ping_target_answers_and_not_past_a_cut_port(lab_factory, monkeypatch):
    give_ping_targets(monkeypatch, {"net_front6": ("fd12:3456:789a:10::1",)})
    lab = lab_factory(IPV6)
    oak, elm = lab.netns("oak"), lab.netns("elm")
    assert lab.ping(oak, "fd12:3456:789a:10::1", "en0")
    lab.fail("port:oak/en0")
    assert not lab.ping(oak, "fd12:3456:789a:10::1", "en0", wait=NO)
    assert lab.ping(elm, "fd12:3456:789a:10::1", "en0")
    lab.heal("port:oak/en0")
    assert lab.ping(oak, "fd12:3456:789a:10::1", "en0", wait=HEALED)


def test_down_takes_the_targets_and_the_drops_with_the_lab(lab_factory, lab_base, monkeypatch):
    give_ping_targets(monkeypatch, {"net_ether_01": ("10.10.1.1",)})
    links = root_links()
    lab = lab_factory(TWO_NODE)
    lab.fail("deaf:alpha/en0", "mute:bravo/en1", "port:bravo/en0", "hung:sw2")
    assert lab.plan.targets[0].netns in namespaces()
    lab.down()
    assert_nothing_left(lab.prefix, links, lab_base, [])


# ------------------------------------------------------------------ halang lab fail --flap


def halang(*args, **popen):
    return subprocess.Popen([sys.executable, "-m", "halang.cli", *map(str, args)], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **popen)


@pytest.fixture
def live_base(tmp_path):
    base = tmp_path / "labs"
    yield base
    live = LiveLab.find(base)
    if live is not None:
        live.down()


def test_halang_lab_fail_flap_runs_in_the_foreground_and_ends_healed(live_base):
    up = halang("lab", "up", TWO_NODE, "--base", live_base, "--no-engines")
    assert up.wait(60) == 0, up.stderr.read()
    done = halang("lab", "fail", "port:alpha/en0", "--flap", "2", "--every", "200ms", "--base", live_base)
    out, err = done.communicate(timeout=60)
    assert done.returncode == 0, err
    lines = out.splitlines()
    assert lines[0] == "flapping port:alpha/en0: 2 times, 200ms apart"
    assert [line.split()[-1] for line in lines[1:5]] == ["failed", "healed", "failed", "healed"]
    assert lines[5] == "flapped port:alpha/en0 2 times, 200ms apart: healed"
    live = LiveLab.find(live_base)
    assert live.lab.failed == () and live.lab.ping(live.lab.netns("alpha"), "10.10.1.12", "en0", wait=HEALED)
    assert [what for _, what in live.flap("deaf:alpha/en0", 1, 0.1)] == ["failed", "healed"]  # the same in Python
    assert live.lab.failed == ()


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_flap_stopped_halfway_heals_first(live_base, stop):
    up = halang("lab", "up", TWO_NODE, "--base", live_base, "--no-engines")
    assert up.wait(60) == 0, up.stderr.read()
    flapping = halang("lab", "fail", "hung:sw1", "--flap", "100", "--every", "300ms", "--base", live_base)
    try:
        assert flapping.stdout.readline().startswith("flapping hung:sw1")
        assert flapping.stdout.readline().split()[-1] == "failed"
        assert LiveLab.find(live_base).lab.failed == ("hung:sw1",)
        flapping.send_signal(stop)
        _, err = flapping.communicate(timeout=30)
    finally:
        if flapping.poll() is None:
            flapping.kill()
            flapping.wait()
    assert flapping.returncode == 130 and "interrupted: hung:sw1 healed" in err and "Traceback" not in err
    assert LiveLab.find(live_base).lab.failed == ()
