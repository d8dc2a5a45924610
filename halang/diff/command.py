"""`halang diff OLD NEW [--format json]` as a function: each side a .ha file or a bundle (.pyz)."""

from __future__ import annotations

import zipfile
from pathlib import Path

from halang.diff.changes import DiffError, diff_clusters
from halang.diff.render import render_json, render_text

EXIT_SAME, EXIT_CHANGES, EXIT_TROUBLE = 0, 1, 2


class SideError(Exception):
    """One side cannot be read; the message (findings included) says why."""


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

    source = _read_text(path)
    report = verify_source(source, faults=0)
    if report.errors or report.cluster is None:
        report.analysis_note = ""
        raise SideError(render_report(report, Style(False)) + f"\n{path}: not compared: fix the errors first")
    return report.cluster.model_dump(mode="json")


def _read_text(path: str):
    from halang.diagnostics import SourceText

    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise SideError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise SideError(f"{path}: is a directory, not a .ha file or a bundle") from None
    except OSError as exc:
        raise SideError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        return SourceText(data.decode("utf-8"), path)
    except UnicodeDecodeError as exc:
        raise SideError(f"{path}: not UTF-8 text (byte {exc.start})") from None


def diff_command(old_path: str, new_path: str, fmt: str = "text") -> tuple[int, str]:
    """Exit code and output: 0 no change, 1 changes, 2 trouble (the output then says why, for stderr)."""
    snapshots, problems = [], []
    for path in (old_path, new_path):
        try:
            snapshots.append(read_side(path))
        except SideError as exc:
            problems.append(str(exc))
    if problems:
        return EXIT_TROUBLE, "\n\n".join(problems)
    old, new = snapshots
    try:
        changes = diff_clusters(old, new)
    except DiffError as exc:
        return EXIT_TROUBLE, f"halang diff: {old_path} and {new_path}: {exc}"
    if fmt == "json":
        output = render_json(changes, old_path, new_path)
    else:
        name = new["name"] if old["name"] == new["name"] else f"{old['name']} -> {new['name']}"
        output = render_text(changes, f"halang diff {old_path} {new_path}: cluster {name}")
    return (EXIT_CHANGES if changes else EXIT_SAME), output
