"""Heartbeat and control messages on the wire: signed, checked, and never acted on before they are.

A message is the magic `HLG1`, one JSON object (UTF-8, compact, keys
sorted), and 32 bytes of HMAC-SHA256 over the magic and the JSON, under the
cluster's key (the contents of `key_file`; a cluster without one, HA601,
signs with the empty key, which keeps out damaged and foreign messages but
not forged ones). The object holds:

| key | what |
|---|---|
| `c` | the cluster's name |
| `h` | the configuration: the first 16 hex digits of the bundle's content hash (nodes running different snapshots never mix their views) |
| `s` | the sender node |
| `i` | the sender's incarnation: a number that grows with every start of its daemon |
| `n` | the sequence number: grows with every message the incarnation sends, on any path |
| `k` | the kind: `beat` (on one heartbeat path) or `ctl` (a control message) |
| `p` | for a beat, the id of the path it is sent on (`runtime.core.paths.Path.id`) |
| `b` | the body: what the sender reports (a dict; see `membership`) |

`decode` refuses, with `Dropped(reason)`, a message that is truncated, not
signed with the key (forged or damaged), malformed, or of another cluster or
configuration; `Freshness` refuses one that is not newer than the last
accepted from its sender (replayed or stale: an older incarnation, or a
sequence number seen already). The receiver counts every drop by reason
(`Drops`) and acts on nothing it dropped. Pure: no clock, no I/O.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any, Dict, NamedTuple, Optional

MAGIC = b"HLG1"
DIGEST = 32
MAX_SIZE = 60_000  # one UDP datagram; a serial frame or a disk slot is smaller still (see the transports)
KINDS = ("beat", "ctl")
REASONS = ("truncated", "forged", "malformed", "foreign", "replayed", "stale", "oversized")


class Dropped(Exception):
    """A message that is not acted on; `reason` is one of REASONS."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


class Message(NamedTuple):
    cluster: str
    config: str
    sender: str
    incarnation: int
    seq: int
    kind: str
    path: Optional[str]
    body: Dict[str, Any]


def encode(message: Message, key: bytes) -> bytes:
    data = {"c": message.cluster, "h": message.config, "s": message.sender, "i": message.incarnation,
            "n": message.seq, "k": message.kind, "b": message.body}
    if message.path is not None:
        data["p"] = message.path
    text = MAGIC + json.dumps(data, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode("utf-8")
    if len(text) + DIGEST > MAX_SIZE:
        raise ValueError(f"a message of {len(text) + DIGEST} bytes is over the {MAX_SIZE} a datagram carries")
    return text + hmac.new(key, text, hashlib.sha256).digest()


def decode(data: bytes, key: bytes, cluster: str, config: str) -> Message:
    """The message, checked; Dropped if it must not be acted on."""
    if len(data) > MAX_SIZE:
        raise Dropped("oversized", f"{len(data)} bytes")
    if len(data) < len(MAGIC) + DIGEST + 2 or not data.startswith(MAGIC):
        raise Dropped("truncated" if MAGIC.startswith(data[:len(MAGIC)]) else "malformed", f"{len(data)} bytes")
    text, digest = data[:-DIGEST], data[-DIGEST:]
    if not hmac.compare_digest(digest, hmac.new(key, text, hashlib.sha256).digest()):
        raise Dropped("forged", "the signature does not match the cluster's key")
    try:
        raw = json.loads(text[len(MAGIC):].decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise Dropped("malformed", "not JSON") from None
    message = _checked(raw)
    if message.cluster != cluster or message.config != config:
        raise Dropped("foreign", f"cluster {message.cluster} configuration {message.config}")
    return message


def _checked(raw: Any) -> Message:
    if not isinstance(raw, dict):
        raise Dropped("malformed", "not an object")
    try:
        cluster, config, sender = raw["c"], raw["h"], raw["s"]
        incarnation, seq, kind, body = raw["i"], raw["n"], raw["k"], raw["b"]
    except KeyError as exc:
        raise Dropped("malformed", f"no {exc.args[0]!r}") from None
    path = raw.get("p")
    if not all(isinstance(value, str) for value in (cluster, config, sender)) or kind not in KINDS \
            or not isinstance(body, dict) or not (path is None or isinstance(path, str)):
        raise Dropped("malformed", "a field of the wrong type")
    for value in (incarnation, seq):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise Dropped("malformed", "incarnation and sequence are whole numbers")
    return Message(cluster, config, sender, incarnation, seq, kind, path, body)


class Freshness:
    """The newest (incarnation, sequence) accepted from each sender on each path: a message must be newer.

    Per path, because one sender's beats on two paths may arrive in another order than it sent them."""

    def __init__(self) -> None:
        self.last: Dict[tuple, tuple] = {}

    def check(self, message: Message, path: str = "") -> None:
        """Dropped("replayed") for a sequence already seen, Dropped("stale") for an older incarnation."""
        known = self.last.get((message.sender, path))
        if known is not None:
            incarnation, seq = known
            if message.incarnation < incarnation:
                raise Dropped("stale", f"incarnation {message.incarnation} after {incarnation}")
            if message.incarnation == incarnation and message.seq <= seq:
                raise Dropped("replayed", f"sequence {message.seq} after {seq}")
        self.last[(message.sender, path)] = (message.incarnation, message.seq)


class Drops:
    """How many messages were dropped, by reason."""

    def __init__(self) -> None:
        self.counts: Dict[str, int] = {reason: 0 for reason in REASONS}

    def add(self, reason: str) -> None:
        self.counts[reason] = self.counts.get(reason, 0) + 1

    @property
    def total(self) -> int:
        return sum(self.counts.values())
