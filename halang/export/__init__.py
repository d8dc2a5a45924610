"""`halang export`: a verified cluster as another cluster stack's configuration.

    export_source(source, out_dir, faults, budget_ms, reachable) -> ExportResult   what the command runs

Only Pacemaker and Corosync today (`halang/export/pacemaker/`). Like
`compile`, a file with errors (as `verify --faults K` finds them) is refused
and nothing is written.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from halang.diagnostics import Diagnostic, SourceText
from halang.export.pacemaker import PacemakerExport, export_pacemaker
from halang.verify import FileReport, verify_source

__all__ = ["ExportError", "ExportResult", "export_source", "write_export"]


class ExportError(Exception):
    """The files cannot be written; the message says where and why."""


@dataclass(frozen=True)
class ExportResult:
    report: FileReport
    findings: list[Diagnostic] = field(default_factory=list)  # what the export could not carry over
    written: tuple[Path, ...] = ()

    @property
    def refused(self) -> bool:
        return not self.written


def write_export(export: PacemakerExport, out_dir: str | Path) -> tuple[Path, ...]:
    """Write every file under out_dir (created if missing), each replaced whole; ExportError if it cannot."""
    root = Path(out_dir)
    written = []
    try:
        for name, text in sorted(export.files.items()):
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_name(f".{path.name}.partial")
            partial.write_text(text, encoding="utf-8")
            partial.chmod(0o755 if export.executable(name) else 0o644)
            os.replace(partial, path)
            written.append(path)
    except OSError as exc:
        raise ExportError(f"cannot write the export into {root}: {exc.strerror or exc}") from None
    return tuple(written)


def export_source(source: SourceText, out_dir: str | Path, faults: int = 1, budget_ms: int | None = None,
                  reachable: bool = False) -> ExportResult:
    report = verify_source(source, faults=faults, budget_ms=budget_ms, reachable=reachable)
    if report.errors or report.cluster is None:
        return ExportResult(report)
    export = export_pacemaker(report.cluster, source, faults, reachable)
    findings = [finding.in_file(source.path) for finding in export.findings]
    return ExportResult(report, findings, write_export(export, out_dir))
