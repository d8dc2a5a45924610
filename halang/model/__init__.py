"""The resolved, immutable cluster model (HA1xx while building it)."""

from halang.model.build import build_model
from halang.model.cluster import Cluster

__all__ = ["Cluster", "build_model"]
