"""Ping targets: each adapter of the node sends ICMP echo requests to the targets of its subnet.

A network's `ping_targets` are addresses outside the cluster (a router, a
gateway); each adapter probes those inside its own subnet, so that a node
can tell its adapter's silent failure from a peer's (LANGUAGE.md, "What a
node observes of its adapters"). The daemon calls `send(now)` once an
interval: one echo request per adapter, to its targets in turn (round
robin), so a detection time covers `miss_limit` probes and an idle daemon
sends little. `receive()` gives the adapters a target answered; the daemon
tells the detector (`Detector.reply`).

- One raw ICMP socket per adapter (`IPPROTO_ICMP`, or `IPPROTO_ICMPV6`
  where the kernel fills the checksum), tied to the interface
  (SO_BINDTODEVICE) and bound to no address: under `ipat = replace` a
  service address may stand in for the adapter's own while it is held, and
  the kernel sends from whatever address is there. A filter lets only echo
  replies in.
- Matching: each adapter has its own echo identifier (a random base, chosen
  at start, plus its position), each probe its sequence number and a random
  cookie in the payload after the magic `HLGP`. A reply counts when it
  comes on the adapter that sent the probe, from the target probed, with the
  probe's identifier, sequence and cookie, within the detection time (a
  probe is forgotten `interval x miss_limit` after it was sent). An echo
  reply without the magic is another program's ping (every raw socket sees
  a copy of every reply) and is ignored; one with the magic that matches no
  probe is dropped and counted by reason in the daemon's `Drops`:
  `malformed` (truncated, a bad checksum), `foreign` (another identifier,
  or not from the target probed), `forged` (a wrong cookie), `replayed`
  (answered already), `stale` (a probe forgotten, or never sent).
- A node without targets opens no socket. What cannot be probed (no such
  interface, no raw socket without CAP_NET_RAW, a send that fails) is said
  once through `warnings()`, for the daemon's log, and never raised.

The packets and the bookkeeping (`echo_request`, `read_reply`,
`AdapterProbes`, `adapter_targets`) are pure; `TargetProber` does the I/O.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import struct
from typing import Dict, List, NamedTuple, Optional, Set, Tuple

from runtime.core.snapshot import AdapterSpec, ClusterSpec
from runtime.node.transports import SO_BINDTODEVICE
from runtime.core.wire import Dropped, Drops

MAGIC = b"HLGP"
COOKIE = 8  # bytes of random payload per probe: a reply must echo them
ECHO_REQUEST = {4: 8, 6: 128}
ECHO_REPLY = {4: 0, 6: 129}
HEADER = struct.Struct(">BBHHH")  # type, code, checksum, identifier, sequence
SOL_RAW, ICMP_FILTER, ICMP6_FILTER = 255, 1, 1  # <linux/icmp.h>, <netinet/icmp6.h>


class Echo(NamedTuple):
    identifier: int
    sequence: int
    cookie: bytes


# ------------------------------------------------------------------ pure: packets


def checksum(data: bytes) -> int:
    """The Internet checksum (RFC 1071) of `data`."""
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f">{len(data) // 2}H", data))
    while total > 0xFFFF:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def echo_request(version: int, identifier: int, sequence: int, cookie: bytes) -> bytes:
    """An ICMP (version 4) or ICMPv6 (6) echo request; an ICMPv6 checksum is left 0 for the kernel to fill."""
    payload = MAGIC + cookie
    packet = HEADER.pack(ECHO_REQUEST[version], 0, 0, identifier, sequence) + payload
    if version == 6:
        return packet
    return HEADER.pack(ECHO_REQUEST[version], 0, checksum(packet), identifier, sequence) + payload


def read_reply(version: int, packet: bytes) -> Optional[Echo]:
    """The echo reply in what a raw socket read (for IPv4 with its IP header), or None when it is no reply to
    a probe of halang (another ICMP message, another program's ping); Dropped("malformed") when it would be one
    but is damaged. The kernel has checked an ICMPv6 checksum already; an IPv4 one is checked here."""
    if version == 4:
        if len(packet) < 20:
            raise Dropped("malformed", f"an IPv4 packet of {len(packet)} bytes")
        packet = packet[(packet[0] & 0x0F) * 4:]
    if not packet or packet[0] != ECHO_REPLY[version]:
        return None
    if len(packet) < HEADER.size:
        raise Dropped("malformed", f"an echo reply of {len(packet)} bytes")
    _, _, _, identifier, sequence = HEADER.unpack_from(packet)
    payload = packet[HEADER.size:]
    if not payload.startswith(MAGIC):
        return None
    if version == 4 and checksum(packet) != 0:
        raise Dropped("malformed", "a bad ICMP checksum")
    if len(payload) != len(MAGIC) + COOKIE:
        raise Dropped("malformed", f"an echo payload of {len(payload)} bytes")
    return Echo(identifier, sequence, payload[len(MAGIC):])


def same_address(left: str, right: str) -> bool:
    """Whether two address texts name one address (a zone like `%eth0` aside)."""
    try:
        return ipaddress.ip_address(left.split("%")[0]) == ipaddress.ip_address(right.split("%")[0])
    except ValueError:
        return False


# ------------------------------------------------------------------ pure: what to probe, and the probes sent


def adapter_targets(spec: ClusterSpec, node: str) -> Tuple[Tuple[AdapterSpec, Tuple[str, ...]], ...]:
    """The node's adapters that have ping targets in their subnet, each with those targets in file order."""
    found = []
    for adapter in spec.adapters_by_node[node]:
        version, network, prefix = adapter.subnet
        targets = []
        for text in spec.network(adapter.network).ping_targets:
            try:
                address = ipaddress.ip_address(text)
            except ValueError:
                continue
            shift = address.max_prefixlen - prefix
            if address.version == version and int(address) >> shift == network >> shift:
                targets.append(address.compressed)
        if targets:
            found.append((adapter, tuple(targets)))
    return tuple(found)


class AdapterProbes:
    """One adapter's probes: which target is next, and which probes may still be answered. Pure: the time and
    the cookies are arguments."""

    def __init__(self, version: int, targets: Tuple[str, ...], identifier: int, window_ms: int):
        self.version, self.targets, self.identifier, self.window_ms = version, targets, identifier, window_ms
        self.sent = 0
        self.waiting: Dict[int, Tuple[str, bytes, int]] = {}  # sequence -> target, cookie, sent at
        self.answered: Set[int] = set()  # sequences answered, while their probe is in the window

    def next(self, now_ms: int, cookie: bytes) -> Tuple[str, bytes]:
        """The next probe: (target, echo request). Probes older than the window are forgotten: an answer to
        one would come too late to count."""
        for sequence, (_, _, at) in list(self.waiting.items()):
            if now_ms - at >= self.window_ms:
                del self.waiting[sequence]
        self.answered &= set(self.waiting)
        sequence = self.sent & 0xFFFF
        target = self.targets[self.sent % len(self.targets)]
        self.sent += 1
        self.waiting[sequence] = (target, cookie, now_ms)
        return target, echo_request(self.version, self.identifier, sequence, cookie)

    def answer(self, source: str, echo: Echo) -> str:
        """The target a reply from `source` answers; Dropped when it answers no probe of this adapter."""
        if echo.identifier != self.identifier:
            raise Dropped("foreign", f"echo identifier {echo.identifier}")
        if echo.sequence in self.answered:
            raise Dropped("replayed", f"echo sequence {echo.sequence}")
        if echo.sequence not in self.waiting:
            raise Dropped("stale", f"echo sequence {echo.sequence}")
        target, cookie, _ = self.waiting[echo.sequence]
        if not same_address(source, target):
            raise Dropped("foreign", f"a reply from {source} to a probe of {target}")
        if echo.cookie != cookie:
            raise Dropped("forged", "the cookie does not match the probe's")
        self.answered.add(echo.sequence)
        return target


# ------------------------------------------------------------------ I/O


class TargetProber:
    """The raw sockets of the node's adapters that have ping targets; see the module docstring."""

    def __init__(self, spec: ClusterSpec, node: str, drops: Drops):
        self.drops = drops
        self.sockets: Dict[str, socket.socket] = {}  # ifname -> its raw socket
        self.probes: Dict[str, AdapterProbes] = {}
        self.said: Set[Tuple[str, str]] = set()
        self.unsaid: List[str] = []
        window = spec.heartbeat.interval_ms * spec.heartbeat.miss_limit
        base = int.from_bytes(os.urandom(2), "big")  # another process's replies are not taken for this one's
        for number, (adapter, targets) in enumerate(adapter_targets(spec, node)):
            try:
                self.sockets[adapter.ifname] = self._socket(adapter)
            except OSError as exc:
                self._warn(adapter.ifname, f"cannot probe the ping targets of {adapter.ifname}: "
                                           f"{exc.strerror or exc}")
                continue
            self.probes[adapter.ifname] = AdapterProbes(adapter.version, targets, (base + number) & 0xFFFF, window)

    @staticmethod
    def _socket(adapter: AdapterSpec) -> socket.socket:
        if adapter.version == 4:
            sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        else:
            sock = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
        try:
            sock.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, adapter.ifname.encode())
            reply = ECHO_REPLY[adapter.version]
            if adapter.version == 4:  # a bit set blocks that type (types 0-31)
                sock.setsockopt(SOL_RAW, ICMP_FILTER, struct.pack("I", ~(1 << reply) & 0xFFFFFFFF))
            else:
                words = [0xFFFFFFFF] * 8
                words[reply >> 5] &= ~(1 << (reply & 31)) & 0xFFFFFFFF
                sock.setsockopt(socket.IPPROTO_ICMPV6, ICMP6_FILTER, struct.pack("8I", *words))
            sock.setblocking(False)
        except OSError:
            sock.close()
            raise
        return sock

    def _warn(self, ifname: str, text: str) -> None:
        if (ifname, text) not in self.said:
            self.said.add((ifname, text))
            self.unsaid.append(text)

    def warnings(self) -> List[str]:
        """What could not be probed and was not said yet (each said once)."""
        found, self.unsaid = self.unsaid, []
        return found

    def fileno_map(self) -> Dict[int, str]:
        return {sock.fileno(): ifname for ifname, sock in self.sockets.items()}

    def send(self, now_ms: int) -> None:
        """One probe from every adapter, each to its next target."""
        for ifname, sock in self.sockets.items():
            target, packet = self.probes[ifname].next(now_ms, os.urandom(COOKIE))
            try:
                sock.sendto(packet, (target, 0))
            except OSError as exc:  # no carrier, no route: the probe goes unanswered, as a lost one would
                self._warn(ifname, f"cannot probe {target} from {ifname}: {exc.strerror or exc}")

    def receive(self) -> List[Tuple[str, str]]:
        """(ifname, target) for every reply that answers a probe of that adapter; the rest counted or ignored."""
        found = []
        for ifname, sock in self.sockets.items():
            probes = self.probes[ifname]
            while True:
                try:
                    packet, source = sock.recvfrom(2048)
                except OSError:  # nothing more now (EAGAIN), or the interface is gone
                    break
                try:
                    echo = read_reply(probes.version, packet)
                    if echo is not None:
                        found.append((ifname, probes.answer(source[0], echo)))
                except Dropped as exc:
                    self.drops.add(exc.reason)
        return found

    def close(self) -> None:
        for sock in self.sockets.values():
            sock.close()
