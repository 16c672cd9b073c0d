"""Keyset (seek) paging for the console lists: pages found by the sort key of a row, not by an offset.

An offset page makes the database walk every row before it (page 40,000 of a province read 1,000,000 rows
to show 25); a keyed page starts from the last row shown and reads only the page, through the index that
serves the sort. The console keeps page numbers for the first pages (offsets there cost a few hundred
index entries) and moves by key beyond them: "next" carries the sort key of the page's last row, "previous"
that of its first row, in a URL parameter (``after`` / ``before``) so that a page's address stays
shareable. The key token also carries the row's position in the list, used only to show "rows 10,001–
10,025"; a tampered token moves the page, never past the caller's scope (the token only adds a condition to
the already scoped query).

The order is the lists' (``search._order``): one sort column, ascending with NULLs first or descending with
NULLs last, then a tie-break column that is never NULL, so every row has one place in the order.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import Select, and_, false, func, or_, select, true
from sqlalchemy.orm import Session

from jiliang.errors import InvalidInput
from jiliang.services.common import Page

T = TypeVar("T")

# offsets up to this many rows are served as they are (the page-number links); further pages by key
OFFSET_MAX = 2_500


@dataclass(frozen=True)
class Key:
    """One column of the order. NULL sorts as the least value: first ascending, last descending."""

    column: Any
    descending: bool = False
    nullable: bool = True

    def ordered(self, reverse: bool = False) -> Any:
        desc = self.descending != reverse
        ordered = self.column.desc() if desc else self.column.asc()
        if not self.nullable:
            return ordered  # plain, so that the column's index serves the order on both databases
        return ordered.nulls_last() if desc else ordered.nulls_first()

    def step(self, value: Any, reverse: bool, inclusive: bool) -> Any:
        """Rows past ``value`` in this key's direction (NULL the least value)."""
        desc = self.descending != reverse
        col = self.column
        if value is None:
            if inclusive:
                return true() if not desc else col.is_(None)
            return col.is_not(None) if not desc else false()
        if desc:
            past = col <= value if inclusive else col < value
            return or_(past, col.is_(None)) if self.nullable else past
        return col >= value if inclusive else col > value


@dataclass(frozen=True)
class Order:
    """A list's order: a sort key and a tie-break key that is never NULL (the row id)."""

    name: str  # the sort as the URL names it ("-verified_on"); a key token is valid for this sort only
    keys: tuple[Key, Key]

    def clauses(self, reverse: bool = False) -> list[Any]:
        return [k.ordered(reverse) for k in self.keys]

    def beyond(self, values: Sequence[Any], *, reverse: bool = False, inclusive: bool = False) -> Any:
        """Rows after the row whose key is ``values`` in the order (before it when ``reverse``);
        ``inclusive`` keeps that row too."""
        (first, tie), (v, w) = self.keys, values
        if w is None:
            raise InvalidInput("分页位置无效 / invalid page key", field="after")
        same = first.column.is_(None) if v is None else first.column == v
        cond = or_(first.step(v, reverse, inclusive=False), and_(same, tie.step(w, reverse, inclusive)))
        if v is None:
            return cond
        # the first key's bound written out alone lets the planner start the index scan at the key
        return and_(first.step(v, reverse, inclusive=True), cond)

    def key_of(self, values: Sequence[Any], position: int) -> str:
        return encode(self.name, values, position)


def encode(sort: str, values: Sequence[Any], position: int) -> str:
    def plain(v: Any) -> Any:
        if isinstance(v, datetime):
            return {"t": v.isoformat()}
        if isinstance(v, date):
            return {"d": v.isoformat()}
        return v

    raw = json.dumps([sort, [plain(v) for v in values], position], ensure_ascii=False, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode(token: str, sort: str, field: str) -> tuple[list[Any], int]:
    """The key values and the position of a token made by ``encode`` for the same sort."""
    bad = InvalidInput(f"分页位置无效 / {field} is not a page key of this list", field=field)
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        name, values, position = json.loads(raw.decode())
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError):
        raise bad from None
    if name != sort or not isinstance(values, list) or len(values) != 2:
        raise bad
    if not isinstance(position, int) or isinstance(position, bool) or position < 0:
        raise bad

    def typed(v: Any) -> Any:
        if isinstance(v, dict) and len(v) == 1:
            ((tag, text),) = v.items()
            try:
                if tag == "d":
                    return date.fromisoformat(text)
                if tag == "t":
                    return datetime.fromisoformat(text)
            except (TypeError, ValueError):
                raise bad from None
            raise bad
        if v is None or isinstance(v, (str, int, float)):
            return v
        raise bad

    return [typed(v) for v in values], position


@dataclass(frozen=True)
class KeyedPage(Page[T]):
    """A page with the keys of the pages around it (None where there is none)."""

    next_key: str | None = None
    prev_key: str | None = None


