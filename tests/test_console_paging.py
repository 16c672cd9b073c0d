"""Keyset paging of the console lists (services/supervision/paging.py): walking a list page by page by
the rows' keys, forwards and back, meets every row once and in the order of the offset pages, for each
sort (NULLs and ties included); a key token is checked; the pager numbers the first pages and goes on by
key. On SQLite and PostgreSQL through the ``platform`` fixture."""

from __future__ import annotations

import re
from typing import Any

import pytest

from jiliang.errors import InvalidInput
from jiliang.services.common import Page
from jiliang.services.supervision import paging, search
from tests.console_support import Console, console  # noqa: F401 (fixtures)
from tests.factories import World
from tests.test_registry import file, verify
from tests.test_supervision import city  # noqa: F401  (the fixture)

INSTRUMENT_SORTS = ["id", "due_on", "-due_on", "name", "serial_number", "-last_verified_on", "filed_on"]
RECORD_SORTS = ["-verified_on", "verified_on", "due_on", "-due_on", "document_no", "id"]


@pytest.fixture
def crowd(city: World) -> World:  # noqa: F811
    """The city plus instruments that tie on their due date and on never having been verified."""
    for n in range(4):
        inst = file(city, f"SN-T{n:03d}")
        if n % 2:
            verify(city, inst.id, "2026-01-01", doc=f"JD-2026-T{n:03d}")  # the same due date as SN-C003
    return city


def walk(find: Any, limit: int) -> tuple[list[int], list[int]]:
    """Ids by following next keys from the first page, and by following previous keys back from the last."""
    forward: list[int] = []
    pages = [find(limit=limit)]
    forward += [r.id for r in pages[-1].items]
    while pages[-1].next_key:
        pages.append(find(after=pages[-1].next_key, limit=limit))
        assert pages[-1].offset == len(forward)  # the position shown ("rows 3–4")
        forward += [r.id for r in pages[-1].items]
    backward = [r.id for r in pages[-1].items]
    page = pages[-1]
    while page.prev_key:
        page = find(before=page.prev_key, limit=limit)
        backward = [r.id for r in page.items] + backward
    return forward, backward


@pytest.mark.parametrize("sort", INSTRUMENT_SORTS)
def test_instruments_walked_by_key_meet_every_row_once_in_order(crowd: World, sort: str) -> None:
    p, sup = crowd.platform, crowd.as_("city")
    everything = [r.id for r in search.search_instruments(p, sup, {}, sort=sort, limit=100).items]
    assert len(everything) >= 8

    def find(**kw: Any) -> paging.KeyedPage[search.InstrumentRow]:
        return search.search_instruments(p, sup, {}, sort=sort, count_limit=3, **kw)

    forward, backward = walk(find, 3)
    assert forward == everything
    assert backward == everything


@pytest.mark.parametrize("sort", RECORD_SORTS)
def test_records_walked_by_key_meet_every_row_once_in_order(crowd: World, sort: str) -> None:
    p, sup = crowd.platform, crowd.as_("city")
    everything = [r.id for r in search.search_records(p, sup, {}, sort=sort, limit=100).items]
    assert len(everything) >= 5

    def find(**kw: Any) -> paging.KeyedPage[search.RecordRow]:
        return search.search_records(p, sup, {}, sort=sort, **kw)

    forward, backward = walk(find, 2)
    assert forward == everything
    assert backward == everything


def test_keyed_pages_keep_the_filters_and_the_jurisdiction(crowd: World) -> None:
    p = crowd.platform
    first = search.search_instruments(p, crowd.as_("city"), {"state": "overdue"}, limit=1)
    assert first.next_key and first.total >= 2
    second = search.search_instruments(
        p, crowd.as_("city"), {"state": "overdue"}, after=first.next_key, limit=1
    )
    assert [r.id for r in second.items] == [
        r.id for r in search.search_instruments(p, crowd.as_("city"), {"state": "overdue"}, limit=2).items
    ][1:]
    # the same key in another city's jurisdiction reaches nothing of this one
    other = crowd.as_("other_city")
    assert search.search_instruments(p, other, {"state": "overdue"}, after=first.next_key).items == []


def test_a_key_token_is_checked(crowd: World) -> None:
    p, sup = crowd.platform, crowd.as_("city")
    token = search.search_instruments(p, sup, {}, sort="name", limit=1).next_key
    assert token
    for bad in ("not-a-key", paging.encode("name", ["x"], 0), paging.encode("name", ["x", None], -1)):
        with pytest.raises(InvalidInput) as err:
            search.search_instruments(p, sup, {}, sort="name", after=bad)
        assert err.value.field == "after"
    with pytest.raises(InvalidInput):  # a key of another sort
        search.search_instruments(p, sup, {}, sort="id", after=token)
    with pytest.raises(InvalidInput):
        search.search_instruments(p, sup, {}, sort="name", after=token, before=token)


