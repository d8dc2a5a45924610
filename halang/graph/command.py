"""`halang graph FILE -o OUT [--fail COMPONENT ...]`, and running Graphviz's `dot`."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from halang.graph.dot import GraphError, render_dot
from halang.outcome import EXIT_OK, Outcome, refused, trouble

DOT_TIMEOUT_S = 120
MISSING_DOT = ("Graphviz's 'dot' program is not installed, so no SVG can be drawn: install it with "
               "'apt-get install graphviz' (Debian, Ubuntu), or write the DOT source alone with -o FILE.dot")


# What Graphviz's `dot` writes for each suffix of OUT (`-T` format); .dot and .gv are the source itself.
RENDERED = {".svg": "svg", ".png": "png"}


def render_image(dot: str, kind: str) -> bytes:
    """The DOT source laid out by Graphviz's `dot` as `kind` (svg, png); GraphError if `dot` is missing or fails."""
    program = shutil.which("dot")
    if program is None:
        raise GraphError(MISSING_DOT)
    try:
        result = subprocess.run([program, f"-T{kind}"], input=dot.encode("utf-8"), capture_output=True,
                                timeout=DOT_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise GraphError(f"Graphviz's dot took more than {DOT_TIMEOUT_S}s; write the DOT source with -o FILE.dot "
                         "and lay it out with another engine (sfdp)") from None
    except OSError as exc:
        raise GraphError(f"cannot run {program}: {exc.strerror}") from None
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", "replace").strip()
        raise GraphError(f"Graphviz's dot failed: {message or 'exit code ' + str(result.returncode)}")
    return result.stdout


def graph_command(path: str, out: str, failed: list[str] | tuple[str, ...] = ()) -> Outcome:
    """Draw a .ha file (or a bundle) to `out`: SVG or PNG, or with a .dot suffix the DOT source alone.

    Exit codes: 0 written (the output says where); 1 the file has errors (their findings, for stderr);
    2 trouble (the output says why, for stderr): the file cannot be read, a failed component is not
    one, `dot` is missing or fails.
    """
    from halang.diff.command import SideError, read_side

    suffix = Path(out).suffix.lower()
    if suffix not in (*RENDERED, ".dot", ".gv"):
        return trouble(f"{out}: write .svg or .png (drawn by Graphviz) or .dot (the DOT source)")
    try:
        snapshot = read_side(path)
    except SideError as exc:
        message = str(exc).replace("not compared", "not drawn")
        return refused(message) if exc.findings else trouble(message)
    try:
        dot = render_dot(snapshot, list(failed))
        data = render_image(dot, RENDERED[suffix]) if suffix in RENDERED else dot.encode("utf-8")
    except GraphError as exc:
        return trouble(f"halang graph: {exc}")
    try:
        Path(out).write_bytes(data)
    except OSError as exc:
        return trouble(f"{out}: cannot write: {exc.strerror}")
    return Outcome(EXIT_OK, f"wrote {out}")
