"""Bundles compiled once per session from the examples, and helpers to run them as a node would."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from halang.compile import compile_source
from halang.diagnostics import SourceText

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
TWO_NODE = EXAMPLES / "two_node_replace.ha"


def compile_file(path: Path, out_dir: Path) -> Path:
    result = compile_source(SourceText(path.read_text(), str(path)), out_dir)
    assert not result.refused, [f.message for f in result.report.errors]
    return result.bundle


@pytest.fixture(scope="session")
def two_node_bundle(tmp_path_factory) -> Path:
    return compile_file(TWO_NODE, tmp_path_factory.mktemp("bundle"))


def run_bundle(bundle: Path, *args: str, python: str = sys.executable, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([python, "-I", str(bundle), *args], capture_output=True, text=True, timeout=60,
                          cwd=cwd or bundle.parent)


def rewrite_zip(source: Path, target: Path, change) -> Path:
    """Copy a bundle member by member through `change(members: dict) -> None`, with plain zipfile."""
    with zipfile.ZipFile(source) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    change(members)
    with zipfile.ZipFile(target, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return target
