"""Renderers of verify reports: text for people, JSON (and later SARIF, JUnit) for tools."""
