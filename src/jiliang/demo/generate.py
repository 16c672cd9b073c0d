"""Deterministic generation of the synthetic city as plain rows, ready for a writer.

The generator knows nothing of the database: it plans regions, organisations, standards and
authorisations (small), then streams instruments with their verification histories in chunks (large).
Every derived column (due dates, validity, status, the effective chain) is computed with the same domain
functions the services use (``due_date``, ``valid_until``, ``status_after``, ``effective_chain``), so a
bulk-built city and one built through the services agree row for row; tests/test_demo.py checks that.
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from jiliang.demo import city
from jiliang.domain.catalogue import (
    CatalogueItem,
    VerificationForm,
    VerificationRule,
    add_months,
    due_date,
    is_compulsory,
)
from jiliang.domain.credit_code import make_credit_code
from jiliang.domain.instruments import InstrumentStatus, OrganisationKind
from jiliang.domain.standards import StandardKind
from jiliang.domain.verification import Conclusion, effective_chain, status_after, valid_until

Row = dict[str, Any]

# Per-verification probabilities, divided by the owner's diligence where lapses are concerned.
P_FAIL = 0.02
P_LAPSE = 0.05  # the owner stops sending the instrument (it falls overdue)
CAMPAIGN_DAYS = 300  # an inspection campaign began this long ago; lapses were commoner before it
P_LATE = 0.10  # the next verification comes after the due date
P_NEVER = 0.006  # filed but never verified
P_CORRECTION = 0.004  # a record is corrected by a superseding one
P_ROTATED = 0.85  # a rotation meter past its service life has been replaced (scrapped)


SURNAMES = ("王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴")


def demo_contact(serial: int) -> str:
    """A synthetic contact for a 督办 list. Chinese local numbers never begin with 0, so ``0571-0000…``
    reaches nobody; drawn from the serial, not the generator, so the city's random stream is unchanged."""
    return f"{SURNAMES[serial % len(SURNAMES)]}经理 0571-0000{serial % 10_000:04d}"


def org_code(serial: int) -> str:
    """A 9-character organisation code (GB 11714) whose last character is its own check digit."""
    body = f"{serial:08d}"
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    c = 11 - sum(int(ch) * w for ch, w in zip(body, weights, strict=True)) % 11
    return body + {10: "X", 11: "0"}.get(c, str(c))


def credit_code(serial: int, region: str, kind: OrganisationKind) -> str:
    """GB 32100: registration authority + organisation kind, region, organisation code, check character."""
    authority = (
        "12" if kind in (OrganisationKind.HOSPITAL, OrganisationKind.LEGAL_VERIFICATION_INSTITUTION) else "91"
    )
    if kind is OrganisationKind.GOVERNMENT:
        authority = "11"
    return make_credit_code(authority + region + org_code(serial))


@dataclass(frozen=True)
class DemoConfig:
    instruments: int = 30_000
    seed: int = 2026
    cities: int = 1
    chunk: int = 20_000


@dataclass
class Static:
    """The small part of the city, written first; instruments refer to it by list index."""

    regions: list[tuple[str, str, str]] = field(default_factory=list)
    organisations: list[Row] = field(default_factory=list)
    standards: list[Row] = field(default_factory=list)  # with "holder" (org index) and "items"
    authorisations: list[Row] = field(default_factory=list)  # with "institution" (org index)
    targets: list[Row] = field(default_factory=list)
    accounts: list[Row] = field(default_factory=list)  # with "organisation" (org index) or None


@dataclass
class _Owner:
    org: int
    archetype: city.Archetype
    county: str  # where its instruments are used ("" = spread over the city's counties)
    city: str
    count: int
    diligence: float
    location: str = ""


@dataclass
class _Verifier:
    """Which institution verifies an item where, and the standards it may use (index, from, until)."""

    by_item: dict[str, int] = field(default_factory=dict)
    standards: dict[tuple[int, str], list[tuple[int, int, int]]] = field(default_factory=dict)


