"""Which bundles a node accepts: one signed with the cluster key the node already has.

The signature is HMAC-SHA256 over the bundle's content hash (its identity, docs/bundle.md) under the bytes
of the cluster's `key_file`. `halang deploy` signs; the node checks with the code and the key it already
runs (`python3 current.pyz --bundle STAGED accept ...`), never with the staged bundle's own code.
"""

from __future__ import annotations

import hashlib
import hmac


def signature(key: bytes, content_hash: str) -> str:
    return hmac.new(key, content_hash.encode("ascii"), hashlib.sha256).hexdigest()


def signed_by(key: bytes, content_hash: str, claimed: str) -> bool:
    return hmac.compare_digest(signature(key, content_hash), claimed.strip().lower())
