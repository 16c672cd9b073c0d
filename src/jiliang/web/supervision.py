"""The supervisor's console (市场监管局计量处): dashboard, region tree, 预警, lists, detail pages, 督办.

Every page calls ``services.supervision`` (and the traceability service) with the signed-in principal,
so the jurisdiction is the API's: an id outside it is a 404 page. Lists are always paged; every number
on the dashboard links to the list it counts. Rows are built here as cells (text and link) so that one
list template and one detail template serve all five kinds of object.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from jiliang.api.deps import PlatformDep
from jiliang.api.downloads import attachment
from jiliang.api.routers.transfer import spooled_download
from jiliang.domain.instruments import parse_date
from jiliang.domain.spreadsheet import neutralise
from jiliang.errors import Conflict, InvalidInput, JiliangError
from jiliang.legal.coverage import IndicatorValue
from jiliang.services import catalogue as catalogue_service
from jiliang.services import measured_verifications, traceability
from jiliang.services import organisations as organisations_service
from jiliang.services.common import Page, not_found
from jiliang.services.platform import Platform
from jiliang.services.supervision import dashboard, followup, history, labels, paging, search
from jiliang.services.transfer import export as transfer_export
from jiliang.services.transfer.reading import Format
from jiliang.web.auth import ConsoleUser, CsrfForm, Lang, console_context
from jiliang.web.common import local_time, percent, significant, templates
from jiliang.web.institution import page_context as institution_page_context

router = APIRouter(prefix="/console/supervision", include_in_schema=False)

PAGE_SIZE = 25
# the instrument and record lists count their rows up to this many past the page, then show "N+": an
# exact count of a city's million rows on every view took seconds (docs/benchmarks.md)
COUNT_LIMIT = 10_000

STRINGS: dict[str, dict[str, str]] = {
    "zh": {
        "dashboard": "监管首页",
        "as_of": "统计日期",
        "year": "年度",
        "show": "查看",
        "region": "区划",
        "coverage": "强检计量器具检定覆盖率",
        "standard_coverage": "强检项目建标覆盖率",
        "overdue": "超期未检",
        "due_soon": "{n} 天内到期",
        "expiring": "计量标准考核证书 {n} 天内到期",
        "follow_open": "督办未办结",
        "follow_verified": "督办后已检定",
        "target": "目标",
        "met": "达标",
        "below": "未达标",
        "no_target": "未设目标",
        "units": "台",
        "items_unit": "项",
        "in_service": "在用强检器具",
        "tree": "区划树",
        "tree_note": "点区划名称查看该区划；数字链接到对应清单。",
        "tiles": "各县（区）覆盖率",
        "tiles_note": "每格为一个县（区）：标签与颜色均表示覆盖率档次，同样的数字见上表。",
        "band_high": "≥ 95 %",
        "band_mid": "90–95 %",
        "band_low": "< 90 %",
        "band_none": "无在用器具",
        "alerts": "预警",
        "alerts_note": "各区划的到期预警、超期未检与计量标准到期；数字链接到清单。",
        "instruments": "计量器具",
        "organisations": "单位",
        "standards": "计量标准",
        "records": "检定记录",
        "certificates": "证书",
        "followups": "督办",
        "places": "场所",
        "search": "搜索",
        "q_instruments": "名称、出厂编号、使用单位名称或统一社会信用代码、证书编号",
        "q_organisations": "单位名称或统一社会信用代码",
        "q_standards": "标准名称或考核证书编号",
        "q_records": "证书编号、出厂编号、使用单位",
        "q_certificates": "证书编号、出厂编号、使用单位",
        "state": "状态",
        "all": "全部",
        "state_overdue": "超期未检",
        "state_due": "30 天内到期",
        "state_covered": "检定有效",
        "item": "目录项",
        "sort": "排序",
        "apply": "查询",
        "export_xlsx": "导出督办清单 XLSX",
        "export_csv": "导出 CSV",
        "total": "共 {total} 条，第 {first}–{last} 条",
        "none": "没有符合条件的记录。",
        "prev": "上一页",
        "next": "下一页",
        "name": "名称",
        "model": "型号规格、制造单位",
        "default": "默认",
        "serial": "出厂编号",
        "owner": "使用单位",
        "contact": "联系人及电话",
        "location": "使用地点",
        "last_verified": "上次检定",
        "due_on": "到期日期",
        "days_overdue": "超期天数",
        "status": "状态",
        "credit_code": "统一社会信用代码",
        "kind": "类别",
        "address": "地址",
        "count": "器具数",
        "holder": "持有单位",
        "quantity": "量",
        "certificate_no": "考核证书编号",
        "valid_until": "有效期至",
        "days_left": "剩余天数",
        "document_no": "证书编号",
        "verified_on": "检定日期",
        "conclusion": "结论",
        "institution": "检定机构",
        "standard": "计量标准",
        "number": "证书编号",
        "issued_at": "签发时间",
        "issuer": "签发机构",
        "instrument": "器具",
        "history": "变更历史",
        "history_note": "来自审计记录：谁在何时改了什么。批量导入的器具只记一条导入记录。",
        "when": "时间",
        "who": "操作人",
        "what": "对象",
        "action": "操作",
        "changes": "变更",
        "chain": "溯源链",
        "chain_none": "暂无溯源链：",
        "level": "层级",
        "link_kind": "环节",
        "item_col": "被检对象",
        "used": "所用标准",
        "on": "日期",
        "u": "标准不确定度",
        "link_status": "状态",
        "mark": "督办选中的器具",
        "mark_note": "督办说明（可选）",
        "remind": "通过推送提醒使用单位",
        "select": "选择",
        "marked": "已督办 {n} 台，已排队提醒 {r} 条。",
        "already": "{n} 台今日已督办过。",
        "no_hook": "以下单位未登记推送地址，请按导出清单中的联系方式电话督办：{names}",
        "opened_on": "督办日期",
        "opened_by": "督办人",
        "reminders": "提醒（已送达/已排队）",
        "verified_since": "督办后检定",
        "not_yet": "尚未检定",
        "state_open": "未办结",
        "state_verified": "已检定",
        "state_closed": "已手工办结",
        "follow_title": "督办",
        "follow_state": "办理情况",
        "follow_open_now": "未办结",
        "closed_by": "办结人",
        "closed_at": "办结时间",
        "close_reason": "办结原因",
        "close": "手工办结",
        "reopen": "重新督办",
        "reason": "原因（必填）",
        "reason_hint": "例如：器具已报废、已迁出本辖区、已在外地检定（附证书号）",
        "note": "备注",
        "closed_ok": "已办结。",
        "reopened_ok": "已重新督办。",
        "facts": "基本信息",
        "records_of": "检定记录",
        "certificates_of": "证书",
        "instruments_of": "其计量器具",
        "never": "从未检定",
        "yes": "是",
        "no": "否",
        "sort_due": "到期日期（早→晚）",
        "sort_due_desc": "到期日期（晚→早）",
        "sort_name": "名称",
        "sort_serial": "出厂编号",
        "sort_last": "上次检定（晚→早）",
        "sort_id": "备案顺序",
        "sort_valid": "有效期至（早→晚）",
        "sort_verified_desc": "检定日期（晚→早）",
        "sort_verified": "检定日期（早→晚）",
        "sort_issued_desc": "签发时间（晚→早）",
        "expiring_within": "考核证书到期",
        "expiring_90": "90 天内到期或已过期",
        "conclusion_pass": "合格",
        "conclusion_fail": "不合格",
        "with_data": "测量数据",
        "with_data_yes": "有测量数据和三级签字",
        "with_data_no": "仅有结论（导入或直接录入）",
        "data_link": "查看测量数据、最大允许误差、不确定度和签字人员",
        "data_none": "无（导入或仅录结论的记录）",
        "data_title": "检定数据",
        "back_record": "返回检定记录",
        "graph_alt": "溯源链图（下表为同样内容）",
    },
    "en": {
        "dashboard": "Supervision dashboard",
        "as_of": "As of",
        "year": "Year",
        "show": "Show",
        "region": "Region",
        "coverage": "Verification coverage of compulsory instruments",
        "standard_coverage": "Standard coverage of compulsory items",
        "overdue": "Overdue",
        "due_soon": "Due within {n} days",
        "expiring": "Standards' approval ending within {n} days",
        "follow_open": "Follow-ups open",
        "follow_verified": "Verified after follow-up",
        "target": "Target",
        "met": "met",
        "below": "below target",
        "no_target": "no target set",
        "units": "",
        "items_unit": "items",
        "in_service": "Compulsory instruments in service",
        "tree": "Region tree",
        "tree_note": "Open a region by its name; every number links to its list.",
        "tiles": "Coverage by county",
        "tiles_note": "One tile per county: the label and the colour both give the coverage band; the "
        "table above has the same numbers.",
        "band_high": "≥ 95 %",
        "band_mid": "90–95 %",
        "band_low": "< 90 %",
        "band_none": "no instruments",
        "alerts": "Warnings",
        "alerts_note": "Per region: due soon, overdue, standards ending; every number links to its list.",
        "instruments": "Instruments",
        "organisations": "Organisations",
        "standards": "Measurement standards",
        "records": "Verification records",
        "certificates": "Certificates",
        "followups": "Follow-ups",
        "places": "Places",
        "search": "Search",
        "q_instruments": "Name, serial number, owner name or credit code, certificate number",
        "q_organisations": "Name or credit code",
        "q_standards": "Name or approval certificate number",
        "q_records": "Certificate number, serial number, owner",
        "q_certificates": "Certificate number, serial number, owner",
        "state": "State",
        "all": "All",
        "state_overdue": "Overdue",
        "state_due": "Due within 30 days",
        "state_covered": "Verification valid",
        "item": "Catalogue item",
        "sort": "Sort",
        "apply": "Search",
        "export_xlsx": "Export follow-up list (XLSX)",
        "export_csv": "Export CSV",
        "total": "{total} rows, {first}–{last} shown",
        "none": "Nothing matches.",
        "prev": "Previous",
        "next": "Next",
        "name": "Name",
        "model": "Model, manufacturer",
        "default": "Default",
        "serial": "Serial number",
        "owner": "Owner",
        "contact": "Contact",
        "location": "Place of use",
        "last_verified": "Last verified",
        "due_on": "Due on",
        "days_overdue": "Days overdue",
        "status": "Status",
        "credit_code": "Credit code",
        "kind": "Kind",
        "address": "Address",
        "count": "Instruments",
        "holder": "Holder",
        "quantity": "Quantity",
        "certificate_no": "Approval certificate",
        "valid_until": "Valid until",
        "days_left": "Days left",
        "document_no": "Certificate no.",
        "verified_on": "Verified on",
        "conclusion": "Conclusion",
        "institution": "Institution",
        "standard": "Standard",
        "number": "Number",
        "issued_at": "Issued at",
        "issuer": "Issuer",
        "instrument": "Instrument",
        "history": "History",
        "history_note": "From the audit trail: who changed what, when. Instruments loaded in bulk have one "
        "entry for the whole import.",
        "when": "When",
        "who": "Who",
        "what": "Object",
        "action": "Action",
        "changes": "Changes",
        "chain": "Traceability chain",
        "chain_none": "No chain: ",
        "level": "Level",
        "link_kind": "Link",
        "item_col": "Calibrated",
        "used": "Standard used",
        "on": "Date",
        "u": "Standard uncertainty",
        "link_status": "Status",
        "mark": "Follow up the selected instruments",
        "mark_note": "Note (optional)",
        "remind": "Remind the owner by webhook",
        "select": "Select",
        "marked": "{n} instruments marked, {r} reminders queued.",
        "already": "{n} were already marked today.",
        "no_hook": "These owners have no webhook; call them with the contact in the export: {names}",
        "opened_on": "Opened on",
        "opened_by": "Opened by",
        "reminders": "Reminders (delivered/queued)",
        "verified_since": "Verified since",
        "not_yet": "not yet",
        "state_open": "Open",
        "state_verified": "Verified",
        "state_closed": "Closed by hand",
        "follow_title": "Follow-up",
        "follow_state": "State",
        "follow_open_now": "open",
        "closed_by": "Closed by",
        "closed_at": "Closed at",
        "close_reason": "Reason for closing",
        "close": "Close by hand",
        "reopen": "Reopen",
        "reason": "Reason (required)",
        "reason_hint": "e.g. the instrument was scrapped, moved out of the area, verified elsewhere (certificate no.)",
        "note": "Note",
        "closed_ok": "Closed.",
        "reopened_ok": "Reopened.",
        "facts": "Details",
        "records_of": "Verification records",
        "certificates_of": "Certificates",
        "instruments_of": "Its instruments",
        "never": "never verified",
        "yes": "yes",
        "no": "no",
        "sort_due": "Due date (earliest first)",
        "sort_due_desc": "Due date (latest first)",
        "sort_name": "Name",
        "sort_serial": "Serial number",
        "sort_last": "Last verified (latest first)",
        "sort_id": "Filing order",
        "sort_valid": "Valid until (earliest first)",
        "sort_verified_desc": "Verified on (latest first)",
        "sort_verified": "Verified on (earliest first)",
        "sort_issued_desc": "Issued (latest first)",
        "expiring_within": "Approval ending",
        "expiring_90": "within 90 days or already",
        "conclusion_pass": "pass",
        "conclusion_fail": "fail",
        "with_data": "Measurement data",
        "with_data_yes": "With data and three signatures",
        "with_data_no": "Conclusion only (imported or entered)",
        "data_link": "Read the test points, MPE, uncertainty and who signed",
        "data_none": "none (imported, or a bare conclusion)",
        "data_title": "Verification data",
        "back_record": "Back to the record",
        "graph_alt": "Traceability chain graph (the table below has the same content)",
    },
}

LINK_LABELS: dict[str, tuple[str, str]] = {
    "verification": ("检定", "verification"),
    "calibration": ("校准", "calibration"),
    "anchor": ("溯源至基准", "anchor"),
    "in_use": ("在用", "in use"),
}


def _bilingual(text: str, lang: str) -> str:
    """One half of a service's "中文 / English" message."""
    zh, sep, en = text.partition(" / ")
    return (zh if lang == "zh" else en) if sep else text


