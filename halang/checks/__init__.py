"""Checks, one file per diagnostic code, grouped by family (see registry.py)."""
