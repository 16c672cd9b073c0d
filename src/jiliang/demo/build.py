"""Building the demo city into a database: through the services (small) or in bulk (any size).

Both paths consume the same generated rows. The small things (regions, standards, authorisations,
targets, accounts) always go through the services, so they are validated and audited like any other
change; organisations, instruments and records go through the services only on request, because at a
million instruments the per-row checks and audit entries take hours rather than minutes.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any

from sqlalchemy import select

from jiliang.demo import bulk, city, verification_data
from jiliang.demo import traceability as trace_demo
from jiliang.demo.certificates import DemoCertificates, issue_demo_certificates
from jiliang.demo.energy import EnergyDemo, build_energy
from jiliang.demo.generate import CityGenerator, DemoConfig, Row, Static
from jiliang.demo.market import MarketDemo, build_market
from jiliang.demo.places import DemoPlace, build_places
from jiliang.demo.warnings import WarningsDemo, build_warnings
from jiliang.domain.access import SYSTEM
from jiliang.domain.filing import InstrumentDraft
from jiliang.errors import Conflict
from jiliang.services import catalogue as catalogue_service
from jiliang.services import (
    indicators,
    instruments,
    organisations,
    standards,
    transparency,
    users,
    verifications,
)
from jiliang.services.platform import Platform
from jiliang.store.models import Instrument, Region, VerificationRecord

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    role: str
    jurisdiction: str
    organisation: str


@dataclass
class DemoSummary:
    instruments: int = 0
    records: int = 0
    organisations: int = 0
    standards: int = 0
    snapshots: int = 0
    calibrations: int = 0  # of measurement standards (the traceability hierarchy)
    log_size: int = 0
    certificates: DemoCertificates | None = None
    market: MarketDemo | None = None  # the market-supervision sample (demo/market.py)
    energy: EnergyDemo | None = None  # key energy-using units (demo/energy.py)
    warnings: WarningsDemo | None = None  # remote supervision and its warning workflow (demo/warnings.py)
    seconds: float = 0.0
    accounts: list[DemoAccount] = field(default_factory=list)
    places: list[DemoPlace] = field(default_factory=list)  # named places of use (一站一码)


def _quiet(stage: str, done: int, total: int) -> None:
    return None


def demo_exists(platform: Platform) -> bool:
    with platform.reading() as s:
        return s.get(Region, city.DEMO_CITY[0]) is not None


def build_demo(
    platform: Platform,
    config: DemoConfig,
    *,
    password: str | None = None,
    via_services: bool = False,
    snapshots: bool = True,
    progress: Progress = _quiet,
) -> DemoSummary:
    """Build the synthetic city into an empty registry; refuse if it is already there."""
    started = time.perf_counter()
    organisations.ensure_national(platform)
    catalogue_service.ensure_shipped(platform)
    if demo_exists(platform):
        raise Conflict(
            f"演示市 {city.DEMO_CITY[0]} 已存在 / the demo city {city.DEMO_CITY[0]} is already in this database",
            field="database",
        )
    items = catalogue_service.catalogue(platform)
    gen = CityGenerator(config, items, platform.today())
    st = gen.static
    summary = DemoSummary(organisations=len(st.organisations), standards=len(st.standards))
    present = {r.code for r in organisations.list_regions(platform, SYSTEM)}
    for code, zh, en in st.regions:
        if code not in present:  # `jiliang init` seeds the provinces
            organisations.add_region(platform, SYSTEM, code, zh, en)
    org_ids = _organisations(platform, st, via_services, progress)
    std_ids = _standards(platform, st, org_ids)
    trace = trace_demo.build_hierarchy(platform, st, org_ids, std_ids)
    summary.standards += trace.standards
    summary.organisations += 2
    summary.calibrations = trace.calibrations
    for auth in st.authorisations:
        standards.authorise(platform, SYSTEM, {**auth, "institution_id": org_ids[auth["institution"]]})
    writer = _via_services if via_services else _in_bulk
    summary.instruments, summary.records = writer(platform, gen, org_ids, std_ids, progress)
    for t in st.targets:
        indicators.set_target(platform, SYSTEM, **t)
    summary.accounts = _accounts(platform, st, org_ids, password)
    progress("market", 0, 1)
    summary.market = build_market(platform, config.seed)
    if summary.market is not None:
        summary.accounts.append(_complaint_officer(platform, password))
    progress("market", 1, 1)
    summary.places = build_places(platform)
    progress("energy", 0, 1)
    summary.energy = build_energy(platform, password)
    summary.instruments += summary.energy.instruments
    summary.records += summary.energy.records
    summary.accounts.append(
        DemoAccount(
            "energy-unit",
            summary.energy.account_password,
            "enterprise",
            summary.energy.account_region,
            summary.energy.account_organisation,
        )
    )
    progress("energy", 1, 1)
    progress("warnings", 0, 1)
    summary.warnings = build_warnings(platform)
    progress("warnings", 1, 1)
    # with data, signed off by three people: the only records the demo certifies
    signed_off = verification_data.build(platform)
    summary.records += len(signed_off)
    # Every record is a leaf of the transparency log; the demo ends with a signed tree head over them,
    # and over the demo's certificates: issued, one withdrawn, one superseded by a corrected one.
    progress("log", 0, 1)
    transparency.sequence_pending(platform)
    summary.certificates = issue_demo_certificates(platform, signed_off)
    summary.log_size = transparency.sequence_and_publish(platform)[1].size
    progress("log", 1, 1)
    if snapshots:
        days = indicators.month_ends(platform.today(), 13)[:-1]
        for n, day in enumerate(days, start=1):
            indicators.take_snapshot(platform, day)
            progress("snapshots", n, len(days))
        summary.snapshots = len(days)
    summary.seconds = time.perf_counter() - started
    return summary


def _organisations(platform: Platform, st: Static, via_services: bool, progress: Progress) -> list[int]:
    if not via_services:
        ids = bulk.insert_organisations(platform, st.organisations)
        progress("organisations", len(ids), len(ids))
        return ids
    ids = []
    for n, row in enumerate(st.organisations, start=1):
        ids.append(organisations.add_organisation(platform, SYSTEM, **row).id)
        progress("organisations", n, len(st.organisations))
    return ids


def _standards(platform: Platform, st: Static, org_ids: list[int]) -> list[int]:
    ids = []
    for row in st.standards:
        raw = {k: v for k, v in row.items() if k not in ("holder", "items")}
        raw.update(
            holder_id=org_ids[row["holder"]],
            item_codes=row["items"],
            certificate_valid_from=row["certificate_valid_from"].isoformat(),
            certificate_valid_until=row["certificate_valid_until"].isoformat(),
        )
        ids.append(standards.add_standard(platform, SYSTEM, raw).id)
    return ids


def _in_bulk(
    platform: Platform, gen: CityGenerator, org_ids: list[int], std_ids: list[int], progress: Progress
) -> tuple[int, int]:
    first_instrument = bulk.next_id(platform, Instrument.__table__)  # type: ignore[arg-type]
    first_record = bulk.next_id(platform, VerificationRecord.__table__)  # type: ignore[arg-type]
    total = gen.config.instruments
    n_inst = n_rec = 0
    with bulk.indexes_deferred(platform, enabled=total >= 100_000):
        for inst_rows, rec_rows in gen.instrument_chunks(org_ids, std_ids, first_instrument, first_record):
            with platform.engine.begin() as conn:
                bulk.insert_chunk(conn, inst_rows, rec_rows)
                transparency.enqueue_many(
                    conn, "verification_recorded", map(transparency.verification_body_of, rec_rows)
                )
            n_inst += len(inst_rows)
            n_rec += len(rec_rows)
            progress("instruments", n_inst, total)
        progress("indexes", 0, 1)
    progress("indexes", 1, 1)
    bulk.finish(platform, n_inst, n_rec)
    return n_inst, n_rec


# What a filing holds (the fields domain.filing checks) plus its owner.
FILING_FIELDS = (*(f.name for f in fields(InstrumentDraft)), "owner_id")


def _via_services(
    platform: Platform, gen: CityGenerator, org_ids: list[int], std_ids: list[int], progress: Progress
) -> tuple[int, int]:
    """File each instrument and record each result through the services, in the order they happened."""
    n_inst = n_rec = 0
    for inst_rows, rec_rows in gen.instrument_chunks(org_ids, std_ids, 1, 1):
        by_instrument: dict[int, list[Row]] = {}
        for rec in rec_rows:
            by_instrument.setdefault(rec["instrument_id"], []).append(rec)
        for row in inst_rows:
            raw: dict[str, Any] = {k: row[k] for k in FILING_FIELDS}
            for key in ("filed_on", "first_used_on"):
                raw[key] = raw[key].isoformat() if isinstance(raw[key], date) else raw[key]
            inst = instruments.file_instrument(platform, SYSTEM, raw)
            stored: dict[int, int] = {}
            for rec in by_instrument.get(row["id"], []):
                made = verifications.record_verification(
                    platform,
                    SYSTEM,
                    {
                        "instrument_id": inst.id,
                        "institution_id": rec["institution_id"],
                        "standard_id": rec["standard_id"],
                        "verified_on": rec["verified_on"].isoformat(),
                        "conclusion": rec["conclusion"],
                        "document_no": rec["document_no"],
                        "supersedes_id": stored.get(rec["supersedes_id"]) if rec["supersedes_id"] else None,
                        "remarks": rec["remarks"],
                    },
                )
                stored[rec["id"]] = made.id
                n_rec += 1
            if row["status"] == "scrapped":
                instruments.change_status(
                    platform, SYSTEM, inst.id, "scrapped", on=row["status_since"].isoformat()
                )
            n_inst += 1
            progress("instruments", n_inst, gen.config.instruments)
    return n_inst, n_rec


def _accounts(platform: Platform, st: Static, org_ids: list[int], password: str | None) -> list[DemoAccount]:
    out = []
    for spec in st.accounts:
        secret = password or secrets.token_urlsafe(12)
        org = spec["organisation"]
        users.create_user(
            platform,
            SYSTEM,
            username=spec["username"],
            password=secret,
            role=spec["role"],
            jurisdiction=spec["jurisdiction"],
            organisation_id=None if org is None else org_ids[org],
            display_name=spec["display_name"],
        )
        out.append(
            DemoAccount(
                spec["username"],
                secret,
                spec["role"],
                spec["jurisdiction"],
                "" if org is None else st.organisations[org]["name"],
            )
        )
    return out


def _complaint_officer(platform: Platform, password: str | None) -> DemoAccount:
    """The one role that may read a complainant's identity (services/market/complaints.py)."""
    secret = password or secrets.token_urlsafe(12)
    users.create_user(
        platform,
        SYSTEM,
        username="complaints",
        password=secret,
        role="complaint_officer",
        jurisdiction=city.DEMO_CITY[0],
        display_name="举报受理专员",
    )
    return DemoAccount("complaints", secret, "complaint_officer", city.DEMO_CITY[0], "")


def demo_region(platform: Platform) -> str | None:
    """The demo city's code when this database holds it (the public page shows only synthetic data)."""
    with platform.reading() as s:
        return s.scalar(select(Region.code).where(Region.code == city.DEMO_CITY[0]))
