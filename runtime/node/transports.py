"""The heartbeat transports: how a node's beats reach its peers on every path, and come back.

Each transport sends one beat an interval on every medium the node is on,
and hands back what arrived as (path id, bytes); `runtime.core.wire` checks the
bytes, the daemon counts what it drops. A transport never blocks: the
daemon polls its file descriptors (`fileno`) with the rest.

- `UdpTransport`: one UDP socket per local adapter, tied to its interface
  (SO_BINDTODEVICE, so a beat is known by the adapter it came in on) and
  bound to the cluster's port on every address; beats go to the limited
  broadcast 255.255.255.255 on the interface (IPv4) or the all-nodes group
  ff02::1 on it (IPv6), not to a peer's address, because under `ipat =
  replace` an adapter's own address is gone while it holds a service
  address: an adapter keeps heartbeating whatever address it has, and so
  does its peer. The beat names the sender's adapter
  (`network:node/ifname`); the receiving adapter completes the path.
- `DiskTransport`: the shared device or file of a `disk` link, one slot of
  `SLOT` bytes per node in the link's node order (the plan's `slot`): the
  node writes its slot, reads the others', and hands on a slot whose bytes
  changed.
- `StreamTransport`: a point-to-point link's character device (a serial line;
  a pty in tests), framed messages (`FRAME` magic, length, bytes), resyncing
  on the magic after garbage.

Real I/O lives only here and in the daemon; the decisions stay pure.
"""

from __future__ import annotations

import os
import socket
import struct
import termios
import tty
from typing import Dict, List, Optional, Tuple

from runtime.core.paths import Path, heartbeat_paths, media
from runtime.core.snapshot import AdapterSpec, ClusterSpec

Received = Tuple[str, bytes]  # (path id, message bytes), from a link
SLOT = 16384
FRAME = b"\xa5HLF"
SO_BINDTODEVICE = getattr(socket, "SO_BINDTODEVICE", 25)


def adapter_key(adapter: AdapterSpec) -> str:
    """How a beat names the adapter it was sent from."""
    return f"{adapter.network}:{adapter.node}/{adapter.ifname}"


def udp_paths(spec: ClusterSpec, node: str) -> Dict[Tuple[str, str], str]:
    """(the sender's adapter key a beat names, this node's ifname it arrived on) -> the path id."""
    found = {}
    for path in heartbeat_paths(spec, node):
        if path.medium.kind == "subnet":
            found[(adapter_key(path.peer_of(node).adapter), path.end_of(node).adapter.ifname)] = path.id
    return found


class UdpTransport:
    def __init__(self, spec: ClusterSpec, node: str, port: Optional[int] = None):
        self.port = port if port is not None else spec.heartbeat.port
        self.node = node
        self.sockets: Dict[str, socket.socket] = {}  # ifname -> socket
        self.adapters: Dict[str, AdapterSpec] = {}
        self.paths = udp_paths(spec, node)
        for adapter in spec.adapters_by_node[node]:
            self.adapters[adapter.ifname] = adapter
            self.sockets[adapter.ifname] = self._socket(adapter)

    def _socket(self, adapter: AdapterSpec) -> socket.socket:
        family = socket.AF_INET if adapter.version == 4 else socket.AF_INET6
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, adapter.ifname.encode())
            if family == socket.AF_INET:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
            else:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_LOOP, 0)
            sock.bind(("", self.port))
            sock.setblocking(False)
        except OSError:
            sock.close()
            raise
        return sock

    def destination(self, adapter: AdapterSpec) -> Tuple:
        # The limited broadcast leaves by the bound interface whatever address the adapter has now: under
        # `replace` a standby adapter holding a service address has no address on its own subnet any more.
        if adapter.version == 4:
            return ("255.255.255.255", self.port)
        return ("ff02::1", self.port, 0, socket.if_nametoindex(adapter.ifname))

    def send(self, make) -> List[str]:
        """Send `make(sender_adapter_key)` on every adapter; the ifnames whose send failed (no carrier, say)."""
        failed = []
        for ifname, sock in self.sockets.items():
            adapter = self.adapters[ifname]
            try:
                sock.sendto(make(adapter_key(adapter)), self.destination(adapter))
            except OSError:
                failed.append(ifname)
        return failed

    def receive(self, ifname: str) -> List[bytes]:
        """The datagrams that arrived on one adapter; the daemon reads the sender's adapter from each
        checked message and asks `path_of` for the path it came on."""
        found = []
        sock = self.sockets[ifname]
        while True:
            try:
                found.append(sock.recv(65536))
            except OSError:  # nothing more now (EAGAIN), or the interface is gone
                return found

    def path_of(self, sender_adapter: str, ifname: str) -> str:
        """The path between the sender's adapter and this node's `ifname` ("" if they share no subnet)."""
        return self.paths.get((sender_adapter, ifname), "")

    def fileno_map(self) -> Dict[int, str]:
        return {sock.fileno(): ifname for ifname, sock in self.sockets.items()}

    def close(self) -> None:
        for sock in self.sockets.values():
            sock.close()


