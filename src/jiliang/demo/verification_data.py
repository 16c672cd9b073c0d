"""The demo institute's signatories and four verifications with measurement data: three signed off by
检定员 张检定, 核验员 李核验 and 批准人 王批准 (the demo's certificates are issued for them, and only for them:
a record without data and three signatures carries none), one waiting for the checker, so that the
institute's console has work to show. Deterministic: the first due scales."""

from __future__ import annotations

from typing import Any

from jiliang.domain.access import SYSTEM, Principal
from jiliang.services import institution_work, users
from jiliang.services import measured_verifications as mv
from jiliang.services.platform import Platform

SIGNATORIES = (
    ("institute", "张检定", "JD-DEMO-330001", {"may_verify": True}),
    ("institute-checker", "李核验", "JD-DEMO-330002", {"may_verify": True, "may_check": True}),
    ("institute-approver", "王批准", "JD-DEMO-330003", {"may_check": True, "may_approve": True}),
)
SCALE = "02.01"


def _scale(instrument_id: int, document_no: str, on: str, heaviest: str) -> dict[str, Any]:
    """A class III price scale (e = 10 g) at 0.5 kg, 15 kg and 30 kg, with U of the error (k = 2)."""
    return {
        "instrument_id": instrument_id,
        "verified_on": on,
        "document_no": document_no,
        "stage": "subsequent",
        "scale_interval": "0.01",
        "decision_rule": "simple",
        "points": [
            {"nominal": "0.5", "unit": "kg", "indications": "0.500 0.505", "uncertainty": "0.0012"},
            {"nominal": "15", "unit": "kg", "indications": "15.005 15.010", "uncertainty": "0.0025"},
            {"nominal": "30", "unit": "kg", "indications": heaviest, "uncertainty": "0.0035"},
        ],
        "inspections": [
            {"label": "外观、铭牌与计量标志", "passed": True},
            {"label": "封印完好", "passed": True},
        ],
    }


SIGNED_OFF = 3


def register(platform: Platform) -> tuple[Principal, Principal, Principal] | None:
    """The three signatories (verifier, checker, approver), registered once; None without the demo's users."""
    names = {username for username, *_ in SIGNATORIES}
    if not all(users.user_exists(platform, n) for n in names):
        return None
    for username, name, qualification, duties in SIGNATORIES:
        mv.register_signatory(
            platform,
            SYSTEM,
            {"username": username, "name": name, "qualification_no": qualification, **duties},
        )
    verifier, checker, approver = (users.principal_by_username(platform, n) for n, *_ in SIGNATORIES)
    return verifier, checker, approver


def sign_off(platform: Platform, count: int, prefix: str = "JD-DEMO") -> list[int]:
    """Verify up to ``count`` due scales with data and sign each off in turn; the ids of their records
    (the only records a certificate may be issued for). The benchmark of issuing uses it too."""
    staff = register(platform)
    if staff is None:
        return []
    verifier, checker, approver = staff
    today, approved = platform.today().isoformat(), list[int]()
    while len(approved) < count:
        due = institution_work.due_queue(platform, verifier, within_days=3650, limit=500).items
        scales = [d.id for d in due if d.item_code == SCALE][: count - len(approved)]
        if not scales:
            break
        for inst_id in scales:
            doc = f"{prefix}-{len(approved) + 1:04d}"
            done = mv.record(platform, verifier, _scale(inst_id, doc, today, "30.010"))
            mv.check(platform, checker, done.id)
            row = mv.approve(platform, approver, done.id)
            assert row.record_id is not None
            approved.append(row.record_id)
    return approved


def build(platform: Platform) -> list[int]:
    """Sign off three scales and leave a fourth (a failure at 30 kg) waiting for the checker; returns the
    ids of the approved records."""
    staff = register(platform)
    if staff is None:
        return []
    verifier = staff[0]
    due = institution_work.due_queue(platform, verifier, within_days=3650, limit=500).items
    if sum(d.item_code == SCALE for d in due) < 2:
        return []
    approved = sign_off(platform, SIGNED_OFF)
    due = institution_work.due_queue(platform, verifier, within_days=3650, limit=500).items
    waiting = next((d.id for d in due if d.item_code == SCALE), None)
    if waiting is not None:
        doc = f"JD-DEMO-{len(approved) + 1:04d}"
        mv.record(platform, verifier, _scale(waiting, doc, platform.today().isoformat(), "30.020"))
    return approved
