"""The daemon's control socket: `STATE_DIR/control.sock`, where `halang status`, `move`, `online`, `offline` and
`stop` on this node reach the engine.

A Unix stream socket, mode 0600 in a root-owned directory, and a peer whose
credentials (SO_PEERCRED) are not root or the daemon's own user is turned
away: only root on the node steers it. One JSON object a line each way:
`{"op": "status"}` is answered at once; `{"op": "move", "group": G, "to": N}`,
`{"op": "online", "group": G[, "to": N]}`, `{"op": "offline", "group": G}` and
`{"op": "stop", "node": N, "mode": "takeover"|"offline"}` become requests to
the engine, answered (`{"ok": ..., "text": ...}`) once the node that decides
them has. Requests between nodes travel in the signed heartbeats
(`membership`), never over this socket. A malformed or oversized line gets
an error answer; nothing a client sends reaches the engine unchecked.
"""

from __future__ import annotations

import json
import os
import selectors
import socket
import struct
from contextlib import contextmanager
from typing import Any, Dict, Iterator, List, Optional, Tuple

SOCKET = "control.sock"
MAX_LINE = 65536


class ControlServer:
    def __init__(self, state_dir: str, selector: selectors.BaseSelector):
        self.path = os.path.join(state_dir, SOCKET)
        self.selector = selector
        self.buffers: Dict[int, Tuple[socket.socket, bytes]] = {}
        try:
            os.unlink(self.path)  # left behind by a daemon that died
        except FileNotFoundError:
            pass
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o077)
        try:
            with short_path(self.path) as path:
                self.listener.bind(path)
        finally:
            os.umask(old)
        os.chmod(self.path, 0o600)
        self.listener.listen(16)
        self.listener.setblocking(False)
        selector.register(self.listener, selectors.EVENT_READ, ("control", -1))

    def ready(self, number: int) -> List[Tuple[socket.socket, Any]]:
        """What a readable socket brought: (connection, the request's dict, or an error string) for each
        complete line."""
        if number == -1:
            self._accept()
            return []
        connection, buffer = self.buffers[number]
        try:
            data = connection.recv(MAX_LINE)
        except (BlockingIOError, InterruptedError):
            return []
        except OSError:
            data = b""
        if not data:
            self.drop(connection)
            return []
        buffer += data
        if b"\n" not in buffer:
            if len(buffer) > MAX_LINE:
                self.answer(connection, {"ok": False, "error": f"a request is one line of at most {MAX_LINE} bytes"})
            else:
                self.buffers[number] = (connection, buffer)
            return []
        line = buffer.split(b"\n", 1)[0]
        self.selector.unregister(connection)  # one request a connection: the answer closes it
        del self.buffers[number]
        try:
            request = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return [(connection, "the request is not JSON")]
        if not isinstance(request, dict):
            return [(connection, "the request is not a JSON object")]
        return [(connection, request)]

    def _accept(self) -> None:
        try:
            connection, _ = self.listener.accept()
        except (BlockingIOError, InterruptedError):
            return
        uid = _peer_uid(connection)
        if uid is not None and uid not in (0, os.geteuid()):
            self.answer(connection, {"ok": False, "error": "only root steers the cluster"})
            return
        connection.setblocking(False)
        self.buffers[connection.fileno()] = (connection, b"")
        self.selector.register(connection, selectors.EVENT_READ, ("control", connection.fileno()))

    def answer(self, connection: socket.socket, reply: Dict[str, Any]) -> None:
        """Send the answer and close; a client that went away or does not read is dropped, never waited for."""
        try:
            connection.setblocking(True)
            connection.settimeout(1.0)
            connection.sendall(json.dumps(reply, sort_keys=True, default=str).encode("utf-8") + b"\n")
        except OSError:
            pass
        self.drop(connection)

    def drop(self, connection: socket.socket) -> None:
        number = connection.fileno()
        if number in self.buffers:
            self.selector.unregister(connection)
            del self.buffers[number]
        connection.close()

    def close(self) -> None:
        for connection, _ in list(self.buffers.values()):
            self.drop(connection)
        self.selector.unregister(self.listener)
        self.listener.close()
        try:
            os.unlink(self.path)
        except OSError:
            pass


@contextmanager
def short_path(path: str) -> Iterator[str]:
    """The path, or one through /proc/self/fd that names the same file, when it is longer than a Unix socket's
    address takes (108 bytes: a deep state directory would otherwise make the socket impossible)."""
    if len(os.fsencode(path)) < 100:
        yield path
        return
    directory = os.open(os.path.dirname(path) or ".", os.O_RDONLY | os.O_DIRECTORY)
    try:
        yield f"/proc/self/fd/{directory}/{os.path.basename(path)}"
    finally:
        os.close(directory)


def _peer_uid(connection: socket.socket) -> Optional[int]:
    try:
        data = connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    except (AttributeError, OSError):  # not Linux: the socket's mode alone keeps others out
        return None
    return struct.unpack("3i", data)[1]
