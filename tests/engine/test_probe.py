"""Ping targets: the echo packets, the round robin and the matching as tables; as root, a real prober in a
namespace of its own probing a target across a veth pair."""

from __future__ import annotations

import ctypes
import os
import random
import select
import socket
import struct
import subprocess
import threading
import time
from dataclasses import replace
from types import MappingProxyType

import pytest

from runtime.node.probe import COOKIE, ECHO_REPLY, HEADER, MAGIC, AdapterProbes, Echo, TargetProber, adapter_targets, \
    checksum, echo_request, read_reply
from runtime.core.snapshot import ClusterSpec
from runtime.core.wire import Dropped, Drops
from tests.runtime.helpers import spec

CLUSTER = """
cluster c {{
  heartbeat {{ interval = 100ms  miss_limit = 3 }}
  node a {{ }}
  node b {{ }}
  network net {{
    adapter a {a0} boot {a_address}
    adapter a en1 boot {a1_address}
    adapter b en0 boot {b_address}
    adapter b en1 boot {b1_address}
  }}
  link line {{ type = rs232  a = "/dev/ttyS0"  b = "/dev/ttyS0" }}
}}
"""


def cluster(version: int, a0: str = "en0") -> ClusterSpec:
    if version == 4:
        addresses = dict(a_address="10.77.0.1/24", a1_address="10.78.0.1/24", b_address="10.77.0.3/24",
                         b1_address="10.78.0.3/24")
    else:
        addresses = dict(a_address="fd00:77::1/64", a1_address="fd00:78::1/64", b_address="fd00:77::3/64",
                         b1_address="fd00:78::3/64")
    return spec(CLUSTER.format(a0=a0, **addresses))


def with_targets(cluster_spec: ClusterSpec, targets: tuple) -> ClusterSpec:
    """The cluster with ping targets on its networks (set here, whatever the language's loader does)."""
    networks = tuple(replace(network, ping_targets=targets) for network in cluster_spec.networks)
    return replace(cluster_spec, networks=networks, derived={},
                   network_by_name=MappingProxyType({network.name: network for network in networks}))


# ------------------------------------------------------------------ packets


