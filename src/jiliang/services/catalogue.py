"""Loading catalogue versions and answering 'which item, which rule' for the active one."""

from __future__ import annotations

import math
from collections.abc import Sequence

from sqlalchemy import select, update

from jiliang.domain.catalogue import (
    CatalogueItem,
    RegulatoryMode,
    VerificationForm,
    VerificationRule,
    shipped_catalogue,
)
from jiliang.errors import Conflict, InvalidInput
from jiliang.services.platform import Platform
from jiliang.store.models import CatalogueItemRow, CatalogueRuleRow, CatalogueVersion


def load_version(platform: Platform, items: list[CatalogueItem], *, activate: bool = True) -> str:
    """Add a catalogue version beside the existing ones; refuse to load the same version twice."""
    if not items:
        raise InvalidInput("目录为空 / empty catalogue", field="items")
    version = items[0].version
    with platform.unit_of_work() as s:
        if s.get(CatalogueVersion, version) is not None:
            raise Conflict(
                f"目录版本 {version} 已存在 / catalogue version {version} already loaded", field="version"
            )
        s.add(CatalogueVersion(version=version, loaded_at=platform.now(), active=False))
        s.flush()
        for item in items:
            row = CatalogueItemRow(
                version=version,
                item_code=item.item_code,
                level1_no=item.level1_no,
                level1_zh=item.level1_zh,
                level1_en=item.level1_en,
                level2_zh=item.level2_zh,
                level2_en=item.level2_en,
                mode=item.mode.value,
                effective_from=item.effective_from,
                evidence=item.evidence,
                source=item.source,
                notes=item.notes,
            )
            s.add(row)
            s.flush()
            for rule in item.rules:
                s.add(
                    CatalogueRuleRow(
                        item_id=row.id,
                        form=rule.form.value if rule.form else None,
                        period_months=rule.period_months,
                        service_life_months=rule.service_life_months,
                        regulation=rule.regulation,
                        size_parameter=rule.size_parameter,
                        size_min_exclusive=None
                        if math.isinf(rule.size_min_exclusive)
                        else rule.size_min_exclusive,
                        size_max_inclusive=None
                        if math.isinf(rule.size_max_inclusive)
                        else rule.size_max_inclusive,
                        evidence=rule.evidence,
                        source=rule.source,
                        notes=rule.notes,
                    )
                )
        if activate:
            s.execute(update(CatalogueVersion).values(active=False))
            s.execute(update(CatalogueVersion).where(CatalogueVersion.version == version).values(active=True))
    _CACHE.clear()
    return version


def ensure_shipped(platform: Platform) -> str:
    with platform.reading() as s:
        if s.scalar(select(CatalogueVersion.version).limit(1)) is not None:
            return active_version(platform)
    return load_version(platform, shipped_catalogue())


_CACHE: dict[tuple[int, str], dict[str, CatalogueItem]] = {}


def active_version(platform: Platform) -> str:
    with platform.reading() as s:
        version = s.scalar(select(CatalogueVersion.version).where(CatalogueVersion.active))
    if version is None:
        raise InvalidInput(
            "尚未加载计量器具目录 / no catalogue loaded: run `jiliang init`", field="catalogue"
        )
    return version


def catalogue(platform: Platform, version: str | None = None) -> dict[str, CatalogueItem]:
    """The items of a version (the active one by default), keyed by item code; cached per engine."""
    if version is None:
        version = active_version(platform)
    key = (id(platform.engine), version)
    if key in _CACHE:
        return _CACHE[key]
    with platform.reading() as s:
        rows = s.scalars(select(CatalogueItemRow).where(CatalogueItemRow.version == version)).all()
        rules: dict[int, list[VerificationRule]] = {}
        for r in s.scalars(
            select(CatalogueRuleRow).where(CatalogueRuleRow.item_id.in_([x.id for x in rows]))
        ):
            rules.setdefault(r.item_id, []).append(_rule(r, rows))
    items = {
        row.item_code: CatalogueItem(
            version=row.version,
            item_code=row.item_code,
            level1_no=row.level1_no,
            level1_zh=row.level1_zh,
            level1_en=row.level1_en,
            level2_zh=row.level2_zh,
            level2_en=row.level2_en,
            mode=RegulatoryMode(row.mode),
            effective_from=row.effective_from,
            evidence=row.evidence,
            source=row.source,
            notes=row.notes,
            rules=tuple(rules.get(row.id, ())),
        )
        for row in rows
    }
    _CACHE[key] = items
    return items


def _rule(r: CatalogueRuleRow, rows: Sequence[CatalogueItemRow]) -> VerificationRule:
    code = next(x.item_code for x in rows if x.id == r.item_id)
    return VerificationRule(
        item_code=code,
        form=VerificationForm(r.form) if r.form else None,
        period_months=r.period_months,
        service_life_months=r.service_life_months,
        regulation=r.regulation,
        size_parameter=r.size_parameter,
        size_min_exclusive=-math.inf if r.size_min_exclusive is None else r.size_min_exclusive,
        size_max_inclusive=math.inf if r.size_max_inclusive is None else r.size_max_inclusive,
        evidence=r.evidence,
        source=r.source,
        notes=r.notes,
        rule_id=r.id,
    )


def item(platform: Platform, item_code: str, field: str = "item_code") -> CatalogueItem:
    items = catalogue(platform)
    found = items.get(item_code)
    if found is None:
        raise InvalidInput(
            f"目录中没有 {item_code!r} 这一项 / {item_code!r} is not an item of the active catalogue",
            field=field,
        )
    return found