class CityGenerator:
    def __init__(self, config: DemoConfig, items: Mapping[str, CatalogueItem], today: date) -> None:
        self.config = config
        self.items = items
        self.version = next(iter(items.values())).version
        self.today = today
        self.rng = random.Random(config.seed)
        self.static = Static()
        self._owners: list[_Owner] = []
        self._verifiers: dict[str, _Verifier] = {}  # per county code
        self._counties: dict[str, list[tuple[str, float]]] = {}  # city -> [(county, share)]
        self._serial = 0
        self._county_names: dict[str, str] = {}
        self._plan()

    # ------------------------------------------------------------------------------------------
    # the small part

    def _org(self, name: str, kind: OrganisationKind, region: str, address: str = "") -> int:
        self._serial += 1
        self.static.organisations.append(
            {
                "credit_code": credit_code(self._serial, region, kind),
                "name": name,
                "kind": kind.value,
                "region_code": region,
                "address": address,
                "contact": demo_contact(self._serial),
            }
        )
        return len(self.static.organisations) - 1

    def _cities(self) -> list[tuple[str, str, str]]:
        out = [city.DEMO_CITY]
        for k in range(1, self.config.cities):
            stem = city.EXTRA_CITY_NAMES[(k - 1) % len(city.EXTRA_CITY_NAMES)]
            out.append((f"33{99 - k:02d}00", f"{stem}市", f"{stem} City (synthetic {k})"))
        return out

    def _plan(self) -> None:
        rng, st = self.rng, self.static
        st.regions.append(city.PROVINCE)
        cities = self._cities()
        per_city = self.config.instruments / len(cities)
        total_share = sum(a.share for a in city.ARCHETYPES)
        power_lab = None
        for ci, (ccode, czh, cen) in enumerate(cities):
            st.regions.append((ccode, czh, cen))
            counties = []
            for suffix, zh, en, share, diligence in city.COUNTIES:
                code = ccode[:4] + suffix
                st.regions.append((code, zh if ci == 0 else f"{czh[:-1]}{zh}", en))
                counties.append((code, share, diligence, zh))
                self._county_names[code] = st.regions[-1][1]
            self._counties[ccode] = [(c, s) for c, s, _, _ in counties]
            institute = self._org(
                f"{czh}计量检定测试院", OrganisationKind.LEGAL_VERIFICATION_INSTITUTION, ccode
            )
            self._standards(institute, ccode, city.CITY_STANDARDS)
            verified = sorted(c for c, i in self.items.items() if i.rules and i.rules[0].form is not None)
            for item in verified:
                if item not in city.POWER_ITEMS or ci > 0:
                    self._authorise(institute, item, ccode)
            if ci == 0:
                power_lab = self._org(
                    f"{czh}电力计量中心", OrganisationKind.AUTHORISED_CALIBRATION_LAB, ccode, "电力路1号"
                )
                self._standards(power_lab, ccode, city.POWER_STANDARDS)
                for item in sorted(city.POWER_ITEMS):
                    self._authorise(power_lab, item, city.PROVINCE[0])
                county_code = ccode[:4] + city.COUNTY_INSTITUTE_COUNTY
                county_zh = next(zh for c, _, _, zh in counties if c == county_code)
                county_inst = self._org(
                    f"{county_zh}计量检定所", OrganisationKind.LEGAL_VERIFICATION_INSTITUTION, county_code
                )
                self._standards(county_inst, county_code, city.COUNTY_STANDARDS)
                county_items = sorted({i for s in city.COUNTY_STANDARDS for i in s.items})
                for item in county_items:
                    self._authorise(county_inst, item, county_code)
            for code, _, _, _ in counties:
                v = _Verifier(by_item={i: institute for i in verified})
                if ci == 0:
                    assert power_lab is not None
                    for i in city.POWER_ITEMS:
                        v.by_item[i] = power_lab
                    if code.endswith(city.COUNTY_INSTITUTE_COUNTY):
                        for i in county_items:
                            v.by_item[i] = county_inst
                self._verifiers[code] = v
            # owners
            for arch in city.ARCHETYPES:
                n_arch = per_city * arch.share / total_share
                if arch.one_per == "city":
                    if n_arch >= 1:
                        org = self._org(f"{czh}{arch.names[0]}", arch.kind, ccode, f"{czh}{city.ROADS[0]}1号")
                        self._owners.append(_Owner(org, arch, "", ccode, round(n_arch), arch.diligence))
                    continue
                for code, share, diligence, zh in counties:
                    n = n_arch * share
                    if n < 0.5:
                        continue
                    if arch.one_per == "county":
                        org = self._org(f"{zh}{arch.names[0]}", arch.kind, code, f"{zh}{city.ROADS[1]}8号")
                        self._owners.append(
                            _Owner(org, arch, code, ccode, round(n), diligence * arch.diligence)
                        )
                        continue
                    k = max(1, round(n / arch.per_owner))
                    weights = [rng.uniform(0.3, 1.7) for _ in range(k)]
                    scale = n / sum(weights)
                    for j, w in enumerate(weights):
                        stem = city.STEMS[j % len(city.STEMS)]
                        suffix = arch.names[j % len(arch.names)]
                        number = "" if j < len(city.STEMS) else f"{j // len(city.STEMS) + 1}"
                        org = self._org(
                            f"{zh}{stem}{number}{suffix}",
                            arch.kind,
                            code,
                            f"{zh}{city.ROADS[j % len(city.ROADS)]}{j + 1}号",
                        )
                        self._owners.append(
                            _Owner(
                                org,
                                arch,
                                code,
                                ccode,
                                max(1, round(w * scale)),
                                diligence * arch.diligence,
                                self.static.organisations[org]["name"],
                            )
                        )
        self._targets()
        self._accounts(power_lab)

    def _standards(self, holder: int, region: str, specs: tuple[city.StandardSpec, ...]) -> None:
        rng, t = self.rng, self.today.toordinal()
        for spec in specs:
            offset = {
                "valid": rng.randint(120, 1400),
                "expiring": rng.randint(5, 85),
                "expired": -rng.randint(10, 200),
            }[spec.expires]
            until = date.fromordinal(t + offset)
            since = add_months(until, -48) + timedelta(days=1)  # approval certificates run four years
            n = len(self.static.standards) + 1
            self.static.standards.append(
                {
                    "holder": holder,
                    "name": spec.name,
                    "kind": StandardKind.SOCIAL_PUBLIC.value,
                    "region_code": region,
                    "quantity": spec.quantity,
                    "measuring_range": "",
                    "uncertainty": "",
                    "certificate_no": f"[{since.year}]浙量标演证字第{region[2:4]}{n:04d}号",
                    "certificate_valid_from": since,
                    "certificate_valid_until": until,
                    "items": list(spec.items),
                }
            )

    def _authorise(self, institution: int, item: str, region: str) -> None:
        self.static.authorisations.append(
            {
                "institution": institution,
                "item_code": item,
                "region_code": region,
                "valid_from": date(2015, 1, 1),
                "valid_until": date(2030, 12, 31),
            }
        )

    def _targets(self) -> None:
        source = "演示数据：参照计量发展规划市级实施方案 / demo data after a city implementation plan"
        for year in (2025, 2026):
            for region, ind, target in (
                (city.DEMO_CITY[0], "verification_coverage", 0.92),
                (city.DEMO_CITY[0], "standard_coverage", 0.90),
                (city.PROVINCE[0], "verification_coverage", 0.95),
                (city.PROVINCE[0], "standard_coverage", 0.95),
            ):
                self.static.targets.append(
                    {
                        "region_code": region,
                        "year": year,
                        "indicator": ind,
                        "target": target,
                        "source": source,
                    }
                )

    def _accounts(self, power_lab: int | None) -> None:
        orgs = self.static.organisations

        def first(kind: str, region_prefix: str = "3399") -> int | None:
            return next(
                (
                    i
                    for i, o in enumerate(orgs)
                    if o["kind"] == kind and o["region_code"].startswith(region_prefix)
                ),
                None,
            )

        city_code, first_county = city.DEMO_CITY[0], city.DEMO_CITY[0][:4] + city.COUNTIES[0][0]
        specs: list[tuple[str, str, str, str, int | None]] = [
            ("admin", "administrator", "000000", "系统管理员", None),
            ("province", "supervisor", city.PROVINCE[0], "省局计量处", None),
            ("city", "supervisor", city_code, "演示市市场监管局计量科", None),
            ("county", "supervisor", first_county, "东湖区市场监管分局", None),
            (
                "institute",
                "institution",
                city_code,
                "演示市计量检定测试院",
                first("legal_verification_institution"),
            ),
            # the institute's checker (核验员) and approver (批准人): the sign-off needs three people
            (
                "institute-checker",
                "institution",
                city_code,
                "李核验",
                first("legal_verification_institution"),
            ),
            (
                "institute-approver",
                "institution",
                city_code,
                "王批准",
                first("legal_verification_institution"),
            ),
            ("power-lab", "institution", city_code, "电力计量中心", power_lab),
            ("fuel-station", "enterprise", first_county, "加油站", first("fuel_station")),
            ("hospital", "enterprise", first_county, "医院", first("hospital")),
            ("public", "public", "000000", "社会公众", None),
        ]
        for username, role, jurisdiction, display, org in specs:
            if role in ("institution", "enterprise") and org is None:
                continue
            if org is not None:
                jurisdiction = orgs[org]["region_code"] if role == "enterprise" else jurisdiction
            self.static.accounts.append(
                {
                    "username": username,
                    "role": role,
                    "jurisdiction": jurisdiction,
                    "display_name": display,
                    "organisation": org,
                }
            )

    # ------------------------------------------------------------------------------------------
    # the large part

    def instrument_chunks(
        self,
        org_ids: list[int],
        standard_ids: list[int],
        first_instrument_id: int,
        first_record_id: int,
    ) -> Iterator[tuple[list[Row], list[Row]]]:
        """Instruments and their records, ``config.chunk`` instruments at a time, with final ids."""
        self._org_id_of = org_ids
        self._std_windows(standard_ids)
        state = _Ids(first_instrument_id, first_record_id)
        instruments: list[Row] = []
        records: list[Row] = []
        for owner in self._owners:
            holdings = owner.archetype.holdings
            cum = _cumulative([h.weight for h in holdings])
            counties = self._counties[owner.city]
            county_cum = _cumulative([s for _, s in counties])
            for _ in range(owner.count):
                h = holdings[bisect.bisect(cum, self.rng.random() * cum[-1])]
                county = (
                    owner.county or counties[bisect.bisect(county_cum, self.rng.random() * county_cum[-1])][0]
                )
                self._instrument(owner, org_ids[owner.org], h, county, state, instruments, records)
                if len(instruments) >= self.config.chunk:
                    yield instruments, records
                    instruments, records = [], []
        if instruments:
            yield instruments, records

    def _std_windows(self, standard_ids: list[int]) -> None:
        self._std_for: dict[tuple[int, str], list[tuple[int, int, int]]] = {}
        for idx, std in enumerate(self.static.standards):
            for item in std["items"]:
                self._std_for.setdefault((std["holder"], item), []).append(
                    (
                        standard_ids[idx],
                        std["certificate_valid_from"].toordinal(),
                        std["certificate_valid_until"].toordinal(),
                    )
                )
        self._due_cache: dict[tuple[int, int, int], int | None] = {}
        self._rules: dict[int, VerificationRule] = {}
        self._size_cum: dict[str, list[float]] = {}

    def _due(self, rule: VerificationRule, verified: int, first_used: int) -> int | None:
        key = (id(rule), verified, first_used)
        if key not in self._due_cache:
            self._rules[id(rule)] = rule
            d = due_date(
                rule, date.fromordinal(verified), date.fromordinal(first_used) if first_used else None
            )
            self._due_cache[key] = None if d is None else d.toordinal()
        return self._due_cache[key]

    def _instrument(
        self,
        owner: _Owner,
        owner_id: int,
        h: city.Holding,
        county: str,
        ids: _Ids,
        instruments: list[Row],
        records: list[Row],
    ) -> None:
        rng, today = self.rng, self.today.toordinal()
        item = self.items[h.item_code]
        size = None
        if h.sizes:
            cum = self._size_cum.setdefault(h.item_code, _cumulative([w for _, w in h.sizes]))
            size = float(h.sizes[bisect.bisect(cum, rng.random() * cum[-1])][0])
        use = city.OTHER if h.other_share and rng.random() < h.other_share else h.use
        rule = item.rule_for(size)
        if rule.form is VerificationForm.ROTATION:
            life = int((rule.service_life_months or 0) * 30.44)
            filed = today - rng.randint(30, life + 150)
        elif rule.form is VerificationForm.UNTIL_FAILURE or rng.random() < 0.15:
            filed = today - rng.randint(20, 1460)
        else:
            filed = today - rng.randint(730, 1460)
        first_used = filed if rng.random() < 0.9 else 0
        compulsory = is_compulsory(item, use, item.effective_from)
        iid = ids.instrument
        ids.instrument += 1
        prefix, measuring_range, accuracy = city.LEDGER.get(h.item_code, ("M", "", ""))
        if h.item_code == "20.01" and size is not None:
            accuracy = {0.2: "0.2S", 0.5: "0.5S", 1.0: "1", 2.0: "2"}[size]
        makers = owner.archetype.manufacturers
        maker = makers[iid % len(makers)]
        model = f"{prefix}-{(iid * 7) % 9 + 1}{'0' * (iid % 3)}"
        row: Row = {
            "id": iid,
            "name": item.level2_zh,
            "item_code": h.item_code,
            "model": model,
            "measuring_range": measuring_range,
            "accuracy_class": accuracy,
            "serial_number": f"{date.fromordinal(filed).year}{iid:010d}",
            "manufacturer": f"{maker}{item.level1_zh}制造有限公司"[:200],
            "pattern_approval_no": f"{2015 + iid % 8}F{iid % 997:03d}-33",
            "nominal_size": size,
            "location": owner.location
            or f"{self._county_names[county]}{city.ROADS[iid % len(city.ROADS)]}{iid % 997 + 1}号",
            "region_code": county,
            "use": use.value,
            "owner_id": owner_id,
            "status": InstrumentStatus.IN_SERVICE.value,
            "status_since": date.fromordinal(filed),
            "filed_on": date.fromordinal(filed),
            "first_used_on": date.fromordinal(first_used) if first_used else None,
            "compulsory": compulsory,
            "last_verified_on": None,
            "last_conclusion": None,
            "due_on": None,
            "valid_until": None,
            "row_version": 1,
        }
        instruments.append(row)
        if not compulsory or rule.form is None or rng.random() < P_NEVER:
            return
        self._history(row, owner, rule, item, filed, first_used, ids, records, today)

    def _history(
        self,
        row: Row,
        owner: _Owner,
        rule: VerificationRule,
        item: CatalogueItem,
        filed: int,
        first_used: int,
        ids: _Ids,
        records: list[Row],
        today: int,
    ) -> None:
        rng = self.rng
        diligence = owner.diligence
        institution = self._verifiers[row["region_code"]].by_item[item.item_code]
        institution_id = self._org_id_of[institution]
        day = max(filed - rng.randint(0, 7), item.effective_from.toordinal())
        mine: list[Row] = []
        scrapped_on = 0
        status, since = InstrumentStatus.IN_SERVICE, filed
        while day <= today:
            conclusion = Conclusion.FAIL if rng.random() < P_FAIL else Conclusion.PASS
            record = self._record(
                row["id"], institution, institution_id, item.item_code, rule, day, conclusion, first_used, ids
            )
            mine.append(record)
            status, since = _fold(status, since, mine)
            if rng.random() < P_CORRECTION:
                flip = rng.random() < 0.25
                corrected = (
                    (Conclusion.PASS if conclusion is Conclusion.FAIL else Conclusion.FAIL)
                    if flip
                    else conclusion
                )
                fix = self._record(
                    row["id"],
                    institution,
                    institution_id,
                    item.item_code,
                    rule,
                    day,
                    corrected,
                    first_used,
                    ids,
                )
                fix["supersedes_id"] = record["id"]
                fix["remarks"] = f"更正证书 {record['document_no']} / corrects {record['document_no']}"
                record["superseded"] = True
                mine.append(fix)
                status, since = _fold(status, since, mine)
                conclusion = corrected
            due = mine[-1]["_due"]
            if conclusion is Conclusion.FAIL:
                r = rng.random()
                if r < 0.55:
                    day += rng.randint(3, 30)  # repaired and verified again
                    continue
                if r >= 0.8:
                    scrapped_on = day + rng.randint(1, 60)
                break
            if due is None:
                break
            if rule.form is VerificationForm.ROTATION:
                if due <= today and rng.random() < P_ROTATED:
                    scrapped_on = due
                break
            # Lapses were commoner before last year's campaign, so the trend climbs towards the target.
            campaign = 1.0 if due >= today - CAMPAIGN_DAYS else 1.6
            if rng.random() < P_LAPSE * campaign / diligence:
                r = rng.random()
                if r < 0.5:  # found in an inspection and verified long after the due date
                    day = due + rng.randint(60, 400)
                    continue
                if r < 0.8:  # taken out of use and scrapped while overdue
                    scrapped_on = due + rng.randint(120, 540)
                break  # still overdue
            late = rng.random() < P_LATE / diligence
            day = due + rng.randint(1, 90) if late else due - rng.randint(0, 30)
        effective = [rec for rec in mine if not rec["superseded"]]
        for rec, until in zip(effective, effective_chain([e["verified_on"] for e in effective]), strict=True):
            rec["effective_until"] = until
        for rec in mine:
            del rec["_due"]
        records.extend(mine)
        row["row_version"] = 1 + len(mine)
        if effective:
            last = effective[-1]
            conclusion = Conclusion(last["conclusion"])
            row["last_verified_on"] = last["verified_on"]
            row["last_conclusion"] = last["conclusion"]
            row["due_on"] = last["due_on"]
            row["valid_until"] = valid_until(conclusion, last["due_on"])
        row["status"], row["status_since"] = status.value, date.fromordinal(since)
        if scrapped_on and scrapped_on <= today:
            row["status"], row["status_since"] = (
                InstrumentStatus.SCRAPPED.value,
                date.fromordinal(scrapped_on),
            )
            row["row_version"] += 1

    def _record(
        self,
        instrument_id: int,
        institution: int,
        institution_id: int,
        item_code: str,
        rule: VerificationRule,
        day: int,
        conclusion: Conclusion,
        first_used: int,
        ids: _Ids,
    ) -> Row:
        rid = ids.record
        ids.record += 1
        standard_id = next(
            (sid for sid, a, b in self._std_for.get((institution, item_code), ()) if a <= day <= b), None
        )
        due = self._due(rule, day, first_used) if conclusion is Conclusion.PASS else None
        on = date.fromordinal(day)
        kind = "JJ" if conclusion is Conclusion.PASS else "JT"  # 检定证书 / 检定结果通知书
        return {
            "id": rid,
            "instrument_id": instrument_id,
            "institution_id": institution_id,
            "standard_id": standard_id,
            "verified_on": on,
            "conclusion": conclusion.value,
            "document_no": f"{kind}{on.year}-{rid:09d}",
            "due_on": None if due is None else date.fromordinal(due),
            "catalogue_version": self.version,
            "rule_form": rule.form.value if rule.form else None,
            "regulation": rule.regulation,
            "supersedes_id": None,
            "superseded": False,
            "effective_until": None,
            "remarks": "",
            "recorded_at": datetime(on.year, on.month, on.day, 9, 0, tzinfo=UTC),
            "_due": due,
        }


@dataclass
class _Ids:
    instrument: int
    record: int


def _fold(status: InstrumentStatus, since: int, recorded: list[Row]) -> tuple[InstrumentStatus, int]:
    """The instrument's status after one more record, as ``refresh_instrument`` derives it."""
    effective = [r for r in recorded if not r["superseded"]]
    last = max(effective, key=lambda r: (r["verified_on"], r["id"]))
    new = status_after(Conclusion(last["conclusion"]), status)
    if new is not status:
        return new, last["verified_on"].toordinal()
    return status, since


def _cumulative(weights: list[float]) -> list[float]:
    out, total = [], 0.0
    for w in weights:
        total += w
        out.append(total)
    return out
