"""`halang diff OLD NEW [--format json]` as a function: each side a .ha file or a bundle (.pyz)."""

from __future__ import annotations

import zipfile
from pathlib import Path

from halang.diagnostics import SourceError, read_source
from halang.diff.changes import DiffError, diff_clusters
from halang.diff.render import render_json, render_text
from halang.outcome import EXIT_FINDINGS, EXIT_OK, Outcome, refused, trouble



class SideError(Exception):
    """One side cannot be read; the message (findings included) says why.

    `findings`: the side is a .ha file with errors, as opposed to one that cannot be read at all."""

    def __init__(self, message: str, findings: bool = False):
        super().__init__(message)
        self.findings = findings


def is_bundle(path: str) -> bool:
    return path.endswith(".pyz") or (Path(path).is_file() and zipfile.is_zipfile(path))


def read_side(path: str) -> dict:
    """The snapshot of a bundle, or of a .ha file with no errors (static checks, as `halang show`)."""
    if is_bundle(path):
        from halang.compile import BundleError, read_bundle

        try:
            return read_bundle(path).snapshot()
        except BundleError as exc:
            raise SideError(str(exc)) from None
    from halang.report.text import Style, render_report
    from halang.verify import verify_source

    try:
        source = read_source(path)
    except SourceError as exc:
        raise SideError(str(exc)) from None
    report = verify_source(source, faults=0)
    if report.errors or report.cluster is None:
        report.analysis_note = ""
        raise SideError(render_report(report, Style(False)) + f"\n{path}: not compared: fix the errors first",
                        findings=True)
    return report.cluster.snapshot()


def diff_command(old_path: str, new_path: str, fmt: str = "text") -> Outcome:
    """0 no change, 1 changes (or a side with errors: its findings, for stderr), 2 trouble."""
    snapshots, problems = [], []
    for path in (old_path, new_path):
        try:
            snapshots.append(read_side(path))
        except SideError as exc:
            problems.append(exc)
    if problems:
        output = "\n\n".join(map(str, problems))
        return refused(output) if all(problem.findings for problem in problems) else trouble(output)
    old, new = snapshots
    try:
        changes = diff_clusters(old, new)
    except DiffError as exc:
        return trouble(f"halang diff: {old_path} and {new_path}: {exc}")
    if fmt == "json":
        output = render_json(changes, old_path, new_path)
    else:
        name = new["name"] if old["name"] == new["name"] else f"{old['name']} -> {new['name']}"
        output = render_text(changes, f"halang diff {old_path} {new_path}: cluster {name}")
    return Outcome(EXIT_FINDINGS if changes else EXIT_OK, output)
