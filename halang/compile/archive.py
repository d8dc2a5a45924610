"""The bundle's members gathered, hashed and written as one deterministic zip application.

Determinism: members are written in sorted order, each with the date
1980-01-01 00:00, Unix permissions 0644 (0755 for the event wrappers),
stored without compression (so the bytes do not depend on the zlib that
compiles), after the same `#!/usr/bin/env python3` line. The same cluster,
compiler and runtime give the same bytes, on any machine.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import io
import json
import os
import stat
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

from runtime.node.bundle import BUNDLE_FORMAT, MANIFEST, SNAPSHOT, content_hash, sha256_hex, valid_member_name

SHEBANG = b"#!/usr/bin/env python3\n"
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
ENTRY = Path(__file__).parent / "templates" / "bundle_main.py"
EXECUTABLE_PREFIXES = ("events/",)


class CompileError(Exception):
    """The bundle cannot be written (output directory, missing runtime); the message says why."""


def package_sources(package: str, prefix: str) -> dict[str, bytes]:
    """Every .py file of an installed package, as member path -> bytes (no __pycache__)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise CompileError(f"cannot find the package '{package}' to put in the bundle (is it installed?)")
    root = Path(next(iter(spec.submodule_search_locations)))
    members = {}
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root)
        if "__pycache__" in relative.parts:
            continue
        members[f"{prefix}/{PurePosixPath(*relative.parts)}"] = path.read_bytes()
    if not members:
        raise CompileError(f"the package '{package}' at {root} has no .py files")
    return members


def distribution_licenses(distribution: str) -> dict[str, bytes]:
    """The license files a distribution installed (`.dist-info/licenses/` or `LICENSE*`), for the bundle."""
    try:
        files = importlib.metadata.distribution(distribution).files or []
    except importlib.metadata.PackageNotFoundError:
        return {}
    members = {}
    for file in files:
        parts = PurePosixPath(str(file)).parts
        if parts and parts[0].endswith(".dist-info") and (
                "licenses" in parts or parts[-1].upper().startswith(("LICENSE", "COPYING"))):
            members[f"licenses/{distribution}/{parts[-1]}"] = Path(file.locate()).read_bytes()
    return members


def engine_members() -> dict[str, bytes]:
    """The code the node runs: the entry point, all of `runtime/`, and pyroute2 with its licenses."""
    members = {"__main__.py": ENTRY.read_bytes()}
    members.update(package_sources("runtime", "runtime"))
    members.update(package_sources("pyroute2", "pyroute2"))
    members.update(distribution_licenses("pyroute2"))
    return members


def make_manifest(cluster: str, compiler_version: str, members: dict[str, bytes]) -> dict:
    hashes = {name: sha256_hex(data) for name, data in sorted(members.items())}
    return {"bundle_format": BUNDLE_FORMAT, "cluster": cluster, "compiler_version": compiler_version,
            "content_hash": content_hash(cluster, compiler_version, hashes), "members": hashes}


def manifest_bytes(manifest: dict) -> bytes:
    return (json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def zip_bytes(members: dict[str, bytes]) -> bytes:
    """The archive, byte for byte the same for the same members."""
    buffer = io.BytesIO()
    buffer.write(SHEBANG)
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(members):
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_STORED
            info.create_system = 3  # Unix, so the permissions below are read
            mode = 0o755 if name.startswith(EXECUTABLE_PREFIXES) else 0o644
            info.external_attr = (stat.S_IFREG | mode) << 16
            archive.writestr(info, members[name])
    return buffer.getvalue()


def build_archive(cluster: str, compiler_version: str, members: dict[str, bytes]) -> tuple[str, bytes]:
    """The bundle's file name and bytes: manifest added, everything checked to be nameable."""
    if SNAPSHOT not in members:
        raise CompileError("a bundle needs a snapshot.json")
    for name in members:
        if not valid_member_name(name):
            raise CompileError(f"cannot put '{name}' in a bundle: member names are plain relative paths")
    manifest = make_manifest(cluster, compiler_version, members)
    data = zip_bytes({**members, MANIFEST: manifest_bytes(manifest)})
    return f"{cluster}-{manifest['content_hash'][:12]}.pyz", data


def write_atomically(out_dir: Path, name: str, data: bytes) -> Path:
    """Write the bundle beside its final name and rename it into place (readers never see half a file)."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise CompileError(f"{out_dir}: exists and is not a directory") from None
    except OSError as exc:
        raise CompileError(f"{out_dir}: cannot create the output directory: {exc.strerror}") from None
    if not out_dir.is_dir():
        raise CompileError(f"{out_dir}: exists and is not a directory")
    target = out_dir / name
    try:
        fd, temporary = tempfile.mkstemp(prefix=f".{name}.", dir=out_dir)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.chmod(temporary, 0o755)  # it starts with #!, so ./BUNDLE.pyz works too
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise CompileError(f"{target}: cannot write the bundle: {exc.strerror or exc}") from None
    return target
