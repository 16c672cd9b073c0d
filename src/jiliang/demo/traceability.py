"""The demo city's traceability hierarchy (量值溯源体系), built through the services.

中国计量科学研究院 holds the national primary standards (计量基准, the anchors); 浙江省计量科学研究院
holds provincial standards calibrated against them every year; the city and county institutions'
working standards are calibrated every year against the provincial ones, and the existing verification
records link the instruments to those. One group (acoustics) is anchored to a foreign NMI's published
CMC instead. Three faults are planted so that the traceability pages have something to show:

- a lapsed calibration: the taxi-meter standard's last certificate ran out ``LAPSED_DAYS`` ago, so its
  recent verifications do not trace;
- a link with TUR 3:1: the city's blood-pressure standard (tolerance 0.03 %, U = 0.01 %, k = 2);
- an out-of-tolerance standard: the provincial pressure standard was found out of tolerance at its last
  calibration ``OOT_DAYS`` ago (and recalibrated after adjustment two weeks later), so everything made
  with it since its previous good calibration is to be recalled (``jiliang traceability impact``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from jiliang.demo.generate import Static, credit_code
from jiliang.domain.access import SYSTEM
from jiliang.domain.instruments import OrganisationKind
from jiliang.domain.standards import StandardKind
from jiliang.services import organisations, standards, traceability
from jiliang.services.platform import Platform
from jiliang.store.models import Region

BEIJING = ("110000", "北京市", "Beijing")
NIM = "中国计量科学研究院"
ZJIM = "浙江省计量科学研究院"
YEAR = timedelta(days=365)
LAPSED_DAYS = 150
OOT_DAYS = 100
TAXI_STANDARD = "出租汽车计价器检定装置"
LOW_TUR_STANDARD = "血压计标准装置"
OOT_GROUP = "pressure"

# The quantity of a city standard -> the group of the chain above it.
GROUPS = {
    "质量": "mass",
    "体积": "volume",
    "体积流量": "volume",
    "质量流量": "volume",
    "压力": "pressure",
    "温度": "temperature",
    "电能": "electrical",
    "电流、电压比": "electrical",
    "电阻": "electrical",
    "电生理": "electrical",
    "长度": "length",
    "速度": "length",
    "光学": "optical",
    "电离辐射": "radiation",
    "声学": "acoustics",
    "化学": "chemistry",
}


@dataclass(frozen=True)
class Tier:
    """A group's primary and provincial standards, their uncertainties (U, k = 2) and tolerances."""

    primary: str  # "" when the group is anchored to a foreign CMC
    provincial: str
    unit: str
    u_primary: float
    u_provincial: float
    tol_provincial: float
    u_city: float
    tol_city: float
    foreign: tuple[str, str, str] = ("", "", "")  # (anchor name, NMI, CMC reference)


TIERS = {
    "mass": Tier("千克国家计量基准", "E1等级砝码标准装置", "%", 2e-6, 2e-5, 1e-4, 0.01, 0.05),
    "volume": Tier("水流量国家计量基准", "标准金属量器标准装置", "%", 0.005, 0.02, 0.1, 0.05, 0.25),
    "pressure": Tier("活塞式压力计国家计量基准", "0.005级活塞式压力计标准装置", "%", 0.0005, 0.002, 0.01, 0.01, 0.05),
    "temperature": Tier("温度国家计量基准（ITS-90 固定点）", "标准铂电阻温度计标准装置", "℃", 0.0005, 0.002, 0.01, 0.01, 0.05),
    "electrical": Tier("交流电能国家计量基准", "0.01级电能表标准装置", "%", 0.001, 0.005, 0.02, 0.02, 0.1),
    "length": Tier("长度国家计量基准（激光波长）", "量块标准装置", "%", 1e-5, 1e-4, 5e-4, 0.01, 0.05),
    "optical": Tier("光谱辐射国家计量基准", "顶焦度标准装置", "%", 0.05, 0.2, 1.0, 0.5, 2.5),
    "radiation": Tier("空气比释动能国家计量基准", "X射线空气比释动能标准装置", "%", 0.3, 1.0, 4.0, 2.0, 10.0),
    "chemistry": Tier("气体成分量国家计量基准", "标准气体配制标准装置", "%", 0.05, 0.2, 1.0, 0.5, 2.5),
    "acoustics": Tier(
        "", "声压标准装置（传声器）", "%", 0.0, 0.5, 2.0, 1.0, 5.0,
        foreign=("传声器声压灵敏度 CMC / microphone pressure sensitivity", "PTB", "KCDB AUV.A-K1 CMC DE-…1"),
    ),
}  # fmt: skip


@dataclass
class TraceSummary:
    standards: int = 0
    calibrations: int = 0
    oot_standard_id: int = 0
    oot_on: date | None = None
    lapsed_standard_id: int = 0
    low_tur_standard_id: int = 0


def _org(platform: Platform, serial: int, name: str, region: str) -> int:
    kind = OrganisationKind.LEGAL_VERIFICATION_INSTITUTION
    return organisations.add_organisation(
        platform, SYSTEM, credit_code=credit_code(serial, region, kind), name=name, kind=kind.value,
        region_code=region,
    ).id  # fmt: skip


def _standard(
    platform: Platform, holder: int, name: str, kind: StandardKind, region: str, quantity: str,
    items: list[str], cert: str, valid: tuple[date, date], uncertainty: str,
) -> int:  # fmt: skip
    return standards.add_standard(
        platform,
        SYSTEM,
        {
            "name": name,
            "kind": kind.value,
            "holder_id": holder,
            "region_code": region,
            "quantity": quantity,
            "uncertainty": uncertainty,
            "certificate_no": cert,
            "certificate_valid_from": valid[0].isoformat(),
            "certificate_valid_until": valid[1].isoformat(),
            "item_codes": items,
        },
    ).id