def _uncertainty(value: float | None, unit: str, lang: str) -> str:
    """A standard uncertainty to two significant digits; relative ones ("1") in parts per million."""
    if value is None:
        return ""
    if unit == "1":
        return (
            f"{significant(value * 1e6)} ppm（相对）"
            if lang == "zh"
            else f"{significant(value * 1e6)} ppm (relative)"
        )
    if unit == "%":
        return f"{significant(value)} %"
    return f"{significant(value)} {unit}".strip()


# ---------------------------------------------------------------------------------------------------
# small building blocks


@dataclass
class Cell:
    text: str
    href: str | None = None
    cls: str = ""


@dataclass
class Field:
    name: str
    label: str
    value: str = ""
    kind: str = "text"  # text | select | date | search
    options: list[tuple[str, str]] = field(default_factory=list)
    hint: str = ""


@dataclass
class Table:
    heading: str
    columns: list[str]
    rows: list[list[Cell]]
    empty: str = ""
    more: Cell | None = None


def _t(lang: str) -> dict[str, str]:
    return STRINGS[lang]


def _href(path: str, **params: Any) -> str:
    query = {k: v for k, v in params.items() if v not in (None, "")}
    return path + ("?" + urlencode(query) if query else "")


def _label(table: dict[str, tuple[str, str]], value: object, lang: str) -> str:
    return labels.label(table, value, lang)


