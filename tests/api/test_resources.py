"""The generic suite: every declared resource gets the same checks (see resources.py)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import Api, bilingual, rows
from tests.api.resources import Resource, with_


def _create(api: Api, res: Resource, headers: dict[str, str] | None = None) -> tuple[Any, dict[str, Any]]:
    """Create one object as the resource's writer; answer (its key, the body sent)."""
    assert res.body is not None and res.writer is not None
    ctx = res.setup(api.world)
    body = res.body(api.world, ctx)
    r = api.request(res.method, res.path, res.writer, headers=headers, json=body)
    assert r.status_code == res.created, r.text
    _assert_echoes(body, r.json())
    return r.json()[res.key], body


def _assert_echoes(sent: dict[str, Any], got: dict[str, Any]) -> None:
    """Every field sent and answered comes back as sent (the answer may add derived fields)."""
    for name, value in sent.items():
        if value is not None and name in got:
            assert got[name] == value, name


def _existing(api: Api, res: Resource) -> Any:
    if res.fixed_key is not None:
        return res.fixed_key
    return _create(api, res)[0]


def _reader(res: Resource) -> str:
    return res.writer or "city"


def _keys(api: Api, res: Resource, who: str | None) -> set[Any]:
    r = api.get(res.path, who, params={"limit": 1000})
    assert r.status_code == 200, r.text
    return {row[res.key] for row in rows(r.json())}


def _audit_count(api: Api, res: Resource) -> int:
    r = api.get("/api/v1/audit", "admin", params={"object_type": res.table, "limit": 1})
    return int(r.json()["total"])


@pytest.mark.parametrize("res", with_(lambda r: r.listable))
def test_list_shows_the_object_and_pages(api: Api, res: Resource) -> None:
    key = _existing(api, res)
    assert key in _keys(api, res, _reader(res))
    r = api.get(res.path, _reader(res), params={"limit": 1})
    body = r.json()
    if isinstance(body, dict):  # paged answers honour the limit and count all rows
        assert len(body["items"]) == 1 and body["limit"] == 1 and body["total"] >= 1


@pytest.mark.parametrize("res", with_(lambda r: r.readable))
def test_get_answers_what_was_created(api: Api, res: Resource) -> None:
    if res.fixed_key is not None:
        key, sent = res.fixed_key, {res.key: res.fixed_key}
    else:
        key, sent = _create(api, res)
    r = api.get(f"{res.path}/{key}", _reader(res))
    assert r.status_code == 200, r.text
    _assert_echoes(sent, r.json())


@pytest.mark.parametrize("res", with_(lambda r: r.writer is not None))
def test_create_then_find_it(api: Api, res: Resource) -> None:
    key, _ = _create(api, res)
    if res.readable:
        assert api.get(f"{res.path}/{key}", res.writer).status_code == 200
    elif res.listable:
        assert key in _keys(api, res, res.writer)


@pytest.mark.parametrize("res", with_(lambda r: r.update is not None))
def test_update_changes_the_fields(api: Api, res: Resource) -> None:
    assert res.update is not None
    key, _ = _create(api, res)
    r = api.patch(f"{res.path}/{key}", res.writer, json=res.update)
    assert r.status_code == 200, r.text
    after = api.get(f"{res.path}/{key}", res.writer).json()
    for name, value in res.update.items():
        assert after[name] == value


@pytest.mark.parametrize("res", with_(lambda r: r.update is not None))
def test_update_of_an_unknown_field_names_it(api: Api, res: Resource) -> None:
    key, _ = _create(api, res)
    r = api.patch(f"{res.path}/{key}", res.writer, json={"no_such_field": 1})
    assert r.status_code == 422
    assert r.json()["error"]["field"] == "no_such_field"


@pytest.mark.parametrize("res", with_(lambda r: r.readable))
def test_missing_id_is_404(api: Api, res: Resource) -> None:
    r = api.get(f"{res.path}/{res.missing_key}", _reader(res))
    assert r.status_code == 404
    error = r.json()["error"]
    assert error["code"] == "not_found" and error["message"]


@pytest.mark.parametrize("res", with_(lambda r: r.bad is not None))
def test_bad_field_is_422_naming_it_and_changes_nothing(api: Api, res: Resource) -> None:
    assert res.bad is not None
    make, field = res.bad
    body = make(api.world, res.setup(api.world))
    before = _audit_count(api, res)
    r = api.request(res.method, res.path, res.writer, json=body)
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["field"] == field
    assert error["code"] == "invalid"
    assert bilingual(error["message"])
    assert _audit_count(api, res) == before


@pytest.mark.parametrize("res", with_(lambda r: bool(r.non_writers)))
def test_a_role_that_may_not_write_is_refused(api: Api, res: Resource) -> None:
    assert res.body is not None
    ctx = res.setup(api.world)
    before = _audit_count(api, res)
    for who in res.non_writers:
        r = api.request(res.method, res.path, who, json=res.body(api.world, ctx))
        assert r.status_code in (403, 404), (who, r.text)
        assert r.json()["error"]["field"]
    assert _audit_count(api, res) == before


@pytest.mark.parametrize("res", with_(lambda r: r.writer is not None))
def test_writing_needs_a_token(api: Api, res: Resource) -> None:
    assert res.body is not None
    r = api.request(res.method, res.path, None, json=res.body(api.world, res.setup(api.world)))
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("res", with_(lambda r: r.listable))
def test_reading_needs_a_token_unless_public(api: Api, res: Resource) -> None:
    r = api.get(res.path, None)
    assert r.status_code == (200 if res.public_read else 401)


@pytest.mark.parametrize("res", with_(lambda r: r.outsider is not None and r.readable))
def test_outsider_gets_404_not_403(api: Api, res: Resource) -> None:
    assert res.outsider is not None
    key = _existing(api, res)
    r = api.get(f"{res.path}/{key}", res.outsider)
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("res", with_(lambda r: r.outsider is not None and r.listable))
def test_outsider_does_not_see_the_row(api: Api, res: Resource) -> None:
    assert res.outsider is not None
    key = _existing(api, res)
    assert key in _keys(api, res, _reader(res))
    assert key not in _keys(api, res, res.outsider)


@pytest.mark.parametrize("res", with_(lambda r: r.outsider is not None and r.update is not None))
def test_outsider_cannot_update(api: Api, res: Resource) -> None:
    assert res.outsider is not None and res.update is not None
    key, _ = _create(api, res)
    r = api.patch(f"{res.path}/{key}", res.outsider, json=res.update)
    assert r.status_code == 404


@pytest.mark.parametrize("res", with_(lambda r: r.writer is not None))
def test_create_is_audited_with_actor_and_request_id(api: Api, res: Resource) -> None:
    rid = f"test-{res.name}-0001"
    key, _ = _create(api, res, headers={"X-Request-ID": rid})
    entries = api.audit(object_type=res.table, object_id=str(key))
    created = [e for e in entries if e["action"] in ("create", "update")]
    assert created, entries
    entry = created[0]
    assert entry["actor_name"] == res.writer
    assert entry["actor_id"] == api.world.principals[res.writer].user_id
    assert entry["client_request_id"] == rid and entry["request_id"] != rid  # the server chooses the id
    assert not res.hidden & set(entry["after"] or {})
