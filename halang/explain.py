"""`halang explain CODE` and the check catalogue, both from the registry's docstrings."""

from __future__ import annotations

from halang.checks.registry import PHASES, CheckDoc, all_checks


def render_explanation(doc: CheckDoc) -> str:
    parts = [f"{doc.code} ({doc.name}) — {doc.severity.value}: {doc.title}", "", f"Reported by: {PHASES[doc.phase]}."]
    if doc.explanation:
        parts += ["", doc.explanation]
    if doc.bad:
        parts += ["", "Bad:", _indent(doc.bad)]
    if doc.good:
        parts += ["", "Good:", _indent(doc.good)]
    return "\n".join(parts)


def _indent(text: str) -> str:
    return "\n".join("    " + line if line else "" for line in text.splitlines())


def render_catalogue() -> str:
    """docs/checks.md, generated: `make docs` writes it, a test fails when it is stale."""
    docs = [check.doc() for check in all_checks().values()]
    lines = [
        "# Check catalogue",
        "",
        "<!-- Generated from the check registry (halang/checks) by `make docs`; do not edit. -->",
        "",
        "Every finding `halang verify` can report, and the HA7xx findings `halang deploy` will gather from "
        "the nodes once it is built (it is not yet: no command reports them today). "
        "`halang explain CODE` prints the same text.",
        "",
        "| code | name | severity | reported by | finding |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| [{d.code}](#{d.code.lower()}) | `{d.name}` | {d.severity.value} | {PHASES[d.phase]} | {d.title} |"
              for d in docs]
    for doc in docs:
        lines += ["", f"## {doc.code}", "", f"`{doc.name}` · {doc.severity.value} · {PHASES[doc.phase]}", "",
                  f"**{doc.title}**"]
        if doc.explanation:
            lines += ["", doc.explanation]
        if doc.bad:
            lines += ["", "Bad:", "", "```", doc.bad, "```"]
        if doc.good:
            lines += ["", "Good:", "", "```", doc.good, "```"]
    return "\n".join(lines) + "\n"
