"""Verification with measurement data, signed off by three people, on both databases."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from jiliang.domain.access import SYSTEM
from jiliang.errors import Conflict, InvalidInput, NotAuthorised, NotFound
from jiliang.services import certificates, instruments
from jiliang.services import measured_verifications as mv
from jiliang.store.models import AuditEntry, VerificationRecord
from tests.factories import World
from tests.measured_support import make_staff, scale, scale_raw


def test_a_scale_verified_with_data_is_signed_off_in_turn_and_then_certified(world: World) -> None:
    staff = make_staff(world)
    inst = scale(world)
    p = world.platform
    row = mv.record(p, staff.verifier, scale_raw(inst.id))
    assert (row.state, row.conclusion, row.record_id) == ("recorded", "pass", None)
    view = mv.get(p, staff.verifier, row.id)
    measured = [x for x in view.points if x.kind == "measured"]
    # m = 1500 e → ±1 e = ±0.01 kg; the mean of the readings minus the load is the error
    assert [(x.mpe_upper, x.error) for x in measured] == [
        ("0.005", "0.0025"),
        ("0.010", "0.005"),
        ("0.015", "0.010"),
    ]
    assert all(x.passed for x in view.points)
    # no record and no certificate before approval: the instrument is untouched
    assert instruments.get_instrument(p, SYSTEM, inst.id).last_verified_on is None
    with pytest.raises(NotAuthorised):
        mv.check(p, staff.verifier, row.id)  # the verifier may not check their own work
    with pytest.raises(Conflict):
        mv.approve(p, staff.approver, row.id)  # not yet checked
    mv.check(p, staff.checker, row.id)
    with pytest.raises(NotAuthorised):
        mv.approve(p, staff.checker, row.id)  # the checker is no approver
    done = mv.approve(p, staff.approver, row.id)
    assert done.state == "approved" and done.record_id is not None
    view = mv.get(p, staff.verifier, row.id)
    assert [(x.duty, x.name, x.qualification_no) for x in view.persons] == [
        ("verifier", "张检定", "JD-330001"),
        ("checker", "李核验", "JD-330002"),
        ("approver", "王批准", "JD-330003"),
    ]
    got = instruments.get_instrument(p, SYSTEM, inst.id)
    assert got.last_conclusion == "pass" and got.due_on is not None and view.due_on == got.due_on
    cert = certificates.issue(p, staff.verifier, done.record_id)
    assert cert.number == "JD-2026-0001"
    # every step is in the audit trail under the person's name
    with p.reading() as s:
        actors = set(
            s.scalars(select(AuditEntry.actor_name).where(AuditEntry.object_type == "measured_verifications"))
        )
    assert actors == {"verifier", "checker", "approver"}


def test_the_conclusion_follows_from_the_data_not_from_the_verifier(world: World) -> None:
    staff = make_staff(world)
    inst = scale(world)
    raw = scale_raw(inst.id, readings=("15.011",))  # error 11 g > 10 g
    raw["conclusion"] = "pass"  # ignored: there is no such field to set
    row = mv.record(world.platform, staff.verifier, raw)
    assert row.conclusion == "fail"
    mv.check(world.platform, staff.checker, row.id)
    mv.approve(world.platform, staff.approver, row.id)
    with world.platform.reading() as s:
        rec = s.scalars(select(VerificationRecord)).one()
    assert rec.conclusion == "fail" and rec.due_on is None


def test_guarded_acceptance_refuses_a_point_inside_the_guard_band(world: World) -> None:
    staff = make_staff(world)
    inst = scale(world)
    raw = scale_raw(inst.id, readings=("15.009",))  # 9 g of ±10 g, U = 2 g → accept zone ±8 g
    assert mv.record(world.platform, staff.verifier, raw).conclusion == "pass"
    raw = {**scale_raw(inst.id, doc="JD-2026-0002", readings=("15.009",)), "decision_rule": "guarded"}
    assert mv.record(world.platform, staff.verifier, raw).conclusion == "fail"


def test_an_inspection_judged_failed_fails_the_verification(world: World) -> None:
    staff = make_staff(world)
    inst = scale(world)
    raw = scale_raw(inst.id)
    raw["inspections"] = [{"label": "封印完好", "passed": False}]
    assert mv.record(world.platform, staff.verifier, raw).conclusion == "fail"


def test_refusals_name_their_field(world: World) -> None:
    staff = make_staff(world)
    inst = scale(world)
    p = world.platform
    for change, field in (
        ({"points": []}, "points"),
        ({"scale_interval": ""}, "points[1].scale_interval"),
        ({"stage": "yearly"}, "stage"),
        ({"decision_rule": "lenient"}, "decision_rule"),
        ({"accuracy_class": "V"}, "accuracy_class"),
    ):
        with pytest.raises(InvalidInput) as exc:
            mv.record(p, staff.verifier, {**scale_raw(inst.id), **change})
        assert exc.value.field == field, change
    bad_point = scale_raw(inst.id)
    bad_point["points"][0]["indications"] = "2.0x"
    with pytest.raises(InvalidInput) as exc:
        mv.record(p, staff.verifier, bad_point)
    assert exc.value.field == "points[1].indications"
    mv.record(p, staff.verifier, scale_raw(inst.id))
    with pytest.raises(Conflict):
        mv.record(p, staff.verifier, scale_raw(inst.id))  # document number used


def test_only_registered_signatories_sign(world: World) -> None:
    inst = scale(world)
    with pytest.raises(NotAuthorised) as exc:
        mv.record(world.platform, world.as_("institution"), scale_raw(inst.id))
    assert exc.value.field == "signatory"
    staff = make_staff(world)
    # an institution registers only its own users
    with pytest.raises(NotFound):
        mv.register_signatory(
            world.platform, world.as_("other_institution"), {"username": "checker", "qualification_no": "X"}
        )
    assert {s.name for s in mv.list_signatories(world.platform, staff.verifier)} == {
        "张检定",
        "李核验",
        "王批准",
    }
    assert mv.list_signatories(world.platform, world.as_("other_institution")) == []


def test_a_return_closes_the_verification_with_its_reason(world: World) -> None:
    staff = make_staff(world)
    inst = scale(world)
    row = mv.record(world.platform, staff.verifier, scale_raw(inst.id))
    with pytest.raises(InvalidInput):
        mv.check(world.platform, staff.checker, row.id, accept=False)
    back = mv.check(world.platform, staff.checker, row.id, accept=False, reason="第 2 点示值抄录有误")
    assert back.state == "returned" and back.record_id is None
    with pytest.raises(Conflict):
        mv.approve(world.platform, staff.approver, row.id)
    assert [v.id for v in mv.queue(world.platform, staff.verifier, ["returned"])] == [row.id]


def test_another_institution_or_region_reaches_nothing(world: World) -> None:
    staff = make_staff(world)
    inst = scale(world)
    row = mv.record(world.platform, staff.verifier, scale_raw(inst.id))
    for who in ("other_institution", "county_b", "enterprise", "public"):
        with pytest.raises(NotFound):
            mv.get(world.platform, world.as_(who), row.id)
    with pytest.raises(NotFound):
        mv.check(world.platform, world.as_("other_institution"), row.id)
    assert mv.get(world.platform, world.as_("city"), row.id).id == row.id  # the supervisor of the region
    assert mv.queue(world.platform, world.as_("other_institution")) == []


def test_generic_items_take_the_mpe_per_point(world: World) -> None:
    staff = make_staff(world)
    inst = scale(world)
    ev = mv.evaluate(
        "15.01",
        "1.6",
        {"points": [{"nominal": "1.0", "unit": "MPa", "indications": "1.01", "mpe_upper": "0.016"}]},
    )
    assert ev.rule == "generic" and ev.points[0].mpe.lower == Decimal("-0.016") and ev.judgement.passed
    with pytest.raises(InvalidInput) as exc:
        mv.evaluate("15.01", "1.6", {"points": [{"nominal": "1.0", "indications": "1.01"}]})
    assert exc.value.field == "points[1].mpe_upper"
    assert mv.preview(world.platform, staff.verifier, scale_raw(inst.id)).conclusion.value == "pass"


def test_the_certificate_carries_the_test_points_as_dsi_values_and_the_three_people(world: World) -> None:
    from jiliang.trust import dcc

    staff = make_staff(world)
    inst = scale(world)
    p = world.platform
    row = mv.record(p, staff.verifier, scale_raw(inst.id))
    mv.check(p, staff.checker, row.id)
    done = mv.approve(p, staff.approver, row.id)
    assert done.record_id is not None
    cert = certificates.issue(p, staff.verifier, done.record_id)
    parsed = dcc.parse(cert.document)  # validates against the DCC 3.2.0 schema
    results = [r for r in parsed.measurement_results[0].results if r.ref_type == "jiliang_testPoint"]
    assert len(results) == 3
    second = {q.ref_type: q for q in results[1].quantities}
    error = second["basic_measurementError"].values[0]
    assert (error.value, error.unit) == (Decimal("0.005"), "\\kilogram")
    assert error.uncertainty is not None and error.uncertainty.uncertainty == Decimal("0.002")
    assert second["basic_measurementError"].conformity == ("pass",)
    assert second["jiliang_maximumPermissibleError"].values[0].value == Decimal("0.010")
    assert [(r.name, r.main_signer) for r in parsed.resp_persons] == [
        ("张检定", False),
        ("李核验", False),
        ("王批准", True),
    ]
    assert "JD-330003" in (parsed.resp_persons[2].role or "")
    assert parsed.conformity == "pass"


def _certified(world: World, readings: tuple[str, ...] = ("15.005",)) -> tuple[str, str]:
    staff = make_staff(world)
    inst = scale(world)
    p = world.platform
    row = mv.record(p, staff.verifier, scale_raw(inst.id, readings=readings))
    mv.check(p, staff.checker, row.id)
    done = mv.approve(p, staff.approver, row.id)
    assert done.record_id is not None
    due = mv.get(p, staff.verifier, row.id).due_on
    return certificates.issue(p, staff.verifier, done.record_id).number, due.isoformat() if due else ""


def test_the_rendered_certificate_and_the_check_page_show_values_validity_people_in_local_time(
    world: World,
) -> None:
    from fastapi.testclient import TestClient

    from jiliang.api.app import create_app

    number, due = _certified(world)
    html = certificates.render(world.platform, SYSTEM, number, "html").decode()
    assert "检定证书" in html and "校准证书" not in html and "数字计量证书" not in html
    for text in ("有效期至", due, "张检定", "李核验", "王批准", "JD-330003", "15.005 kg", "±0.010 kg"):
        assert text in html, text
    assert certificates.render(world.platform, SYSTEM, number, "pdf").startswith(b"%PDF")
    document = certificates.get(world.platform, SYSTEM, number).document
    with TestClient(create_app(world.platform)) as client:
        page = client.get(f"/v/{number}").text
        api = client.get(f"/api/v1/certificates/{number}").json()
        uploaded = client.post("/verify", files={"file": ("c.xml", document, "application/xml")}).text
        english = client.get(f"/v/{number}?lang=en").text
    for text in ("Verification certificate", "Valid until", "Signed off by", "Measured results", "pass"):
        assert text in english, text
    for text in ("检定证书", "有效期至", due, "王批准", "0.005 kg", "±0.010 kg", "北京时间"):
        assert text in uploaded, text
    for text in ("检定证书", "合格", "有效期至", due, "王批准", "0.005 kg", "±0.010 kg", "北京时间"):
        assert text in page, text
    assert "UTC" not in page
    # FIXED_NOW 2026-06-15 02:00 UTC is 10:00 in Shanghai
    assert "2026-06-15 10:00" in page
    assert api["kind"] == "verification" and api["valid_until"] == due
    assert [p["name"] for p in api["persons"]] == ["张检定", "李核验", "王批准"]
    assert api["points"][1]["error"] == "0.005 kg"


def test_a_failed_verification_is_a_notice_of_failure_without_validity(world: World) -> None:
    number, due = _certified(world, readings=("15.020",))
    assert due == ""
    html = certificates.render(world.platform, SYSTEM, number, "html").decode()
    assert "检定结果通知书" in html and "有效期至" not in html and "不合格" in html


def test_the_api_records_signs_off_and_refuses_another_institution(world: World) -> None:
    from fastapi.testclient import TestClient

    from jiliang.api.app import create_app
    from jiliang.services import users
    from tests.factories import PASSWORD

    make_staff(world)
    inst = scale(world)
    tokens = {
        who: users.login(world.platform, who, PASSWORD)[0] for who in ("verifier", "checker", "approver")
    }
    tokens["other_institution"] = world.tokens["other_institution"]

    def auth(who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {tokens[who]}"}

    base = "/api/v1/measured-verifications"
    body = scale_raw(inst.id)
    with TestClient(create_app(world.platform)) as c:
        trial = c.post(f"{base}/evaluate", json=body, headers=auth("verifier"))
        assert trial.status_code == 200 and trial.json()["conclusion"] == "pass"
        assert trial.json()["points"][1]["mpe_upper"] == "0.010"
        made = c.post(base, json=body, headers=auth("verifier"))
        assert made.status_code == 201, made.text
        vid = made.json()["id"]
        assert c.get(f"{base}/{vid}", headers=auth("other_institution")).status_code == 404
        assert c.post(f"{base}/{vid}/check", json={}, headers=auth("verifier")).status_code == 403
        assert c.post(f"{base}/{vid}/check", json={}, headers=auth("checker")).status_code == 200
        done = c.post(f"{base}/{vid}/approve", json={}, headers=auth("approver")).json()
        assert done["state"] == "approved" and [p["duty"] for p in done["persons"]] == [
            "verifier",
            "checker",
            "approver",
        ]
        people = c.get(f"{base}/signatories", headers=auth("verifier")).json()
        assert {p["qualification_no"] for p in people} == {"JD-330001", "JD-330002", "JD-330003"}
        bad = c.post(base, json={**body, "document_no": "X-2", "points": []}, headers=auth("verifier"))
        assert bad.status_code == 422 and bad.json()["error"]["field"] == "points"


def test_approved_without_a_certificate_waits_to_be_issued(world: World) -> None:
    staff = make_staff(world)
    inst = scale(world)
    p = world.platform
    row = mv.record(p, staff.verifier, scale_raw(inst.id))
    mv.check(p, staff.checker, row.id)
    done = mv.approve(p, staff.approver, row.id)
    assert [v.id for v in mv.awaiting_certificate(p, staff.verifier)] == [row.id]
    assert done.record_id is not None
    certificates.issue(p, staff.verifier, done.record_id)
    assert mv.awaiting_certificate(p, staff.verifier) == []
    assert mv.awaiting_certificate(p, world.as_("other_institution")) == []


def test_jjg443_fuel_dispenser_points_by_zone() -> None:
    """20 L at normal flow (±0.30 % = ±0.060 L) and 5 L at the minimum measured quantity (±0.5 % = ±0.025 L)."""
    ev = mv.evaluate(
        "09.01",
        "0.3",
        {
            "stage": "subsequent",
            "points": [
                {"nominal": "20", "unit": "L", "indications": "20.04 20.05", "uncertainty": "0.012"},
                {
                    "nominal": "5",
                    "unit": "L",
                    "zone": "minimum",
                    "indications": "5.03",
                    "uncertainty": "0.006",
                },
            ],
        },
    )
    first, low = ev.points
    assert (first.mpe.upper, first.error, first.passed) == (Decimal("0.06"), Decimal("0.045"), True)
    assert (low.mpe.upper, low.error, low.passed) == (Decimal("0.025"), Decimal("0.03"), False)
    assert ev.conclusion.value == "fail"


def test_sphygmomanometer_in_mmhg_and_u_over_a_third_warns() -> None:
    ev = mv.evaluate(
        "16.01",
        "±3 mmHg",
        {"points": [{"nominal": "120", "unit": "mmHg", "indications": "122", "uncertainty": "1.5"}]},
    )
    assert ev.points[0].mpe.upper == Decimal("3.75") and ev.judgement.passed
    assert ev.judgement.warnings  # U = 1.5 mmHg is more than a third of 3.75 mmHg
