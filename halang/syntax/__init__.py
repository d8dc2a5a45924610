"""Text to syntax tree with spans (findings HA001 and HA002)."""

from halang.syntax.parser import parse

__all__ = ["parse"]
