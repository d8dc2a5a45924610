"""A bundle read back and checked: the same rules on the node and on the workstation.

A bundle (`CLUSTER-SHORTHASH.pyz`, written by `halang compile`) is a zip
application. Its `manifest.json` names every other member with its sha256 and
carries the bundle's content hash:

    sha256 of the text
        halang-bundle 1
        cluster payments
        compiler 0.1.0
        <sha256 of member>  <member path>      one line per member, paths sorted
        ...

so the hash covers the canonical snapshot (`snapshot.json` is a member), every
plan, script and line of code, and nothing that depends on time. SHORTHASH in
the file name is its first 12 hex digits.

`open_bundle(path)` refuses, with a `BundleError` whose message says what is
wrong, a file that is not a zip, a zip without a readable manifest, a member
whose bytes do not match the manifest, a member the manifest does not list, a
listed member that is missing, and a content hash that does not match the
member hashes. Standard library only, Python 3.9 and newer: `halang` imports
it for `read_bundle`, and the bundle itself runs it before every command.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import zipfile
from typing import Any, Dict, List, Mapping, Optional

BUNDLE_FORMAT = 1
MANIFEST = "manifest.json"
SNAPSHOT = "snapshot.json"
PLANS_DIR = "plans/"
SHORT_HASH_LENGTH = 12
MANIFEST_KEYS = ("bundle_format", "cluster", "compiler_version", "content_hash", "members")

_HEX64 = re.compile(r"[0-9a-f]{64}\Z")
_MEMBER = re.compile(r"[A-Za-z0-9_.@-]+(/[A-Za-z0-9_.@-]+)*\Z")


class BundleError(Exception):
    """The file is not a bundle this code accepts; the message says why, naming the file."""


class NoSuchNode(BundleError):
    """The bundle is sound, but its cluster has no node of that name."""


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def content_hash(cluster: str, compiler_version: str, members: Mapping[str, str],
                 bundle_format: int = BUNDLE_FORMAT) -> str:
    """The bundle's identity: the sha256 of the format, the cluster, the compiler and every member's hash."""
    lines = ["halang-bundle %d" % bundle_format, "cluster %s" % cluster, "compiler %s" % compiler_version]
    lines.extend("%s  %s" % (members[name], name) for name in sorted(members))
    return sha256_hex(("\n".join(lines) + "\n").encode("utf-8"))


def valid_member_name(name: str) -> bool:
    """A relative path of plain parts: no `..`, no leading `/`, no backslash, not the manifest itself."""
    return (name != MANIFEST and _MEMBER.match(name) is not None
            and all(part not in (".", "..") for part in name.split("/")))


class Bundle:
    """A checked bundle: its manifest and the bytes of every other member."""

    def __init__(self, path: str, manifest: Dict[str, Any], members: Dict[str, bytes]):
        self.path = path
        self.manifest = manifest
        self.members = members

    @property
    def bundle_format(self) -> int:
        return self.manifest["bundle_format"]

    @property
    def cluster(self) -> str:
        return self.manifest["cluster"]

    @property
    def compiler_version(self) -> str:
        return self.manifest["compiler_version"]

    @property
    def content_hash(self) -> str:
        return self.manifest["content_hash"]

    @property
    def short_hash(self) -> str:
        return self.content_hash[:SHORT_HASH_LENGTH]

    @property
    def file_name(self) -> str:
        """The name `halang compile` gives this bundle (the file may have been renamed, e.g. `current.pyz`)."""
        return "%s-%s.pyz" % (self.cluster, self.short_hash)

    def text(self, name: str) -> str:
        return self.members[name].decode("utf-8")

    @property
    def snapshot_text(self) -> str:
        """`snapshot.json` exactly as the compiler wrote it: the cluster's canonical JSON."""
        return self.text(SNAPSHOT)

    def snapshot(self) -> Dict[str, Any]:
        return json.loads(self.snapshot_text)

    def nodes(self) -> List[str]:
        """The cluster's nodes in the file's order."""
        return [node["name"] for node in self.snapshot()["nodes"]]

    def plan(self, node: str) -> Dict[str, Any]:
        """The node's plan (`plans/NODE.json`); `NoSuchNode` if the cluster has no such node."""
        data = self.members.get(PLANS_DIR + node + ".json")
        if data is None:
            raise NoSuchNode("%s: cluster %s has no node '%s' (nodes: %s)"
                              % (self.path, self.cluster, node, ", ".join(self.nodes())))
        return json.loads(data.decode("utf-8"))