def _date(value: date | None) -> str:
    return "" if value is None else value.isoformat()


def _context(request: Request, user: Any, lang: str, title: str) -> dict[str, Any]:
    ctx = console_context(request, user, lang)
    ctx["t"].update(_t(lang))
    ctx.update(title=title, section_nav=_section_nav(lang, request.url.path))
    return ctx


def _section_nav(lang: str, here: str) -> list[dict[str, Any]]:
    t = _t(lang)
    out = []
    for path, key in (
        ("", "dashboard"),
        ("/alerts", "alerts"),
        ("/instruments", "instruments"),
        ("/organisations", "organisations"),
        ("/standards", "standards"),
        ("/verifications", "records"),
        ("/certificates", "certificates"),
        ("/followups", "followups"),
        ("/places", "places"),
    ):
        href = router.prefix + path
        out.append({"href": href, "label": t[key], "current": here.rstrip("/") == href})
    return out


def _pager(request: Request, page: Page[Any], t: dict[str, str]) -> dict[str, Any]:
    """Page numbers for the first pages, then next / previous by the rows' sort key (services paging)."""
    params = {k: v for k, v in request.query_params.items() if k not in ("offset", "after", "before")}
    nav = paging.navigation(page)

    def href(at: dict[str, str] | None) -> str | None:
        return None if at is None else _href(request.url.path, **params, **at)

    last = page.offset + len(page.items) if page.items else 0
    total = f"{page.total}+" if page.total_at_least else str(page.total)  # counted up to COUNT_LIMIT
    summary = t["total"].format(total=total, first=page.offset + 1 if page.items else 0, last=last)
    numbers = [{"label": f"{n:,}", "href": href(at)} for n, at in nav.numbers]
    return {"summary": summary, "prev": href(nav.prev), "next": href(nav.next), "numbers": numbers}


def _on(value: str | None, platform: Platform) -> date:
    day = platform.local_today() if not value else parse_date(value, "on")
    if day > platform.local_today():
        raise InvalidInput("日期不能晚于今天 / the date cannot be after today", field="on")
    return day


def _region_options(platform: Platform, user: Any) -> list[tuple[str, str]]:
    regions = organisations_service.list_regions(platform, user, user.jurisdiction)
    return [("", "")] + [(r.code, ("　" * _depth(r.code)) + r.name_zh) for r in regions]


def _search_fields(
    t: dict[str, str], platform: Platform, user: Any, q: str, region_code: str, hint: str
) -> list[Field]:
    """The search box and the region select that open every list's filters."""
    return [
        Field("q", t["search"], q, "search", hint=t[hint]),
        Field("region_code", t["region"], region_code, "select", _region_options(platform, user)),
    ]


def _choice(name: str, label: str, value: str, options: list[tuple[str, str]], *, any_of: str = "") -> Field:
    """A select filter; ``any_of`` (the word for "all") puts the empty choice first."""
    return Field(name, label, value, "select", ([("", any_of)] if any_of else []) + options)


def _labels(table: dict[str, tuple[str, str]], lang: str) -> list[tuple[str, str]]:
    """A label table (``services.supervision.labels``) as select options in ``lang``."""
    return [(k, zh if lang == "zh" else en) for k, (zh, en) in table.items()]


def _depth(code: str) -> int:
    return 0 if code.endswith("0000") else 1 if code.endswith("00") else 2


def _rate_text(value: IndicatorValue | None) -> str:
    return "—" if value is None else percent(value.rate)


def _instrument_link(row: Any) -> str:
    return f"{router.prefix}/instruments/{row.id}"


# ---------------------------------------------------------------------------------------------------
# dashboard, region tree, tiles, warnings


def _band(value: IndicatorValue | None, t: dict[str, str]) -> tuple[str, str]:
    rate = None if value is None else value.rate
    if rate is None:
        return "none", t["band_none"]
    if rate >= 0.95:
        return "high", t["band_high"]
    if rate >= 0.90:
        return "mid", t["band_mid"]
    return "low", t["band_low"]


def _tree_rows(
    node: dashboard.RegionNode, on: date, t: dict[str, str], depth: int = 0
) -> Iterator[dict[str, Any]]:
    base = router.prefix
    day = on.isoformat()
    yield {
        "depth": depth,
        "name": Cell(node.name, _href(base, region=node.code, on=day)),
        "coverage": Cell(
            _rate_text(node.coverage),
            _href(base + "/instruments", region_code=node.code, state="covered", on=day),
        ),
        "in_service": Cell(
            "—" if node.coverage is None else f"{node.coverage.denominator:,}",
            _href(base + "/instruments", region_code=node.code),
        ),
        "overdue": Cell(
            f"{node.overdue:,}", _href(base + "/instruments", region_code=node.code, state="overdue", on=day)
        ),
        "standard_coverage": Cell(
            _rate_text(node.standard_coverage), _href(base + "/standards", region_code=node.code)
        ),
    }
    for child in node.children:
        yield from _tree_rows(child, on, t, depth + 1)


@router.get("", response_class=HTMLResponse)
def dashboard_page(
    request: Request,
    platform: PlatformDep,
    user: ConsoleUser,
    lang: Lang,
    region: Annotated[str | None, Query()] = None,
    on: Annotated[str | None, Query()] = None,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
) -> HTMLResponse:
    t = _t(lang)
    today = platform.local_today()
    # a year shows its last day (or today, for the current year)
    day = min(date(year, 12, 31), today) if year is not None and not on else _on(on, platform)
    board = dashboard.dashboard(platform, user, region=region or None, on=day)
    base = router.prefix
    d = day.isoformat()
    code = board.region_code
    cards = [
        {
            "label": t["coverage"],
            "value": Cell(
                _rate_text(board.coverage),
                _href(base + "/instruments", region_code=code, state="covered", on=d),
            ),
            "detail": _target_text(board.coverage, t),
            "band": _band(board.coverage, t)[0],
        },
        {
            "label": t["overdue"],
            "value": Cell(
                f"{board.overdue:,} {t['units']}".strip(),
                _href(base + "/instruments", region_code=code, state="overdue", on=d),
            ),
            "detail": "" if board.coverage is None else f"{t['in_service']} {board.coverage.denominator:,}",
            "band": "alert" if board.overdue else "",
            "id": "card-overdue",
        },
        {
            "label": t["due_soon"].format(n=board.due_within_days),
            "value": Cell(
                f"{board.due_soon:,} {t['units']}".strip(),
                _href(
                    base + "/instruments",
                    region_code=code,
                    state="due",
                    within_days=board.due_within_days,
                    on=d,
                ),
            ),
            "detail": "",
            "band": "",
        },
        {
            "label": t["standard_coverage"],
            "value": Cell(_rate_text(board.standard_coverage), _href(base + "/standards", region_code=code)),
            "detail": _target_text(board.standard_coverage, t),
            "band": _band(board.standard_coverage, t)[0],
        },
        {
            "label": t["expiring"].format(n=board.expiring_within_days),
            "value": Cell(
                f"{board.expiring_standards:,}",
                _href(
                    base + "/standards", region_code=code, expiring_within=board.expiring_within_days, on=d
                ),
            ),
            "detail": "",
            "band": "alert" if board.expiring_standards else "",
        },
        {
            "label": t["follow_open"],
            "value": Cell(f"{board.follow_ups_open:,}", _href(base + "/followups", state="open")),
            "detail": f"{t['follow_verified']} {board.follow_ups_verified:,}",
            "band": "",
        },
    ]
    tiles = []
    for county in dashboard.counties(board.tree):
        band, band_label = _band(county.coverage, t)
        tiles.append(
            {
                "name": county.name,
                "href": _href(base, region=county.code, on=d),
                "rate": _rate_text(county.coverage),
                "overdue": county.overdue,
                "band": band,
                "band_label": band_label,
                # the tile's area follows the county's instruments (a treemap without a map service)
                "weight": 1
                if county.coverage is None
                else max(1, min(4, round(county.coverage.denominator / max(1, _largest(board.tree)) * 4))),
            }
        )
    ctx = _context(request, user, lang, t["dashboard"])
    ctx.update(
        board=board,
        on=d,
        year=day.year,
        years=list(range(today.year, today.year - 6, -1)),
        region_options=_region_options(platform, user),
        cards=cards,
        tree=list(_tree_rows(board.tree, day, t)),
        tiles=tiles,
        crumbs=[Cell(name, _href(base, region=c, on=d)) for c, name in board.breadcrumb],
        styles=True,
    )
    return templates.TemplateResponse(request, "console/supervision/dashboard.html", ctx)


