"""`halang graph`: the cluster drawn with Graphviz, optionally under failures."""

from halang.graph.command import MISSING_DOT, graph_command, render_image
from halang.graph.dot import GraphError, render_dot

__all__ = ["MISSING_DOT", "GraphError", "graph_command", "render_dot", "render_image"]
