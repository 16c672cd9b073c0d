"""Checking a chunk of rows column by column: the fast path of the importers' per-row checks.

Row by row, a check calls the domain's validators once per cell (about 30 µs a row for an instrument,
most of the import's Python time). Column by column, a value that repeats (an item code, a region, a
date, a credit code) is checked once per distinct value by the very same domain function, and a column
of unique values (serial numbers, names) is checked with a few whole-column operations (strip, length,
one regular-expression search over the column joined) instead of a call per cell.

The fast path only ever *accepts*: the first sign of any problem in a chunk raises ``Slow`` and the
importer checks that chunk row by row with the per-row check, which names every problem by row and
field exactly as before. A chunk is therefore staged identically either way (tests/test_transfer.py
compares the two), and a file with problems gets the same report.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any, TypeVar

from jiliang.domain.instruments import CONTROL_CHARACTERS

T = TypeVar("T")


class Slow(Exception):
    """Some value of the chunk may be refused: check the chunk row by row instead."""


def by_value(values: Sequence[Hashable], check: Callable[[Any], T]) -> list[T]:
    """``check`` once per distinct value (any exception: ``Slow``), mapped back onto the column."""
    try:
        verdict = {v: check(v) for v in set(values)}
    except Exception as exc:
        raise Slow from exc
    return list(map(verdict.__getitem__, values))


def required(values: Sequence[Any], max_len: int = 200) -> list[str]:
    """``domain.instruments.required_text`` for a column: stripped, non-empty, at most ``max_len``."""
    if None in values:
        raise Slow
    stripped = [v.strip() for v in values]
    if not all(stripped) or max(map(len, stripped), default=0) > max_len:
        raise Slow
    return stripped


def document_numbers(values: Sequence[Any], max_len: int = 100) -> list[str]:
    """``domain.instruments.document_number`` for a column: required text without control characters."""
    stripped = required(values, max_len)
    if CONTROL_CHARACTERS.search("".join(stripped)):  # in any value: the row by row check names it
        raise Slow
    return stripped


def optional(values: Sequence[Any], max_len: int = 200) -> list[str]:
    """``domain.instruments.optional_text`` for a column of text cells (or None: an absent column)."""
    stripped = ["" if v is None else v.strip() for v in values]
    if max(map(len, stripped), default=0) > max_len:
        raise Slow
    return stripped


def column(rows: Sequence[dict[str, str]], field: str) -> list[Any]:
    return [r.get(field) for r in rows]


def stage(checks: Any, rows: list[tuple[int, dict[str, str]]]) -> list[tuple[Any, ...]]:
    """The staged tuples of a chunk's rows: ``checks.validate_chunk`` (column by column, falling back to
    row by row on any problem) where the import has one, else ``checks.validate`` per row."""
    chunked = getattr(checks, "validate_chunk", None)
    if chunked is not None:
        return chunked(rows)  # type: ignore[no-any-return]
    validate = checks.validate
    return [s for s in (validate(row_no, raw) for row_no, raw in rows) if s is not None]
