"""Large files are checked in a worker process (issue 16): the same report, the same rows, nothing half-written.

Small files stay in the importing process (``import_worker_min_bytes``); here the threshold is set so
that each path is taken on purpose, and the same files must give identical answers.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from jiliang.errors import ImportRefused
from jiliang.services import instruments as instruments_service
from jiliang.services.transfer import import_instruments, import_verifications
from jiliang.store.models import Instrument
from tests.factories import OTHER_CITY, World, instrument_raw
from tests.test_transfer import (
    OWNER,
    V_FIELDS,
    csv_file,
    inst,
    refused,
    test_a_problem_in_a_late_chunk_undoes_the_chunks_already_written,
    test_an_administrator_names_the_institution_by_credit_code,
    test_bytes_that_are_not_the_file_encoding_are_reported_by_row,
    test_chinese_headers_gb18030_and_chinese_use_labels,
    test_imported_records_leave_instruments_exactly_as_record_verification_does,
    test_malformed_rows_wrong_column_count_and_bad_quoting,
    test_oversized_upload,
    test_the_report_is_bounded_but_counts_every_problem,
    test_unknown_and_missing_headers,
    test_verification_refusals_name_row_and_field,
    test_xlsx_written_by_openpyxl_with_dates_and_numbers_as_cells,
)

# The tests above, re-run here with every file checked in the worker (see the autouse fixture).
RERUN = (
    test_a_problem_in_a_late_chunk_undoes_the_chunks_already_written,
    test_an_administrator_names_the_institution_by_credit_code,
    test_bytes_that_are_not_the_file_encoding_are_reported_by_row,
    test_chinese_headers_gb18030_and_chinese_use_labels,
    test_imported_records_leave_instruments_exactly_as_record_verification_does,
    test_malformed_rows_wrong_column_count_and_bad_quoting,
    test_oversized_upload,
    test_the_report_is_bounded_but_counts_every_problem,
    test_unknown_and_missing_headers,
    test_verification_refusals_name_row_and_field,
    test_xlsx_written_by_openpyxl_with_dates_and_numbers_as_cells,
)


@pytest.fixture(autouse=True)
def _in_worker(world: World) -> None:
    world.platform.settings = world.platform.settings.model_copy(update={"import_worker_min_bytes": 0})


def _path(world: World, worker: bool) -> None:
    p = world.platform
    p.settings = p.settings.model_copy(update={"import_worker_min_bytes": 0 if worker else None})


def _both(world: World, run: Callable[[], Any]) -> tuple[ImportRefused, ImportRefused]:
    _path(world, worker=False)
    here = refused(world.platform, run)
    _path(world, worker=True)
    there = refused(world.platform, run)
    return here, there


def test_a_file_bad_in_every_way_gets_the_same_report_from_both_paths(world: World) -> None:
    """Problems found while checking rows (worker) and while writing them (here), over several chunks."""
    p = world.platform
    p.settings = p.settings.model_copy(update={"import_chunk_rows": 50, "import_max_reported_problems": 12})
    instruments_service.file_instrument(
        p, world.as_("city"), instrument_raw("REG1", item_code="09.01", owner_id=world.enterprise_id)
    )
    bad_code = OWNER[:17] + ("0" if OWNER[17] != "0" else "1")
    rows = [inst(f"W{i}") for i in range(180)]
    rows[3] = inst("W3", owner_credit_code=bad_code)
    rows[10] = inst("W10", item_code="99.99", filed_on="2026-06-16")
    rows[49] = inst("W0")  # duplicate of row 2, in the same chunk
    rows[77] = inst("W1")  # duplicate of row 3, in a later chunk
    rows[90] = inst("REG1", model="M-1", manufacturer="示例制造有限公司")  # already filed
    rows[120] = inst("W120", region_code=OTHER_CITY)  # outside the city's jurisdiction
    rows[150] = inst("W150", location="'=1+1")  # formula-neutralised cell: restored, not a problem
    rows[151] = inst("", name="")

    def run() -> Any:
        return import_instruments(p, world.as_("city"), csv_file(rows), fmt="csv")

    here, there = _both(world, run)
    assert there.problems == here.problems
    assert (there.problem_count, there.rows_read) == (here.problem_count, here.rows_read)
    assert here.rows_read == 180
    assert [q.row for q in here.problems] == [5, 12, 51, 79, 92, 122, 153]


def test_verification_problems_are_reported_the_same_from_both_paths(world: World) -> None:
    p = world.platform
    p.settings = p.settings.model_copy(update={"import_chunk_rows": 100})
    rows = []
    for i in range(260):
        rows.append(
            {
                "manufacturer": "示例制造有限公司",
                "model": "M-1",
                "serial_number": f"NONE{i}" if i % 7 == 0 else "",
                "institution_credit_code": "",
                "standard_certificate_no": "",
                "verified_on": "2026-13-01" if i % 11 == 0 else "2026-01-05",
                "conclusion": "maybe" if i % 13 == 0 else "合格",
                "document_no": f"D{i % 150}",
                "remarks": "",
            }
        )

    def run() -> Any:
        return import_verifications(p, world.as_("institution"), csv_file(rows, header=V_FIELDS), fmt="csv")

    here, there = _both(world, run)
    assert there.problems == here.problems
    assert (there.problem_count, there.rows_read) == (here.problem_count, here.rows_read)


def test_an_accepted_file_through_the_worker_restores_neutralised_cells_and_names_its_bytes(
    world: World,
) -> None:
    p = world.platform
    rows = [inst(f"K{i}", location="'=1+1" if i == 2 else f"{i} 号岛") for i in range(5)]
    body = csv_file(rows).getvalue()
    _path(world, worker=True)
    report = import_instruments(p, world.as_("city"), csv_file(rows), fmt="csv")
    assert report.rows_written == 5 and report.sha256 == hashlib.sha256(body).hexdigest()
    with p.reading() as s:
        location = s.scalar(select(Instrument.location).where(Instrument.serial_number == "K2"))
    assert location == "=1+1"