def _largest(tree: dashboard.RegionNode) -> int:
    return max(
        (c.coverage.denominator for c in dashboard.counties(tree) if c.coverage is not None), default=1
    )


def _target_text(value: IndicatorValue | None, t: dict[str, str]) -> str:
    if value is None or value.target is None:
        return t["no_target"]
    verdict = t["met"] if value.meets_target else t["below"]
    return f"{t['target']} {percent(value.target)} · {verdict}"


@router.get("/alerts", response_class=HTMLResponse)
def alerts_page(
    request: Request,
    platform: PlatformDep,
    user: ConsoleUser,
    lang: Lang,
    region: Annotated[str | None, Query()] = None,
) -> HTMLResponse:
    t = _t(lang)
    board = dashboard.dashboard(platform, user, region=region or None)
    base = router.prefix
    days = platform.settings.coverage.expiring_within_days
    regions = [board.tree, *board.tree.children]
    rows = []
    for node in regions:
        due = dashboard.due_soon_count(platform, user, node.code, board.on)
        expiring = search.search_standards(
            platform, user, {"region_code": node.code, "expiring_within": days}, limit=1
        ).total
        rows.append(
            [
                Cell(
                    node.name, _href(base + "/alerts", region=node.code) if node is not board.tree else None
                ),
                Cell(
                    f"{due:,}",
                    _href(
                        base + "/instruments",
                        region_code=node.code,
                        state="due",
                        within_days=dashboard.DUE_WITHIN_DAYS,
                    ),
                ),
                Cell(
                    f"{node.overdue:,}", _href(base + "/instruments", region_code=node.code, state="overdue")
                ),
                Cell(
                    f"{expiring:,}", _href(base + "/standards", region_code=node.code, expiring_within=days)
                ),
            ]
        )
    table = Table(
        heading=board.region_name,
        columns=[
            t["region"],
            t["due_soon"].format(n=dashboard.DUE_WITHIN_DAYS),
            t["overdue"],
            t["expiring"].format(n=days),
        ],
        rows=rows,
    )
    ctx = _context(request, user, lang, t["alerts"])
    ctx.update(intro=t["alerts_note"], tables=[table], facts=[], styles=True)
    return templates.TemplateResponse(request, "console/supervision/detail.html", ctx)


# ---------------------------------------------------------------------------------------------------
# lists


def _list_response(
    request: Request,
    user: Any,
    lang: str,
    title: str,
    fields: list[Field],
    columns: list[str],
    rows: list[list[Cell]],
    page: Page[Any],
    *,
    exports: list[Cell] | None = None,
    selectable: list[int] | None = None,
    notice: list[str] | None = None,
) -> HTMLResponse:
    t = _t(lang)
    ctx = _context(request, user, lang, title)
    ctx.update(
        fields=fields,
        columns=columns,
        rows=rows,
        pager=_pager(request, page, t),
        exports=exports or [],
        selectable=selectable,
        notice=notice or [],
        styles=True,
    )
    return templates.TemplateResponse(request, "console/supervision/list.html", ctx)


INSTRUMENT_SORTS = ("due_on", "-due_on", "name", "serial_number", "-last_verified_on", "id")


@router.get("/instruments", response_class=HTMLResponse)
def instruments_page(
    request: Request,
    platform: PlatformDep,
    user: ConsoleUser,
    lang: Lang,
    q: str = "",
    region_code: str = "",
    item_code: str = "",
    state: str = "",
    on: str = "",
    within_days: str = "",
    sort: str = "",
    offset: Annotated[int, Query(ge=0, le=paging.OFFSET_MAX)] = 0,
    after: str = "",
    before: str = "",
    marked: str = "",
) -> HTMLResponse:
    t = _t(lang)
    filters = {
        "q": q,
        "region_code": region_code,
        "item_code": item_code,
        "state": state,
        "on": on,
        "within_days": within_days if state == "due" else "",
    }
    page = search.search_instruments(
        platform, user, filters, sort=sort or None, offset=offset, limit=PAGE_SIZE, count_limit=COUNT_LIMIT,
        after=after or None, before=before or None,
    )  # fmt: skip
    items = catalogue_service.catalogue(platform)
    fields = [
        *_search_fields(t, platform, user, q, region_code, "q_instruments"),
        _choice(
            "item_code",
            t["item"],
            item_code,
            [(c, i.level2_zh if lang == "zh" else i.level2_en) for c, i in sorted(items.items())],
            any_of=t["all"],
        ),
        _choice(
            "state",
            t["state"],
            state,
            [(st, t["state_" + st]) for st in ("overdue", "due", "covered")],
            any_of=t["all"],
        ),
        Field("on", t["as_of"], on, "date"),
        _choice(
            "sort",
            t["sort"],
            sort,
            [
                ("due_on", t["sort_due"]),
                ("-due_on", t["sort_due_desc"]),
                ("name", t["sort_name"]),
                ("serial_number", t["sort_serial"]),
                ("-last_verified_on", t["sort_last"]),
                ("id", t["sort_id"]),
            ],
            any_of=t["default"],
        ),
    ]
    if state == "due":
        fields.append(Field("within_days", "", within_days or "30", "hidden"))
    rows = []
    for r in page.items:
        item = items.get(r.item_code)
        rows.append(
            [
                Cell(r.name, _instrument_link(r)),
                Cell(r.serial_number),
                Cell(r.item_name if lang == "zh" or item is None else item.level2_en),
                Cell(r.owner_name, f"{router.prefix}/organisations/{r.owner_id}"),
                Cell(r.owner_contact),
                Cell(r.location or r.region_name),
                Cell(_date(r.last_verified_on) or t["never"]),
                Cell(_date(r.due_on) or "—"),
                Cell(
                    "" if r.days_overdue is None or r.days_overdue <= 0 else f"{r.days_overdue:,}", cls="num"
                ),
                Cell(_label(labels.INSTRUMENT_STATUS, r.status, lang)),
            ]
        )
    export_params = {k: v for k, v in filters.items() if v}
    exports = [
        Cell(
            t["export_xlsx"],
            _href(router.prefix + "/instruments/export", format="xlsx", sort=sort, **export_params),
        ),
        Cell(
            t["export_csv"],
            _href(router.prefix + "/instruments/export", format="csv", sort=sort, **export_params),
        ),
    ]
    notice = [m for m in marked.split("\n") if m] if marked else []
    return _list_response(
        request,
        user,
        lang,
        t["instruments"] + (f" · {t['state_' + state]}" if state in search.STATES else ""),
        fields,
        [
            t["name"],
            t["serial"],
            t["item"],
            t["owner"],
            t["contact"],
            t["location"],
            t["last_verified"],
            t["due_on"],
            t["days_overdue"],
            t["status"],
        ],
        rows,
        page,
        exports=exports,
        selectable=[r.id for r in page.items]
        if state == "overdue" and (not on or on == platform.local_today().isoformat())
        else None,
        notice=notice,
    )


