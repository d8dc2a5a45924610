"""Nodes for deploy tests: a directory per node holding what the file needs (scripts, interfaces, devices,
volume groups, the cluster key), as `--transport local:DIR` expects."""

from __future__ import annotations

import os
from pathlib import Path

from halang.diagnostics import SourceText
from halang.verify import load

from runtime.node.preflight import node_scripts, under


def snapshot_of(path: Path) -> dict:
    cluster, _, _ = load(SourceText(Path(path).read_text(), str(path)))
    return cluster.snapshot()


def make_node(root: Path, snapshot: dict, node: str, key: bytes, interfaces: bool = True) -> None:
    root.mkdir(parents=True, exist_ok=True)
    for script in node_scripts(snapshot, node):
        path = Path(under(str(root), script))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("#!/bin/sh\nexit 0\n")
        path.chmod(0o755)
    if interfaces:
        for network in snapshot["networks"]:
            for adapter in network["adapters"]:
                if adapter["node"] == node:
                    (root / "sys/class/net" / adapter["ifname"]).mkdir(parents=True, exist_ok=True)
    for link in snapshot["links"]:
        if node in link["devices"]:
            device = Path(under(str(root), link["devices"][node]))
            device.parent.mkdir(parents=True, exist_ok=True)
            device.touch()
    for group in snapshot["groups"]:
        if node in group["nodes"]:
            for vg in group["volume_groups"]:
                backup = root / "etc/lvm/backup" / vg
                backup.parent.mkdir(parents=True, exist_ok=True)
                backup.touch()
    key_file = snapshot["heartbeat"]["key_file"]
    if key_file:
        path = Path(under(str(root), key_file))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(key)
        os.chmod(path, 0o600)


def make_nodes(directory: Path, snapshot: dict, key: bytes) -> None:
    for node in snapshot["nodes"]:
        make_node(directory / node["name"], snapshot, node["name"], key)
