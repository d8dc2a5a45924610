"""Capacity checks: what groups require against what nodes give (HA501)."""
