"""What a file's `accept` lines accept, and the ones that accept nothing."""

from __future__ import annotations

from halang.checks.registry import all_checks
from halang.diagnostics import Diagnostic, warning
from halang.model.cluster import Accept, Cluster

# Codes that can never be accepted: the file is not understood until they are fixed.
UNACCEPTABLE_PREFIXES = ("HA0", "HA1")


class Acceptances:
    """The file's accept lines that can accept: which one covers a finding, and which covered none.

    `accept CODE "why"` covers every finding of CODE; with `when [...]`, only those whose scenario is
    exactly that set of components.
    """

    def __init__(self, cluster: Cluster | None):
        self.by_code: dict[str, list[tuple[int, Accept]]] = {}
        for number, accept in enumerate(cluster.accepts if cluster is not None else ()):
            if accept.code in all_checks() and not accept.code.startswith(UNACCEPTABLE_PREFIXES):
                self.by_code.setdefault(accept.code, []).append((number, accept))
        self.matched: set[int] = set()

    def covering(self, finding: Diagnostic) -> Accept | None:
        """The accept line covering the finding (one naming its scenario first), None if none does."""
        found = None
        for number, accept in self.by_code.get(finding.code, ()):
            if accept.when is None:
                found = found or accept
            elif frozenset(accept.when) == frozenset(finding.scenario):
                self.matched.add(number)
                found = accept
        return found

    def mark(self, findings: list[Diagnostic]) -> list[Diagnostic]:
        """Findings with those the file accepts marked so."""
        if not self.by_code:
            return findings
        return [f.as_accepted() if self.covering(f) is not None else f for f in findings]

    def stale(self, analysis: str, faults: int, findings: list[Diagnostic]) -> list[Diagnostic]:
        """A warning (HA104) for each `accept ... when` that covered no finding, where that is certain:
        a static code (its findings have no scenario), or an analysis code whose analysis ran to the end
        for scenarios of that size (`analysis` is FileReport.analysis). An accept line with an error of its
        own gets no more."""
        faulty = [f.span.start for f in findings if f.code == "HA104" and f.is_error]
        found = []
        for number, accept in (item for accepts in self.by_code.values() for item in accepts):
            line = accept.span()
            if accept.when is None or number in self.matched or any(line.start <= at < line.end for at in faulty):
                continue
            phase = all_checks()[accept.code].phase
            if phase == "static":
                why = f"{accept.code} is a static finding, with no scenario"
            elif phase == "analysis" and analysis == "ran" and len(accept.when) <= faults:
                why = (f"the failure analysis (--faults {faults}) found no {accept.code} with exactly "
                       "this scenario")
            else:
                continue
            found.append(warning(
                "HA104", accept.span("when"),
                f"accept {accept.code} when [{', '.join(accept.when)}] matches no finding: {why}",
                "remove the accept line, or name the scenario exactly as verify lists the finding's"))
        return found