def open_bundle(path: str) -> Bundle:
    """Read and check a bundle; `BundleError` if anything in it does not match its manifest."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise BundleError("%s: no such file" % path)
    if os.path.isdir(path):
        raise BundleError("%s: is a directory, not a bundle" % path)
    try:
        with zipfile.ZipFile(path) as archive:
            return _read(path, archive)
    except zipfile.BadZipFile as exc:
        raise BundleError("%s: not a halang bundle: not a readable zip archive (%s)" % (path, exc)) from None
    except OSError as exc:
        raise BundleError("%s: cannot read: %s" % (path, exc.strerror or exc)) from None


def _read(path: str, archive: zipfile.ZipFile) -> Bundle:
    names = [info.filename for info in archive.infolist()]
    seen = set()
    for name in names:
        if name in seen:
            raise BundleError("%s: refused: member %s appears twice in the archive" % (path, name))
        seen.add(name)
    if MANIFEST not in seen:
        raise BundleError("%s: not a halang bundle: it has no %s" % (path, MANIFEST))
    manifest = _manifest(path, _member(path, archive, MANIFEST))
    listed = manifest["members"]
    missing = sorted(set(listed) - seen)
    if missing:
        raise BundleError("%s: refused: %s listed in the manifest but missing from the archive"
                          % (path, _some(missing)))
    extra = sorted(seen - set(listed) - {MANIFEST})
    if extra:
        raise BundleError("%s: refused: %s in the archive but not in the manifest" % (path, _some(extra)))
    members = {}
    for name in sorted(listed):
        data = _member(path, archive, name)
        actual = sha256_hex(data)
        if actual != listed[name]:
            raise BundleError("%s: refused: member %s does not match the manifest (sha256 %s, manifest says %s)"
                              % (path, name, actual[:16] + "...", listed[name][:16] + "..."))
        members[name] = data
    expected = content_hash(manifest["cluster"], manifest["compiler_version"], listed, manifest["bundle_format"])
    if expected != manifest["content_hash"]:
        raise BundleError("%s: refused: the manifest's content hash %s does not match its members (%s)"
                          % (path, manifest["content_hash"][:16] + "...", expected[:16] + "..."))
    if SNAPSHOT not in members:
        raise BundleError("%s: not a halang bundle: it has no %s" % (path, SNAPSHOT))
    try:
        snapshot = json.loads(members[SNAPSHOT].decode("utf-8"))
        name = snapshot["name"]
    except (ValueError, KeyError, TypeError):
        raise BundleError("%s: refused: %s is not a cluster snapshot" % (path, SNAPSHOT)) from None
    if name != manifest["cluster"]:
        raise BundleError("%s: refused: the manifest names cluster %s but the snapshot is of %s"
                          % (path, manifest["cluster"], name))
    return Bundle(path, manifest, members)


def _member(path: str, archive: zipfile.ZipFile, name: str) -> bytes:
    try:
        return archive.read(name)
    except zipfile.BadZipFile as exc:
        raise BundleError("%s: refused: member %s is damaged (%s)" % (path, name, exc)) from None
    except (zipfile.LargeZipFile, NotImplementedError, RuntimeError) as exc:
        raise BundleError("%s: refused: member %s cannot be read (%s)" % (path, name, exc)) from None


def _manifest(path: str, data: bytes) -> Dict[str, Any]:
    def bad(why: str) -> BundleError:
        return BundleError("%s: refused: %s %s" % (path, MANIFEST, why))

    try:
        manifest = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise bad("is not valid JSON (%s)" % exc) from None
    if not isinstance(manifest, dict):
        raise bad("is not a JSON object")
    version = manifest.get("bundle_format")
    if not isinstance(version, int) or isinstance(version, bool):
        raise bad("has no bundle_format number")
    if version != BUNDLE_FORMAT:
        raise bad("is bundle format %d; this reader understands format %d only" % (version, BUNDLE_FORMAT))
    missing = [key for key in MANIFEST_KEYS if key not in manifest]
    if missing:
        raise bad("lacks %s" % ", ".join(missing))
    unknown = sorted(set(manifest) - set(MANIFEST_KEYS))
    if unknown:
        raise bad("has unknown keys: %s" % ", ".join(unknown))
    for key in ("cluster", "compiler_version"):
        if not isinstance(manifest[key], str) or not manifest[key]:
            raise bad("has no %s" % key)
    if not isinstance(manifest["content_hash"], str) or not _HEX64.match(manifest["content_hash"]):
        raise bad("has a content_hash that is not 64 lowercase hex digits")
    members = manifest["members"]
    if not isinstance(members, dict) or not members:
        raise bad("lists no members")
    for name, digest in members.items():
        if not valid_member_name(name):
            raise bad("lists a member with an unsafe or invalid name: %r" % name)
        if not isinstance(digest, str) or not _HEX64.match(digest):
            raise bad("gives member %s a sha256 that is not 64 lowercase hex digits" % name)
    return manifest


def _some(names: List[str], shown: int = 5) -> str:
    text = ", ".join(names[:shown])
    if len(names) > shown:
        text += " and %d more" % (len(names) - shown)
    return ("member " if len(names) == 1 else "members ") + text + (" is" if len(names) == 1 else " are")


def this_archive(module_file: Optional[str] = None) -> Optional[str]:
    """The bundle file this code runs from (`.../payments-1a2b.pyz/runtime/node/bundle.py` -> the .pyz), or None."""
    location = os.path.abspath(module_file or __file__)
    while True:
        parent = os.path.dirname(location)
        if parent == location:
            return None
        if os.path.isfile(parent) and zipfile.is_zipfile(parent):
            return parent
        location = parent
