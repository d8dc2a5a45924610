from halang.checks.registry import Check
from halang.diagnostics import Severity


class SyntaxError_(Check):
    """Syntax error: the text does not follow the grammar.

    The parser says what it found and what it expected, in words: a block left
    open names the block and the line it was opened at, and a misspelt keyword
    gets a suggestion. After a syntax error the line is skipped and the rest of
    the file is still parsed and checked, so one run shows every error it can;
    findings after a syntax error may be its consequences.

    Bad:
        cluster payments {
          node alpha {
        }

    Good:
        cluster payments {
          node alpha { }
        }
    """

    code = "HA001"
    name = "syntax.error"
    severity = Severity.ERROR
    phase = "parse"
