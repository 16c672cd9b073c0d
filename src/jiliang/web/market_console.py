"""The market-supervision console (/console/market): random-inspection plans, the field result form,
net-content inspections, credit grades, cases, and the complaint officer's complaints.

Thin pages over ``services.market``: each calls the service with the signed-in Principal, so the roles
and jurisdictions are the API's; an id outside the caller's reach is answered as not found (404 page).
Supervisors use every page; the complaint officer (举报受理专员) handles complaints, reads a reporter's
identity (each read audited) and opens a case from a complaint.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import Field
from starlette.datastructures import UploadFile

from jiliang.api.deps import PlatformDep
from jiliang.domain.access import Principal, Role
from jiliang.errors import InvalidInput, JiliangError, NotAuthorised, NotFound
from jiliang.legal import cases as case_rules
from jiliang.services import organisations
from jiliang.services.market import cases, complaints, credit, photos, plans, results
from jiliang.services.market.common import organisation_names
from jiliang.services.platform import Platform
from jiliang.web.auth import ConsoleUser, CsrfForm, Lang, console_context
from jiliang.web.common import templates
from jiliang.web.market_labels import MANUAL_EVENTS, ORG_KINDS, RULESETS, STRATA_BY, labeller
from jiliang.web.net_content_form import NetContentFields

router = APIRouter(prefix="/console/market", include_in_schema=False)
Id = Annotated[int, Path(ge=1, le=2**63 - 1)]  # bounded: a 65-bit id is a 422, not an OverflowError
INSTRUMENT_ROWS = 3  # rows the field form starts with; "add a row" posts the form back with one more
MAX_INSTRUMENT_ROWS = results.MAX_INSTRUMENTS
_ROW_FIELD = re.compile(r"(?:instrument|description|error|mpe|unit)_(\d{1,4})")

STRINGS: dict[str, dict[str, str]] = {
    "zh": {
        "plans": "双随机抽查计划",
        "plans_intro": "从名录中按区划、单位类型和目录项确定抽查对象，按信用等级和超期率加权抽取；"
        "抽取前公布随机种子的承诺值，抽取后公布种子和名单，任何人都可以复核。",
        "new_plan": "新建抽查计划",
        "name": "计划名称",
        "region": "区划",
        "org_kinds": "抽查对象类型",
        "item": "目录项（可选：只抽持有该类在用器具的单位）",
        "any_item": "不限",
        "ratio": "抽查比例（%）",
        "quotas": "或各层抽取数量（每行一层，如“集贸市场经营者=15”或“东城区/加油站=5”；填写后不用比例）",
        "strata_by": "分层方式",
        "quotas_short": "各层数量",
        "team_size": "每组检查人员数",
        "lookback": "回避期（天，近期检查过同一单位的人员不再派出）",
        "weights_note": "抽取权重由系统按信用等级（A 0.5、B 1、C 2、D 4）乘以（1 + 强检器具超期比例）计算，"
        "冻结在公布的名录中。",
        "create": "创建计划",
        "status": "状态",
        "population": "名录单位数",
        "targets_count": "抽中",
        "no_plans": "暂无抽查计划。",
        "commitment": "种子承诺值（SHA-256）",
        "population_hash": "名录哈希",
        "committed_at": "公布承诺时间",
        "drawn_at": "抽取时间",
        "seed": "随机种子",
        "algorithm": "算法",
        "created_by": "创建人",
        "publish": "冻结名录并公布种子承诺值",
        "publish_note": "公布后名录和种子不能再更改。留空则由平台生成种子，抽取时公开；"
        "也可填入自备种子（如公开摇号结果）的 SHA-256 承诺值，抽取时再填入种子。",
        "own_commitment": "自备种子的承诺值（可选）",
        "draw": "公开种子并抽取",
        "draw_note": "只能抽取一次。抽取结果、种子和名单同时写入透明日志并公示。",
        "own_seed": "种子（仅在公布了自备承诺值时填写）",
        "public_page": "公示页（任何人可复核）",
        "drawn_list": "抽中对象与检查人员",
        "rank": "序号",
        "organisation": "单位",
        "stratum": "分层",
        "weight": "权重",
        "inspectors": "检查人员",
        "conclusion": "结论",
        "record": "录入结果",
        "view": "查看",
        "no_stratum": "—",
        "target": "抽查对象",
        "plan": "计划",
        "kind": "单位类型",
        "inspected_on": "检查日期",
        "findings": "检查发现",
        "photos": "现场照片（可选）",
        "photos_hint": "JPEG 或 PNG，最多 {n} 张，每张不超过 {mb} MB。先拍照，再从相册补选。",
        "photo_camera": "拍照",
        "photo_gallery": "从相册选择（可多选）",
        "photos_taken": "现场照片",
        "photo_alt": "现场照片 {n}",
        "instruments": "抽检器具及实测误差",
        "instrument": "器具",
        "instrument_free": "（名录外或未备案）",
        "description": "说明（名称、编号）",
        "measured_error": "实测误差",
        "mpe": "最大允许误差（绝对值）",
        "unit": "单位",
        "within": "在允许误差内",
        "beyond": "超出允许误差",
        "save_result": "保存检查结果",
        "correct_result": "保存更正（原结果保留）",
        "results": "已录入的结果",
        "supersedes": "更正了前一条结果",
        "recorded_at": "录入时间",
        "saved": "已保存。",
        "reassign": "调整检查人员",
        "reassign_intro": "因病、回避等原因更换检查人员。系统逐一检查回避情形（本单位、已申报的利害关系、"
        "回避期内检查过该单位），有冲突的会被拒绝并说明原因；调整记入审计日志和透明日志。",
        "reassign_reason": "调整原因",
        "reassign_save": "保存调整",
        "pool_link": "检查人员名录",
        "row": "第 {n} 台",
        "add_row": "再添一台器具",
        "net_content": "定量包装商品净含量检验",
        "net_intro": "按 JJF 1070 逐项判定：短缺量超过 T 的件数、超过 2T 的件数和平均净含量；"
        "也可按欧盟平均数制检验。",
        "new_net": "录入一批检验",
        "product": "商品名称",
        "ruleset": "检验规则",
        "ruleset_in_force": "按检验日期适用的 JJF 1070 版本",
        "nominal": "标注净含量 Qn",
        "qn_unit": "Qn 的单位（g、kg、mL、L、m、m²、个）",
        "lot_size": "批量 N",
        "measurements": "样本各件实测净含量（空格、逗号或换行分隔）",
        "measurement_unit": "实测值单位（与 Qn 不同时填写）",
        "tares": "皮重（可选：逐件皮重，或皮重样本）",
        "method": "检验方法",
        "drained": "沥干物净含量",
        "inspect": "检验并保存",
        "no_net": "暂无净含量检验。",
        "verdict": "判定",
        "report": "检验报告",
        "criterion": "判定项目",
        "required": "要求",
        "observed": "实测",
        "result": "结果",
        "met": "✓ 符合",
        "not_met": "✕ 不符合",
        "na": "不适用",
        "tolerable_deficiency": "允许短缺量 T",
        "sample_size": "样本量 n",
        "mean": "平均实际净含量",
        "sd": "样本标准偏差 s",
        "lambda": "修正因子 λ",
        "mean_limit": "平均值下限 Qn − λs",
        "evidence": "数据依据",
        "confirmed": "已核实",
        "provisional": "待核实",
        "credit": "诚信计量与信用等级",
        "credit_intro": "信用事件按评分规则计分，得出 A/B/C/D 等级；等级决定抽查权重和检查频次。",
        "grades": "等级分布",
        "grade": "等级",
        "count": "单位数",
        "score": "得分",
        "units": "诚信计量单位数（{year} 年）",
        "self_commitment": "自我承诺单位",
        "exemplary": "示范单位",
        "actual": "实际",
        "goal": "规划目标",
        "no_goal": "未设定",
        "due": "按信用等级应检查的单位",
        "due_intro": "上次检查距今已超过等级对应的检查间隔（或从未检查）的单位，等级低者在前。",
        "last_inspected": "上次检查",
        "never": "从未检查",
        "interval": "检查间隔（天）",
        "days_since": "已过天数",
        "none_due": "目前没有应检查的单位。",
        "explain": "逐项说明",
        "event": "事件",
        "occurred_on": "日期",
        "points": "分值",
        "counted": "计入",
        "reason": "说明",
        "repaired": "已修复：连续一年无失信事件，此前的扣分不再计入。",
        "as_of": "评定日",
        "policy": "评分规则",
        "add_event": "登记信用事件",
        "note": "备注",
        "add": "登记",
        "no_events": "暂无信用事件：按基础分评定。",
        "sampling_weight": "抽查权重",
        "per_year": "每年检查次数",
        "cases": "案件",
        "cases_intro": "立案 → 调查 → 决定 → 结案，逐步办理；期限从立案日起算。",
        "number": "案号",
        "source": "来源",
        "filed_on": "立案日期",
        "investigate_by": "调查期限",
        "decide_by": "决定期限",
        "close_by": "结案期限",
        "decided_on": "决定日期",
        "closed_on": "结案日期",
        "overdue": "超期",
        "no_cases": "暂无案件。",
        "all": "全部",
        "filter": "筛选",
        "current": "当前",
        "summary": "案情摘要",
        "evidence_links": "证据（每行一项：文件、照片编号或链接）",
        "evidence_list": "关联证据",
        "open_case": "立案",
        "open_case_note": "以此为来源立案，案件期限自今天起算。",
        "step": "办理下一步",
        "to_investigating": "开始调查",
        "to_decided": "作出决定",
        "to_closed": "结案",
        "violation": "是否构成违法",
        "yes": "是",
        "no": "否",
        "decision": "决定内容",
        "penalty": "处罚（如有）",
        "add_evidence": "补充证据（可选）",
        "closed_note": "案件已结案。认定违法的，结案时已记入单位信用记录。",
        "source_link": "查看来源",
        "complaints": "举报",
        "complaints_intro": "公众通过公开页提交的举报。举报人身份加密保存，只有举报受理专员可以查看，且每次查看均记录在审计日志中。",
        "received_at": "受理时间",
        "subject": "被举报对象",
        "content": "举报内容",
        "anonymous": "匿名",
        "named": "实名",
        "reporter": "举报人",
        "no_complaints": "暂无举报。",
        "audit_notice": "查看举报人身份将记入审计日志（查看人、时间和理由），请仅在办理需要时查看。",
        "reveal": "查看举报人身份（记入审计）",
        "reveal_reason": "查看理由",
        "reporter_name": "姓名",
        "reporter_phone": "联系电话",
        "reporter_id": "身份证号",
        "reporter_address": "地址",
        "anonymous_reporter": "匿名举报，没有举报人信息。",
        "identity_shown": "以下信息仅本次显示，本次查看已记入审计日志。",
        "move": "办理",
        "move_to": "转为",
        "link_organisation": "关联名录中的被举报单位（属实时记入其信用记录）",
        "not_linked": "暂不关联",
        "resolution": "办理结果（举报人凭回执码可见）",
        "reward": "奖励记录",
        "save": "保存",
        "case_opened": "已立案",
        "linked_case": "关联案件",
        "home": "返回",
        "error": "无法完成",
        "complaint_officer_only": "只有举报受理专员可以查看举报人身份。",
    },
    "en": {
        "plans": "Random-inspection plans",
        "plans_intro": "Targets come from the registry by region, kind of organisation and catalogue item, drawn "
        "with weights from credit grades and overdue rates; the commitment to the random seed is published "
        "before the draw, the seed and list after it, so anyone can re-run it.",
        "new_plan": "New plan",
        "name": "Plan name",
        "region": "Region",
        "org_kinds": "Kinds of organisation",
        "item": "Catalogue item (optional: only holders of in-service instruments of it)",
        "any_item": "Any",
        "ratio": "Sampling ratio (%)",
        "quotas": "Or a quota per stratum (one a line, e.g. 'Market operator=15' or '东城区/Fuel station=5'; "
        "replaces the ratio)",
        "strata_by": "Strata",
        "quotas_short": "Quotas",
        "team_size": "Inspectors per team",
        "lookback": "Look-back (days: inspectors recently at the same organisation are not sent)",
        "weights_note": "Weights are the credit grade's (A 0.5, B 1, C 2, D 4) times (1 + share of compulsory "
        "instruments overdue), frozen in the published population.",
        "create": "Create the plan",
        "status": "Status",
        "population": "Population",
        "targets_count": "Drawn",
        "no_plans": "No plan yet.",
        "commitment": "Seed commitment (SHA-256)",
        "population_hash": "Population hash",
        "committed_at": "Commitment published",
        "drawn_at": "Drawn",
        "seed": "Seed",
        "algorithm": "Algorithm",
        "created_by": "Created by",
        "publish": "Freeze the population and publish the seed commitment",
        "publish_note": "After this the population and the seed cannot change. Leave empty to let the platform "
        "draw the seed (revealed at the draw), or give the SHA-256 commitment of a seed of your own (a public "
        "lottery result, say) and enter the seed at the draw.",
        "own_commitment": "Commitment to your own seed (optional)",
        "draw": "Reveal the seed and draw",
        "draw_note": "Once only. The seed and the list go into the transparency log and onto the public page.",
        "own_seed": "Seed (only if you published your own commitment)",
        "public_page": "Public page (anyone can re-run)",
        "drawn_list": "Drawn organisations and inspectors",
        "rank": "#",
        "organisation": "Organisation",
        "stratum": "Stratum",
        "weight": "Weight",
        "inspectors": "Inspectors",
        "conclusion": "Conclusion",
        "record": "Record result",
        "view": "View",
        "no_stratum": "—",
        "target": "Inspection target",
        "plan": "Plan",
        "kind": "Kind",
        "inspected_on": "Inspected on",
        "findings": "Findings",
        "photos": "Photos from the site (optional)",
        "photos_hint": "JPEG or PNG, at most {n}, each up to {mb} MB. Take one with the camera, add more from the gallery.",
        "photo_camera": "Take a photo",
        "photo_gallery": "Choose from the gallery (several allowed)",
        "photos_taken": "Photos from the site",
        "photo_alt": "Photo {n} from the site",
        "instruments": "Instruments checked and measured errors",
        "instrument": "Instrument",
        "instrument_free": "(not in the registry)",
        "description": "Description (name, number)",
        "measured_error": "Measured error",
        "mpe": "Maximum permissible error (absolute)",
        "unit": "Unit",
        "within": "within the MPE",
        "beyond": "beyond the MPE",
        "save_result": "Save the result",
        "correct_result": "Save a correction (the earlier result is kept)",
        "results": "Results recorded",
        "supersedes": "corrects the previous result",
        "recorded_at": "Recorded",
        "saved": "Saved.",
        "reassign": "Change the inspectors",
        "reassign_intro": "Replace inspectors (illness, a conflict…). Each one is checked for a conflict of "
        "interest (own organisation, a declared relation, a recent pairing) and refused with the reason; the "
        "change goes to the audit trail and the transparency log.",
        "reassign_reason": "Reason for the change",
        "reassign_save": "Save the change",
        "pool_link": "Inspector pool",
        "row": "Instrument {n}",
        "add_row": "Add another instrument",
        "net_content": "Net content of prepackaged goods",
        "net_intro": "Judged criterion by criterion after JJF 1070: units short by more than T, by more than "
        "2T, and the mean; or by the EU average system.",
        "new_net": "Inspect a lot",
        "product": "Product",
        "ruleset": "Rule set",
        "ruleset_in_force": "The JJF 1070 edition in force on the inspection date",
        "nominal": "Nominal quantity Qn",
        "qn_unit": "Unit of Qn (g, kg, mL, L, m, m², pcs)",
        "lot_size": "Lot size N",
        "measurements": "Net quantity of each sampled unit (spaces, commas or new lines)",
        "measurement_unit": "Unit of the values (if not Qn's)",
        "tares": "Tares (optional: one per unit, or a tare sample)",
        "method": "Method",
        "drained": "Drained weight",
        "inspect": "Inspect and save",
        "no_net": "No net-content inspection yet.",
        "verdict": "Verdict",
        "report": "Inspection report",
        "criterion": "Criterion",
        "required": "Required",
        "observed": "Observed",
        "result": "Result",
        "met": "✓ met",
        "not_met": "✕ not met",
        "na": "not applicable",
        "tolerable_deficiency": "Tolerable deficiency T",
        "sample_size": "Sample size n",
        "mean": "Mean net quantity",
        "sd": "Sample standard deviation s",
        "lambda": "Factor λ",
        "mean_limit": "Lower limit of the mean Qn − λs",
        "evidence": "Evidence of the rule",
        "confirmed": "confirmed",
        "provisional": "provisional",
        "credit": "Honest metrology and credit grades",
        "credit_intro": "Credit events score points by the policy and give a grade A–D; grades drive sampling "
        "weights and inspection frequency.",
        "grades": "Grades",
        "grade": "Grade",
        "count": "Organisations",
        "score": "Score",
        "units": "Honest-metrology units ({year})",
        "self_commitment": "Self-committed units",
        "exemplary": "Exemplary units",
        "actual": "Actual",
        "goal": "Plan target",
        "no_goal": "not set",
        "due": "Due for inspection by grade",
        "due_intro": "Organisations whose last inspection is older than their grade's interval (or never "
        "inspected), worst grades first.",
        "last_inspected": "Last inspected",
        "never": "never",
        "interval": "Interval (days)",
        "days_since": "Days since",
        "none_due": "Nobody is due for inspection.",
        "explain": "Every point explained",
        "event": "Event",
        "occurred_on": "Date",
        "points": "Points",
        "counted": "Counted",
        "reason": "Why",
        "repaired": "Repaired: a year without negative events, earlier deductions no longer count.",
        "as_of": "As of",
        "policy": "Policy",
        "add_event": "Record a credit event",
        "note": "Note",
        "add": "Record",
        "no_events": "No credit events: graded on the base score.",
        "sampling_weight": "Sampling weight",
        "per_year": "Inspections per year",
        "cases": "Cases",
        "cases_intro": "Filed → investigating → decided → closed, one step at a time; deadlines count from filing.",
        "number": "Case number",
        "source": "Source",
        "filed_on": "Filed",
        "investigate_by": "Investigate by",
        "decide_by": "Decide by",
        "close_by": "Close by",
        "decided_on": "Decided",
        "closed_on": "Closed",
        "overdue": "Overdue",
        "no_cases": "No case yet.",
        "all": "All",
        "filter": "Filter",
        "current": "now",
        "summary": "Summary",
        "evidence_links": "Evidence (one a line: document, photo number or link)",
        "evidence_list": "Linked evidence",
        "open_case": "Open a case",
        "open_case_note": "Opens a case from this source; its deadlines count from today.",
        "step": "Next step",
        "to_investigating": "Start the investigation",
        "to_decided": "Decide",
        "to_closed": "Close the case",
        "violation": "Was there a violation?",
        "yes": "Yes",
        "no": "No",
        "decision": "Decision",
        "penalty": "Penalty (if any)",
        "add_evidence": "More evidence (optional)",
        "closed_note": "The case is closed. A violation found was written to the organisation's credit record.",
        "source_link": "Open the source",
        "complaints": "Complaints",
        "complaints_intro": "Complaints sent through the public portal. Reporters' identities are stored "
        "encrypted; only the complaint officer can read one, and every read is written to the audit log.",
        "received_at": "Received",
        "subject": "Complained about",
        "content": "Complaint",
        "anonymous": "anonymous",
        "named": "named",
        "reporter": "Reporter",
        "no_complaints": "No complaints.",
        "audit_notice": "Reading the reporter's identity is written to the audit log (who, when, why): read "
        "it only when handling the complaint needs it.",
        "reveal": "Read the reporter's identity (audited)",
        "reveal_reason": "Reason for reading",
        "reporter_name": "Name",
        "reporter_phone": "Phone",
        "reporter_id": "ID number",
        "reporter_address": "Address",
        "anonymous_reporter": "Anonymous complaint: no identity was given.",
        "identity_shown": "Shown this once; this read is in the audit log.",
        "move": "Handle",
        "move_to": "Move to",
        "link_organisation": "Link the registered organisation (a confirmed complaint enters its credit record)",
        "not_linked": "not now",
        "resolution": "Resolution (the reporter sees it with the receipt code)",
        "reward": "Reward",
        "save": "Save",
        "case_opened": "case opened",
        "linked_case": "Linked case",
        "home": "Back",
        "error": "Could not complete",
        "complaint_officer_only": "Only the complaint officer may read a reporter's identity.",
    },
}


# --- shared helpers ----------------------------------------------------------------------------------


def _context(request: Request, principal: Principal, lang: str, title: str) -> dict[str, Any]:
    context = console_context(request, principal, lang)
    context["t"].update(STRINGS[lang])
    context["title"] = context["t"].get(title, title)
    context["label"] = labeller(lang)
    return context


def _page(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    return templates.TemplateResponse(request, f"console/{name}", context, status_code=status_code)


def _refuse(context: dict[str, Any], exc: JiliangError) -> None:
    """Show a refusal on the page it came from; not-found stays a 404 page (never shown as a message)."""
    if isinstance(exc, NotFound):
        raise exc
    context.update(error=exc.message, field=exc.field)


def _refused(
    request: Request, name: str, context: dict[str, Any], exc: JiliangError, status_code: int = 422
) -> HTMLResponse:
    """The page ``name`` again, with the refusal shown (``_refuse``)."""
    _refuse(context, exc)
    return _page(request, name, context, status_code)


def _regions(platform: Platform, principal: Principal, lang: str) -> dict[str, str]:
    return {
        r.code: r.name_zh if lang == "zh" else (r.name_en or r.name_zh)
        for r in organisations.list_regions(platform, principal)
    }


def _done(request: Request, context: dict[str, Any]) -> None:
    if request.query_params.get("done"):
        context["notice"] = context["t"]["saved"]


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _float(text: str, field: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise InvalidInput(f"{field} 须为数 / {field} must be a number", field=field) from None


def _redirect(url: str, lang: str) -> RedirectResponse:
    sep = "&" if "?" in url else "?"
    return RedirectResponse(f"{url}{sep}lang={lang}", status_code=303)


# --- plans ---------------------------------------------------------------------------------------------


@router.get("", response_class=HTMLResponse)
def plans_page(request: Request, platform: PlatformDep, principal: ConsoleUser, lang: Lang) -> HTMLResponse:
    context = _context(request, principal, lang, "plans")
    context["plans"] = plans.list_plans(platform, principal)
    context["regions"] = _regions(platform, principal, lang)
    return _page(request, "market_plans.html", context)


def _plan_form(
    request: Request, platform: Platform, principal: Principal, lang: str, values: dict[str, Any]
) -> dict[str, Any]:
    from jiliang.services import catalogue

    context = _context(request, principal, lang, "new_plan")
    context["regions"] = _regions(platform, principal, lang)
    context["kinds"] = {k: (z if lang == "zh" else e) for k, (z, e) in ORG_KINDS.items()}
    context["strata"] = {k: (z if lang == "zh" else e) for k, (z, e) in STRATA_BY.items()}
    context["items"] = [
        (code, it.level2_zh if lang == "zh" else (it.level2_en or it.level2_zh))
        for code, it in sorted(catalogue.catalogue(platform).items())
    ]
    context["values"] = values
    return context


@router.get("/plans/new", response_class=HTMLResponse)
def new_plan_form(
    request: Request, platform: PlatformDep, principal: ConsoleUser, lang: Lang
) -> HTMLResponse:
    plans.list_plans(platform, principal)  # supervisors only: the same refusal as the service
    values = {
        "region_code": principal.jurisdiction,
        "org_kinds": ["market_operator", "fuel_station"],
        "ratio": "10",
        "strata_by": "kind",
        "team_size": "2",
        "lookback_days": "365",
    }
    return _page(request, "market_plan_new.html", _plan_form(request, platform, principal, lang, values))


def _quotas(text: str, regions: dict[str, str]) -> dict[str, int]:
    """``stratum=count`` lines; a stratum is written as people read it (集贸市场经营者, 东城区,
    东城区/集贸市场经营者, or the codes) and stored as the plan's stratum codes."""
    names: dict[str, str] = {}
    for code, pair in ORG_KINDS.items():
        names.update({pair[0]: code, pair[1].casefold(): code, code: code})
    for code, name in regions.items():
        names.update({name: code, code: code})
    out: dict[str, int] = {}
    for line in _lines(text):
        name, sep, count = line.replace("＝", "=").partition("=")
        if not sep or not count.strip().isdigit():
            raise InvalidInput(
                f"各层数量须写作“分层=数量”：{line} / write each quota as stratum=count", field="quotas"
            )
        parts = [part.strip() for part in name.replace("／", "/").split("/")]
        codes = [names.get(part, names.get(part.casefold(), part)) for part in parts]
        if len(codes) == 2 and codes[0] in ORG_KINDS:  # kind/region written the other way round
            codes.reverse()
        out["/".join(codes)] = int(count.strip())
    return out


