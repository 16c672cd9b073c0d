"""The canonical bytes of a transparency-log leaf, shared by the log and every offline verifier.

A leaf must hash the same wherever it is rebuilt (by the platform, by `jiliang certificate verify`, by a
third party's monitor), so its encoding lives here, in the pure layer, and is documented in
docs/transparency.md: UTF-8 JSON of the body plus ``"kind"`` and ``"v": 1``, keys sorted by code point,
no whitespace, non-ASCII written as itself, no NaN. ``services.transparency.leaf_bytes`` checks the
kind and the value types before calling it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

LEAF_FORMAT_VERSION = 1


def encode(kind: str, body: Mapping[str, Any]) -> bytes:
    doc = {**body, "kind": kind, "v": LEAF_FORMAT_VERSION}
    return json.dumps(
        doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()
