"""The demo institute's signatories and two verifications with measurement data: one signed off by
检定员 张检定, 核验员 李核验 and 批准人 王批准 (its certificate carries the values), one waiting for the
checker, so that the institute's console has work to show. Deterministic: the first due scales."""

from __future__ import annotations

from typing import Any

from jiliang.domain.access import SYSTEM
from jiliang.services import certificates, institution_work, users
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


def build(platform: Platform) -> tuple[int, int]:
    """Register the signatories and record the two verifications; returns (records, certificates) added."""
    names = {username for username, *_ in SIGNATORIES}
    if not all(users.user_exists(platform, n) for n in names):
        return 0, 0
    for username, name, qualification, duties in SIGNATORIES:
        mv.register_signatory(
            platform,
            SYSTEM,
            {"username": username, "name": name, "qualification_no": qualification, **duties},
        )
    verifier, checker, approver = (users.principal_by_username(platform, n) for n, *_ in SIGNATORIES)
    due = institution_work.due_queue(platform, verifier, within_days=3650, limit=500).items
    scales = [d.id for d in due if d.item_code == SCALE][:2]
    if len(scales) < 2:
        return 0, 0
    today = platform.today().isoformat()
    done = mv.record(platform, verifier, _scale(scales[0], "JD-DEMO-0001", today, "30.010"))
    mv.check(platform, checker, done.id)
    approved = mv.approve(platform, approver, done.id)
    assert approved.record_id is not None
    certificates.issue(platform, verifier, approved.record_id)
    mv.record(platform, verifier, _scale(scales[1], "JD-DEMO-0002", today, "30.020"))  # waits for the checker
    return 1, 1
