"""The institution's console pages: record a verification with data, three sign-offs, issue, lists; and
every id in a URL that belongs to another institution answers as not found."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from jiliang.services import measured_verifications as mv
from tests.console_support import Console, form_token
from tests.measured_support import make_staff, scale, scale_raw


def _form(inst_id: int, token: str, action: str, doc: str = "JD-WEB-1") -> dict[str, str]:
    raw = scale_raw(inst_id, doc=doc)
    data = {
        "csrf_token": token,
        "instrument_id": str(inst_id),
        "verified_on": raw["verified_on"],
        "document_no": doc,
        "stage": "subsequent",
        "accuracy_class": "III",
        "scale_interval": "0.01",
        "decision_rule": "simple",
        "standard_id": "",
        "remarks": "",
        "action": action,
        "q1_label": "外观与铭牌",
        "q1_passed": "pass",
    }
    for i, p in enumerate(raw["points"], start=1):
        readings = p["indications"]
        data.update(
            {
                f"p{i}_label": "",
                f"p{i}_nominal": p["nominal"],
                f"p{i}_unit": p["unit"],
                f"p{i}_indications": readings if isinstance(readings, str) else " ".join(readings),
                f"p{i}_u": p["uncertainty"],
                f"p{i}_k": "",
            }
        )
    data.update({"p4_nominal": "", "p4_indications": ""})  # an empty row is skipped
    return data


def _signed_off(console: Console) -> tuple[dict[str, TestClient], int]:
    make_staff(console.world)
    inst = scale(console.world)
    clients = {who: console.client_for(who) for who in ("verifier", "checker", "approver")}
    v = clients["verifier"]
    page = v.get(f"/console/institution/verifications/new?instrument_id={inst.id}")
    assert page.status_code == 200 and "检定分度值" in page.text and "非自动衡器" in page.text
    token = form_token(v, "/console/institution")
    preview = v.post("/console/institution/verifications/new", data=_form(inst.id, token, "preview"))
    assert preview.status_code == 200 and "±1.0 e（m = 1500 e" in preview.text and "✔ 合格" in preview.text
    live = v.post(
        "/console/institution/verifications/evaluate",
        data=_form(inst.id, token, "preview"),
        headers={"X-CSRF-Token": token},
    )
    assert live.json()["conclusion"] == "pass" and live.json()["points"][1]["mpe_upper"] == "0.010"
    done = v.post(
        "/console/institution/verifications/new", data=_form(inst.id, token, "submit"), follow_redirects=False
    )
    assert done.status_code == 303
    vid = int(re.search(r"/verifications/(\d+)", done.headers["location"]).group(1))  # type: ignore[union-attr]
    for who, step in (("checker", "check"), ("approver", "approve")):
        c = clients[who]
        answer = c.post(
            f"/console/institution/verifications/{vid}/{step}",
            data={"csrf_token": form_token(c, "/console/institution"), "decision": "accept"},
            follow_redirects=False,
        )
        assert answer.status_code == 303, answer.text
    return clients, vid


def test_record_sign_off_and_issue_in_the_browser_forms(console: Console) -> None:
    clients, vid = _signed_off(console)
    v = clients["verifier"]
    detail = v.get(f"/console/institution/verifications/{vid}")
    for text in ("已批准", "张检定", "李核验", "王批准", "JD-330002", "出具证书"):
        assert text in detail.text, text
    issued = v.post(
        f"/console/institution/verifications/{vid}/issue",
        data={"csrf_token": form_token(v, "/console/institution")},
    )
    assert issued.status_code == 200 and "JD-WEB-1" in issued.text and "查看证书" in issued.text
    cert = v.get("/console/institution/certificates/JD-WEB-1")
    assert "检定证书" in cert.text and "15.005 kg" in cert.text and "王批准" in cert.text
    listing = v.get("/console/institution/certificates")
    assert "JD-WEB-1" in listing.text and "有效" in listing.text
    home = v.get("/console/institution")
    assert home.status_code == 200 and "<h1>" in home.text


def test_the_sign_off_refuses_the_wrong_person_with_a_message(console: Console) -> None:
    make_staff(console.world)
    inst = scale(console.world)
    row = mv.record(console.world.platform, _verifier(console), scale_raw(inst.id))
    v = console.client_for("verifier")
    answer = v.post(
        f"/console/institution/verifications/{row.id}/check",
        data={"csrf_token": form_token(v, "/console/institution"), "decision": "accept"},
    )
    assert answer.status_code == 422 and "核验员" in answer.text


def _verifier(console: Console):  # type: ignore[no-untyped-def]
    from jiliang.services import users
    from tests.factories import PASSWORD

    return users.login(console.world.platform, "verifier", PASSWORD)[1]


def test_another_institution_reaches_nothing_by_editing_urls(console: Console) -> None:
    clients, vid = _signed_off(console)
    v = clients["verifier"]
    v.post(
        f"/console/institution/verifications/{vid}/issue",
        data={"csrf_token": form_token(v, "/console/institution")},
    )
    other = console.client_as("institution")  # same institution's plain account: sees it
    assert other.get(f"/console/institution/verifications/{vid}").status_code == 200
    stranger = console.client_for("other_institution")
    token = form_token(stranger, "/console/institution")
    for url in (
        f"/console/institution/verifications/{vid}",
        "/console/institution/certificates/JD-WEB-1",
        "/console/institution/certificates/JD-WEB-1?fmt=pdf",
        f"/console/institution/verifications/new?instrument_id={_instrument_of(console, vid)}",
    ):
        assert stranger.get(url).status_code == 404, url
    for url in (
        f"/console/institution/verifications/{vid}/check",
        f"/console/institution/verifications/{vid}/approve",
        f"/console/institution/verifications/{vid}/issue",
        "/console/institution/certificates/JD-WEB-1/withdraw",
    ):
        assert stranger.post(url, data={"csrf_token": token, "reason": "x"}).status_code == 404, url
    assert "JD-WEB-1" not in stranger.get("/console/institution/certificates").text
    assert "JD-WEB-1" not in stranger.get("/console/institution").text


def _instrument_of(console: Console, vid: int) -> int:
    from jiliang.domain.access import SYSTEM

    return mv.get(console.world.platform, SYSTEM, vid).instrument_id


def test_queue_standards_and_certificates_pages(console: Console) -> None:
    make_staff(console.world)
    inst = scale(console.world)
    v = console.client_for("verifier")
    queue = v.get("/console/institution/queue")
    assert queue.status_code == 200 and inst.serial_number in queue.text and "从未检定" in queue.text
    assert f"instrument_id={inst.id}" in queue.text
    assert (
        inst.serial_number
        not in console.client_for("other_institution").get("/console/institution/queue").text
    )
    standards = v.get("/console/institution/standards")
    assert standards.status_code == 200 and "数字指示秤" in standards.text and "JD-330003" in standards.text
    assert v.get("/console/institution/certificates?status=withdrawn").status_code == 200
    # another role has no institution pages
    assert console.client_as("enterprise").get("/console/institution").status_code == 403


def test_pages_are_english_on_request(console: Console) -> None:
    make_staff(console.world)
    v = console.client_for("verifier")
    assert "Institution workspace" in v.get("/console/institution?lang=en").text


def test_an_institution_registers_its_own_account_as_signatory_only(console: Console) -> None:
    from jiliang.domain.access import SYSTEM
    from jiliang.services import users
    from tests.factories import CITY, PASSWORD

    users.create_user(
        console.world.platform,
        SYSTEM,
        username="new-verifier",
        password=PASSWORD,
        role="institution",
        jurisdiction=CITY,
        organisation_id=console.world.institution_id,
    )
    c = console.client_as("institution")
    token = form_token(c, "/console/institution/standards")
    form = {
        "csrf_token": token,
        "username": "new-verifier",
        "name": "赵检定",
        "qualification_no": "JD-9",
        "may_verify": "1",
    }
    answer = c.post("/console/institution/signatories", data=form, follow_redirects=False)
    assert answer.status_code == 303
    assert "JD-9" in c.get("/console/institution/standards").text
    stranger = console.client_for("other_institution")
    refused = stranger.post(
        "/console/institution/signatories",
        data={**form, "csrf_token": form_token(stranger, "/console/institution/standards")},
    )
    assert refused.status_code == 404


def test_a_form_for_an_instrument_outside_the_area_is_not_found(console: Console) -> None:
    make_staff(console.world)
    inst = scale(console.world)
    stranger = console.client_for("other_institution")
    token = form_token(stranger, "/console/institution")
    answer = stranger.post("/console/institution/verifications/new", data=_form(inst.id, token, "submit"))
    assert answer.status_code == 404


def test_the_form_finds_an_instrument_by_serial_number_in_the_area_only(console: Console) -> None:
    make_staff(console.world)
    inst = scale(console.world, "SN-77")
    v = console.client_for("verifier")
    page = v.get("/console/institution/verifications/new?serial=SN-77")
    assert page.status_code == 200 and 'name="p1_nominal"' in page.text and "SN-77" in page.text
    stranger = console.client_for("other_institution")
    assert "没有这个出厂编号" in stranger.get("/console/institution/verifications/new?serial=SN-77").text
    assert inst.id
