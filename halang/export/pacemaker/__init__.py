"""`halang export pacemaker`: a verified cluster as Pacemaker and Corosync configuration.

    export_pacemaker(cluster, source_name, faults, reachable) -> PacemakerExport   pure

The files (docs/pacemaker.md has the mapping): `cib.xml` (cib.py),
`corosync.conf` (corosync.py), the OCF agents the CIB names under
`ocf/halang/`, SBD's settings when the file has a tie-breaker, and
`EXPORT.md`, which lists the findings (findings.py): what could not be
carried over. Text files are rendered from the templates beside this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from halang import __version__
from halang.acceptance import Acceptances
from halang.checks.registry import all_checks
from halang.compile.render import template_environment
from halang.diagnostics import Diagnostic, SourceText
from halang.export.pacemaker.cib import APPLICATION_AGENT, FSTAB_AGENT, render_cib
from halang.export.pacemaker.corosync import corosync_context, corosync_links
from halang.export.pacemaker.findings import export_findings
from halang.model.cluster import Cluster

TEMPLATES = Path(__file__).parent / "templates"
AGENTS_DIR = "ocf/halang/"


@dataclass(frozen=True)
class PacemakerExport:
    files: dict[str, str]  # path inside DIR -> text
    findings: list[Diagnostic]

    @staticmethod
    def executable(path: str) -> bool:
        return path.startswith(AGENTS_DIR)


@cache
def environment() -> jinja2.Environment:
    return template_environment(TEMPLATES)


def export_pacemaker(cluster: Cluster, source: SourceText, faults: int = 1, reachable: bool = False,
                     version: str = __version__) -> PacemakerExport:
    """Every file of the export, and its findings (those the file accepts marked so)."""
    env = environment()
    links = corosync_links(cluster)
    findings = Acceptances(cluster).mark(export_findings(cluster, links))
    context = corosync_context(cluster, links)
    files = {"cib.xml": render_cib(cluster),
             "corosync.conf": env.get_template("corosync.conf.j2").render(
                 version=version, source=source.path, **context)}
    agents = []
    if any(group.applications for group in cluster.groups):
        agents.append((APPLICATION_AGENT, "application.j2"))
    if any(fs.device is None for group in cluster.groups for fs in group.filesystems):
        agents.append((FSTAB_AGENT, "fstab.j2"))
    for agent, template in agents:
        files[AGENTS_DIR + agent] = env.get_template(template).render(agent=agent, version=version,
                                                                        cluster=cluster.name)
    sbd = _sbd_files(cluster, version)
    files.update(sbd)
    files["EXPORT.md"] = env.get_template("EXPORT.md.j2").render(
        cluster=cluster.name, version=version, source=source.path, faults=faults, reachable=reachable,
        crypto=context["crypto"], agents=[agent for agent, _ in agents],
        sbd=[(name, name.removeprefix("sbd-").removesuffix(".conf") if name != "sbd.conf" else None)
             for name in sbd],
        findings=_described(cluster, source, findings), accepted=sum(1 for f in findings if f.accepted))
    return PacemakerExport(files, findings)


def _sbd_files(cluster: Cluster, version: str) -> dict[str, str]:
    """SBD's settings for the tie-breaker disk: one file if every node names the same device, else one a node."""
    name = cluster.heartbeat.tie_breaker
    if name is None:
        return {}
    link = next(link for link in cluster.links if link.name == name)
    template = environment().get_template("sbd.j2")
    if len(set(link.devices.values())) == 1:
        device = next(iter(link.devices.values()))
        return {"sbd.conf": template.render(cluster=cluster.name, where="for every node", device=device, link=name,
                                            version=version)}
    return {f"sbd-{node}.conf": template.render(cluster=cluster.name, where=f"for node {node}", device=device, link=name,
                                                version=version)
            for node, device in link.devices.items()}


def _described(cluster: Cluster, source: SourceText, findings: list[Diagnostic]) -> list[dict]:
    acceptances = Acceptances(cluster)
    described = []
    for finding in findings:
        location = source.locate(finding.span)
        accept = acceptances.covering(finding) if finding.accepted else None
        described.append({"code": finding.code, "title": all_checks()[finding.code].doc().title.rstrip("."),
                          "line": location.line, "column": location.column, "severity": finding.severity.value,
                          "accepted": finding.accepted, "message": finding.message.rstrip("."),
                          "hint": finding.hint.rstrip(".") if finding.hint else None,
                          "reason": accept.reason if accept is not None else None})
    return described
