"""What a filing (备案) of an instrument must hold, checked without I/O.

The same function serves the API, the CLI and the bulk importer, so a row refused in a spreadsheet is
refused for the same reason, with the same field name, as a form on the web.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from jiliang.domain.catalogue import CatalogueItem, Use
from jiliang.domain.instruments import (
    document_number,
    not_in_future,
    optional_text,
    parse_date,
    parse_optional_float,
    required_text,
)
from jiliang.domain.regions import validate_region_code
from jiliang.errors import InvalidInput

USES = {u.value: u for u in Use}


@dataclass(frozen=True, slots=True)
class InstrumentDraft:
    name: str
    item_code: str
    model: str
    serial_number: str
    manufacturer: str
    region_code: str
    use: Use
    filed_on: date
    measuring_range: str = ""
    accuracy_class: str = ""
    pattern_approval_no: str = ""
    nominal_size: float | None = None
    location: str = ""
    first_used_on: date | None = None

    @property
    def identity(self) -> tuple[str, str, str]:
        return (self.manufacturer, self.model, self.serial_number)


def parse_use(value: object) -> Use:
    use = USES.get(str(value).strip()) if value is not None else None
    if use is None:
        raise InvalidInput(
            f"用途 {value!r} 无效，应为 {', '.join(USES)} / use must be one of {', '.join(USES)}", field="use"
        )
    return use


def parse_instrument(
    raw: Mapping[str, object], items: Mapping[str, CatalogueItem], today: date
) -> InstrumentDraft:
    item_code = required_text(raw.get("item_code"), "item_code", 10)
    item = items.get(item_code)
    if item is None:
        raise InvalidInput(
            f"目录中没有 {item_code!r} 这一项 / {item_code!r} is not an item of the active catalogue",
            field="item_code",
        )
    nominal_size = parse_optional_float(raw.get("nominal_size"), "nominal_size")
    if item.size_parameter and nominal_size is None:
        raise InvalidInput(
            f"{item.level2_zh} 须填写规格参数 {item.size_parameter} / nominal_size ({item.size_parameter}) "
            f"is required for {item.level2_en}",
            field="nominal_size",
        )
    filed = raw.get("filed_on")
    filed_on = (
        today
        if filed is None or filed == ""
        else not_in_future(parse_date(filed, "filed_on"), today, "filed_on")
    )
    first = raw.get("first_used_on")
    first_used_on = (
        None
        if first in (None, "")
        else not_in_future(parse_date(first, "first_used_on"), today, "first_used_on")
    )
    return InstrumentDraft(
        name=required_text(raw.get("name"), "name"),
        item_code=item_code,
        model=required_text(raw.get("model"), "model", 100),
        serial_number=document_number(raw.get("serial_number"), "serial_number"),
        manufacturer=required_text(raw.get("manufacturer"), "manufacturer"),
        region_code=validate_region_code(str(raw.get("region_code") or "").strip()),
        use=parse_use(raw.get("use")),
        filed_on=filed_on,
        measuring_range=optional_text(raw.get("measuring_range"), "measuring_range", 100),
        accuracy_class=optional_text(raw.get("accuracy_class"), "accuracy_class", 50),
        pattern_approval_no=optional_text(raw.get("pattern_approval_no"), "pattern_approval_no", 100),
        nominal_size=nominal_size,
        location=optional_text(raw.get("location"), "location", 300),
        first_used_on=first_used_on,
    )


# The refusal for a serial number (or credit code) already registered where the caller cannot see it: the
# uniqueness rule holds, but the words do not say that it exists, nor where (issue 16, docs/security.md).
SERIAL_NEEDS_REVIEW = (
    "该出厂编号无法由您备案，需由监管部门核查 / this serial number cannot be filed by you: it needs review by "
    "the supervisor"
)