@router.get("/instruments/export")
def instruments_export(
    request: Request,
    platform: PlatformDep,
    user: ConsoleUser,
    lang: Lang,
    format: str = "xlsx",
    q: str = "",
    region_code: str = "",
    item_code: str = "",
    state: str = "",
    on: str = "",
    within_days: str = "",
    sort: str = "",
) -> Response:
    filters = {
        "q": q,
        "region_code": region_code,
        "item_code": item_code,
        "state": state,
        "on": on,
        "within_days": within_days,
    }
    if format not in ("csv", "xlsx"):
        raise InvalidInput("格式须为 csv 或 xlsx / format must be csv or xlsx", field="format")
    # The API's export path: a slot per user and in all, the whole file spooled in one short read
    # transaction, then sent with no connection held and a stalled download dropped (docs/security.md).
    fmt: Format = "csv" if format == "csv" else "xlsx"
    name = f"follow-up-list-{state or 'instruments'}-{(on or platform.local_today().isoformat())}"
    return spooled_download(
        platform,
        user,
        lambda sink: transfer_export.export_follow_up_list(
            platform,
            user,
            {k: v for k, v in filters.items() if v},
            sink,
            fmt=fmt,
            headers="zh" if lang == "zh" else "en",
            sort=sort or None,
        ),
        fmt,
        name,
    )


@router.get("/organisations", response_class=HTMLResponse)
def organisations_page(
    request: Request,
    platform: PlatformDep,
    user: ConsoleUser,
    lang: Lang,
    q: str = "",
    region_code: str = "",
    kind: str = "",
    offset: Annotated[int, Query(ge=0)] = 0,
) -> HTMLResponse:
    t = _t(lang)
    page = search.search_organisations(
        platform, user, {"q": q, "region_code": region_code, "kind": kind}, offset=offset, limit=PAGE_SIZE
    )
    fields = [
        *_search_fields(t, platform, user, q, region_code, "q_organisations"),
        _choice("kind", t["kind"], kind, _labels(labels.ORGANISATION_KIND, lang), any_of=t["all"]),
    ]
    rows = [_organisation_cells(o, lang) for o in page.items]
    return _list_response(
        request, user, lang, t["organisations"], fields, _columns("organisations", t), rows, page,
        exports=[_csv_link(request, "organisations", t)],
    )  # fmt: skip


def _organisation_cells(o: search.OrganisationRow, lang: str) -> list[Cell]:
    return [
        Cell(o.name, f"{router.prefix}/organisations/{o.id}"),
        Cell(o.credit_code),
        Cell(_label(labels.ORGANISATION_KIND, o.kind, lang)),
        Cell(o.region_name),
        Cell(o.contact),
        Cell(f"{o.instruments:,}", _href(router.prefix + "/instruments", q=o.credit_code), cls="num"),
    ]


@router.get("/standards", response_class=HTMLResponse)
def standards_page(
    request: Request,
    platform: PlatformDep,
    user: ConsoleUser,
    lang: Lang,
    q: str = "",
    region_code: str = "",
    kind: str = "",
    expiring_within: str = "",
    on: str = "",
    sort: str = "",
    offset: Annotated[int, Query(ge=0)] = 0,
) -> HTMLResponse:
    t = _t(lang)
    filters = {"q": q, "region_code": region_code, "kind": kind, "expiring_within": expiring_within, "on": on}
    page = search.search_standards(platform, user, filters, sort=sort or None, offset=offset, limit=PAGE_SIZE)
    days = str(platform.settings.coverage.expiring_within_days)
    fields = [
        *_search_fields(t, platform, user, q, region_code, "q_standards"),
        _choice("kind", t["kind"], kind, _labels(labels.STANDARD_KIND, lang), any_of=t["all"]),
        _choice(
            "expiring_within", t["expiring_within"], expiring_within, [(days, t["expiring_90"])], any_of=t["all"]
        ),
        _choice(
            "sort", t["sort"], sort, [("name", t["sort_name"]), ("valid_until", t["sort_valid"])], any_of=t["default"]
        ),
    ]
    if on:
        fields.append(Field("on", "", on, "hidden"))
    rows = [_standard_cells(x, lang) for x in page.items]
    return _list_response(
        request, user, lang, t["standards"], fields, _columns("standards", t), rows, page,
        exports=[_csv_link(request, "standards", t)],
    )  # fmt: skip


def _standard_cells(s: search.StandardRow, lang: str) -> list[Cell]:
    return [
        Cell(s.name, f"{router.prefix}/standards/{s.id}"),
        Cell(_label(labels.STANDARD_KIND, s.kind, lang)),
        Cell(s.holder_name, f"{router.prefix}/organisations/{s.holder_id}"),
        Cell(s.region_name),
        Cell(s.certificate_no),
        Cell(_date(s.certificate_valid_until)),
        Cell(f"{s.days_left:,}", cls="num" + (" late" if s.days_left < 0 else "")),
    ]


@router.get("/verifications", response_class=HTMLResponse)
def records_page(
    request: Request,
    platform: PlatformDep,
    user: ConsoleUser,
    lang: Lang,
    q: str = "",
    region_code: str = "",
    conclusion: str = "",
    verified_from: str = "",
    verified_to: str = "",
    with_data: str = "",
    sort: str = "",
    offset: Annotated[int, Query(ge=0, le=paging.OFFSET_MAX)] = 0,
    after: str = "",
    before: str = "",
) -> HTMLResponse:
    t = _t(lang)
    filters = {
        "q": q,
        "region_code": region_code,
        "conclusion": conclusion,
        "verified_from": verified_from,
        "verified_to": verified_to,
        "with_data": with_data,
    }
    page = search.search_records(
        platform, user, filters, sort=sort or None, offset=offset, limit=PAGE_SIZE, count_limit=COUNT_LIMIT,
        after=after or None, before=before or None,
    )  # fmt: skip
    fields = [
        *_search_fields(t, platform, user, q, region_code, "q_records"),
        _choice(
            "conclusion",
            t["conclusion"],
            conclusion,
            [("pass", t["conclusion_pass"]), ("fail", t["conclusion_fail"])],
            any_of=t["all"],
        ),
        Field("verified_from", t["verified_on"] + " ≥", verified_from, "date"),
        Field("verified_to", t["verified_on"] + " ≤", verified_to, "date"),
        _choice(
            "with_data",
            t["with_data"],
            with_data,
            [("1", t["with_data_yes"]), ("0", t["with_data_no"])],
            any_of=t["all"],
        ),
        _choice(
            "sort",
            t["sort"],
            sort,
            [("verified_on", t["sort_verified"]), ("due_on", t["sort_due"])],
            any_of=t["sort_verified_desc"],
        ),
    ]
    rows = [_record_cells(r, lang) for r in page.items]
    return _list_response(
        request, user, lang, t["records"], fields, _columns("verifications", t), rows, page,
        exports=[_csv_link(request, "verifications", t)],
    )  # fmt: skip


def _record_cells(r: search.RecordRow, lang: str) -> list[Cell]:
    return [
        Cell(r.document_no, f"{router.prefix}/verifications/{r.id}"),
        Cell(r.instrument_name, f"{router.prefix}/instruments/{r.instrument_id}"),
        Cell(r.serial_number),
        Cell(r.owner_name),
        Cell(r.institution_name),
        Cell(_date(r.verified_on)),
        Cell(_label(labels.CONCLUSION, r.conclusion, lang)),
        Cell(_date(r.due_on)),
    ]