class DiskTransport:
    def __init__(self, spec: ClusterSpec, node: str, link: str, device: str):
        self.link = spec.link(link)
        self.node = node
        self.slot = self.link.nodes.index(node)
        self.path_of = {path.peer_of(node).node: path.id for path in heartbeat_paths(spec, node)
                        if path.medium.name == link}
        self.device = device
        self.seen: Dict[int, bytes] = {}
        self.fd = os.open(device, os.O_RDWR)

    def reachable(self) -> bool:
        """Whether the device is still there under its path: an open descriptor keeps working when the path
        is cut (a lab repoints it; a multipath device goes away), so each beat looks again."""
        try:
            here, held = os.stat(self.device), os.fstat(self.fd)
        except OSError:
            return False
        return (here.st_dev, here.st_ino) == (held.st_dev, held.st_ino)

    def write(self, data: bytes) -> None:
        if not self.reachable():
            raise OSError(f"{self.device} is not reachable")
        if len(data) + 4 > SLOT:
            raise ValueError(f"a message of {len(data)} bytes does not fit a disk slot of {SLOT}")
        block = struct.pack(">I", len(data)) + data
        os.pwrite(self.fd, block + bytes(SLOT - len(block)), self.slot * SLOT)

    def read(self) -> List[Received]:
        if not self.reachable():
            return []
        found = []
        for number, peer in enumerate(self.link.nodes):
            if peer == self.node or peer not in self.path_of:
                continue
            block = os.pread(self.fd, SLOT, number * SLOT)
            if len(block) < 4:
                continue
            (length,) = struct.unpack(">I", block[:4])
            data = block[4:4 + length] if 0 < length <= SLOT - 4 else b""
            if data and data != self.seen.get(number):
                self.seen[number] = data
                found.append((self.path_of[peer], data))
        return found

    def close(self) -> None:
        os.close(self.fd)


class StreamTransport:
    def __init__(self, spec: ClusterSpec, node: str, link: str, device: str):
        path = next(path for path in heartbeat_paths(spec, node) if path.medium.name == link)
        self.path_id = path.id
        self.fd = os.open(device, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        if os.isatty(self.fd):
            tty.setraw(self.fd, termios.TCSANOW)
        self.buffer = b""

    def write(self, data: bytes) -> None:
        frame = FRAME + struct.pack(">I", len(data)) + data
        try:
            os.write(self.fd, frame)
        except (BlockingIOError, OSError):
            pass  # a full or gone line: the peer misses a beat, as it would on a cut cable

    def read(self) -> List[Received]:
        while True:
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:  # nothing more now (EAGAIN), or the other end is gone (EIO on a pty)
                break
            if not chunk:
                break
            self.buffer += chunk
        found = []
        while True:
            start = self.buffer.find(FRAME)
            if start < 0:
                self.buffer = self.buffer[-(len(FRAME) - 1):]
                return found
            self.buffer = self.buffer[start:]
            if len(self.buffer) < len(FRAME) + 4:
                return found
            (length,) = struct.unpack(">I", self.buffer[len(FRAME):len(FRAME) + 4])
            if length > 65536:
                self.buffer = self.buffer[1:]  # not a frame after all: look for the next magic
                continue
            end = len(FRAME) + 4 + length
            if len(self.buffer) < end:
                return found
            found.append((self.path_id, self.buffer[len(FRAME) + 4:end]))
            self.buffer = self.buffer[end:]

    def close(self) -> None:
        os.close(self.fd)


def link_devices(spec: ClusterSpec, node: str, overrides: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    """The device of every link of the node (a lab gives its own paths in `overrides`)."""
    found = {}
    for medium in media(spec):
        if medium.kind != "subnet" and node in spec.link(medium.name).nodes:
            found[medium.name] = (overrides or {}).get(medium.name) or dict(spec.link(medium.name).devices)[node]
    return found


def paths_by_id(spec: ClusterSpec, node: str) -> Dict[str, Path]:
    return {path.id: path for path in heartbeat_paths(spec, node)}
