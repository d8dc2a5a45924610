"""`halang fmt`: the canonical layout of a .ha file, comments kept."""

from halang.fmt.command import fmt_command
from halang.fmt.layout import FormatError, format_source

__all__ = ["FormatError", "fmt_command", "format_source"]
