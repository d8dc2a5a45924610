"""Number-like literals: what a LITERAL token is, and its value (HA002 when malformed)."""

from __future__ import annotations

import ipaddress
import re
from typing import NamedTuple

_INTEGER = re.compile(r"(?:0|[1-9][0-9]*)\Z")
_DECIMAL = re.compile(r"(?:0|[1-9][0-9]*)\.[0-9]+\Z")
_DURATION = re.compile(r"(0|[1-9][0-9]*)(ms|s|m|h)\Z")
_SIZE = re.compile(r"(0|[1-9][0-9]*)([KMGT])\Z")
# Octets without leading zeros: what is written is then already the canonical text.
_IPV4_CANONICAL = re.compile(r"(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})"
                             r"(?:/([0-9]+))?\Z")
_IPV4 = re.compile(r"([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})(?:/([0-9]+))?\Z")
_DURATION_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000}
_SIZE_BYTES = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


class Address(NamedTuple):
    version: int
    value: int  # the address as an integer
    prefix: int | None  # None when the literal has no /prefix
    text: str  # canonical form (IPv6 compressed)

    @property
    def bits(self) -> int:
        return 32 if self.version == 4 else 128

    def network(self, prefix: int) -> int:
        host_bits = self.bits - prefix
        return (self.value >> host_bits) << host_bits


class LiteralError(ValueError):
    """The text is not a well-formed literal of the kind it looks like."""


def kind_of(text: str) -> str:
    """What a literal looks like: integer, decimal, duration, size or address."""
    if ":" in text or text.count(".") >= 2 or "/" in text:
        return "address"
    if text[-1:].isdigit():
        return "decimal" if "." in text else "integer"
    if text.endswith(("ms", "s", "m", "h")):
        return "duration"
    if text[-1:] in _SIZE_BYTES:
        return "size"
    return "unknown"


def parse_integer(text: str) -> int:
    if not _INTEGER.match(text):
        raise LiteralError(f"'{text}' is not an integer: write 0 or digits without a leading zero")
    return int(text)


def parse_number(text: str) -> float:
    if _INTEGER.match(text):
        return float(text)
    if _DECIMAL.match(text):
        return float(text)
    raise LiteralError(f"'{text}' is not a number such as 2 or 1.5")


def parse_duration(text: str) -> int:
    """Milliseconds."""
    match = _DURATION.match(text)
    if not match:
        raise LiteralError(f"'{text}' is not a duration: an integer with ms, s, m or h, such as 500ms or 2s")
    return int(match.group(1)) * _DURATION_MS[match.group(2)]


def parse_size(text: str) -> int:
    """Bytes; K, M, G and T are powers of 1024."""
    if _INTEGER.match(text):
        return int(text)
    match = _SIZE.match(text)
    if not match:
        raise LiteralError(f"'{text}' is not a size: bytes, or an integer with K, M, G or T, such as 512M")
    return int(match.group(1)) * _SIZE_BYTES[match.group(2)]


def parse_address(text: str) -> Address:
    match = _IPV4_CANONICAL.match(text)
    if match:
        a, b, c, d = int(match.group(1)), int(match.group(2)), int(match.group(3)), int(match.group(4))
        if a < 256 and b < 256 and c < 256 and d < 256:
            prefix_text = match.group(5)
            prefix = None if prefix_text is None else _prefix(prefix_text, 32, text)
            address = text if prefix_text is None else text[:len(text) - len(prefix_text) - 1]
            return Address(4, (a << 24) | (b << 16) | (c << 8) | d, prefix, address)
    if _IPV4.match(text):
        raise LiteralError(f"'{text}' is not an IPv4 address: four numbers 0 to 255 without leading zeros")
    if ":" not in text:
        raise LiteralError(f"'{text}' is not an address, a number, a duration or a size")
    address_text, _, prefix_text = text.partition("/")
    try:
        address = ipaddress.IPv6Address(address_text)
    except ValueError:
        raise LiteralError(f"'{address_text}' is not an IPv6 address") from None
    prefix = _prefix(prefix_text or None, 128, text)
    return Address(6, int(address), prefix, address.compressed)


def _prefix(text: str | None, bits: int, whole: str) -> int | None:
    if text is None:
        return None
    if not _INTEGER.match(text) or int(text) > bits:
        raise LiteralError(f"'/{text}' in '{whole}' is not a prefix length: 0 to {bits}")
    return int(text)


def format_duration(milliseconds: int) -> str:
    for unit in ("h", "m", "s"):
        if milliseconds and milliseconds % _DURATION_MS[unit] == 0:
            return f"{milliseconds // _DURATION_MS[unit]}{unit}"
    return f"{milliseconds}ms"


def format_size(size: int) -> str:
    for unit in ("T", "G", "M", "K"):
        if size and size % _SIZE_BYTES[unit] == 0:
            return f"{size // _SIZE_BYTES[unit]}{unit}"
    return str(size)
