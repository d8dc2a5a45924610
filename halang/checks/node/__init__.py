"""Codes `halang deploy` gathers by looking at the nodes themselves (HA7xx), before it changes anything."""