def _page(offset: int, total: int, at_least: bool = False, keyed: bool = True) -> Page[int]:
    items = list(range(25))
    if keyed:
        return paging.KeyedPage(
            items, total, offset, 25, at_least, next_key="N", prev_key="P" if offset else None
        )
    return Page(items, total, offset, 25, at_least)


def test_the_pager_numbers_the_first_pages_and_goes_on_by_key() -> None:
    top = paging.OFFSET_MAX  # the last offset served as a numbered page
    first = paging.navigation(_page(0, 10_000, at_least=True))
    assert first.prev is None and first.next == {"offset": "25"}
    assert first.numbers[0] == (1, None) and first.numbers[1] == (2, {"offset": "25"})
    assert first.numbers[-1] == (top // 25 + 1, {"offset": str(top)})  # the last numbered page
    last_numbered = paging.navigation(_page(top, top + 10_000, at_least=True))
    assert last_numbered.next == {"after": "N"} and last_numbered.prev == {"offset": str(top - 25)}
    beyond = paging.navigation(_page(top + 25, top + 10_025, at_least=True))
    assert beyond.next == {"after": "N"} and beyond.prev == {"before": "P"}
    assert all(at is not None for _, at in beyond.numbers)  # no numbered page is the one shown
    end = paging.navigation(_page(25, 50))
    assert end.next is None and end.prev == {}
    plain = paging.navigation(_page(0, 60, keyed=False))
    assert plain.next == {"offset": "25"} and [n for n, _ in plain.numbers] == [1, 2, 3]


def test_the_list_page_numbers_then_links_by_key(
    console: Console,  # noqa: F811
    crowd: World,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from jiliang.web import supervision as pages

    monkeypatch.setattr(pages, "PAGE_SIZE", 2)
    monkeypatch.setattr(paging, "OFFSET_MAX", 2)  # numbered pages end at the second
    client = console.client_for("city")
    base = "/console/supervision/instruments"
    first = client.get(base).text
    assert 'href="/console/supervision/instruments?offset=2"' in first.replace("&amp;", "&")
    second = client.get(base, params={"offset": 2}).text
    after = re.search(r'href="[^"]*after=([^"&]+)"[^>]*rel="next"', second)
    assert after, second
    third = client.get(base, params={"after": after.group(1)})
    assert third.status_code == 200 and "第 5–6 条" in third.text
    before = re.search(r'href="[^"]*before=([^"&]+)"[^>]*rel="prev"', third.text)
    assert before
    back = client.get(base, params={"before": before.group(1)}).text
    ids = [r.id for r in search.search_instruments(crowd.platform, crowd.as_("city"), {}, limit=100).items]
    assert f"/instruments/{ids[2]}" in back and f"/instruments/{ids[4]}" not in back
    assert client.get(base, params={"after": "garbage"}).status_code == 422
    assert client.get(base, params={"offset": 10**6}).status_code == 422


def test_name_search_through_the_trigram_index_answers_as_the_scan(crowd: World) -> None:
    from sqlalchemy import text

    p, sup = crowd.platform, crowd.as_("city")
    everything = search.search_instruments(p, sup, {}, limit=100).items
    for q in ("加油机", "燃油加油机", "油"):  # a one-character name is a scan
        found = [r.id for r in search.search_instruments(p, sup, {"q": q}, limit=100).items]
        assert found == [r.id for r in everything if q in r.name or q in r.owner_name]
    # the index follows a renamed and a deleted instrument (triggers), whatever wrote the row
    renamed, gone = everything[0].id, everything[1].id
    with p.engine.begin() as conn:
        conn.execute(text("UPDATE instruments SET name = '特制计量罐' WHERE id = :i"), {"i": renamed})
        conn.execute(text("DELETE FROM follow_ups WHERE instrument_id = :i"), {"i": gone})
        conn.execute(text("DELETE FROM certificates WHERE instrument_id = :i"), {"i": gone})
        conn.execute(text("DELETE FROM verification_records WHERE instrument_id = :i"), {"i": gone})
        conn.execute(text("DELETE FROM instruments WHERE id = :i"), {"i": gone})
    assert [r.id for r in search.search_instruments(p, sup, {"q": "特制计量"}).items] == [renamed]
    left = [r.id for r in search.search_instruments(p, sup, {"q": "加油机"}, limit=100).items]
    assert renamed not in left and gone not in left