@router.get("/certificates", response_class=HTMLResponse)
def certificates_page(
    request: Request,
    platform: PlatformDep,
    user: ConsoleUser,
    lang: Lang,
    q: str = "",
    status: str = "",
    region_code: str = "",
    sort: str = "",
    offset: Annotated[int, Query(ge=0)] = 0,
) -> HTMLResponse:
    t = _t(lang)
    page = search.search_certificates(
        platform,
        user,
        {"q": q, "status": status, "region_code": region_code},
        sort=sort or None,
        offset=offset,
        limit=PAGE_SIZE,
    )
    fields = [
        *_search_fields(t, platform, user, q, region_code, "q_certificates"),
        _choice("status", t["status"], status, _labels(labels.CERTIFICATE_STATUS, lang), any_of=t["all"]),
        _choice("sort", t["sort"], sort, [("number", t["number"])], any_of=t["sort_issued_desc"]),
    ]
    rows = [_certificate_cells(c, lang) for c in page.items]
    return _list_response(
        request, user, lang, t["certificates"], fields, _columns("certificates", t), rows, page,
        exports=[_csv_link(request, "certificates", t)],
    )  # fmt: skip


def _certificate_cells(c: search.CertificateRow, lang: str) -> list[Cell]:
    return [
        Cell(c.number, f"{router.prefix}/certificates/{c.id}"),
        Cell(
            c.instrument_name, f"{router.prefix}/instruments/{c.instrument_id}" if c.instrument_id else None
        ),
        Cell(c.serial_number),
        Cell(c.owner_name),
        Cell(c.issuer_name),
        Cell(local_time(c.issued_at)),
        Cell(_label(labels.CERTIFICATE_STATUS, c.status, lang)),
    ]


# ---------------------------------------------------------------------------------------------------
# CSV exports of the other lists (the instrument list has the 督办 export above): the same filters and
# columns as the page, every page of it up to EXPORT_MAX rows, streamed.

EXPORT_MAX = 100_000
_COLUMNS = {
    "organisations": ("name", "credit_code", "kind", "region", "contact", "count"),
    "standards": ("name", "kind", "holder", "region", "certificate_no", "valid_until", "days_left"),
    "verifications": (
        "document_no",
        "instrument",
        "serial",
        "owner",
        "institution",
        "verified_on",
        "conclusion",
        "due_on",
    ),
    "certificates": ("number", "instrument", "serial", "owner", "issuer", "issued_at", "status"),
}
_SEARCH: dict[str, tuple[Any, tuple[str, ...], Any]] = {
    "organisations": (search.search_organisations, search.ORGANISATION_FILTERS, _organisation_cells),
    "standards": (search.search_standards, search.STANDARD_FILTERS, _standard_cells),
    "verifications": (search.search_records, search.RECORD_FILTERS, _record_cells),
    "certificates": (search.search_certificates, search.CERTIFICATE_FILTERS, _certificate_cells),
}


def _columns(kind: str, t: dict[str, str]) -> list[str]:
    return [t[c] for c in _COLUMNS[kind]]


def _csv_link(request: Request, kind: str, t: dict[str, str]) -> Cell:
    params = {k: v for k, v in request.query_params.items() if k not in ("offset", "lang")}
    return Cell(t["export_csv"], _href(f"{router.prefix}/{kind}/export", **params))


def _export(request: Request, platform: Platform, user: Any, lang: str, kind: str) -> StreamingResponse:
    find, allowed, cells = _SEARCH[kind]
    filters = {k: v for k, v in request.query_params.items() if k in allowed and v}
    sort = request.query_params.get("sort") or None
    limit = min(1000, platform.settings.page_size_max)
    first = find(platform, user, filters, sort=sort, offset=0, limit=limit)  # refusals before any byte
    header = _columns(kind, _t(lang))

    def body() -> Iterator[bytes]:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(header)
        yield ("\ufeff" + out.getvalue()).encode()  # BOM: Excel reads the Chinese correctly
        page, offset = first, 0
        while page.items and offset < EXPORT_MAX:
            out.seek(0)
            out.truncate()
            for row in page.items:
                writer.writerow([neutralise(c.text) for c in cells(row, lang)])  # no formulas (OWASP)
            yield out.getvalue().encode()
            offset += limit
            if offset >= page.total:
                break
            page = find(platform, user, filters, sort=sort, offset=offset, limit=limit)

    name = f"{kind}-{platform.local_today().isoformat()}.csv"
    return StreamingResponse(
        body(), media_type="text/csv; charset=utf-8", headers={"Content-Disposition": attachment(name)}
    )


@router.get("/{kind}/export")
def list_export(kind: str, request: Request, platform: PlatformDep, user: ConsoleUser, lang: Lang) -> Response:
    """The CSV of the organisations, standards, verifications or certificates list (the instruments have
    the 督办 export above, matched first)."""
    if kind not in _COLUMNS:
        raise not_found("page", kind)
    return _export(request, platform, user, lang, kind)


# ---------------------------------------------------------------------------------------------------
# detail pages


def _history_table(platform: Platform, user: Any, kind: str, object_id: int, lang: str) -> Table:
    t = _t(lang)
    page = history.object_history(platform, user, kind, object_id, lang=lang, limit=50)
    rows = []
    for e in page.items:
        changes = "；".join(
            f"{c.field}：{c.before} → {c.after}" if c.before else f"{c.field}：{c.after}" for c in e.changes
        )
        rows.append([Cell(e.at_local), Cell(e.actor), Cell(e.action), Cell(e.subject), Cell(changes)])
    return Table(
        heading=t["history"],
        columns=[t["when"], t["who"], t["action"], t["what"], t["changes"]],
        rows=rows,
        empty=t["history_note"],
    )


def _chain(chain: traceability.Chain | None, reason: str, lang: str) -> dict[str, Any]:
    t = _t(lang)
    if chain is None:
        return {"none": t["chain_none"] + reason}
    rows = []
    nodes = []
    for link in chain.links:
        ok = link.status == "ok"
        status = _bilingual(link.reason, lang)
        rows.append(
            [
                Cell(str(link.level)),
                Cell(_label(LINK_LABELS, link.kind, lang)),
                Cell(link.item),
                Cell(link.standard_name or link.anchor),
                Cell(link.certificate_no),
                Cell(_date(link.on)),
                Cell(_date(link.valid_until)),
                Cell(_uncertainty(link.uncertainty, link.unit, lang)),
                Cell(status, cls="" if ok else "late"),
            ]
        )
        nodes.append({"name": link.item, "ok": ok, "label": status})
        if link.kind == "anchor" and link.anchor:
            nodes.append({"name": link.anchor, "ok": ok, "label": ""})
    table = Table(
        heading=t["chain"],
        columns=[
            t["level"],
            t["link_kind"],
            t["item_col"],
            t["used"],
            t["document_no"],
            t["on"],
            t["valid_until"],
            t["u"],
            t["link_status"],
        ],
        rows=rows,
    )
    return {"table": table, "graph": json.dumps({"nodes": nodes}, ensure_ascii=False), "alt": t["graph_alt"]}


def _detail(
    request: Request,
    user: Any,
    lang: str,
    title: str,
    facts: list[tuple[str, Cell]],
    tables: list[Table],
    **extra: Any,
) -> HTMLResponse:
    ctx = _context(request, user, lang, title)
    ctx.update(facts=facts, tables=tables, intro="", styles=True, **extra)
    return templates.TemplateResponse(request, "console/supervision/detail.html", ctx)


