"""`halang diff`: the semantic changes between two clusters, each with its impact on a running cluster."""

from halang.diff.changes import (
    CLUSTER_RESTART, IMPACT_KINDS, LIVE, MOVE, RESTART, Change, DiffError, Impact, diff_clusters, summary_counts,
)
from halang.diff.command import diff_command, read_side
from halang.diff.render import render_json, render_text

__all__ = ["CLUSTER_RESTART", "IMPACT_KINDS", "LIVE", "MOVE", "RESTART", "Change", "DiffError", "Impact",
           "diff_clusters", "diff_command", "read_side", "render_json", "render_text", "summary_counts"]
