"""The check registry: one class per diagnostic code, its docstring its documentation.

A check lives in `halang/checks/<family>/haNNN_<name>.py`. Its docstring is
what `halang explain` prints and what `docs/checks.md` is made of: a summary
line, then paragraphs, then `Bad:` and `Good:` sections of indented halang.
Codes that the parser or the model builder report (HA0xx, HA1xx), that the
failure analysis reports, that `deploy` gathers from the nodes, or that `export`
reports have a class too, for their documentation, with `phase` saying who reports them.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import textwrap
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, ClassVar, Iterator

from halang.diagnostics import Diagnostic, Severity, Span, error, warning

if TYPE_CHECKING:
    from halang.checks.context import CheckContext

PHASES = {
    "parse": "reported by the parser",
    "model": "reported while names are resolved",
    "static": "a static check",
    "analysis": "the failure analysis (z3)",
    "deploy": "gathered from the nodes by `halang deploy` (not built yet: no command reports it today)",
    "export": "reported by `halang export pacemaker`, and listed in its EXPORT.md",
}


class Check:
    """Base of every check. Subclasses set the class attributes and, if static, `run`."""

    code: ClassVar[str]
    name: ClassVar[str]  # dotted, e.g. "address.duplicate"
    severity: ClassVar[Severity]
    phase: ClassVar[str] = "static"

    def run(self, context: CheckContext) -> Iterator[Diagnostic]:
        raise NotImplementedError(f"{self.code} is {PHASES[self.phase]}, not run as a static check")

    # Helpers so checks read as sentences.
    def finding(self, span: Span, message: str, hint: str | None = None, **extra) -> Diagnostic:
        make = error if self.severity is Severity.ERROR else warning
        return make(self.code, span, message, hint, **extra)

    @classmethod
    def doc(cls) -> "CheckDoc":
        return CheckDoc.from_docstring(cls)


@dataclass(frozen=True)
class CheckDoc:
    code: str
    name: str
    severity: Severity
    phase: str
    title: str
    explanation: str
    bad: str
    good: str

    @classmethod
    def from_docstring(cls, check: type[Check]) -> "CheckDoc":
        text = inspect.cleandoc(check.__doc__ or "")
        title, _, rest = text.partition("\n")
        sections = re.split(r"^(Bad|Good):\s*$", rest, flags=re.MULTILINE)
        explanation = sections[0].strip()
        parts = dict(zip(sections[1::2], sections[2::2]))
        return cls(check.code, check.name, check.severity, check.phase, title.strip(), explanation,
                   textwrap.dedent(parts.get("Bad", "")).strip("\n"), textwrap.dedent(parts.get("Good", "")).strip("\n"))


@lru_cache(maxsize=1)
def all_checks() -> dict[str, Check]:
    """Every check, by code, found by importing the family packages under halang/checks."""
    import halang.checks as package

    found: dict[str, Check] = {}
    for module_info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        if not re.search(r"\.ha\d{3}_\w+$", module_info.name):
            continue
        module = importlib.import_module(module_info.name)
        for value in vars(module).values():
            if inspect.isclass(value) and issubclass(value, Check) and value.__module__ == module.__name__:
                if value.code in found:
                    raise RuntimeError(f"two checks claim {value.code}")
                found[value.code] = value()
    return dict(sorted(found.items()))


def static_checks() -> list[Check]:
    """Checks `verify` runs on the model: the static ones, and model-phase codes with a check of their own
    (HA104 for `accept` lines, which needs the registry the model builder does not know)."""
    return [check for check in all_checks().values()
            if check.phase == "static" or (check.phase == "model" and type(check).run is not Check.run)]


def check_for(code: str) -> Check | None:
    return all_checks().get(code.upper())