@router.post("/plans/new", response_class=HTMLResponse, dependencies=[CsrfForm])
def create_plan(
    request: Request,
    platform: PlatformDep,
    principal: ConsoleUser,
    lang: Lang,
    name: Annotated[str, Form(max_length=200)] = "",
    region_code: Annotated[str, Form(max_length=6)] = "",
    org_kinds: Annotated[list[str] | None, Form()] = None,
    item_code: Annotated[str, Form(max_length=10)] = "",
    ratio: Annotated[str, Form(max_length=20)] = "",
    quotas: Annotated[str, Form(max_length=5000)] = "",
    strata_by: Annotated[str, Form(max_length=20)] = "kind",
    team_size: Annotated[str, Form(max_length=3)] = "2",
    lookback_days: Annotated[str, Form(max_length=5)] = "365",
) -> Response:
    values: dict[str, Any] = {
        "name": name,
        "region_code": region_code,
        "org_kinds": org_kinds or [],
        "item_code": item_code,
        "ratio": ratio,
        "quotas": quotas,
        "strata_by": strata_by,
        "team_size": team_size,
        "lookback_days": lookback_days,
    }
    try:
        data: dict[str, Any] = {
            "name": name,
            "region_code": region_code,
            "org_kinds": org_kinds or [],
            "item_code": item_code or None,
            "strata_by": strata_by,
            "team_size": int(_float(team_size or "2", "team_size")),
            "lookback_days": int(_float(lookback_days or "365", "lookback_days")),
        }
        if quotas.strip():  # quotas, when given, replace the ratio
            data["quotas"] = _quotas(quotas, _regions(platform, principal, "zh"))
        elif ratio.strip():
            data["ratio"] = _float(ratio, "ratio") / 100
        created = plans.create_plan(platform, principal, data)
    except JiliangError as exc:
        return _refused(request, "market_plan_new.html", _plan_form(request, platform, principal, lang, values), exc)
    return _redirect(f"/console/market/plans/{created['id']}?done=1", lang)


