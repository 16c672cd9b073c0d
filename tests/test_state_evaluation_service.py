"""State evaluation over the registry on SQLite and PostgreSQL: a county with two batches of electricity
meters, one with many failures (failed verifications and a warning disposed as replaced) decided "replace",
one clean and large enough for the plan decided "keep"; the replacement list holds the first batch's
meters in service; another city's supervisor finds neither; the console page renders in both languages."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pytest

from jiliang.errors import NotAuthorised, NotFound
from jiliang.services.telemetry import state_evaluation as service
from jiliang.store.models import Instrument, TelemetryWarning, VerificationRecord
from tests.console_support import Console
from tests.factories import COUNTY_A, World

BAD = ("劣质电表厂", "DDS-1", 2016)
GOOD = ("优质电表厂", "DTZY-9", 2019)
BAD_N, BAD_FAILED, GOOD_N = 40, 12, 200


def _meters(world: World) -> None:
    """40 meters of the bad batch (11 failed verifications, one warning confirmed and replaced) and 200 of
    the good one, none failed; inserted directly (the service under test only reads)."""
    with world.platform.unit_of_work() as s:
        rows = []
        for batch, n in ((BAD, BAD_N), (GOOD, GOOD_N)):
            for i in range(n):
                since = date(batch[2], 3, 1) + timedelta(days=i)
                rows.append(
                    Instrument(
                        name="电能表",
                        item_code=service.ELECTRICITY_METER_ITEM,
                        model=batch[1],
                        serial_number=f"{batch[1]}-{i:04d}",
                        manufacturer=batch[0],
                        region_code=COUNTY_A,
                        use="trade_settlement",
                        owner_id=world.enterprise_id,
                        status="in_service",
                        status_since=since,
                        filed_on=since,
                        first_used_on=since,
                        location=f"东城小区 {i} 号",
                    )
                )
        s.add_all(rows)
        s.flush()
        bad = [r for r in rows if r.manufacturer == BAD[0]]
        for i, m in enumerate(bad[: BAD_FAILED - 1]):
            s.add(
                VerificationRecord(
                    instrument_id=m.id,
                    institution_id=world.institution_id,
                    verified_on=date(2020 + i % 5, 6, 1 + i),
                    conclusion="fail",
                    document_no=f"SE-{i}",
                    catalogue_version="SAMR-2020-42",
                    recorded_at=datetime(2024, 1, 1, tzinfo=UTC),
                )
            )
        m = bad[BAD_FAILED - 1]
        moment = datetime(2023, 5, 2, 8, tzinfo=UTC)
        s.add(
            TelemetryWarning(
                instrument_id=m.id,
                region_code=COUNTY_A,
                owner_id=world.enterprise_id,
                state="disposed",
                confirmed=True,
                disposal="replaced",
                inspected_at=moment,
                disposed_at=moment,
                detector="drift",
                condition="drift",
                severity="critical",
                status="cleared",
                raised_at=moment - timedelta(days=1),
                raised_message_id="se-1",
                evidence={},
            )
        )
        m.status = "suspended"  # the replaced meter left service


def test_batches_are_decided_with_their_evidence_and_the_replacement_list(world: World) -> None:
    _meters(world)
    city = world.as_("city")
    batches = {(b["manufacturer"], b["model"], b["year"]): b for b in service.evaluate(world.platform, city)}
    assert set(batches) == {BAD, GOOD}
    bad, good = batches[BAD], batches[GOOD]
    assert (bad["size"], bad["failures"], bad["in_service"]) == (BAD_N, BAD_FAILED, BAD_N - 1)
    assert bad["decision"] == "replace" and bad["bounds"][0] > 0.05
    assert bad["evidence"]["weibull"]["failures"] == BAD_FAILED  # fitted with the 28 others censored
    assert (good["size"], good["failures"], good["decision"]) == (GOOD_N, 0, "keep")
    assert good["bounds"][0] == 0 and good["bounds"][1] < 0.02 and good["evidence"]["plan_accepts"]
    assert good["plan"]["n"] <= GOOD_N and len(good["plan"]["oc"]) == len(service.OC_POINTS)

    listed = service.replacement_list(world.platform, city)
    assert len(listed) == BAD_N - 1 and {r["manufacturer"] for r in listed} == {BAD[0]}
    sink = io.BytesIO()
    assert service.export_replacement_list(world.platform, city, sink) == BAD_N - 1
    text = sink.getvalue().decode("utf-8-sig").splitlines()
    assert text[0].startswith("制造单位,型号") and len(text) == BAD_N

    detail = service.batch_detail(world.platform, city, *BAD)
    assert len(detail["meters"]) == BAD_N
    assert detail["reasons_zh"] == [f"失效率下限 {detail['bounds'][0]:.2%} 高于更换限值 5%"]
    assert len(good["reasons_zh"]) == 1 and good["reasons_zh"][0].startswith("抽样方案接收")
    assert sum(m["failed_on"] is not None for m in detail["meters"]) == BAD_FAILED


def test_another_city_finds_no_batch_and_other_roles_are_refused(world: World) -> None:
    _meters(world)
    other = world.as_("other_city")
    assert service.evaluate(world.platform, other) == []
    with pytest.raises(NotFound):
        service.batch_detail(world.platform, other, *BAD)
    with pytest.raises(NotFound):
        service.batch_detail(world.platform, world.as_("city"), "无此厂", "X", 2016)
    with pytest.raises(NotAuthorised):
        service.evaluate(world.platform, world.as_("enterprise"))


def test_the_page_renders_the_batches_the_detail_and_the_csv(console: Console) -> None:
    _meters(console.world)
    client = console.client_for("city")
    page = client.get("/console/supervision/state-evaluation")
    assert page.status_code == 200 and "状态评价" in page.text
    assert "整批更换" in page.text and "继续运行" in page.text
    en = client.get("/console/supervision/state-evaluation?lang=en")
    assert "replace the batch" in en.text and "keep running" in en.text
    q = {"manufacturer": BAD[0], "model": BAD[1], "year": BAD[2], "lang": "zh"}  # ?lang=en stays in a cookie
    detail = client.get("/console/supervision/state-evaluation/batch", params=q)
    assert detail.status_code == 200 and "Weibull" in detail.text and "OC" in detail.text
    assert "高于更换限值" in detail.text and "停用" in detail.text
    csv = client.get("/console/supervision/state-evaluation/replacement-list.csv")
    assert csv.status_code == 200 and csv.content.decode("utf-8-sig").count("\n") == BAD_N
    other = console.client_for("other_city")
    assert other.get("/console/supervision/state-evaluation/batch", params=q).status_code == 404