def fetch(
    s: Session,
    stmt: Select[Any],
    order: Order,
    shape: Callable[[Any], T],
    *,
    offset: int = 0,
    limit: int,
    after: str | None = None,
    before: str | None = None,
    count_limit: int | None = None,
    counted: Select[Any] | None = None,
    rows: Select[Any] | None = None,
) -> KeyedPage[T]:
    """One page of ``stmt`` (scoped and filtered, not yet ordered) in ``order``: by ``offset`` (the
    console's pages keep it to OFFSET_MAX; the API's pages take any), or the page after / before a key token. The total is counted from the page's first row up
    to ``count_limit`` rows and flagged as a lower bound past it, as the offset lists do. ``counted``: the
    same rows as ``stmt`` in a narrower query (without the joins that only fetch names), over the tables
    of the order's columns; given, it also picks the page's rows by their tie-break key (the row id).
    ``rows``: the columns and joins of ``stmt`` without its conditions, to read the rows of ids already
    chosen in scope (the search box's conditions are not evaluated twice)."""
    if after and before:
        raise InvalidInput("after 与 before 只能给一个 / give after or before, not both", field="before")
    if (after or before) and offset:
        raise InvalidInput("分页位置与 offset 只能给一个 / give offset or a page key", field="offset")
    n = len(order.keys)
    key_columns = [k.column.label(f"_page_key_{i}") for i, k in enumerate(order.keys)]
    keyed = stmt.add_columns(*key_columns)
    tie = order.keys[-1].column

    def run(where: Any, reverse: bool, skip: int) -> list[Any]:
        if counted is None:
            chosen = keyed.where(where).order_by(*order.clauses(reverse)).offset(skip).limit(limit)
            return list(s.execute(chosen))
        # the page's ids first, ordered and cut in the narrow counting query (no name joins), then their
        # rows with names: the joins run for the page, not for every row sorted or skipped
        ids = [r[0] for r in s.execute(
            counted.with_only_columns(tie).where(where).order_by(*order.clauses(reverse)).offset(skip).limit(limit)
        )]  # fmt: skip
        if not ids:
            return []
        named = keyed if rows is None else rows.add_columns(*key_columns)
        return list(s.execute(named.where(tie.in_(ids)).order_by(*order.clauses(reverse))))

    if before:
        values, position = decode(before, order.name, "before")
        raw = list(reversed(run(order.beyond(values, reverse=True), True, 0)))
        start = max(0, position - len(raw))
        if len(raw) < limit:
            start = 0  # the list's first rows
    elif after:
        values, position = decode(after, order.name, "after")
        raw = run(order.beyond(values), False, 0)
        start = position + 1
    else:
        raw = run(true(), False, offset)
        start = offset
    shaped = [shape(tuple(r)[:-n]) for r in raw]
    keyed_page = bool(after or before)
    to_count: Select[Any] | None = (stmt if counted is None else counted).order_by(None)
    if keyed_page and to_count is not None:
        # rows from the page's first row onward, counted up to the limit, after the ``start`` before it
        to_count = to_count.where(order.beyond(tuple(raw[0])[-n:], inclusive=True)) if raw else None
        counted_from = start
    else:
        counted_from = 0
    if to_count is None:
        total, at_least = start, False
    else:
        bound = None if count_limit is None else (count_limit if keyed_page else offset + count_limit)
        if bound is not None:
            to_count = to_count.limit(bound + 1)
        n_rows = int(s.scalar(select(func.count()).select_from(to_count.subquery())) or 0)
        at_least = bound is not None and n_rows > bound
        total = counted_from + (bound if at_least and bound is not None else n_rows)
    prev_key = order.key_of(tuple(raw[0])[-n:], start) if raw and start > 0 else None
    more = at_least or start + len(raw) < total
    next_key = order.key_of(tuple(raw[-1])[-n:], start + len(raw) - 1) if raw and more else None
    return KeyedPage(
        items=shaped,
        total=total,
        offset=start,
        limit=limit,
        total_at_least=at_least,
        next_key=next_key,
        prev_key=prev_key,
    )


@dataclass(frozen=True)
class Navigation:
    """Where a list page's links lead, as the URL parameters that replace ``offset`` / ``after`` /
    ``before`` (an empty dict: the first page). ``numbers``: (page number, its parameters, or None for the
    page shown) for the numbered pages around this one."""

    prev: dict[str, str] | None
    next: dict[str, str] | None
    numbers: list[tuple[int, dict[str, str] | None]]


def navigation(page: Page[Any], around: int = 3) -> Navigation:
    """Page numbers while the offset stays within OFFSET_MAX, then next / previous by key."""
    size = page.limit
    keyed = isinstance(page, KeyedPage)
    next_key = page.next_key if isinstance(page, KeyedPage) else None
    prev_key = page.prev_key if isinstance(page, KeyedPage) else None
    aligned = page.offset % size == 0 and page.offset <= OFFSET_MAX

    def at(offset: int) -> dict[str, str]:
        return {"offset": str(offset)} if offset else {}

    last_row = page.total if page.total_at_least else page.total - 1  # a row past a lower bound exists
    last_numbered = min(OFFSET_MAX, max(0, last_row)) // size  # zero-based
    current = page.offset // size if aligned else None
    prev: dict[str, str] | None = None
    if page.offset > 0:
        if aligned or (page.offset <= OFFSET_MAX and not prev_key):
            prev = at(max(0, page.offset - size))
        elif prev_key:
            prev = {"before": prev_key}
    nxt: dict[str, str] | None = None
    following = page.offset + size
    if following < page.total or page.total_at_least:
        if aligned and following <= OFFSET_MAX:
            nxt = at(following)
        elif next_key:
            nxt = {"after": next_key}
        elif not keyed and following <= OFFSET_MAX:
            nxt = at(following)
    numbers: list[tuple[int, dict[str, str] | None]] = []
    if page.total > size or page.offset > 0:
        middle = current if current is not None else last_numbered + 1
        shown = {0, last_numbered} | set(
            range(max(0, middle - around), min(last_numbered, middle + around) + 1)
        )
        numbers = [(k + 1, None if k == current else at(k * size)) for k in sorted(shown)]
    return Navigation(prev, nxt, numbers)