@router.get("/instruments/{instrument_id}", response_class=HTMLResponse)
def instrument_page(
    instrument_id: int, request: Request, platform: PlatformDep, user: ConsoleUser, lang: Lang
) -> HTMLResponse:
    t = _t(lang)
    r = search.instrument_row(platform, user, instrument_id)  # NotFound outside the jurisdiction
    facts = [
        (t["name"], Cell(r.name)),
        (t["serial"], Cell(r.serial_number)),
        (t["item"], Cell(r.item_name)),
        (t["model"], Cell(f"{r.model} · {r.manufacturer}")),
        (t["owner"], Cell(r.owner_name, f"{router.prefix}/organisations/{r.owner_id}")),
        (t["credit_code"], Cell(r.owner_credit_code)),
        (t["contact"], Cell(r.owner_contact)),
        (t["location"], Cell(r.location)),
        (t["region"], Cell(r.region_name)),
        (t["status"], Cell(_label(labels.INSTRUMENT_STATUS, r.status, lang))),
        (t["last_verified"], Cell(_date(r.last_verified_on) or t["never"])),
        (t["due_on"], Cell(_date(r.due_on) or "—")),
    ]
    if r.days_overdue and r.days_overdue > 0:
        facts.append((t["days_overdue"], Cell(f"{r.days_overdue:,}")))
    records = search.search_records(platform, user, {"instrument_id": instrument_id}, limit=50)
    certs = search.search_certificates(platform, user, {"instrument_id": instrument_id}, limit=50)
    tables = [
        Table(
            t["records_of"],
            [
                t["document_no"],
                t["instrument"],
                t["serial"],
                t["owner"],
                t["institution"],
                t["verified_on"],
                t["conclusion"],
                t["due_on"],
            ],
            [_record_cells(x, lang) for x in records.items],
            t["none"],
        ),
        Table(
            t["certificates_of"],
            [t["number"], t["instrument"], t["serial"], t["owner"], t["issuer"], t["issued_at"], t["status"]],
            [_certificate_cells(x, lang) for x in certs.items],
            t["none"],
        ),
    ]
    try:
        chain = _chain(traceability.instrument_chain(platform, user, instrument_id), "", lang)
    except JiliangError as exc:
        chain = _chain(None, exc.message, lang)
    tables.append(_history_table(platform, user, "instrument", instrument_id, lang))
    return _detail(request, user, lang, f"{r.name} {r.serial_number}", facts, tables, chain=chain)


@router.get("/organisations/{org_id}", response_class=HTMLResponse)
def organisation_page(
    org_id: int, request: Request, platform: PlatformDep, user: ConsoleUser, lang: Lang
) -> HTMLResponse:
    t = _t(lang)
    o = search.organisation_row(platform, user, org_id)
    facts = [
        (t["name"], Cell(o.name)),
        (t["credit_code"], Cell(o.credit_code)),
        (t["kind"], Cell(_label(labels.ORGANISATION_KIND, o.kind, lang))),
        (t["region"], Cell(o.region_name)),
        (t["address"], Cell(o.address)),
        (t["contact"], Cell(o.contact)),
        (t["count"], Cell(f"{o.instruments:,}", _href(router.prefix + "/instruments", q=o.credit_code))),
    ]
    overdue = search.search_instruments(
        platform, user, {"owner_id": org_id, "state": "overdue"}, limit=PAGE_SIZE
    )
    tables = [
        Table(
            t["state_overdue"],
            [t["name"], t["serial"], t["item"], t["due_on"], t["days_overdue"]],
            [
                [
                    Cell(r.name, _instrument_link(r)),
                    Cell(r.serial_number),
                    Cell(r.item_name),
                    Cell(_date(r.due_on) or "—"),
                    Cell(f"{r.days_overdue or 0:,}", cls="num"),
                ]
                for r in overdue.items
            ],
            t["none"],
            more=Cell(t["instruments_of"], _href(router.prefix + "/instruments", q=o.credit_code)),
        ),
        _history_table(platform, user, "organisation", org_id, lang),
    ]
    return _detail(request, user, lang, o.name, facts, tables)


@router.get("/standards/{standard_id}", response_class=HTMLResponse)
def standard_page(
    standard_id: int, request: Request, platform: PlatformDep, user: ConsoleUser, lang: Lang
) -> HTMLResponse:
    t = _t(lang)
    s = search.standard_row(platform, user, standard_id)
    facts = [
        (t["name"], Cell(s.name)),
        (t["kind"], Cell(_label(labels.STANDARD_KIND, s.kind, lang))),
        (t["holder"], Cell(s.holder_name, f"{router.prefix}/organisations/{s.holder_id}")),
        (t["region"], Cell(s.region_name)),
        (t["quantity"], Cell(f"{s.quantity} {s.measuring_range}".strip())),
        (t["u"], Cell(s.uncertainty)),
        (t["certificate_no"], Cell(s.certificate_no)),
        (t["valid_until"], Cell(_date(s.certificate_valid_until))),
        (t["days_left"], Cell(f"{s.days_left:,}")),
    ]
    try:
        chain = _chain(traceability.standard_chain(platform, user, standard_id), "", lang)
    except JiliangError as exc:
        chain = _chain(None, exc.message, lang)
    return _detail(
        request,
        user,
        lang,
        s.name,
        facts,
        [_history_table(platform, user, "standard", standard_id, lang)],
        chain=chain,
    )


@router.get("/verifications/{record_id}", response_class=HTMLResponse)
def record_page(
    record_id: int, request: Request, platform: PlatformDep, user: ConsoleUser, lang: Lang
) -> HTMLResponse:
    t = _t(lang)
    r = search.record_row(platform, user, record_id)
    facts = [
        (t["document_no"], Cell(r.document_no)),
        (
            t["instrument"],
            Cell(f"{r.instrument_name} {r.serial_number}", f"{router.prefix}/instruments/{r.instrument_id}"),
        ),
        (t["owner"], Cell(r.owner_name)),
        (t["institution"], Cell(r.institution_name)),
        (t["standard"], Cell(r.standard_name)),
        (t["verified_on"], Cell(_date(r.verified_on))),
        (t["conclusion"], Cell(_label(labels.CONCLUSION, r.conclusion, lang))),
        (t["due_on"], Cell(_date(r.due_on))),
        ("检定规程" if lang == "zh" else "Regulation", Cell(r.regulation)),
    ]
    data = measured_verifications.of_record(platform, user, record_id)
    facts.append(
        (
            t["with_data"],
            Cell(t["data_link"], f"{router.prefix}/verifications/{record_id}/data")
            if data is not None
            else Cell(t["data_none"]),
        )
    )
    return _detail(
        request, user, lang, r.document_no, facts, [_history_table(platform, user, "record", record_id, lang)]
    )


@router.get("/verifications/{record_id}/data", response_class=HTMLResponse)
def record_data_page(
    record_id: int, request: Request, platform: PlatformDep, user: ConsoleUser, lang: Lang
) -> HTMLResponse:
    """The verification behind a record as recorded and signed off: test points, MPE and its basis, U (k),
    the decision rule, the conclusion and the three persons; read-only (the institution's own page signs)."""
    view = measured_verifications.of_record(platform, user, record_id)
    if view is None:
        raise not_found("verification data", record_id)
    ctx = institution_page_context(request, user, lang, "detail_title")
    for key, text in _t(lang).items():  # the navigation's labels; the verification's own labels win
        ctx["t"].setdefault(key, text)
    ctx.update(
        v=view,
        read_only=True,
        back=(_t(lang)["back_record"], f"{router.prefix}/verifications/{record_id}"),
        section_nav=_section_nav(lang, request.url.path),
    )
    return templates.TemplateResponse(request, "console/institution_detail.html", ctx)


