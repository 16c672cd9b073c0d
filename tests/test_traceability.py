"""Traceability: the array engine (chains, validity on the date of use, TUR, RSS, cycles, impact) and the
service with roles and jurisdictions, on SQLite and PostgreSQL.

Numbers are worked by hand in the comments. The propagation is JCGM 100:2008 eq. (10) (5.1.2) with all
sensitivity coefficients 1 and uncorrelated links; the TUR is ANSI/NCSL Z540.3-2006 §3 ("the ratio of the
span of the tolerance … to twice the 95 % expanded uncertainty of the measurement process"), i.e.
T / (2·U95) for a ±T tolerance with U95 = 2u: TUR = T / (2·2u) × 2 = T / (2u).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pytest
from sqlalchemy import func, select

from jiliang.domain.access import SYSTEM
from jiliang.errors import InvalidInput, NotAuthorised, NotFound
from jiliang.metrology.traceability import (
    LinkStatus,
    TraceabilityCycle,
    TraceabilityGraph,
    normalise,
    tolerance_from_accuracy,
)
from jiliang.services import instruments, organisations, standards, traceability, verifications
from jiliang.services.platform import Platform
from jiliang.store.models import AuditEntry, MeasurementStandard, StandardCalibration
from tests.factories import CITY, PROVINCE, World, authorise_all, credit_code, instrument_raw


def d(text: str) -> int:
    return date.fromisoformat(text).toordinal()


NO_TOL = math.nan


def small_graph(**over: Any) -> TraceabilityGraph:
    """0 primary (anchored) → 1 provincial → 2 working; 1 is found out of tolerance on 2026-03-01.

    calibrations: c0 anchor of 0; c1 1 by 0 (2025-03-01); c2 2 by 1 (2025-06-01, until 2026-06-01);
    c3 1 by 0 (2026-03-01, out of tolerance); c4 2 by 1 (2026-05-01, resolves to c3).
    uses: u0 2 on 2025-09-01 (under c2); u1 2 on 2026-07-01 (under c4); u2 2 on 2026-06-01 (c4);
    u3 no standard.
    """
    args: dict[str, Any] = {
        "approval_from": [d("2020-01-01")] * 3,
        "approval_until": [d("2030-12-31")] * 3,
        "cal_standard": [0, 1, 2, 1, 2],
        "cal_reference": [-1, 0, 1, 0, 1],
        "cal_on": [d("2025-01-01"), d("2025-03-01"), d("2025-06-01"), d("2026-03-01"), d("2026-05-01")],
        "cal_until": [d("2027-01-01"), d("2026-03-01"), d("2026-06-01"), d("2027-03-01"), d("2027-05-01")],
        "cal_u": [0.001, 0.002, 0.004, 0.002, 0.004],
        "cal_tolerance": [NO_TOL, 0.02, 0.03, 0.02, 0.05],
        "cal_in_tolerance": [True, True, True, False, True],
        "use_standard": [2, 2, 2, -1],
        "use_on": [d("2025-09-01"), d("2026-07-01"), d("2026-06-01"), d("2026-01-01")],
        "use_tolerance": [0.05, 0.05, 0.05, 0.05],
    }
    args.update(over)
    return TraceabilityGraph.build(**args)


def test_chain_propagates_the_root_sum_square_of_the_link_uncertainties() -> None:
    g = small_graph()
    cal = g.calibration_chains()
    # c2: anchor 0.001, link 1 0.002, link 2 0.004 → √(1 + 4 + 16)·10⁻³ = √21·10⁻³ = 0.004582576
    assert cal.u[2] == pytest.approx(0.004582575695, rel=1e-10)
    assert cal.u[1] == pytest.approx(math.sqrt(5) * 1e-3, rel=1e-12)  # 0.002236068
    assert cal.u[0] == pytest.approx(0.001)
    assert list(cal.depth) == [1, 2, 3, 2, 3]
    assert list(cal.anchor) == [0, 0, 0, 0, 0]
    uses = g.use_chains()
    assert uses.status[0] == LinkStatus.OK and uses.depth[0] == 4
    assert uses.u[0] == pytest.approx(0.004582575695, rel=1e-10)  # the verification adds no stated u


def test_each_link_is_judged_on_the_date_it_was_used() -> None:
    g = small_graph()
    cal = g.calibration_chains()
    # c4 (2026-05-01) was made with standard 1, whose calibration in force then (c3) found it out of
    # tolerance: the link is broken at level 0, and the standard at fault is 1.
    assert cal.status[4] == LinkStatus.OUT_OF_TOLERANCE
    assert (cal.first_broken_level[4], cal.broken_standard[4], cal.broken_calibration[4]) == (0, 1, 4)
    uses = g.use_chains()
    # u0 was made under c2, itself made on 2025-06-01 under c1 (good then): valid, though suspect,
    # because standard 1's next calibration (c3) found it out of tolerance.
    assert uses.status[0] == LinkStatus.OK and uses.suspect[0]
    # u1 and u2 are under c4: broken one level up.
    assert uses.status[1] == LinkStatus.OUT_OF_TOLERANCE and uses.first_broken_level[1] == 1
    assert uses.status[3] == LinkStatus.NO_STANDARD and uses.first_broken_level[3] == 0


def test_an_expired_certificate_or_approval_breaks_the_link_on_that_date_only() -> None:
    # the working standard's only calibration runs to 2026-06-01: a use on 2026-06-01 is valid, the next
    # day it is not; its approval certificate ends 2026-12-31.
    g = small_graph(
        cal_standard=[0, 1, 2],
        cal_reference=[-1, 0, 1],
        cal_on=[d("2025-01-01"), d("2025-03-01"), d("2025-06-01")],
        cal_until=[d("2027-01-01"), d("2026-03-01"), d("2026-06-01")],
        cal_u=[0.001, 0.002, 0.004],
        cal_tolerance=[NO_TOL, 0.02, 0.03],
        cal_in_tolerance=[True, True, True],
        approval_until=[d("2030-12-31"), d("2030-12-31"), d("2025-12-31")],
        use_standard=[2, 2, 2, 2],
        use_on=[d("2025-06-01"), d("2025-12-31"), d("2026-01-01"), d("2025-05-31")],
    )
    res = g.use_chains()
    assert res.status[0] == LinkStatus.OK and res.status[1] == LinkStatus.OK
    assert res.status[2] == LinkStatus.APPROVAL_NOT_IN_FORCE
    assert res.status[3] == LinkStatus.NO_CALIBRATION  # before its first calibration
    g2 = small_graph(
        cal_standard=[0, 1, 2],
        cal_reference=[-1, 0, 1],
        cal_on=[d("2025-01-01"), d("2025-03-01"), d("2025-06-01")],
        cal_until=[d("2027-01-01"), d("2026-03-01"), d("2026-06-01")],
        cal_u=[0.001, 0.002, 0.004],
        cal_tolerance=[NO_TOL, 0.02, 0.03],
        cal_in_tolerance=[True, True, True],
        use_standard=[2, 2],
        use_on=[d("2026-06-01"), d("2026-06-02")],
        use_tolerance=[0.05, 0.05],
    )
    res = g2.use_chains()
    assert res.status[0] == LinkStatus.OK
    assert res.status[1] == LinkStatus.CALIBRATION_EXPIRED and res.broken_standard[1] == 2


def test_test_uncertainty_ratio_of_each_link_and_the_warning_below_four() -> None:
    g = small_graph()
    cal = g.calibration_chains()
    # c1: T = 0.02, u = 0.002 → 0.02 / 0.004 = 5; c2: T = 0.03, u = 0.004 → 0.03 / 0.008 = 3.75
    assert cal.tur[1] == pytest.approx(5.0) and cal.tur[2] == pytest.approx(3.75)
    assert math.isnan(cal.tur[0])  # an anchor has no tolerance here
    assert cal.min_tur[2] == pytest.approx(3.75)
    assert list(cal.tur_warnings(4.0)) == [False, False, True, False, False]
    uses = g.use_chains()
    # u0: instrument ±0.05 over 2·u of the standard used (c2, u = 0.004) → 6.25; worst of chain 3.75
    assert uses.tur[0] == pytest.approx(6.25) and uses.min_tur[0] == pytest.approx(3.75)
    assert uses.tur_warnings(4.0)[0] and not uses.tur_warnings(3.5)[0]


def test_units_that_differ_along_a_chain_give_no_propagated_value() -> None:
    g = small_graph(cal_unit=[0, 0, 1, 0, 1])
    cal = g.calibration_chains()
    assert cal.mixed_units[2] and math.isnan(cal.u[2])
    assert not cal.mixed_units[1] and cal.u[1] == pytest.approx(math.sqrt(5) * 1e-3)


def test_a_cycle_is_detected_and_names_the_standards() -> None:
    # 1 and 2 calibrate each other on the same day: neither reaches an anchor.
    g = TraceabilityGraph.build(
        approval_from=[d("2020-01-01")] * 3,
        approval_until=[d("2030-12-31")] * 3,
        cal_standard=[0, 1, 2],
        cal_reference=[-1, 2, 1],
        cal_on=[d("2025-01-01"), d("2025-03-01"), d("2025-03-01")],
        cal_until=[d("2027-01-01")] * 3,
        cal_u=[0.001, 0.002, 0.002],
        cal_in_tolerance=[True] * 3,
    )
    res = g.calibration_chains()
    assert list(res.status) == [LinkStatus.OK, LinkStatus.CYCLE, LinkStatus.CYCLE]
    assert res.broken_standard[1] == 1 and res.broken_standard[2] == 2
    # Recording "0 calibrated with 2" would make 0 → 2 → 1 → 2 …: not through 0, so no cycle via 0;
    # "1 calibrated with 2" is.
    assert g.cycle_through(1, 2, d("2025-06-01")) == [1, 2, 1]
    assert small_graph().cycle_through(0, 2, d("2025-09-01")) == [0, 2, 1, 0]
    assert small_graph().cycle_through(2, 0, d("2025-09-01")) is None
    with pytest.raises(TraceabilityCycle) as exc:
        small_graph(cal_reference=[-1, 0, 2, 0, 1])
    assert "2" in exc.value.message and exc.value.field == "reference_standard_id"


def test_a_standard_met_twice_across_time_is_circular() -> None:
    # 1 anchored in 2024; 2 calibrated with 1 in 2025; 1 calibrated with 2 in 2026: 1 → 2 → 1 → anchor.
    g = TraceabilityGraph.build(
        approval_from=[d("2020-01-01")] * 3,
        approval_until=[d("2030-12-31")] * 3,
        cal_standard=[1, 2, 1],
        cal_reference=[-1, 1, 2],
        cal_on=[d("2024-01-01"), d("2025-01-01"), d("2026-01-01")],
        cal_until=[d("2027-01-01")] * 3,
        cal_u=[0.001] * 3,
        cal_in_tolerance=[True] * 3,
        use_standard=[1, 1],
        use_on=[d("2025-06-01"), d("2026-06-01")],
    )
    res = g.calibration_chains()
    assert list(res.status) == [LinkStatus.OK, LinkStatus.OK, LinkStatus.CYCLE]
    assert res.broken_standard[2] == 1 and res.first_broken_level[2] == 0
    uses = g.use_chains()
    assert uses.status[0] == LinkStatus.OK and uses.status[1] == LinkStatus.CYCLE
    assert uses.first_broken_level[1] == 1  # the use's own link is fine; its standard's chain is not
    # the service would have refused the third calibration
    assert g.cycle_through(1, 2, d("2026-01-01")) == [1, 2, 1]


def test_a_chain_longer_than_the_maximum_depth_is_reported() -> None:
    n = 10
    g = TraceabilityGraph.build(
        approval_from=[0] * n,
        approval_until=[d("2030-12-31")] * n,
        cal_standard=list(range(n)),
        cal_reference=[-1, *range(n - 1)],
        cal_on=[d("2025-01-01") + i for i in range(n)],
        cal_until=[d("2027-01-01")] * n,
        cal_u=[0.001] * n,
        cal_in_tolerance=[True] * n,
    )
    res = g.calibration_chains(max_depth=6)
    assert list(res.status[:6]) == [0] * 6 and set(res.status[6:]) == {LinkStatus.TOO_DEEP}
    assert res.u[5] == pytest.approx(math.sqrt(6) * 1e-3)
    assert (g.calibration_chains(max_depth=12).status == 0).all()


def test_impact_lists_everything_made_since_the_last_good_calibration() -> None:
    g = small_graph()
    found = g.impact(1, d("2026-03-01"))
    assert found.since == d("2025-03-01")  # c1, its last good calibration
    assert list(found.seed_calibrations) == [1, 3]
    assert list(found.calibrations) == [2, 4]  # made with 1 in the window
    assert list(found.standards) == [2]
    assert list(found.uses) == [0, 1, 2]
    # an explicit start after c2 leaves only what was made under c3
    later = g.impact(1, d("2026-03-01"), since=d("2026-01-01"))
    assert list(later.calibrations) == [4] and list(later.uses) == [1, 2]
    # the primary standard failing takes everything below it
    top = g.impact(0, d("2026-06-01"))
    assert list(top.calibrations) == [1, 2, 3, 4] and list(top.uses) == [0, 1, 2]


def test_bad_graphs_are_refused_with_the_field() -> None:
    with pytest.raises(InvalidInput) as exc:
        small_graph(cal_u=[0.001, -0.002, 0.004, 0.002, 0.004])
    assert exc.value.field == "cal_u"
    with pytest.raises(InvalidInput) as exc:
        small_graph(cal_reference=[-1, 0, 7, 0, 1])
    assert exc.value.field == "cal_reference"
    with pytest.raises(InvalidInput) as exc:
        small_graph(
            cal_until=[d("2024-01-01"), d("2026-03-01"), d("2026-06-01"), d("2027-03-01"), d("2027-05-01")]
        )
    assert exc.value.field == "cal_until"
    with pytest.raises(InvalidInput) as exc:
        small_graph(use_on=[1, 2])
    assert exc.value.field == "use_on"


@dataclass
class _Ref:
    status: int
    u: float


def reference_walk(g: TraceabilityGraph, use: int, max_depth: int = 12) -> _Ref:
    """A per-item Python walk written from the definitions, to check the array engine against."""
    cals = list(range(g.cal_standard.size))

    def in_force(std: int, day: int) -> int:
        best = -1
        for c in cals:
            later = best < 0 or (g.cal_on[c], c) > (g.cal_on[best], best)
            if g.cal_standard[c] == std and g.cal_on[c] <= day and later:
                best = c
        return best

    def check(std: int, day: int) -> tuple[int, int]:
        if std < 0:
            return LinkStatus.NO_STANDARD, -1
        c = in_force(std, day)
        if c < 0:
            return LinkStatus.NO_CALIBRATION, -1
        if not g.cal_in_tolerance[c]:
            return LinkStatus.OUT_OF_TOLERANCE, c
        if day > g.cal_until[c]:
            return LinkStatus.CALIBRATION_EXPIRED, c
        if not g.approval_from[std] <= day <= g.approval_until[std]:
            return LinkStatus.APPROVAL_NOT_IN_FORCE, c
        return LinkStatus.OK, c

    status, c = check(int(g.use_standard[use]), int(g.use_on[use]))
    u2, seen, depth = 0.0, [], 1
    while c >= 0:
        std = int(g.cal_standard[c])
        if std in seen:  # circular traceability breaks the chain as a whole
            return _Ref(LinkStatus.CYCLE, math.nan)
        if depth >= max_depth:
            return _Ref(status or LinkStatus.TOO_DEEP, math.nan)
        seen.append(std)
        u2 += float(g.cal_u[c]) ** 2
        depth += 1
        ref = int(g.cal_reference[c])
        if ref < 0:
            break
        s2, c2 = check(ref, int(g.cal_on[c]))
        status = status or s2
        c = c2
    return _Ref(status, math.sqrt(u2) if depth > 1 else math.nan)


def test_the_array_engine_agrees_with_a_per_item_walk_on_a_random_graph() -> None:
    rnd = random.Random(20261201)
    levels = [list(range(0, 3)), list(range(3, 9)), list(range(9, 30)), list(range(30, 60))]
    n_std = 60
    base = d("2020-01-01")
    cal = {
        k: [] for k in ("cal_standard", "cal_reference", "cal_on", "cal_until", "cal_u", "cal_in_tolerance")
    }
    for lv, stds in enumerate(levels):
        for s in stds:
            for year in range(6):
                on = base + 365 * year + rnd.randint(0, 200)
                ref = -1 if lv == 0 else rnd.choice(levels[lv - 1] + ([s + 1] if rnd.random() < 0.02 else []))
                ref = -1 if ref == s or ref >= n_std else ref
                cal["cal_standard"].append(s)
                cal["cal_reference"].append(ref)
                cal["cal_on"].append(on)
                cal["cal_until"].append(on + rnd.choice([300, 365, 400]))
                cal["cal_u"].append(rnd.uniform(1e-4, 1e-2))
                cal["cal_in_tolerance"].append(rnd.random() > 0.05)
    uses = 400
    g = TraceabilityGraph.build(
        approval_from=[base - 400 + rnd.randint(0, 600) for _ in range(n_std)],
        approval_until=[base + 2000 + rnd.randint(0, 400) for _ in range(n_std)],
        use_standard=[rnd.choice(levels[3] + [-1]) for _ in range(uses)],
        use_on=[base + rnd.randint(0, 6 * 365) for _ in range(uses)],
        **cal,
    )
    res = g.use_chains()
    statuses = set()
    for i in range(uses):
        ref = reference_walk(g, i)
        statuses.add(ref.status)
        assert res.status[i] == ref.status, i
        if ref.status == LinkStatus.OK:
            assert res.u[i] == pytest.approx(ref.u, rel=1e-12), i
    assert {LinkStatus.OK, LinkStatus.NO_STANDARD, LinkStatus.OUT_OF_TOLERANCE} <= statuses


def test_units_are_normalised_and_tolerances_read_from_the_ledger() -> None:
    assert normalise(0.05, "%") == (0.0005, "1")
    assert normalise(2.0, "ppm") == pytest.approx((2e-6, "1"))  # type: ignore[comparison-overlap]
    value, key = normalise(3.0, "mmHg")  # 1 mmHg = 133.322 Pa
    assert value == pytest.approx(399.967, rel=1e-5) and key == normalise(1.0, "kPa")[1]
    assert normalise(0.1, "℃") == pytest.approx((0.1, "kelvin"))  # type: ignore[comparison-overlap]
    with pytest.raises(InvalidInput) as exc:
        normalise(1.0, "bogus-unit", "unit")
    assert exc.value.field == "unit"
    assert tolerance_from_accuracy("±0.1 ℃") == (0.1, "℃")
    assert tolerance_from_accuracy("±5 %") == (5.0, "%")
    assert tolerance_from_accuracy("Ⅲ") is None and tolerance_from_accuracy("0.5S") is None


# ----------------------------------------------------------------------------------------------
# the service


@dataclass
class Trace:
    primary: int
    provincial: int
    working: int
    instrument: int
    record: int


def _std(world: World, holder: int, name: str, region: str, cert: str, kind: str = "social_public") -> int:
    return standards.add_standard(
        world.platform,
        SYSTEM,
        {
            "name": name,
            "kind": kind,
            "holder_id": holder,
            "region_code": region,
            "quantity": "体积 / volume",
            "certificate_no": cert,
            "certificate_valid_from": "2020-01-01",
            "certificate_valid_until": "2029-12-31",
            "item_codes": ["09.01"],
        },
    ).id


def build_trace(world: World) -> Trace:
    p = world.platform
    organisations.add_region(p, SYSTEM, "110000", "北京市")
    nim = organisations.add_organisation(
        p, SYSTEM, credit_code=credit_code(21, "110000"), name="中国计量科学研究院",
        kind="legal_verification_institution", region_code="110000",
    ).id  # fmt: skip
    zj = organisations.add_organisation(
        p, SYSTEM, credit_code=credit_code(22, PROVINCE), name="浙江省计量科学研究院",
        kind="legal_verification_institution", region_code=PROVINCE,
    ).id  # fmt: skip
    primary = _std(world, nim, "水流量国家计量基准", "110000", "国基证(2010)第001号", "national_primary")
    provincial = _std(world, zj, "标准金属量器", PROVINCE, "[2020]浙社量标证字第001号")
    working = _std(world, world.institution_id, "燃油加油机检定装置", CITY, "[2020]浙量标证字第009号")
    tr = traceability
    tr.record_calibration(p, SYSTEM, {
        "standard_id": primary, "anchor_name": "水流量国家计量基准", "anchor_nmi": "NIM",
        "anchor_cmc_ref": "国基证(2010)第001号", "certificate_no": "NIM-1", "calibrated_on": "2024-01-01",
        "valid_until": "2030-01-01", "expanded_uncertainty": 0.0002, "coverage_factor": 2, "unit": "%",
    })  # fmt: skip
    tr.record_calibration(p, SYSTEM, {
        "standard_id": provincial, "reference_standard_id": primary, "certificate_no": "ZJ-1",
        "calibrated_on": "2025-01-10", "valid_until": "2026-01-09", "expanded_uncertainty": 0.002,
        "unit": "%", "tolerance": 0.02,
    })  # fmt: skip
    tr.record_calibration(p, world.as_("institution"), {
        "standard_id": working, "reference_standard_id": provincial, "certificate_no": "ZJ2025-9",
        "calibrated_on": "2025-02-01", "valid_until": "2026-01-31", "expanded_uncertainty": 0.01,
        "unit": "%", "tolerance": 0.03,
    })  # fmt: skip
    authorise_all(world, ["09.01"])
    inst = instruments.file_instrument(
        p,
        SYSTEM,
        instrument_raw("TR-1", item_code="09.01", owner_id=world.enterprise_id, accuracy_class="±0.3 %"),
    )
    rec = verifications.record_verification(
        p, world.as_("institution"),
        {"instrument_id": inst.id, "standard_id": working, "verified_on": "2025-06-01", "conclusion": "pass",
         "document_no": "JJ2025-TR-1"},
    )  # fmt: skip
    return Trace(primary, provincial, working, inst.id, rec.id)


def test_the_chain_of_an_instrument_up_to_the_national_primary_standard(world: World) -> None:
    t = build_trace(world)
    chain = traceability.instrument_chain(world.platform, world.as_("city"), t.instrument)
    assert chain.status == "ok" and chain.depth == 4
    assert [link.kind for link in chain.links] == ["verification", "calibration", "calibration", "anchor"]
    assert chain.links[-1].anchor.startswith("水流量国家计量基准")
    # u (relative, k = 1): 0.0002 %/2 = 1e-6, 0.002 %/2 = 1e-5, 0.01 %/2 = 5e-5
    # √(1e-12 + 1e-10 + 2.5e-9) = √2.601e-9 = 5.0999e-5
    assert chain.uncertainty == pytest.approx(math.sqrt(2.601e-9), rel=1e-9) and chain.unit == "1"
    # the working standard: T = 0.03 % against 2u = 0.01 % → 3 (warned); the instrument ±0.3 % → 30
    assert chain.links[1].tur == pytest.approx(3.0) and chain.links[0].tur == pytest.approx(30.0)
    assert chain.min_tur == pytest.approx(3.0) and chain.tur_warning
    # as of a date before any verification there is no chain
    with pytest.raises(InvalidInput):
        traceability.instrument_chain(world.platform, world.as_("city"), t.instrument, "2025-01-01")
    # outside the jurisdiction: not found; the enterprise owner sees its own instrument's chain
    with pytest.raises(NotFound):
        traceability.instrument_chain(world.platform, world.as_("other_city"), t.instrument)
    assert traceability.instrument_chain(world.platform, world.as_("enterprise"), t.instrument).status == "ok"
    std_chain = traceability.standard_chain(world.platform, world.as_("institution"), t.working, "2025-06-01")
    assert std_chain.status == "ok" and std_chain.links[0].kind == "in_use"
    lapsed = traceability.standard_chain(world.platform, world.as_("institution"), t.working, "2026-02-01")
    assert lapsed.status == "calibration_expired" and lapsed.first_broken_level == 0


def test_recording_calibrations_respects_roles_and_is_audited(world: World) -> None:
    t = build_trace(world)
    p = world.platform
    raw = {
        "standard_id": t.working, "reference_standard_id": t.provincial, "certificate_no": "ZJ2026-9",
        "calibrated_on": "2026-01-20", "valid_until": "2027-01-19", "expanded_uncertainty": 0.01, "unit": "%",
    }  # fmt: skip
    with pytest.raises(NotAuthorised):
        traceability.record_calibration(p, world.as_("enterprise"), raw)
    with pytest.raises(NotFound):
        traceability.record_calibration(p, world.as_("other_institution"), raw)
    cal = traceability.record_calibration(p, world.as_("institution"), raw)
    with p.reading() as s:
        entry = s.scalars(
            select(AuditEntry).where(
                AuditEntry.object_type == "standard_calibrations", AuditEntry.object_id == str(cal.id)
            )
        ).one()
    assert entry.action == "create" and entry.actor_name == "institution"
    for bad, fieldname in (
        ({"expanded_uncertainty": -1}, "expanded_uncertainty"),
        ({"expanded_uncertainty": "nan"}, "expanded_uncertainty"),
        ({"unit": "bogus-unit"}, "unit"),
        ({"valid_until": "2025-01-01"}, "valid_until"),
        ({"calibrated_on": "2027-01-01"}, "calibrated_on"),
        ({"anchor_name": "PTB CMC"}, "reference_standard_id"),
        ({"certificate_no": "ZJ2026-9"}, "certificate_no"),
    ):
        with pytest.raises(InvalidInput) as exc:
            traceability.record_calibration(p, SYSTEM, {**raw, "certificate_no": "X-2", **bad})
        assert exc.value.field == fieldname
    with p.reading() as s:
        assert s.scalar(select(func.count()).select_from(StandardCalibration)) == 4


def test_a_calibration_that_would_close_a_cycle_is_refused_naming_the_standards(world: World) -> None:
    t = build_trace(world)
    raw = {
        "standard_id": t.primary, "reference_standard_id": t.working, "certificate_no": "LOOP-1",
        "calibrated_on": "2025-06-01", "valid_until": "2026-06-01", "expanded_uncertainty": 0.01, "unit": "%",
    }  # fmt: skip
    with pytest.raises(TraceabilityCycle) as exc:
        traceability.record_calibration(world.platform, SYSTEM, raw)
    msg = exc.value.message
    assert "水流量国家计量基准" in msg and "燃油加油机检定装置" in msg and "标准金属量器" in msg
    assert exc.value.context["standards"] == [t.primary, t.working, t.provincial, t.primary]
    with pytest.raises(TraceabilityCycle):
        traceability.record_calibration(world.platform, SYSTEM, {**raw, "reference_standard_id": t.primary})
    with world.platform.reading() as s:
        assert s.scalar(select(func.count()).select_from(StandardCalibration)) == 3


def test_broken_chains_by_region_and_institution(world: World) -> None:
    t = build_trace(world)
    p = world.platform
    report = traceability.broken_chains(p, world.as_("city"))
    assert report.checked == 1 and report.broken == 0 and report.tur_warnings == 1
    # the working standard's calibration lapsed on 2026-01-31; a verification after that is broken
    inst = instruments.file_instrument(
        p, SYSTEM, instrument_raw("TR-2", item_code="09.01", owner_id=world.enterprise_id)
    )
    verifications.record_verification(
        p, world.as_("institution"),
        {"instrument_id": inst.id, "standard_id": t.working, "verified_on": "2026-03-01", "conclusion": "pass",
         "document_no": "JJ2026-TR-2"},
    )  # fmt: skip
    report = traceability.broken_chains(p, world.as_("city"))
    assert report.checked == 2 and report.broken == 1
    (item,) = report.items
    assert item.instrument_id == inst.id and item.status == "calibration_expired"
    assert item.broken_standard_id == t.working and item.first_broken_level == 0
    (group,) = report.groups
    assert group.by_reason == {"calibration_expired": 1} and group.institution == "演示市计量检定测试院"
    assert [c.subject for c in report.standards] == ["燃油加油机检定装置"]  # lapsed today as well
    assert traceability.broken_chains(p, world.as_("county_b")).checked == 0
    assert traceability.broken_chains(p, world.as_("city"), region_code="339902").checked == 0
    with pytest.raises(NotAuthorised):
        traceability.broken_chains(p, world.as_("enterprise"))


def test_impact_analysis_with_roles_and_csv(world: World) -> None:
    t = build_trace(world)
    p = world.platform
    found = traceability.impact(
        p, world.as_("province"), t.provincial, on="2025-12-01", reason="out_of_tolerance"
    )
    assert found.since == date(2025, 1, 10)
    assert [c.certificate_no for c in found.calibrations] == ["ZJ2025-9"]
    assert found.standards == [t.working]
    assert [r.record_id for r in found.records] == [t.record] and found.instruments == [t.instrument]
    assert found.records_total == 1 and found.instruments_total == 1
    text = traceability.impact_csv(found)
    assert text.startswith("\ufeffkind,id,document_no") and "JJ2025-TR-1" in text and "ZJ2025-9" in text
    # a supervisor elsewhere cannot see the standard; the owner may not run impact analyses
    with pytest.raises(NotFound):
        traceability.impact(p, world.as_("other_city"), t.working, on="2025-12-01")
    with pytest.raises(NotAuthorised):
        traceability.impact(p, world.as_("enterprise"), t.working, on="2025-12-01")
    with pytest.raises(InvalidInput) as exc:
        traceability.impact(p, SYSTEM, t.working, on="2025-12-01", reason="tired")
    assert exc.value.field == "reason"
    # the primary standard's certificate lapsing: everything below it
    top = traceability.impact(p, SYSTEM, t.primary, on="2025-12-01", reason="certificate_lapsed")
    assert top.standards == sorted([t.provincial, t.working]) and top.records_total == 1
    # a window that starts after the verification leaves it out
    late = traceability.impact(p, SYSTEM, t.working, on="2025-12-01", since="2025-07-01")
    assert late.records_total == 0


def test_engine_results_keep_the_callers_order() -> None:
    g = small_graph(
        cal_standard=[2, 1, 0],
        cal_reference=[1, 0, -1],
        cal_on=[d("2025-06-01"), d("2025-03-01"), d("2025-01-01")],
        cal_until=[d("2026-06-01"), d("2026-03-01"), d("2027-01-01")],
        cal_u=[0.004, 0.002, 0.001],
        cal_tolerance=[0.03, 0.02, NO_TOL],
        cal_in_tolerance=[True, True, True],
    )
    res = g.calibration_chains()
    assert list(res.depth) == [3, 2, 1] and list(res.anchor) == [2, 2, 2]
    assert np.allclose(res.u, [math.sqrt(21) * 1e-3, math.sqrt(5) * 1e-3, 1e-3])
    assert g.chain_of_calibration(0) == [0, 1, 2]


def test_the_demo_city_has_a_hierarchy_with_the_planted_faults(platform: Platform, backend: str) -> None:
    """Traceability works on the demo city: anchors, a lapsed link, a 3:1 TUR, an out-of-tolerance recall."""
    if backend != "sqlite":
        pytest.skip("the demo city is built on SQLite here; the service tests above cover PostgreSQL")
    from jiliang.demo import DemoConfig, build_demo
    from jiliang.demo import traceability as trace_demo

    summary = build_demo(platform, DemoConfig(instruments=3000, seed=6), password="x" * 12, snapshots=False)
    assert summary.calibrations > 200
    with platform.reading() as s:
        ids = {r.name: r.id for r in s.execute(select(MeasurementStandard.name, MeasurementStandard.id))}
        oot = s.scalars(select(StandardCalibration).where(StandardCalibration.in_tolerance.is_(False))).one()
    admin = SYSTEM
    lapsed = traceability.standard_chain(platform, admin, ids[trace_demo.TAXI_STANDARD])
    assert lapsed.status == "calibration_expired" and lapsed.first_broken_level == 0
    low = traceability.standard_chain(platform, admin, ids[trace_demo.LOW_TUR_STANDARD])
    assert low.status == "ok" and low.min_tur == pytest.approx(3.0) and low.tur_warning
    assert low.links[-1].kind == "anchor" and "中国计量科学研究院" in low.links[-1].anchor
    report = traceability.broken_chains(platform, admin)
    assert report.broken > 0 and report.tur_warnings > 0
    assert any(i.broken_standard_id == ids[trace_demo.TAXI_STANDARD] for i in report.items)
    found = traceability.impact(platform, admin, oot.standard_id, on=oot.calibrated_on)
    assert len(found.standards) >= 3 and found.records_total > 50 and found.instruments_total > 50
    assert found.since is not None and (oot.calibrated_on - found.since).days < 366


def test_the_command_line(world: World, backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("the CLI is driven against the SQLite file of the world")
    import json

    from typer.testing import CliRunner

    from jiliang.cli import app

    t = build_trace(world)
    url = world.platform.settings.database_url
    env = {"JILIANG_ARGON2_MEMORY_KIB": "1024", "JILIANG_ARGON2_TIME_COST": "1", "COLUMNS": "200"}

    def run(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(app, ["--database-url", url, "traceability", *args], env=env)
        return result.exit_code, result.stdout + result.stderr

    code, out = run("chain", "--instrument", str(t.instrument), "--format", "json")
    assert code == 0, out
    body = json.loads(out)
    assert body["status"] == "ok" and len(body["links"]) == 4 and body["min_tur"] == pytest.approx(3.0)
    code, out = run("chain", "--standard", str(t.working), "--on", "2025-06-01")
    assert code == 0 and "溯源链完整有效" in out and "水流量国家计量基准" in out
    code, out = run("impact", "--standard", str(t.provincial), "--on", "2025-12-01", "--format", "csv")
    assert code == 0 and "JJ2025-TR-1" in out and "ZJ2025-9" in out
    code, out = run("impact", "--standard", str(t.provincial), "--on", "2025-12-01")
    assert code == 0 and "检定记录 1 条" in out
    code, out = run("broken", "--format", "json")
    assert code == 0 and json.loads(out)["checked"] == 1
    code, out = run("chain", "--instrument", "1", "--standard", "1")
    assert code == 2
    code, out = run("chain", "--instrument", "999999")
    assert code == 2 and "not found" in out


def test_a_standard_above_the_callers_scope_is_read_only_when_asked_for(world: World) -> None:
    """``upstream`` opens the provincial and national standards of the caller's chains, and only those."""
    t = build_trace(world)
    p, city = world.platform, world.as_("city")
    with pytest.raises(NotFound):
        traceability.standard_chain(p, city, t.provincial)
    with pytest.raises(NotFound):
        traceability.impact(p, city, t.provincial, on="2025-12-01")
    assert traceability.standard_chain(p, city, t.primary, upstream=True).status == "ok"
    assert [
        c.certificate_no for c in traceability.list_calibrations(p, city, t.provincial, upstream=True)
    ] == ["ZJ-1"]
    found = traceability.impact(p, city, t.provincial, on="2025-12-01", upstream=True)
    assert found.standards == [t.working] and [r.record_id for r in found.records] == [t.record]
    # a supervisor elsewhere: the same standards calibrated nothing in its scope
    for sid in (t.provincial, t.primary):
        with pytest.raises(NotFound):
            traceability.standard_chain(p, world.as_("other_city"), sid, upstream=True)
    # nor below: the working standard is the city's, not above it
    with pytest.raises(NotFound):
        traceability.impact(p, world.as_("other_city"), t.working, on="2025-12-01", upstream=True)