def _plan_page(
    request: Request, platform: Platform, principal: Principal, lang: str, plan_id: int
) -> dict[str, Any]:
    plan = plans.get_plan(platform, principal, plan_id)
    context = _context(request, principal, lang, "plan")
    context["title"] = plan["name"]
    context["plan"] = plan
    context["regions"] = _regions(platform, principal, lang)
    context["targets"] = plans.plan_targets(platform, principal, plan_id) if plan["status"] == "drawn" else []
    kinds, regions = context["label"]["kind"], context["regions"]
    context["stratum_name"] = lambda code: "/".join(
        kinds.get(part) or regions.get(part) or part for part in str(code).split("/")
    )
    _done(request, context)
    return context


@router.get("/plans/{plan_id}", response_class=HTMLResponse)
def plan_page(
    request: Request, plan_id: Id, platform: PlatformDep, principal: ConsoleUser, lang: Lang
) -> HTMLResponse:
    return _page(request, "market_plan.html", _plan_page(request, platform, principal, lang, plan_id))


@router.post("/plans/{plan_id}/commit", response_class=HTMLResponse, dependencies=[CsrfForm])
def commit_plan(
    request: Request,
    plan_id: Id,
    platform: PlatformDep,
    principal: ConsoleUser,
    lang: Lang,
    commitment: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    try:
        plans.commit_seed(platform, principal, plan_id, commitment=commitment.strip() or None)
    except JiliangError as exc:
        return _refused(request, "market_plan.html", _plan_page(request, platform, principal, lang, plan_id), exc)
    return _redirect(f"/console/market/plans/{plan_id}?done=1", lang)


@router.post("/plans/{plan_id}/draw", response_class=HTMLResponse, dependencies=[CsrfForm])
def draw_plan(
    request: Request,
    plan_id: Id,
    platform: PlatformDep,
    principal: ConsoleUser,
    lang: Lang,
    seed: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    try:
        plans.draw_plan(platform, principal, plan_id, seed=seed.strip() or None)
    except JiliangError as exc:
        return _refused(request, "market_plan.html", _plan_page(request, platform, principal, lang, plan_id), exc)
    return _redirect(f"/console/market/plans/{plan_id}?done=1#drawn", lang)


# --- the field page: one target's result --------------------------------------------------------------


def _target_page(
    request: Request, platform: Platform, principal: Principal, lang: str, target_id: int
) -> dict[str, Any]:
    target = plans.target_view(platform, principal, target_id)
    context = _context(request, principal, lang, "target")
    context["title"] = target["organisation_name"]
    context["target"] = target
    context["rows"] = range(INSTRUMENT_ROWS)
    context["today"] = platform.local_today().isoformat()
    context["values"] = {}
    context["photo_max"] = platform.settings.market_photo_max_count
    context["photo_mb"] = round(platform.settings.market_photo_max_bytes / (1024 * 1024), 1)
    # The reassignment form: the active inspectors of the pool, the drawn team ticked.
    context["pool"] = [i for i in plans.inspector_pool(platform, principal) if i["active"]]
    context["reassign_values"] = {"inspector_ids": [str(i) for i in target["inspector_ids"]], "reason": ""}
    _done(request, context)
    return context


@router.get("/targets/{target_id}", response_class=HTMLResponse)
def target_page(
    request: Request, target_id: Id, platform: PlatformDep, principal: ConsoleUser, lang: Lang
) -> HTMLResponse:
    return _page(request, "market_target.html", _target_page(request, platform, principal, lang, target_id))


@router.post("/targets/{target_id}", response_class=HTMLResponse, dependencies=[CsrfForm])
async def record_result(
    request: Request, target_id: Id, platform: PlatformDep, principal: ConsoleUser, lang: Lang
) -> Response:
    form = await request.form()

    def text(key: str, limit: int = 5000) -> str:
        value = form.get(key)
        return value[:limit] if isinstance(value, str) else ""

    instruments: list[dict[str, Any]] = []
    values: dict[str, Any] = {k: text(k) for k in form if k != "csrf_token"}
    indices = [int(m.group(1)) for k in form if (m := _ROW_FIELD.fullmatch(k))]
    declared = text("rows", 4)
    rows = max(INSTRUMENT_ROWS, max(indices, default=-1) + 1, int(declared) if declared.isdigit() else 0)
    if form.get("add_row"):
        # No JavaScript needed: the form comes back as typed, with one more instrument row; nothing saved.
        context = await _run(_target_page, request, platform, principal, lang, target_id)
        context["values"] = values
        context["rows"] = range(min(rows + 1, MAX_INSTRUMENT_ROWS))
        context["focus_row"] = min(rows, MAX_INSTRUMENT_ROWS - 1)
        return _page(request, "market_target.html", context)
    try:
        if rows > MAX_INSTRUMENT_ROWS:
            raise InvalidInput(
                f"一次最多录入 {MAX_INSTRUMENT_ROWS} 台器具 / at most {MAX_INSTRUMENT_ROWS} instruments per result",
                field="instruments",
            )
        for i in range(rows):
            error, mpe = text(f"error_{i}", 30).strip(), text(f"mpe_{i}", 30).strip()
            picked, description = text(f"instrument_{i}", 20).strip(), text(f"description_{i}", 200).strip()
            if not (error or mpe or picked or description):
                continue
            instruments.append(
                {
                    "instrument_id": int(picked) if picked.isdigit() else None,
                    "description": description,
                    "measured_error": error,
                    "mpe": mpe,
                    "unit": text(f"unit_{i}", 20).strip(),
                }
            )
        supersedes = text("supersedes_id", 20).strip()
        data: dict[str, Any] = {
            "photos": await _photos(form.getlist("photos"), platform.settings.market_photo_max_bytes),
            "inspected_on": text("inspected_on", 10),
            "findings": text("findings"),
            "instruments": instruments,
            "conclusion": text("conclusion", 12),
            "supersedes_id": int(supersedes) if supersedes.isdigit() else None,
        }
        await _run(results.record_result, platform, principal, target_id, data)
    except JiliangError as exc:
        context = await _run(_target_page, request, platform, principal, lang, target_id)
        context["values"] = values
        context["rows"] = range(min(rows, MAX_INSTRUMENT_ROWS))
        return _refused(request, "market_target.html", context, exc)
    return _redirect(f"/console/market/targets/{target_id}?done=1", lang)


async def _photos(parts: list[Any], largest: int) -> list[tuple[str, bytes]]:
    """The chosen files as (name, bytes); an empty file input sends a part without a name, skipped. A file
    is read only to one byte past the limit, so the service can refuse it without holding all of it."""
    out = []
    for part in parts:
        if isinstance(part, UploadFile) and part.filename:
            out.append((part.filename, await part.read(largest + 1)))
            await part.close()
    return out


@router.get("/photos/{photo_id}")
def photo(photo_id: Id, platform: PlatformDep, principal: ConsoleUser) -> Response:
    """One photo of a result, to the supervisors of the plan's jurisdiction (others: 404)."""
    content_type, content, sha = photos.photo(platform, principal, photo_id)
    extension = "png" if content_type == photos.PNG else "jpg"
    return Response(
        content,
        media_type=content_type,
        headers={
            "Cache-Control": "private, max-age=3600",
            "Content-Disposition": f'inline; filename="market-photo-{photo_id}.{extension}"',
            "ETag": f'"{sha}"',
            "X-Content-Type-Options": "nosniff",
        },
    )


async def _run(fn: Any, *args: Any) -> Any:
    import anyio.to_thread

    return await anyio.to_thread.run_sync(fn, *args)


# --- net content ---------------------------------------------------------------------------------------


def _net_form(
    request: Request, platform: Platform, principal: Principal, lang: str, values: dict[str, Any]
) -> dict[str, Any]:
    context = _context(request, principal, lang, "net_content")
    context["inspections"] = results.list_net_content(platform, principal)
    orgs: list[tuple[int, str]] = []
    for kind in ("enterprise", "market_operator"):
        page = organisations.list_organisations(platform, principal, kind=kind, limit=200)
        orgs.extend((o.id, o.name) for o in page.items)
    context["organisations"] = sorted(orgs, key=lambda o: o[1])
    context["rulesets"] = {k: (z if lang == "zh" else e) for k, (z, e) in RULESETS.items()}
    context["values"] = values
    context["today"] = platform.local_today().isoformat()
    return context


@router.get("/net-content", response_class=HTMLResponse)
def net_content_page(
    request: Request,
    platform: PlatformDep,
    principal: ConsoleUser,
    lang: Lang,
    organisation_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    target_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
) -> HTMLResponse:
    values: dict[str, Any] = {"unit": "g", "method": "non_destructive"}
    if target_id is not None:
        target = plans.target_view(platform, principal, target_id)
        values.update(target_id=target_id, organisation_id=target["organisation_id"])
    elif organisation_id is not None:
        values["organisation_id"] = organisation_id
    return _page(request, "market_net_content.html", _net_form(request, platform, principal, lang, values))


class NetContentInspection(NetContentFields):
    """The inspector's form: the calculator's fields and whom, what and when they were inspected."""

    organisation_id: str = Field("", max_length=20)
    target_id: str = Field("", max_length=20)
    product: str = Field("", max_length=200)
    inspected_on: str = Field("", max_length=10)


@router.post("/net-content", response_class=HTMLResponse, dependencies=[CsrfForm])
def record_net_content(
    request: Request,
    platform: PlatformDep,
    principal: ConsoleUser,
    lang: Lang,
    form: Annotated[NetContentInspection, Form()],
) -> Response:
    values = {**form.shown(), "organisation_id": int(form.organisation_id) if form.organisation_id.isdigit() else None}
    try:
        data: dict[str, Any] = {
            **form.data(),
            "organisation_id": values["organisation_id"],
            "target_id": int(form.target_id) if form.target_id.isdigit() else None,
            "product": form.product,
            "inspected_on": form.inspected_on or None,
        }
        saved = results.record_net_content(platform, principal, data)
    except JiliangError as exc:
        return _refused(request, "market_net_content.html", _net_form(request, platform, principal, lang, values), exc)
    return _redirect(f"/console/market/net-content/{saved['id']}", lang)


@router.get("/net-content/{inspection_id}", response_class=HTMLResponse)
def net_content_report(
    request: Request, inspection_id: Id, platform: PlatformDep, principal: ConsoleUser, lang: Lang
) -> HTMLResponse:
    inspection = results.get_net_content(platform, principal, inspection_id)
    context = _context(request, principal, lang, "report")
    context["inspection"] = inspection
    context["report"] = inspection["report"]
    context["organisation_name"] = organisation_names(
        platform, principal, [inspection["organisation_id"]]
    ).get(inspection["organisation_id"], "—")
    context["evidence"] = inspection["report"].get("ruleset_evidence", "")
    return _page(request, "market_net_report.html", context)


# --- credit --------------------------------------------------------------------------------------------


@router.get("/credit", response_class=HTMLResponse)
def credit_page(request: Request, platform: PlatformDep, principal: ConsoleUser, lang: Lang) -> HTMLResponse:
    context = _context(request, principal, lang, "credit")
    context["summary"] = credit.region_summary(platform, principal)
    context["due"] = credit.due_for_inspection(platform, principal, limit=100)
    context["regions"] = _regions(platform, principal, lang)
    return _page(request, "market_credit.html", context)


def _grade_page(
    request: Request, platform: Platform, principal: Principal, lang: str, organisation_id: int
) -> dict[str, Any]:
    grade = credit.organisation_grade(platform, principal, organisation_id)
    context = _context(request, principal, lang, "credit")
    context["title"] = grade["organisation_name"]
    context["grade"] = grade
    context["manual"] = MANUAL_EVENTS
    context["today"] = platform.local_today().isoformat()
    _done(request, context)
    return context


@router.get("/credit/{organisation_id}", response_class=HTMLResponse)
def grade_page(
    request: Request, organisation_id: Id, platform: PlatformDep, principal: ConsoleUser, lang: Lang
) -> HTMLResponse:
    return _page(
        request, "market_grade.html", _grade_page(request, platform, principal, lang, organisation_id)
    )


@router.post("/credit/{organisation_id}/events", response_class=HTMLResponse, dependencies=[CsrfForm])
def add_credit_event(
    request: Request,
    organisation_id: Id,
    platform: PlatformDep,
    principal: ConsoleUser,
    lang: Lang,
    kind: Annotated[str, Form(max_length=30)] = "",
    occurred_on: Annotated[str, Form(max_length=10)] = "",
    note: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    try:
        if kind not in MANUAL_EVENTS:
            raise InvalidInput(
                "此类事件由系统自动登记 / this kind of event is recorded automatically", field="kind"
            )
        try:
            day = date.fromisoformat(occurred_on)
        except ValueError:
            raise InvalidInput("日期无效 / not a date", field="occurred_on") from None
        credit.add_event(platform, principal, organisation_id, kind, day, note)
    except JiliangError as exc:
        return _refused(request, "market_grade.html", _grade_page(request, platform, principal, lang, organisation_id), exc)
    return _redirect(f"/console/market/credit/{organisation_id}?done=1", lang)


# --- cases ---------------------------------------------------------------------------------------------


@router.get("/cases", response_class=HTMLResponse)
def cases_page(
    request: Request,
    platform: PlatformDep,
    principal: ConsoleUser,
    lang: Lang,
    status: Annotated[str | None, Query(pattern="^(filed|investigating|decided|closed)?$")] = None,
) -> HTMLResponse:
    context = _context(request, principal, lang, "cases")
    found = cases.list_cases(platform, principal, status or None)
    context["cases"] = found
    context["status"] = status or ""
    context["names"] = organisation_names(platform, principal, [c["organisation_id"] for c in found])
    return _page(request, "market_cases.html", context)


def _case_page(
    request: Request, platform: Platform, principal: Principal, lang: str, case_id: int
) -> dict[str, Any]:
    case = cases.get_case(platform, principal, case_id)
    context = _context(request, principal, lang, "cases")
    context["title"] = case["number"]
    context["case"] = case
    context["organisation_name"] = organisation_names(platform, principal, [case["organisation_id"]]).get(
        case["organisation_id"], "—"
    )
    context["source_url"] = _source_url(platform, principal, case["source_type"], case["source_id"])
    context["may_step"] = principal.role in (Role.SUPERVISOR, Role.ADMINISTRATOR)
    _done(request, context)
    return context


def _source_url(platform: Platform, principal: Principal, source_type: str, source_id: str) -> str | None:
    if not source_id.isdigit():
        return None
    if source_type == "net_content":
        return f"/console/market/net-content/{source_id}"
    if source_type == "complaint":
        return f"/console/market/complaints/{source_id}"
    if source_type == "inspection":
        target = results_target(platform, principal, int(source_id))
        return f"/console/market/targets/{target}" if target is not None else None
    return None


def results_target(platform: Platform, principal: Principal, result_id: int) -> int | None:
    """The target page of an inspection result, when the caller may see it (supervisors)."""
    if principal.role not in (Role.SUPERVISOR, Role.ADMINISTRATOR):
        return None
    return results.target_of_result(platform, principal, result_id)


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_page(
    request: Request, case_id: Id, platform: PlatformDep, principal: ConsoleUser, lang: Lang
) -> HTMLResponse:
    return _page(request, "market_case.html", _case_page(request, platform, principal, lang, case_id))


@router.post("/cases", response_class=HTMLResponse, dependencies=[CsrfForm])
def open_case(
    request: Request,
    platform: PlatformDep,
    principal: ConsoleUser,
    lang: Lang,
    source_type: Annotated[str, Form(max_length=20)] = "",
    source_id: Annotated[str, Form(max_length=64)] = "",
    organisation_id: Annotated[str, Form(max_length=20)] = "",
    summary: Annotated[str, Form(max_length=5000)] = "",
    evidence: Annotated[str, Form(max_length=20000)] = "",
    back: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    try:
        opened = cases.open_case(
            platform,
            principal,
            {
                "source_type": source_type,
                "source_id": source_id,
                "organisation_id": int(organisation_id) if organisation_id.isdigit() else None,
                "summary": summary,
                "evidence": _lines(evidence),
            },
        )
    except JiliangError as exc:
        if isinstance(exc, NotFound):
            raise
        context = _context(request, principal, lang, "open_case")
        context.update(error=exc.message, field=exc.field, back=back if back.startswith("/console/") else "")
        return _page(request, "market_refused.html", context, 422)
    return _redirect(f"/console/market/cases/{opened['id']}?done=1", lang)


@router.post("/cases/{case_id}/step", response_class=HTMLResponse, dependencies=[CsrfForm])
def step_case(
    request: Request,
    case_id: Id,
    platform: PlatformDep,
    principal: ConsoleUser,
    lang: Lang,
    status: Annotated[str, Form(max_length=20)] = "",
    violation: Annotated[str, Form(max_length=5)] = "",
    decision: Annotated[str, Form(max_length=5000)] = "",
    penalty: Annotated[str, Form(max_length=200)] = "",
    evidence: Annotated[str, Form(max_length=20000)] = "",
) -> Response:
    data: dict[str, Any] = {"status": status, "evidence": _lines(evidence)}
    if status == "decided":
        data.update(violation={"yes": True, "no": False}.get(violation), decision=decision, penalty=penalty)
    try:
        cases.advance(platform, principal, case_id, data)
    except JiliangError as exc:
        return _refused(request, "market_case.html", _case_page(request, platform, principal, lang, case_id), exc)
    return _redirect(f"/console/market/cases/{case_id}?done=1", lang)


# --- complaints ----------------------------------------------------------------------------------------


@router.get("/complaints", response_class=HTMLResponse)
def complaints_page(
    request: Request, platform: PlatformDep, principal: ConsoleUser, lang: Lang
) -> HTMLResponse:
    context = _context(request, principal, lang, "complaints")
    context["complaints"] = complaints.list_complaints(platform, principal)
    context["regions"] = _regions(platform, principal, lang)
    return _page(request, "market_complaints.html", context)


def _complaint_page(
    request: Request, platform: Platform, principal: Principal, lang: str, complaint_id: int
) -> dict[str, Any]:
    complaint = complaints.get_complaint(platform, principal, complaint_id)
    context = _context(request, principal, lang, "complaints")
    context["title"] = complaint["subject_name"]
    context["complaint"] = complaint
    context["regions"] = _regions(platform, principal, lang)
    context["officer"] = principal.role is Role.COMPLAINT_OFFICER
    context["moves"] = sorted(
        m.value for m in case_rules.COMPLAINT_MOVES[case_rules.ComplaintStatus(complaint["status"])]
    )
    context["organisation_name"] = (
        organisation_names(platform, principal, [complaint["organisation_id"]]).get(
            complaint["organisation_id"]
        )
        if complaint["organisation_id"]
        else None
    )
    context["case_number"] = (
        cases.get_case(platform, principal, complaint["case_id"])["number"] if complaint["case_id"] else None
    )
    context["organisations"] = (
        _candidates(platform, principal, complaint["region_code"], complaint["subject_name"])
        if not complaint["organisation_id"]
        else []
    )
    _done(request, context)
    return context


def _candidates(platform: Platform, principal: Principal, region: str, subject: str) -> list[tuple[int, str]]:
    """Organisations a complaint may be about: those named like its subject, else its region's."""
    found = organisations.list_organisations(
        platform, principal, region_code=region, q=subject[:50], limit=50
    )
    if not found.items:
        found = organisations.list_organisations(platform, principal, region_code=region, limit=200)
    return [(o.id, o.name) for o in found.items]


@router.get("/complaints/{complaint_id}", response_class=HTMLResponse)
def complaint_page(
    request: Request, complaint_id: Id, platform: PlatformDep, principal: ConsoleUser, lang: Lang
) -> HTMLResponse:
    return _page(
        request, "market_complaint.html", _complaint_page(request, platform, principal, lang, complaint_id)
    )


@router.post("/complaints/{complaint_id}/reporter", response_class=HTMLResponse, dependencies=[CsrfForm])
def reveal_reporter(
    request: Request,
    complaint_id: Id,
    platform: PlatformDep,
    principal: ConsoleUser,
    lang: Lang,
    reason: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    # Shown in the answer to this POST only (never in a URL, never cached), the read audited by the service.
    context = _complaint_page(request, platform, principal, lang, complaint_id)
    try:
        context["identity"] = complaints.reveal_reporter(platform, principal, complaint_id, reason)
    except JiliangError as exc:
        status = 403 if isinstance(exc, NotAuthorised) else 422
        return _refused(request, "market_complaint.html", context, exc, status)
    response = _page(request, "market_complaint.html", context)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/complaints/{complaint_id}", response_class=HTMLResponse, dependencies=[CsrfForm])
def update_complaint(
    request: Request,
    complaint_id: Id,
    platform: PlatformDep,
    principal: ConsoleUser,
    lang: Lang,
    status: Annotated[str, Form(max_length=20)] = "",
    resolution: Annotated[str, Form(max_length=2000)] = "",
    reward: Annotated[str, Form(max_length=200)] = "",
    organisation_id: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    data: dict[str, Any] = {"resolution": resolution, "reward": reward}
    if status:
        data["status"] = status
    if organisation_id.isdigit():
        data["organisation_id"] = int(organisation_id)
    try:
        complaints.update(platform, principal, complaint_id, data)
    except JiliangError as exc:
        return _refused(request, "market_complaint.html", _complaint_page(request, platform, principal, lang, complaint_id), exc)
    return _redirect(f"/console/market/complaints/{complaint_id}?done=1", lang)
