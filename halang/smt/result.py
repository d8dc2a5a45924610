"""What the failure analysis returns: findings as data, and what it could not decide."""

from __future__ import annotations

from dataclasses import dataclass, field

from halang.diagnostics import NO_SPAN, Diagnostic, Related, Severity, Span

SEVERITY = {
    "HA213": Severity.ERROR, "HA301": Severity.ERROR, "HA302": Severity.ERROR, "HA306": Severity.ERROR, "HA309": Severity.ERROR,
    "HA406": Severity.WARNING, "HA502": Severity.ERROR, "HA604": Severity.ERROR,
}


@dataclass(frozen=True)
class Finding:
    """One finding of the analysis: a code, who it concerns, the scenario that shows it, and why.

    `scenario` is a sorted tuple of component names as LANGUAGE.md writes
    them (`node:alpha`, `adapter:alpha/en0`, `switch:sw1`, `link:hb`,
    `linkend:wh1/hb_disk`, `domain:rack_a`); `()` means with nothing failed.
    """

    code: str
    message: str
    scenario: tuple[str, ...] = ()
    group: str | None = None
    node: str | None = None
    network: str | None = None
    span: Span = NO_SPAN
    hint: str | None = None
    related: tuple[Related, ...] = ()
    history: str | None = None  # with --reachable: the earlier failures and recoveries that lead to the start

    @property
    def severity(self) -> Severity:
        return SEVERITY[self.code]

    def diagnostic(self) -> Diagnostic:
        return Diagnostic(self.code, self.severity, self.span, self.message, self.hint, self.scenario, self.related)


@dataclass(frozen=True)
class Inconclusive:
    """A property the analysis could not settle: z3 answered unknown, or the budget ran out.

    `checked_up_to` is the largest number of failures for which the
    property's subjects were fully explored (every minimal scenario up to
    that size is among the findings).
    """

    codes: tuple[str, ...]
    subjects: tuple[str, ...]  # "group app_a", "node alpha", "node alpha on net_ether_01", "the cluster"
    checked_up_to: int
    faults: int
    reason: str

    @property
    def message(self) -> str:
        shown = ", ".join(self.subjects[:5]) + (f" and {len(self.subjects) - 5} more" if len(self.subjects) > 5 else "")
        done = (f"scenarios of up to {self.checked_up_to} failure{'s' if self.checked_up_to != 1 else ''} were "
                "checked" if self.checked_up_to > 0 else "no failure scenario was checked")
        return (f"{'/'.join(self.codes)} inconclusive for {shown}: {done}, not all up to {self.faults} "
                f"({self.reason})")


@dataclass(frozen=True)
class Truncation:
    """More minimal scenarios exist for one subject than are listed."""

    code: str
    subject: str
    shown: int
    more: int
    exact: bool  # False: `more` is a lower bound (counting stopped)

    @property
    def message(self) -> str:
        more = f"{self.more}" if self.exact else f"at least {self.more}"
        return f"{self.code} for {self.subject}: {self.shown} scenarios listed, and {more} more"


@dataclass(frozen=True)
class AnalysisResult:
    faults: int
    findings: tuple[Finding, ...] = ()
    inconclusive: tuple[Inconclusive, ...] = ()
    truncated: tuple[Truncation, ...] = ()
    stats: dict = field(default_factory=dict, compare=False)

    @property
    def complete(self) -> bool:
        """Every property was settled for every scenario of up to `faults` failures."""
        return not self.inconclusive

    def diagnostics(self) -> list[Diagnostic]:
        return [finding.diagnostic() for finding in self.findings]

    def notes(self) -> list[str]:
        """Sentences for the report: what was inconclusive, what was cut short."""
        return [item.message for item in self.inconclusive] + [item.message for item in self.truncated]
