"""A verification record fit for a certificate: fuel-dispenser data signed off by 检定员 → 核验员 → 批准人.

Certificates are issued only for such records (``services.certificates``); tests that exercise the
certificate's life (signing, the log, withdrawal, reconciliation) build their records here."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from jiliang.services import measured_verifications as mv
from jiliang.store.models import VerificationRecord
from tests.factories import World
from tests.measured_support import Staff, make_staff


def staff_of(world: World) -> Staff:
    staff: Staff | None = getattr(world, "_signed_staff", None)
    if staff is None:
        staff = make_staff(world)
        world._signed_staff = staff  # type: ignore[attr-defined]
    return staff


def fuel_raw(inst_id: int, on: str, doc: str, *, passed: bool = True) -> dict[str, Any]:
    """A fuel dispenser at 20 L: +0.02 L is +0.10 % of ±0.30 % (pass); +0.10 L is +0.50 % (fail)."""
    return {
        "instrument_id": inst_id,
        "verified_on": on,
        "document_no": doc,
        "stage": "subsequent",
        "points": [
            {"nominal": "20", "unit": "L", "indications": "20.02" if passed else "20.10", "uncertainty": "0.004"}
        ],
        "inspections": [{"label": "外观与铭牌", "passed": True}],
    }


def signed_record(
    world: World, inst_id: int, on: str = "2026-05-20", doc: str | None = None, *, passed: bool = True
) -> VerificationRecord:
    staff = staff_of(world)
    p = world.platform
    row = mv.record(p, staff.verifier, fuel_raw(inst_id, on, doc or f"JD-{inst_id}-{on}", passed=passed))
    mv.check(p, staff.checker, row.id)
    done = mv.approve(p, staff.approver, row.id)
    assert done.record_id is not None
    with p.reading() as s:
        return s.scalars(select(VerificationRecord).where(VerificationRecord.id == done.record_id)).one()
