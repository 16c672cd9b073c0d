"""Logging in and out over HTTP, and what an unauthenticated or mistaken request is told."""

from __future__ import annotations

from tests.api.conftest import Api, bilingual
from tests.factories import CITY, COUNTY_A, PASSWORD


def test_login_answers_a_token_with_role_and_jurisdiction(api: Api) -> None:
    r = api.post("/api/v1/auth/login", None, json={"username": "city", "password": PASSWORD})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "bearer" and body["role"] == "supervisor" and body["jurisdiction"] == CITY
    me = api.client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json() == {
        "user_id": api.world.principals["city"].user_id,
        "username": "city",
        "role": "supervisor",
        "jurisdiction": CITY,
        "organisation_id": None,
    }


def test_logout_revokes_exactly_that_token(api: Api) -> None:
    token = api.post("/api/v1/auth/login", None, json={"username": "city", "password": PASSWORD}).json()[
        "access_token"
    ]
    auth = {"Authorization": f"Bearer {token}"}
    assert api.client.post("/api/v1/auth/logout", headers=auth).status_code == 204
    after = api.client.get("/api/v1/auth/me", headers=auth)
    assert after.status_code == 401 and after.json()["error"]["field"] == "authorization"
    assert api.get("/api/v1/auth/me", "city").status_code == 200  # the fixture's own token still works


def test_a_wrong_password_is_401_and_says_so(api: Api) -> None:
    r = api.post("/api/v1/auth/login", None, json={"username": "city", "password": "not the password"})
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unauthenticated" and bilingual(r.json()["error"]["message"])
    unknown = api.post("/api/v1/auth/login", None, json={"username": "nobody", "password": "whatever"})
    assert unknown.status_code == 401 and unknown.json()["error"] == r.json()["error"]


def test_a_login_without_password_names_the_field(api: Api) -> None:
    r = api.post("/api/v1/auth/login", None, json={"username": "city"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "password"


def test_no_token_and_a_forged_token_are_both_401(api: Api) -> None:
    assert api.get("/api/v1/auth/me", None).status_code == 401
    forged = api.client.get("/api/v1/instruments", headers={"Authorization": "Bearer forged"})
    assert forged.status_code == 401 and forged.headers["www-authenticate"] == "Bearer"


def test_an_account_created_over_the_api_can_log_in_and_is_scoped(api: Api) -> None:
    body = {
        "username": "inspector",
        "password": "another long password",
        "role": "enterprise",
        "jurisdiction": COUNTY_A,
        "organisation_id": api.world.enterprise_id,
    }
    r = api.post("/api/v1/users", "admin", json=body)
    assert r.status_code == 201 and "password_hash" not in r.json() and "password" not in r.json()
    token = api.post("/api/v1/auth/login", None, json={"username": "inspector", "password": body["password"]})
    assert token.json()["organisation_id"] == api.world.enterprise_id
    again = api.post("/api/v1/users", "admin", json=body)
    assert again.status_code == 409 and again.json()["error"]["field"] == "username"
    no_org = api.post("/api/v1/users", "admin", json={**body, "username": "x", "organisation_id": None})
    assert no_org.status_code == 422 and no_org.json()["error"]["field"] == "organisation_id"
