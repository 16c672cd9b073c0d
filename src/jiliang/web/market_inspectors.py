"""The inspector pool (执法检查人员名录) of random inspections, and reassigning a drawn target's team by hand.

- ``/console/market/inspectors``: the pool of the supervisor's jurisdiction (name, region, own
  organisation, active or not, pending assignments, declared relations) and a form to add an inspector.
- ``/console/market/inspectors/{id}``: one inspector: declare a relation with an organisation (a
  conflict of interest the draw and every manual assignment then avoid), take them out of the pool or back.
- ``POST /console/market/targets/{id}/inspectors``: replace a drawn target's team (the form sits on the
  field page); a conflict is refused naming the inspector and the conflict, and the change is audited
  and logged as a transparency-log leaf (``services.market.plans.reassign_inspectors``).

Organisations are named in words (or by their unified social credit code): a name matching exactly one
organisation of the jurisdiction is taken, several are listed back to choose from.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from jiliang.api.deps import PlatformDep
from jiliang.domain.access import Principal
from jiliang.errors import InvalidInput, JiliangError
from jiliang.services import organisations
from jiliang.services.market import plans
from jiliang.services.market.common import organisation_by_credit_code
from jiliang.services.platform import Platform
from jiliang.web.auth import ConsoleUser, CsrfForm, Lang
from jiliang.web.market_console import Id, _context, _page, _redirect, _refuse, _regions, _target_page

router = APIRouter(prefix="/console/market", include_in_schema=False)

STRINGS: dict[str, dict[str, str]] = {
    "zh": {
        "pool": "执法检查人员名录",
        "pool_intro": "双随机抽查从本名录中随机选派检查人员；系统回避本单位、已申报利害关系和回避期内检查过"
        "同一单位的人员。停用的人员不再被抽派，已派任务需手工调整。",
        "add_inspector": "登记检查人员",
        "inspector_name": "姓名",
        "inspector_region": "所属区划",
        "inspector_org": "所在单位（可选：名称或统一社会信用代码，该人员不得检查本单位）",
        "add": "登记",
        "active": "状态",
        "active_yes": "在册",
        "active_no": "已停用",
        "pending": "待检任务",
        "relations": "已申报的利害关系",
        "no_relations": "无",
        "no_inspectors": "名录中暂无检查人员。",
        "declare": "申报利害关系",
        "declare_intro": "如亲属在该单位任职、曾在该单位工作等。申报后抽查和手工调整都不会派该人员检查该单位。",
        "relation_org": "单位（名称或统一社会信用代码）",
        "relation_note": "关系说明",
        "declared_on": "申报日期",
        "deactivate": "停用（不再抽派）",
        "activate": "恢复在册",
        "several": "有多个单位与“{q}”相符，请从下列名称中选一个完整填写：{names}",
        "none_found": "没有找到与“{q}”相符的单位",
        "current_team": "当前检查人员",
    },
    "en": {
        "pool": "Inspector pool",
        "pool_intro": "Random inspections draw their inspectors from this pool, avoiding an inspector's own "
        "organisation, declared relations and recent pairings. An inactive inspector is no longer drawn; "
        "assignments already made are changed by hand.",
        "add_inspector": "Add an inspector",
        "inspector_name": "Name",
        "inspector_region": "Region",
        "inspector_org": "Own organisation (optional: name or unified social credit code; never inspects it)",
        "add": "Add",
        "active": "State",
        "active_yes": "active",
        "active_no": "inactive",
        "pending": "Pending targets",
        "relations": "Declared relations",
        "no_relations": "none",
        "no_inspectors": "The pool is empty.",
        "declare": "Declare a relation",
        "declare_intro": "A relative works there, a former employer… Once declared, neither a draw nor a manual "
        "assignment sends this inspector to that organisation.",
        "relation_org": "Organisation (name or unified social credit code)",
        "relation_note": "What the relation is",
        "declared_on": "Declared on",
        "deactivate": "Deactivate (no longer drawn)",
        "activate": "Reactivate",
        "several": "Several organisations match “{q}”; type one of these names in full: {names}",
        "none_found": "No organisation matches “{q}”",
        "current_team": "Current team",
    },
}


def _ctx(request: Request, principal: Principal, lang: str, title: str) -> dict[str, Any]:
    context = _context(request, principal, lang, title)
    context["t"].update(STRINGS[lang])
    context["title"] = context["t"].get(title, title)
    return context


def resolve_organisation(platform: Platform, principal: Principal, text: str, field: str, lang: str) -> int:
    """The id of the one organisation of the caller's jurisdiction that ``text`` names: its unified social
    credit code, its exact name, or the only name containing it. Otherwise refused naming the field."""
    q = text.strip()
    strings = STRINGS[lang]
    if not q:
        raise InvalidInput(strings["none_found"].format(q=q), field=field)
    page = organisations.list_organisations(platform, principal, q=q, limit=20)
    exact = [o for o in page.items if o.name == q]
    by_code = organisation_by_credit_code(platform, principal, q.upper()) if len(q) == 18 else []
    found = by_code or exact or list(page.items)
    if not found:
        raise InvalidInput(strings["none_found"].format(q=q), field=field)
    if len(found) > 1:
        names = "、".join(o.name for o in found[:8])
        raise InvalidInput(strings["several"].format(q=q, names=names), field=field)
    return int(found[0].id)


def _pool_page(
    request: Request, platform: Platform, principal: Principal, lang: str, values: dict[str, Any]
) -> dict[str, Any]:
    context = _ctx(request, principal, lang, "pool")
    context["pool"] = plans.inspector_pool(platform, principal)
    context["regions"] = _regions(platform, principal, lang)
    context["values"] = values
    if request.query_params.get("done"):
        context["notice"] = context["t"]["saved"]
    return context


@router.get("/inspectors", response_class=HTMLResponse)
def pool_page(request: Request, platform: PlatformDep, principal: ConsoleUser, lang: Lang) -> HTMLResponse:
    return _page(request, "market_inspectors.html", _pool_page(request, platform, principal, lang, {}))


@router.post("/inspectors", response_class=HTMLResponse, dependencies=[CsrfForm])
def add_inspector(
    request: Request,
    platform: PlatformDep,
    principal: ConsoleUser,
    lang: Lang,
    name: Annotated[str, Form(max_length=100)] = "",
    region_code: Annotated[str, Form(max_length=6)] = "",
    organisation: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    values = {"name": name, "region_code": region_code, "organisation": organisation}
    try:
        org_id = (
            resolve_organisation(platform, principal, organisation, "organisation_id", lang)
            if organisation.strip()
            else None
        )
        plans.add_inspector(
            platform, principal, name=name, region_code=region_code, organisation_id=org_id
        )
    except JiliangError as exc:
        context = _pool_page(request, platform, principal, lang, values)
        _refuse(context, exc)
        return _page(request, "market_inspectors.html", context, 422)
    return _redirect("/console/market/inspectors?done=1", lang)


def _inspector_page(
    request: Request, platform: Platform, principal: Principal, lang: str, inspector_id: int
) -> dict[str, Any]:
    pool = plans.inspector_pool(platform, principal)
    inspector = next((i for i in pool if i["id"] == inspector_id), None)
    if inspector is None:
        from jiliang.services.common import not_found

        raise not_found("检查人员 inspector", inspector_id)
    context = _ctx(request, principal, lang, "pool")
    context["title"] = inspector["name"]
    context["inspector"] = inspector
    context["regions"] = _regions(platform, principal, lang)
    context["values"] = {}
    if request.query_params.get("done"):
        context["notice"] = context["t"]["saved"]
    return context


@router.get("/inspectors/{inspector_id}", response_class=HTMLResponse)
def inspector_page(
    request: Request, inspector_id: Id, platform: PlatformDep, principal: ConsoleUser, lang: Lang
) -> HTMLResponse:
    return _page(
        request, "market_inspector.html", _inspector_page(request, platform, principal, lang, inspector_id)
    )


@router.post("/inspectors/{inspector_id}/relations", response_class=HTMLResponse, dependencies=[CsrfForm])
def declare_relation(
    request: Request,
    inspector_id: Id,
    platform: PlatformDep,
    principal: ConsoleUser,
    lang: Lang,
    organisation: Annotated[str, Form(max_length=200)] = "",
    note: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    context = _inspector_page(request, platform, principal, lang, inspector_id)  # 404 outside the reach
    try:
        org_id = resolve_organisation(platform, principal, organisation, "organisation_id", lang)
        plans.declare_relation(platform, principal, inspector_id, org_id, note.strip())
    except JiliangError as exc:
        context["values"] = {"organisation": organisation, "note": note}
        _refuse(context, exc)
        return _page(request, "market_inspector.html", context, 422)
    return _redirect(f"/console/market/inspectors/{inspector_id}?done=1", lang)


@router.post("/inspectors/{inspector_id}/active", response_class=HTMLResponse, dependencies=[CsrfForm])
def set_active(
    request: Request,
    inspector_id: Id,
    platform: PlatformDep,
    principal: ConsoleUser,
    lang: Lang,
    active: Annotated[str, Form(pattern="^(0|1)$")] = "0",
) -> Response:
    plans.set_inspector_active(platform, principal, inspector_id, active == "1")
    return _redirect(f"/console/market/inspectors/{inspector_id}?done=1", lang)


@router.post("/targets/{target_id}/inspectors", response_class=HTMLResponse, dependencies=[CsrfForm])
async def reassign(
    request: Request, target_id: Id, platform: PlatformDep, principal: ConsoleUser, lang: Lang
) -> Response:
    import anyio.to_thread

    form = await request.form()
    picked = [v for v in form.getlist("inspector_ids") if isinstance(v, str)]
    reason_raw = form.get("reason")
    reason = reason_raw[:300] if isinstance(reason_raw, str) else ""
    try:
        ids = [int(v) for v in picked if v.isdigit() and len(v) <= 19]
        if len(ids) != len(picked):
            raise InvalidInput("检查人员编号无效 / an inspector id is not a number", field="inspector_ids")
        await anyio.to_thread.run_sync(plans.reassign_inspectors, platform, principal, target_id, ids, reason)
    except JiliangError as exc:
        context = await anyio.to_thread.run_sync(_target_page, request, platform, principal, lang, target_id)
        context["t"].update(STRINGS[lang])
        context["reassign_values"] = {"inspector_ids": picked, "reason": reason}
        _refuse(context, exc)
        return _page(request, "market_target.html", context, 422)
    return _redirect(f"/console/market/targets/{target_id}?done=1#team", lang)
