"""The canonical bytes of a transparency-log leaf.

A leaf must hash the same wherever it is rebuilt (by the platform, by an offline verifier, by a third
party's monitor), so its serialisation is fixed here and documented in docs/transparency.md: UTF-8 JSON
of the body plus ``"kind"`` and ``"v": 1``, keys sorted, no whitespace, non-ASCII characters written as
themselves, no NaN. Bodies hold only strings, integers and booleans (no floats: their text is not stable
across languages).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from jiliang.errors import InvalidInput

LEAF_VERSION = 1


def leaf_bytes(kind: str, body: Mapping[str, Any]) -> bytes:
    if not kind or "kind" in body or "v" in body:
        raise InvalidInput("日志条目类型无效 / a leaf needs a kind and may not redefine 'kind' or 'v'", field="kind")
    for key, value in body.items():
        if isinstance(value, float) or not isinstance(value, str | int | bool | type(None)):
            raise InvalidInput(
                f"日志条目字段 {key} 只能是字符串、整数或布尔值 / leaf field {key} must be a string, integer or boolean",
                field=key,
            )
    doc = {**body, "kind": kind, "v": LEAF_VERSION}
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()
