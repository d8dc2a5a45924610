"""Codes reported while the syntax tree is resolved into the model (HA1xx)."""