def reply_to(request: bytes, version: int, options: bytes = b"") -> bytes:
    """What a target's kernel answers, as a raw socket reads it (IPv4 with its IP header)."""
    icmp = bytes([ECHO_REPLY[version]]) + request[1:2] + b"\0\0" + request[4:]
    if version == 6:
        return icmp
    icmp = icmp[:2] + struct.pack(">H", checksum(icmp)) + icmp[4:]
    header = bytes([0x45 + len(options) // 4]) + bytes(19) + options
    return header + icmp


def echo(version: int, kind: int, identifier: int, sequence: int, payload: bytes, ip_header: bool = True) -> bytes:
    icmp = HEADER.pack(kind, 0, 0, identifier, sequence) + payload
    if version == 6:
        return icmp
    icmp = HEADER.pack(kind, 0, checksum(icmp), identifier, sequence) + payload
    return (bytes([0x45]) + bytes(19) + icmp) if ip_header else icmp


def test_the_internet_checksum():
    assert checksum(bytes.fromhex("0001f203f4f5f6f7")) == 0x220D  # RFC 1071's example
    assert checksum(b"\x01") == checksum(b"\x01\x00")
    assert checksum(bytes.fromhex("0001f203f4f5f6f7220d")) == 0


def test_an_echo_request():
    cookie = bytes(range(COOKIE))
    four = echo_request(4, 0x1234, 7, cookie)
    assert four[:2] == b"\x08\x00" and four[4:8] == b"\x12\x34\x00\x07" and four[8:] == MAGIC + cookie
    assert checksum(four) == 0
    six = echo_request(6, 0x1234, 7, cookie)
    assert six[:4] == b"\x80\x00\x00\x00", "the kernel fills an ICMPv6 checksum"
    assert six[4:] == four[4:]


COOKIE_A = b"\x11" * COOKIE
GOOD4 = reply_to(echo_request(4, 5, 9, COOKIE_A), 4)


@pytest.mark.parametrize("version, packet, expected", [
    (4, GOOD4, Echo(5, 9, COOKIE_A)),
    (4, reply_to(echo_request(4, 5, 9, COOKIE_A), 4, options=b"\x01" * 4), Echo(5, 9, COOKIE_A)),
    (6, reply_to(echo_request(6, 5, 9, COOKIE_A), 6), Echo(5, 9, COOKIE_A)),
    (4, echo(4, 8, 5, 9, MAGIC + COOKIE_A), None),  # an echo request: not a reply
    (4, echo(4, 3, 0, 0, bytes(28)), None),  # destination unreachable
    (4, echo(4, 0, 5, 9, b"abcdefghijklmnop"), None),  # another program's ping
    (6, echo(6, 136, 0, 0, bytes(20)), None),  # a neighbour advertisement
    (6, echo(6, 129, 5, 9, bytes(56)), None),  # another program's ping
    (6, b"", None),
    (4, b"", "malformed"),
    (4, GOOD4[:19], "malformed"),  # not even an IP header
    (4, GOOD4[:20 + 6], "malformed"),  # half an ICMP header
    (4, GOOD4[:-1], "malformed"),  # a bad checksum
    (4, GOOD4[:-1] + bytes([GOOD4[-1] ^ 1]), "malformed"),
    (4, echo(4, 0, 5, 9, MAGIC + COOKIE_A + b"x"), "malformed"),  # a payload too long
    (6, echo(6, 129, 5, 9, MAGIC + b"x"), "malformed"),  # too short
])
def test_reading_a_reply(version, packet, expected):
    if isinstance(expected, str):
        with pytest.raises(Dropped) as caught:
            read_reply(version, packet)
        assert caught.value.reason == expected
    else:
        assert read_reply(version, packet) == expected


def test_any_bytes_are_a_reply_nothing_or_a_counted_drop():
    chance = random.Random(7)
    seeds = [GOOD4, reply_to(echo_request(6, 5, 9, COOKIE_A), 6)]
    for _ in range(5000):
        version = chance.choice((4, 6))
        packet = bytearray(chance.choice(seeds))
        for _ in range(chance.randint(0, 4)):
            if packet and chance.random() < 0.7:
                packet[chance.randrange(len(packet))] = chance.randrange(256)
            else:
                del packet[chance.randrange(len(packet) + 1):]
        try:
            found = read_reply(version, bytes(packet))
        except Dropped as exc:
            assert exc.reason == "malformed"
        else:
            assert found is None or isinstance(found, Echo)


# ------------------------------------------------------------------ what to probe, and matching


def test_each_adapter_probes_the_targets_of_its_own_subnet():
    four = with_targets(cluster(4), ("10.77.0.254", "192.0.2.1", "fd00:77::fe", "10.77.0.253", "10.78.0.254"))
    assert [(adapter.ifname, targets) for adapter, targets in adapter_targets(four, "a")] == [
        ("en0", ("10.77.0.254", "10.77.0.253")), ("en1", ("10.78.0.254",))]
    six = with_targets(cluster(6), ("10.77.0.254", "FD00:77:0:0::fe"))
    assert [(adapter.ifname, targets) for adapter, targets in adapter_targets(six, "b")] == [
        ("en0", ("fd00:77::fe",))]
    assert adapter_targets(cluster(4), "a") == ()


def test_a_node_without_targets_opens_no_socket():
    prober = TargetProber(with_targets(cluster(4), ("192.0.2.1",)), "a", Drops())
    assert prober.sockets == {} and prober.fileno_map() == {} and prober.warnings() == []
    prober.send(0)
    assert prober.receive() == []


def test_an_adapter_that_cannot_be_probed_is_said_once_and_never_raised():
    missing = "hpmissing0"
    assert not os.path.exists(f"/sys/class/net/{missing}")
    prober = TargetProber(with_targets(cluster(4, a0=missing), ("10.77.0.254",)), "a", Drops())
    assert missing not in prober.sockets
    said = prober.warnings()
    assert len(said) == 1 and missing in said[0], said  # no such device (as root), else not permitted
    assert prober.warnings() == []
    prober.close()


def test_round_robin_over_the_targets():
    probes = AdapterProbes(4, ("10.0.0.1", "10.0.0.2", "10.0.0.3"), 5, 300)
    sent = [probes.next(100 * number, bytes(COOKIE)) for number in range(7)]
    assert [target for target, _ in sent] == ["10.0.0.1", "10.0.0.2", "10.0.0.3"] * 2 + ["10.0.0.1"]
    assert [HEADER.unpack_from(packet)[4] for _, packet in sent] == list(range(7))
    assert {HEADER.unpack_from(packet)[3] for _, packet in sent} == {5}


def test_the_sequence_wraps():
    probes = AdapterProbes(4, ("10.0.0.1",), 5, 300)
    probes.sent = 0xFFFF
    assert HEADER.unpack_from(probes.next(0, bytes(COOKIE))[1])[4] == 0xFFFF
    assert HEADER.unpack_from(probes.next(100, bytes(COOKIE))[1])[4] == 0


COOKIE_B = b"\x22" * COOKIE


@pytest.mark.parametrize("source, reply, expected", [
    ("10.0.0.1", Echo(5, 0, COOKIE_A), "10.0.0.1"),
    ("10.0.0.2", Echo(5, 1, COOKIE_B), "10.0.0.2"),
    ("10.0.0.2", Echo(6, 1, COOKIE_B), "foreign"),  # another adapter's, or another process's, identifier
    ("10.0.0.9", Echo(5, 1, COOKIE_B), "foreign"),  # not the target probed
    ("10.0.0.1", Echo(5, 1, COOKIE_B), "foreign"),  # the other target
    ("10.0.0.2", Echo(5, 1, COOKIE_A), "forged"),
    ("10.0.0.1", Echo(5, 2, COOKIE_A), "stale"),  # never sent
])
def test_a_reply_answers_its_probe_only(source, reply, expected):
    probes = AdapterProbes(4, ("10.0.0.1", "10.0.0.2"), 5, 300)
    probes.next(0, COOKIE_A)
    probes.next(100, COOKIE_B)
    if expected in ("foreign", "forged", "stale"):
        with pytest.raises(Dropped) as caught:
            probes.answer(source, reply)
        assert caught.value.reason == expected
    else:
        assert probes.answer(source, reply) == expected


def test_an_answer_counts_once_and_within_the_detection_time():
    probes = AdapterProbes(6, ("fd00::1",), 5, 300)
    probes.next(0, COOKIE_A)
    assert probes.answer("fd00:0::1%en0", Echo(5, 0, COOKIE_A)) == "fd00::1"
    with pytest.raises(Dropped, match="replayed"):
        probes.answer("fd00::1", Echo(5, 0, COOKIE_A))
    probes.next(100, COOKIE_B)
    probes.next(200, COOKIE_B)
    probes.next(300, COOKIE_B)  # the first probe is a detection time old: forgotten
    with pytest.raises(Dropped, match="stale"):
        probes.answer("fd00::1", Echo(5, 0, COOKIE_A))
    assert probes.answer("fd00::1", Echo(5, 1, COOKIE_B)) == "fd00::1"
    assert probes.answered == {1}


# ------------------------------------------------------------------ as root: a target across a veth pair

CLONE_NEWNET = 0x40000000


def in_namespace(namespace: str, make):
    """`make()` run on a thread that entered the namespace: sockets it opens stay in it."""
    result = {}

    def run():
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            with open(f"/run/netns/{namespace}") as handle:
                if libc.setns(handle.fileno(), CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), f"setns into {namespace}")
            result["value"] = make()
        except BaseException as exc:  # handed to the caller's thread
            result["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]
    return result["value"]


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True, timeout=10)


@pytest.fixture
def pair(request):
    """Two namespaces of this test joined by a veth pair: near (10.77.0.1, fd00:77::1 on its end) and far
    (10.77.0.2, fd00:77::2), both removed when the test ends, passed or failed."""
    suffix = os.urandom(3).hex()
    near, far = f"hlp{suffix}n", f"hlp{suffix}f"
    near_if, far_if = f"hp{suffix}n", f"hp{suffix}f"

    def tear_down():
        for namespace in (near, far):
            subprocess.run(["ip", "netns", "del", namespace], capture_output=True, timeout=10)
        subprocess.run(["ip", "link", "del", near_if], capture_output=True, timeout=10)  # if not moved yet

    request.addfinalizer(tear_down)
    ip("netns", "add", near)
    ip("netns", "add", far)
    ip("link", "add", near_if, "type", "veth", "peer", "name", far_if)
    ip("link", "set", near_if, "netns", near)
    ip("link", "set", far_if, "netns", far)
    for namespace, ifname, host in ((near, near_if, 1), (far, far_if, 2)):
        ip("-n", namespace, "addr", "add", f"10.77.0.{host}/24", "dev", ifname)
        ip("-n", namespace, "addr", "add", f"fd00:77::{host}/64", "dev", ifname, "nodad")
        ip("-n", namespace, "link", "set", ifname, "up")
    return {"near": near, "far": far, "near_if": near_if, "far_if": far_if}


def open_prober(pair, version: int, drops: Drops) -> TargetProber:
    target = "10.77.0.2" if version == 4 else "fd00:77::2"
    cluster_spec = with_targets(cluster(version, a0=pair["near_if"]), (target,))
    prober = in_namespace(pair["near"], lambda: TargetProber(cluster_spec, "a", drops))
    assert list(prober.sockets) == [pair["near_if"]], prober.warnings()  # en1 has no target in its subnet
    return prober


def probe_for(prober: TargetProber, seconds: float, until_reached: bool) -> set:
    """What the prober reaches, probing every 100 ms for up to `seconds`."""
    reached: set = set()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not (until_reached and reached):
        prober.send(int(time.monotonic() * 1000))
        end = time.monotonic() + 0.1
        while time.monotonic() < end:
            select.select(list(prober.fileno_map()), [], [], max(0.0, end - time.monotonic()))
            reached |= set(prober.receive())
    return reached


@pytest.mark.root
@pytest.mark.parametrize("version", [4, 6])
@pytest.mark.parametrize("cut", ["link_down", "address_removed"])
def test_an_adapter_reaches_its_target_until_the_far_end_is_cut(pair, version, cut):
    drops = Drops()
    prober = open_prober(pair, version, drops)
    target = "10.77.0.2" if version == 4 else "fd00:77::2"
    try:
        assert probe_for(prober, 5, until_reached=True) == {(pair["near_if"], target)}
        if cut == "link_down":
            ip("-n", pair["far"], "link", "set", pair["far_if"], "down")
        else:
            ip("-n", pair["far"], "addr", "del", target + ("/24" if version == 4 else "/64"), "dev", pair["far_if"])
        prober.receive()  # an answer already on its way
        assert probe_for(prober, 1, until_reached=False) == set()
        assert drops.total == 0
    finally:
        prober.close()


@pytest.mark.root
@pytest.mark.parametrize("version", [4, 6])
def test_forged_replies_are_counted_and_reach_nothing(pair, version):
    """The far end stops answering pings and sends echo replies of its own making instead."""
    ip("netns", "exec", pair["far"], "sysctl", "-qw",
       "net.ipv4.icmp_echo_ignore_all=1" if version == 4 else "net.ipv6.icmp.echo_ignore_all=1")
    drops = Drops()
    prober = open_prober(pair, version, drops)
    family, protocol = (socket.AF_INET, socket.IPPROTO_ICMP) if version == 4 else \
        (socket.AF_INET6, socket.IPPROTO_ICMPV6)
    forger = in_namespace(pair["far"], lambda: socket.socket(family, socket.SOCK_RAW, protocol))
    near = "10.77.0.1" if version == 4 else "fd00:77::1"
    try:
        probe_for(prober, 0.3, until_reached=False)
        probes = prober.probes[pair["near_if"]]
        waiting = max(probes.waiting)
        forged = [echo(version, ECHO_REPLY[version], probes.identifier, waiting, MAGIC + bytes(COOKIE), False),
                  echo(version, ECHO_REPLY[version], probes.identifier ^ 1, waiting, MAGIC + bytes(COOKIE), False),
                  echo(version, ECHO_REPLY[version], probes.identifier, waiting, MAGIC + b"short", False),
                  echo(version, ECHO_REPLY[version], probes.identifier, waiting, b"someone else's ping", False)]
        for packet in forged:
            forger.sendto(packet, (near, 0))
        time.sleep(0.2)
        assert prober.receive() == []
        assert {reason: count for reason, count in drops.counts.items() if count} == \
            {"forged": 1, "foreign": 1, "malformed": 1}
    finally:
        forger.close()
        prober.close()