@router.get("/certificates/{certificate_id}", response_class=HTMLResponse)
def certificate_page(
    certificate_id: int, request: Request, platform: PlatformDep, user: ConsoleUser, lang: Lang
) -> HTMLResponse:
    t = _t(lang)
    c = search.certificate_row(platform, user, certificate_id)
    facts = [
        (t["number"], Cell(c.number, f"/v/{c.number}")),
        (
            t["instrument"],
            Cell(
                f"{c.instrument_name} {c.serial_number}".strip(),
                f"{router.prefix}/instruments/{c.instrument_id}" if c.instrument_id else None,
            ),
        ),
        (t["owner"], Cell(c.owner_name)),
        (t["issuer"], Cell(c.issuer_name)),
        (t["issued_at"], Cell(local_time(c.issued_at))),
        (t["status"], Cell(_label(labels.CERTIFICATE_STATUS, c.status, lang))),
        ("说明" if lang == "zh" else "Reason", Cell(c.status_reason)),
    ]
    return _detail(
        request,
        user,
        lang,
        c.number,
        facts,
        [_history_table(platform, user, "certificate", certificate_id, lang)],
    )


# ---------------------------------------------------------------------------------------------------
# 督办


@router.get("/followups", response_class=HTMLResponse)
def followups_page(
    request: Request,
    platform: PlatformDep,
    user: ConsoleUser,
    lang: Lang,
    state: str = "all",
    offset: Annotated[int, Query(ge=0)] = 0,
) -> HTMLResponse:
    t = _t(lang)
    page = followup.list_follow_ups(platform, user, state=state or "all", offset=offset, limit=PAGE_SIZE)
    fields = [
        _choice(
            "state",
            t["state"],
            state,
            [("all", t["all"])] + [(st, t["state_" + st]) for st in ("open", "verified", "closed")],
        ),
    ]
    rows = [
        [
            Cell(f.instrument_name, f"{router.prefix}/instruments/{f.instrument_id}"),
            Cell(f.serial_number),
            Cell(f.owner_name),
            Cell(f.owner_contact),
            Cell(f.location or f.region_name),
            Cell(_date(f.due_on) or "—"),
            Cell(_date(f.opened_on)),
            Cell(f.opened_by),
            Cell(f"{f.reminders_delivered}/{f.reminders_queued}", cls="num"),
            Cell(
                t["not_yet"]
                if f.verified_on is None
                else f"{_date(f.verified_on)} {_label(labels.CONCLUSION, f.verified_conclusion, lang)}",
                cls="late" if f.verified_on is None and f.closed_at is None else "",
            ),
            Cell(_follow_state(f, t), f"{router.prefix}/followups/{f.id}"),
        ]
        for f in page.items
    ]
    return _list_response(
        request, user, lang, t["followups"], fields,
        [t["name"], t["serial"], t["owner"], t["contact"], t["location"], t["due_on"], t["opened_on"], t["opened_by"], t["reminders"], t["verified_since"], t["follow_state"]],
        rows, page,
        exports=[Cell(t["state_overdue"], _href(router.prefix + "/instruments", state="overdue"))],
    )  # fmt: skip


def _follow_state(f: followup.FollowUpRow, t: dict[str, str]) -> str:
    if f.verified_on is not None:
        return t["state_verified"]
    if f.closed_at is not None:
        return f"{t['state_closed']}：{f.close_reason}"
    return t["follow_open_now"]


@router.get("/followups/{follow_up_id}", response_class=HTMLResponse)
def follow_up_page(
    follow_up_id: int,
    request: Request,
    platform: PlatformDep,
    user: ConsoleUser,
    lang: Lang,
    done: Annotated[str, Query(pattern="^(closed|reopened)?$")] = "",
) -> HTMLResponse:
    return _follow_up_response(request, platform, user, lang, follow_up_id, done=done)


def _follow_up_response(
    request: Request,
    platform: Platform,
    user: Any,
    lang: str,
    follow_up_id: int,
    *,
    done: str = "",
    error: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    t = _t(lang)
    f = followup.get(platform, user, follow_up_id)
    facts = [
        (t["name"], Cell(f"{f.instrument_name} {f.serial_number}", f"{router.prefix}/instruments/{f.instrument_id}")),
        (t["owner"], Cell(f.owner_name)),
        (t["contact"], Cell(f.owner_contact)),
        (t["location"], Cell(f.location or f.region_name)),
        (t["due_on"], Cell(_date(f.due_on) or "—")),
        (t["opened_on"], Cell(_date(f.opened_on))),
        (t["opened_by"], Cell(f.opened_by)),
        (t["note"], Cell(f.note or "—")),
        (t["reminders"], Cell(f"{f.reminders_delivered}/{f.reminders_queued}")),
        (
            t["verified_since"],
            Cell(
                t["not_yet"]
                if f.verified_on is None
                else f"{_date(f.verified_on)} {_label(labels.CONCLUSION, f.verified_conclusion, lang)}"
            ),
        ),
        (t["follow_state"], Cell(_follow_state(f, t))),
    ]
    if f.closed_at is not None:
        facts += [(t["closed_by"], Cell(f.closed_by)), (t["closed_at"], Cell(local_time(f.closed_at)))]
    action = None
    if f.verified_on is None:
        verb = "reopen" if f.closed_at is not None else "close"
        action = {
            "href": f"{router.prefix}/followups/{f.id}/{verb}?lang={lang}",
            "label": t[verb],
            "reason": t["reason"],
            "hint": t["reason_hint"] if verb == "close" else "",
        }
    notice = t["closed_ok"] if done == "closed" else t["reopened_ok"] if done == "reopened" else ""
    ctx = _context(request, user, lang, f"{t['follow_title']} {f.instrument_name} {f.serial_number}")
    ctx.update(
        facts=facts,
        tables=[_history_table(platform, user, "follow_up", follow_up_id, lang)],
        intro="",
        styles=True,
        action=action,
        notice=notice,
        error=error,
    )
    return templates.TemplateResponse(request, "console/supervision/detail.html", ctx, status_code=status_code)


@router.post("/followups/{follow_up_id}/{verb}", dependencies=[CsrfForm])
def close_or_reopen_follow_up(
    follow_up_id: int,
    verb: str,
    request: Request,
    platform: PlatformDep,
    user: ConsoleUser,
    lang: Lang,
    reason: Annotated[str, Form()] = "",
) -> Response:
    if verb not in ("close", "reopen"):
        raise not_found("page", verb)
    run = followup.close if verb == "close" else followup.reopen
    try:
        run(platform, user, follow_up_id, reason)
    except JiliangError as exc:
        if exc.code == "not_found":
            raise
        return _follow_up_response(
            request, platform, user, lang, follow_up_id, error=exc.message, status_code=409 if isinstance(exc, Conflict) else 422
        )
    done = "closed" if verb == "close" else "reopened"
    return RedirectResponse(
        f"{router.prefix}/followups/{follow_up_id}?lang={lang}&done={done}", status_code=303
    )


@router.post("/followups", dependencies=[CsrfForm])
def mark_follow_ups(
    request: Request,
    platform: PlatformDep,
    user: ConsoleUser,
    lang: Lang,
    instrument_ids: Annotated[list[int], Form()],
    note: Annotated[str, Form()] = "",
    remind: Annotated[str, Form()] = "",
    back: Annotated[str, Form()] = "",
) -> Response:
    t = _t(lang)
    result = followup.mark(platform, user, instrument_ids, note=note, remind=bool(remind))
    lines = [t["marked"].format(n=len(result.opened), r=result.reminders_queued)]
    if result.already_open:
        lines.append(t["already"].format(n=len(result.already_open)))
    if result.owners_without_webhook:
        lines.append(t["no_hook"].format(names="、".join(result.owners_without_webhook)))
    target = (
        back
        if back.startswith(router.prefix + "/instruments")
        else router.prefix + "/instruments?state=overdue"
    )
    sep = "&" if "?" in target else "?"
    return RedirectResponse(target + sep + urlencode({"marked": "\n".join(lines)}), status_code=303)
