"""What a command returns to `halang.cli`: its exit code, its output, and where the output goes.

One rule for every command (docs/cli.md): 0 done, nothing to report; 1 findings
(errors in a file, or for `diff` and `fmt --check` changes to report); 2 the
command could not run (no such file, a file that is not UTF-8 text, bad flags,
a missing program).
"""

from __future__ import annotations

from typing import NamedTuple

EXIT_OK, EXIT_FINDINGS, EXIT_TROUBLE = 0, 1, 2


class Outcome(NamedTuple):
    code: int
    output: str
    # Findings that kept the command from doing its work, or trouble: printed on standard error.
    refused: bool = False


def trouble(output: str) -> Outcome:
    return Outcome(EXIT_TROUBLE, output, True)


def refused(output: str) -> Outcome:
    """The file has errors: the command did not do its work, and the findings say why."""
    return Outcome(EXIT_FINDINGS, output, True)