def _calibrate(platform: Platform, **raw: Any) -> None:
    for key in ("calibrated_on", "valid_until"):
        raw[key] = raw[key].isoformat()
    traceability.record_calibration(platform, SYSTEM, raw)


def build_hierarchy(platform: Platform, st: Static, org_ids: list[int], std_ids: list[int]) -> TraceSummary:
    """Add the two upper tiers and every calibration, with the three planted faults."""
    today = platform.today()
    out = TraceSummary()
    with platform.reading() as s:
        has_beijing = s.get(Region, BEIJING[0]) is not None
    if not has_beijing:
        organisations.add_region(platform, SYSTEM, *BEIJING)
    nim = _org(platform, 900_001, NIM, BEIJING[0])
    zjim = _org(platform, 900_002, ZJIM, "330000")
    start = today - 6 * YEAR  # earlier than every verification record of the demo
    # The items a provincial standard lists: one its group's valid city standards already cover, so that
    # the coverage indicators (建标覆盖率) of the demo city are unchanged by the upper tiers.
    group_item: dict[str, str] = {}
    for row in st.standards:
        group = GROUPS[row["quantity"]]
        if row["certificate_valid_until"] > today:
            group_item.setdefault(group, row["items"][0])
    provincial: dict[str, int] = {}
    oot_on = today - timedelta(days=OOT_DAYS)
    for n, (group, tier) in enumerate(sorted(TIERS.items()), start=1):
        item = group_item.get(group)
        if item is None:
            continue
        prov = _standard(
            platform, zjim, tier.provincial, StandardKind.SOCIAL_PUBLIC, "330000", group, [item],
            f"[{start.year}]浙社量标证字第{n:03d}号", (start - YEAR, today + 2 * YEAR),
            f"U = {tier.u_provincial} {tier.unit}, k = 2",
        )  # fmt: skip
        provincial[group] = prov
        out.standards += 1
        anchor: dict[str, Any]
        if tier.primary:
            primary = _standard(
                platform, nim, tier.primary, StandardKind.NATIONAL_PRIMARY, BEIJING[0], group, [item],
                f"国基证(2010)第{n:03d}号", (date(2010, 1, 1), date(2040, 12, 31)),
                f"U = {tier.u_primary} {tier.unit}, k = 2",
            )  # fmt: skip
            out.standards += 1
            _calibrate(
                platform, standard_id=primary, anchor_name=f"{tier.primary}（国家计量基准）",
                anchor_nmi="中国计量科学研究院 NIM", anchor_cmc_ref=f"国基证(2010)第{n:03d}号",
                institution_id=nim, certificate_no=f"NIM-JZ-{n:03d}", calibrated_on=start - YEAR,
                valid_until=today + 4 * YEAR, expanded_uncertainty=tier.u_primary, unit=tier.unit,
            )  # fmt: skip
            out.calibrations += 1
            anchor = {"reference_standard_id": primary, "institution_id": nim}
        else:
            name, nmi, cmc = tier.foreign
            anchor = {"anchor_name": name, "anchor_nmi": nmi, "anchor_cmc_ref": cmc}
        day, j = start, 0
        while day <= today:
            _calibrate(
                platform, standard_id=prov, certificate_no=f"ZJ-{group}-{j:02d}", calibrated_on=day,
                valid_until=day + YEAR, expanded_uncertainty=tier.u_provincial, unit=tier.unit,
                tolerance=tier.tol_provincial, **anchor,
            )  # fmt: skip
            out.calibrations += 1
            day, j = day + YEAR, j + 1
            if group == OOT_GROUP and day - YEAR < oot_on < day:
                # The planted fault: found out of tolerance at an intermediate check, adjusted and
                # recalibrated two weeks later; the yearly cycle restarts from there.
                _calibrate(
                    platform, standard_id=prov, certificate_no=f"ZJ-{group}-{j:02d}-OOT", calibrated_on=oot_on,
                    valid_until=oot_on + YEAR, expanded_uncertainty=tier.u_provincial, unit=tier.unit,
                    tolerance=tier.tol_provincial, in_tolerance=False,
                    remarks="期间核查发现超差 / found out of tolerance at an intermediate check", **anchor,
                )  # fmt: skip
                out.calibrations += 1
                out.oot_standard_id, out.oot_on = prov, oot_on
                day = oot_on + timedelta(days=14)
    for idx, row in enumerate(st.standards):
        group = GROUPS[row["quantity"]]
        tier = TIERS[group]
        parent = provincial.get(group)
        if parent is None:
            continue
        sid = std_ids[idx]
        tolerance = tier.tol_city
        if row["name"] == LOW_TUR_STANDARD and not out.low_tur_standard_id:
            tolerance = 3 * tier.u_city  # TUR = T / U(k=2) = 3
            out.low_tur_standard_id = sid
        last = today
        if row["name"] == TAXI_STANDARD and not out.lapsed_standard_id:
            last = today - YEAR - timedelta(days=LAPSED_DAYS)
            out.lapsed_standard_id = sid
        day, j = start + timedelta(days=30 + 11 * idx), 0
        while day <= last:
            _calibrate(
                platform, standard_id=sid, reference_standard_id=parent, institution_id=zjim,
                certificate_no=f"ZJ{day.year}-{sid:04d}-{j:02d}", calibrated_on=day,
                valid_until=day + YEAR - timedelta(days=1), expanded_uncertainty=tier.u_city, unit=tier.unit,
                tolerance=tolerance,
            )  # fmt: skip
            out.calibrations += 1
            day, j = day + YEAR, j + 1
    return out
