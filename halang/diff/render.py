"""Changes as a plan a person reads (like `terraform plan`) or as JSON for scripts."""

from __future__ import annotations

import json
import re

from halang.diff.changes import ADDED, CHANGED, IMPACT_KINDS, REMOVED, Change, summary_counts

_BARE = re.compile(r"[A-Za-z0-9_.:-][A-Za-z0-9_.:/-]*\Z")
_UNITS_MS = (("h", 3_600_000), ("m", 60_000), ("s", 1000))
_UNITS_BYTES = (("T", 1 << 40), ("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10))
PATH_WIDTH, VALUE_WIDTH = 44, 40


def duration(ms: int) -> str:
    for unit, size in _UNITS_MS:
        if ms and ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms}ms"


def size(count: int) -> str:
    for unit, factor in _UNITS_BYTES:
        if count and count % factor == 0:
            return f"{count // factor}{unit}"
    return str(count)


def show(key: str, value) -> str:
    """A snapshot value written as in a .ha file."""
    if value is None:
        return "(none)"
    if key == "placement":
        return ", ".join(value) if value else "offline"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int) and key.endswith("_ms"):
        return duration(value)
    if isinstance(value, int) and key == "memory":
        return size(value)
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, str):
        return value if _BARE.match(value) else json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(show(key, item) for item in value) + "]"
    if isinstance(value, dict):
        return _compact(key, value)
    return str(value)


def _compact(kind: str, value: dict) -> str:
    """An added or removed object on one line: what identifies it is in the path already."""
    if kind == "adapter":
        return f"{value['role']} {value['address']} switch {value['switch']}"
    if kind == "service":
        return value["address"]
    if kind == "accept":
        return show("reason", value.get("reason"))
    if kind == "link":
        devices = ", ".join(f"{node} = {show('device', path)}" for node, path in value.get("devices", {}).items())
        return f"{value.get('type')}: {devices}"
    if kind == "group":
        parts = [f"nodes = {show('nodes', value.get('nodes', []))}"]
        for key in ("startup", "service_ips"):
            if value.get(key):
                parts.append(f"{key} = {show(key, value[key])}")
        return ", ".join(parts)
    if kind == "network":
        return (f"{value.get('type')}, ipat {value.get('ipat')}, {len(value.get('adapters', []))} adapters, "
                f"{len(value.get('services', []))} services")
    skip = {"name", "kind", "mount_point", "adapters", "services"}
    parts = [f"{key[:-3] if key.endswith('_ms') else key} = {show(key, item)}" for key, item in value.items()
             if key not in skip and item not in (None, [], {})]
    return "{" + ", ".join(parts) + "}" if parts else ""


def _values(change: Change) -> str:
    if change.kind == CHANGED:
        return f"{show(change.key, change.old)} -> {show(change.key, change.new)}"
    if change.kind == ADDED:
        return show(change.key, change.new)
    assert change.kind == REMOVED
    text = show(change.key, change.old)
    return f"(was {text})" if text else ""


def summary(changes: list[Change]) -> str:
    counts = summary_counts(changes)
    return "Plan: " + ", ".join(f"{counts[kind]} {kind}" for kind in IMPACT_KINDS) + "."


def render_text(changes: list[Change], title: str = "") -> str:
    """One line per change (symbol, path, values, impact), then the plan's summary."""
    lines = [title, ""] if title else []
    if not changes:
        lines.append("No changes: both sides describe the same cluster.")
    rows = [(f"{change.symbol} {change.path}", _values(change), change.impact.text) for change in changes]
    path_width = min(PATH_WIDTH, max((len(row[0]) for row in rows), default=0))
    value_width = min(VALUE_WIDTH, max((len(row[1]) for row in rows), default=0))
    for path, values, impact in rows:
        lines.append(f"  {path.ljust(path_width)}  {values.ljust(value_width)}  {impact}".rstrip()
                     if values else f"  {path.ljust(path_width)}  {''.ljust(value_width)}  {impact}")
    lines.append("")
    lines.append(summary(changes))
    return "\n".join(lines) + "\n"


def render_json(changes: list[Change], old: str = "", new: str = "") -> str:
    data = {
        "old": old,
        "new": new,
        "changes": [change.to_json() for change in changes],
        "summary": summary_counts(changes),
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
