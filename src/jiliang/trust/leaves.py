"""The canonical bytes of a transparency-log leaf, shared by the log and every offline verifier.

A leaf must hash the same wherever it is rebuilt (by the platform, by `jiliang certificate verify`, by a
third party's monitor), so its encoding lives here, in the pure layer, and is documented in
docs/transparency.md: UTF-8 JSON of the body plus ``"kind"`` and ``"v": 1``, keys sorted by code point,
no whitespace, non-ASCII written as itself, no NaN. ``services.transparency.leaf_bytes`` checks the
kind and the value types before calling it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

LEAF_FORMAT_VERSION = 1


def encode(kind: str, body: Mapping[str, Any]) -> bytes:
    doc = {**body, "kind": kind, "v": LEAF_FORMAT_VERSION}
    return json.dumps(
        doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()


_JSON_STRING: Any = getattr(json.encoder, "c_encode_basestring", None) or json.encoder.py_encode_basestring
# The keys of a verification_recorded body, plus kind and v, in code-point order (as ``encode`` sorts).
_VERIFICATION = (
    '{{"conclusion":{},"document_no":{},"due_on":{},"institution_id":{},"instrument_id":{},'
    '"kind":"verification_recorded","record_id":{},"recorded_at":{},"standard_id":{},'
    '"supersedes_id":null,"v":' + str(LEAF_FORMAT_VERSION) + ',"verified_on":{}}}'
)


def encode_verifications(
    records: Iterable[tuple[int, int, int, int | None, str, str, str | None, str]],
    recorded_at: str,
) -> list[bytes]:
    """``encode("verification_recorded", body)`` for many new records (no ``supersedes_id``), as a bulk
    import writes them: each record ``(record_id, instrument_id, institution_id, standard_id,
    verified_on ISO, conclusion, due_on ISO or None, document_no)``, ``recorded_at`` the ISO instant
    shared by all. The same bytes as ``encode`` (tests/test_transfer.py compares them), at a fraction of
    the cost: the key order is fixed, so only the values are written per record."""
    fmt = _VERIFICATION.format
    string = _JSON_STRING
    at = string(recorded_at)
    return [
        fmt(
            string(conclusion),
            string(document_no),
            "null" if due is None else f'"{due}"',
            institution_id,
            instrument_id,
            record_id,
            at,
            "null" if standard_id is None else standard_id,
            f'"{verified_on}"',
        ).encode()
        for record_id, instrument_id, institution_id, standard_id, verified_on, conclusion, due, document_no
        in records
    ]
