"""`halang compile`: a verified cluster to one self-contained, deterministic bundle file.

    compile_source(source, out_dir) -> CompileResult   what `halang compile FILE -o DIR` runs
    compile_cluster(report_or_cluster, out_dir) -> Path
    bundle_members(cluster) -> dict[str, bytes]          every member but the manifest (pure but for
                                                         reading the runtime and pyroute2 sources)
    read_bundle(path) -> Bundle                          a bundle read back and checked, or BundleError

The bundle `CLUSTER-SHORTHASH.pyz` is a zip application `python3` runs with
nothing else installed; its layout, manifest and plans are in docs/bundle.md.
The reading side lives in `runtime/node/bundle.py` so the node applies the very
same checks; `Bundle` and `BundleError` are that module's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from halang import __version__
from halang.compile.archive import CompileError, build_archive, engine_members, write_atomically
from halang.compile.plans import plan_nodes
from halang.compile.render import render_files
from halang.diagnostics import SourceText
from halang.model.cluster import Cluster
from halang.verify import FileReport, verify_source
from runtime.node.bundle import PLANS_DIR, SNAPSHOT, Bundle, BundleError, NoSuchNode, open_bundle

__all__ = ["Bundle", "BundleError", "CompileError", "CompileRefused", "CompileResult", "NoSuchNode",
           "bundle_members", "compile_cluster", "compile_source", "read_bundle"]


class CompileRefused(Exception):
    """The file has errors (or no cluster): no bundle is written. `report` holds the findings."""

    def __init__(self, report: FileReport):
        self.report = report
        super().__init__(f"{report.source.path}: not compiled: fix the errors first")


@dataclass(frozen=True)
class CompileResult:
    """What `compile_source` did: the verify report, and the bundle written (None when refused)."""

    report: FileReport
    bundle: Path | None

    @property
    def refused(self) -> bool:
        return self.bundle is None


PROOF = "proof.json"


def proof_record(report: FileReport | None) -> dict:
    """What `verify` proved of the file the bundle is compiled from (the bundle's proof.json); with no report
    (a cluster compiled without verifying it), that nothing was."""
    record = {"z3_version": metadata.version("z3-solver")}
    if report is None:
        return {**record, "faults": 0, "reachable": False, "analysis": "not run: compiled without verify",
                "complete": False, "accepted": [], "inconclusive": []}
    result = report.result
    return {**record, "faults": report.faults, "reachable": report.reachable, "analysis": report.analysis,
            "complete": report.analysis == "ran",
            "accepted": sorted({finding.code for finding in report.findings if finding.accepted}),
            "inconclusive": [item.message for item in result.inconclusive] if result is not None else []}


def bundle_members(cluster: Cluster, version: str = __version__, proof: dict | None = None) -> dict[str, bytes]:
    """Every member of the cluster's bundle except the manifest, by member path."""
    members = {SNAPSHOT: cluster.snapshot_json().encode("utf-8"),
               PROOF: (json.dumps(proof or proof_record(None), indent=2, sort_keys=True) + "\n").encode("utf-8")}
    for node, plan in plan_nodes(cluster).items():
        members[f"{PLANS_DIR}{node}.json"] = (json.dumps(plan, indent=2, sort_keys=True, ensure_ascii=False)
                                             + "\n").encode("utf-8")
    for name, text in render_files(cluster, version).items():
        members[name] = text.encode("utf-8")
    members.update(engine_members())
    return members


def compile_cluster(report_or_cluster: FileReport | Cluster, out_dir: str | Path) -> Path:
    """Write the bundle into out_dir and return its path. A report with errors raises CompileRefused."""
    proof = None
    if isinstance(report_or_cluster, FileReport):
        if report_or_cluster.errors or report_or_cluster.cluster is None:
            raise CompileRefused(report_or_cluster)
        cluster = report_or_cluster.cluster
        proof = proof_record(report_or_cluster)
    else:
        cluster = report_or_cluster
    name, data = build_archive(cluster.name, __version__, bundle_members(cluster, proof=proof))
    return write_atomically(Path(out_dir), name, data)


def compile_source(source: SourceText, out_dir: str | Path, faults: int = 1, budget_ms: int | None = None,
                   reachable: bool = False) -> CompileResult:
    """Verify the text as `halang verify` does; with no errors (HA300, an inconclusive analysis, is one),
    write its bundle. CompileError if it cannot."""
    report = verify_source(source, faults=faults, budget_ms=budget_ms, reachable=reachable)
    if report.errors or report.cluster is None:
        return CompileResult(report, None)
    return CompileResult(report, compile_cluster(report, out_dir))


def read_bundle(path: str | Path) -> Bundle:
    """The bundle at path, every member checked against its manifest; BundleError (a sentence) if not."""
    return open_bundle(str(path))
