"""Codes `halang deploy` will gather by looking at the nodes themselves (HA7xx); deploy is not built yet."""
