"""What a node has of what the bundle needs, looked at on the node before a deploy changes anything.

    python3 BUNDLE.pyz preflight --node NAME [--root DIR] [--sysfs DIR]

prints one JSON object; `halang deploy` turns it into HA701-HA705 (HA705 compares nodes, so it is decided
there). Nothing is changed. `--root` is where the node's files are (`/`; a directory per node when
trying deploys on one machine), `--sysfs` where its interfaces are listed (`/sys`).
"""

from __future__ import annotations

import hashlib
import os
import shlex
import stat
from typing import Any, Dict, List, Optional


def node_scripts(snapshot: Dict[str, Any], node: str) -> List[str]:
    """The programs the node may run: its groups' application and monitor scripts, and every event script."""
    commands: List[str] = []
    for group in snapshot["groups"]:
        if node not in group["nodes"]:
            continue
        for application in group["applications"]:
            commands += [application["start"], application["stop"]]
            monitor = application.get("monitor") or {}
            if monitor.get("command"):
                commands.append(monitor["command"])
    for event in snapshot["events"]:
        commands += [event[phase] for phase in ("pre", "post", "notify", "recovery") if event.get(phase)]
    return list(dict.fromkeys(program(command) for command in commands if program(command)))


def program(command: str) -> str:
    """The program a script line runs: its first word (`/opt/app/start --fast` runs /opt/app/start)."""
    try:
        words = shlex.split(command)
    except ValueError:
        words = command.split()
    return words[0] if words else ""


def under(root: str, path: str) -> str:
    return os.path.join(root, path.lstrip("/"))


def _script(path: str) -> Dict[str, Any]:
    try:
        info = os.stat(path)
    except OSError:
        return {"exists": False, "file": False, "executable": False, "sha256": None}
    regular = stat.S_ISREG(info.st_mode)
    digest: Optional[str] = None
    if regular:
        try:
            with open(path, "rb") as handle:
                digest = hashlib.sha256(handle.read()).hexdigest()
        except OSError:
            pass
    # Root may execute a regular file with any execute bit set.
    return {"exists": True, "file": regular, "executable": regular and bool(info.st_mode & 0o111), "sha256": digest}


def volume_group_known(root: str, name: str) -> bool:
    """LVM knows a volume group by its metadata backup, and an active one by its /dev directory."""
    return any(os.path.exists(under(root, path)) for path in ("/etc/lvm/backup/" + name, "/dev/" + name))


def probe(snapshot: Dict[str, Any], node: str, root: str = "/", sysfs: str = "/sys") -> Dict[str, Any]:
    adapters = [adapter["ifname"] for network in snapshot["networks"] for adapter in network["adapters"]
                if adapter["node"] == node]
    volume_groups = [vg for group in snapshot["groups"] if node in group["nodes"] for vg in group["volume_groups"]]
    devices = {link["name"]: link["devices"][node] for link in snapshot["links"] if node in link["devices"]}
    return {
        "node": node,
        "scripts": {path: _script(under(root, path)) for path in node_scripts(snapshot, node)},
        "interfaces": {ifname: os.path.exists(os.path.join(sysfs, "class/net", ifname))
                       for ifname in dict.fromkeys(adapters)},
        "devices": {link: {"path": path, "exists": os.path.exists(under(root, path))}
                    for link, path in devices.items()},
        "volume_groups": {vg: volume_group_known(root, vg) for vg in dict.fromkeys(volume_groups)},
    }
