"""The ClusterSpec the workstation builds from the model is the one a node reads from the bundle's snapshot."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest

from halang.diagnostics import SourceText
from halang.model.spec import cluster_spec
from halang.verify import load
from runtime.core.snapshot import SnapshotError, load_snapshot

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted((ROOT / "examples").glob("*.ha")) + sorted((ROOT / "tests" / "checks").glob("HA*/*.ha"))


def _readable(path: Path):
    cluster, _, findings = load(SourceText(path.read_text(), str(path)))
    if cluster is None or any(f.is_error and f.code.startswith(("HA0", "HA1")) for f in findings):
        return None
    return cluster


@pytest.mark.parametrize("path", FILES, ids=lambda path: f"{path.parent.name}/{path.stem}")
def test_the_spec_from_the_model_equals_the_spec_from_the_snapshot(path: Path):
    cluster = _readable(path)
    if cluster is None:
        pytest.skip("the file does not resolve (HA0xx/HA1xx): neither side builds a spec")
    try:
        read = load_snapshot(cluster.snapshot())
    except SnapshotError as exc:
        pytest.skip(f"the node-side reader refuses it ({exc}); compile refuses such a file first")
    direct = cluster_spec(cluster)
    for field in fields(direct):
        if field.name != "derived":
            assert getattr(direct, field.name) == getattr(read, field.name), field.name


def test_enough_files_resolve():
    assert sum(_readable(path) is not None for path in FILES) >= 100
