"""Every refusal has one shape, {"error": {"code", "field", "message"}}, whatever refused it."""

from __future__ import annotations

from tests.api.conftest import Api, bilingual


def _error(r: object, status: int) -> dict[str, object]:
    assert r.status_code == status, r.text  # type: ignore[attr-defined]
    error = r.json()["error"]  # type: ignore[attr-defined]
    assert {"code", "field", "message"} <= set(error) and bilingual(str(error["message"]))
    return error  # type: ignore[no-any-return]


def test_malformed_json_blames_the_body(api: Api) -> None:
    r = api.request(
        "POST",
        "/api/v1/instruments",
        "enterprise",
        content=b'{"name": ',
        headers={"content-type": "application/json"},
    )
    assert _error(r, 422)["field"] == "body"


def test_a_body_that_is_not_an_object_blames_the_body(api: Api) -> None:
    assert _error(api.post("/api/v1/instruments", "enterprise", json=[1, 2]), 422)["field"] == "body"


def test_a_wrong_type_names_the_field(api: Api) -> None:
    r = api.post(
        "/api/v1/organisations",
        "city",
        json={"credit_code": "x", "name": "x", "kind": "x", "region_code": "x"},
    )
    assert _error(r, 422)["field"] == "kind"


def test_a_query_parameter_out_of_range_names_it(api: Api) -> None:
    assert _error(api.get("/api/v1/instruments", "city", params={"limit": 0}), 422)["field"] == "limit"
    assert _error(api.get("/api/v1/instruments", "city", params={"offset": -1}), 422)["field"] == "offset"


def test_a_non_numeric_id_names_it(api: Api) -> None:
    assert _error(api.get("/api/v1/instruments/abc", "city"), 422)["field"] == "instrument_id"


def test_unknown_paths_and_methods_answer_in_the_same_shape(api: Api) -> None:
    assert _error(api.get("/api/v1/nothing-here", "city"), 404)["code"] == "not_found"
    assert _error(api.request("DELETE", "/api/v1/instruments", "city"), 405)["code"] == "method_not_allowed"


def test_every_answer_carries_its_request_id(api: Api) -> None:
    r = api.get("/api/v1/auth/me", "city", headers={"X-Request-ID": "trace-123"})
    assert len(r.headers["x-request-id"]) == 32  # chosen by the server, whatever the client sent
    assert len(api.get("/api/v1/nothing-here", None).headers["x-request-id"]) == 32
