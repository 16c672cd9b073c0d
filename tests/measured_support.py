"""Three signatories of the test world's institution (检定员 / 核验员 / 批准人) and a scale to verify."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jiliang.domain.access import SYSTEM, Principal
from jiliang.services import measured_verifications as mv
from jiliang.services import users
from jiliang.store.models import Instrument
from tests.factories import CITY, PASSWORD, World, authorise_all
from tests.test_registry import file

SCALE = "02.01"
STAFF = {
    "verifier": ("张检定", "JD-330001", {"may_verify": True}),
    "checker": ("李核验", "JD-330002", {"may_verify": True, "may_check": True}),
    "approver": ("王批准", "JD-330003", {"may_check": True, "may_approve": True}),
}


@dataclass
class Staff:
    verifier: Principal
    checker: Principal
    approver: Principal


def make_staff(world: World) -> Staff:
    out = {}
    for username, (name, qual, flags) in STAFF.items():
        users.create_user(
            world.platform,
            SYSTEM,
            username=username,
            password=PASSWORD,
            role="institution",
            jurisdiction=CITY,
            organisation_id=world.institution_id,
            display_name=name,
        )
        mv.register_signatory(
            world.platform, SYSTEM, {"username": username, "qualification_no": qual, **flags}
        )
        out[username] = users.login(world.platform, username, PASSWORD)[1]
    return Staff(**out)


def scale(world: World, serial: str = "S-1") -> Instrument:
    authorise_all(world, [SCALE])
    return file(world, serial, item_code=SCALE, measuring_range="(0.1–30) kg", accuracy_class="Ⅲ")


def scale_raw(
    inst_id: int, doc: str = "JD-2026-0001", readings: tuple[str, ...] = ("15.005",)
) -> dict[str, Any]:
    """A class III 30 kg price scale, e = 10 g, verified at three loads (MPE ±5 g, ±10 g, ±15 g)."""
    return {
        "instrument_id": inst_id,
        "verified_on": "2026-06-10",
        "document_no": doc,
        "stage": "subsequent",
        "scale_interval": "0.01",
        "points": [
            {"nominal": "2", "unit": "kg", "indications": "2.000 2.005", "uncertainty": "0.001"},
            {"nominal": "15", "unit": "kg", "indications": " ".join(readings), "uncertainty": "0.002"},
            {"nominal": "30", "unit": "kg", "indications": ["30.010"], "uncertainty": "0.003"},
        ],
        "inspections": [{"label": "外观与铭牌", "passed": True}],
    }
