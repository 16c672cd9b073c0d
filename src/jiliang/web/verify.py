"""The public verification pages: upload a DCC (/verify) or scan its QR code (/v/<number>).

Chinese first; the same checks as the API and the offline verifier, shown step by step, so a citizen sees
who issued the certificate, for which item, whether it is valid or withdrawn, whether the signature holds,
and at which index of the log, under which signed tree head, it is recorded.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from jiliang import __version__
from jiliang.api.deps import PlatformDep
from jiliang.api.routers.certificates import read_document
from jiliang.errors import JiliangError
from jiliang.services import certificates
from jiliang.web.common import templates

router = APIRouter(include_in_schema=False)

STRINGS: dict[str, dict[str, str]] = {
    "zh": {
        "title": "数字计量证书核验",
        "intro": "上传数字校准证书（DCC XML 文件），核验其模式、签名、出具机构、是否被改动、是否记入透明日志，以及是否已撤销。",
        "upload": "核验",
        "file": "证书文件",
        "number": "证书编号",
        "issuer": "出具机构",
        "credit": "统一社会信用代码",
        "item": "计量器具",
        "issued": "出具时间",
        "status": "状态",
        "valid": "有效",
        "withdrawn": "已撤销",
        "superseded": "已被替代",
        "superseded_by": "替代证书",
        "genuine": "证书真实有效",
        "not_genuine": "核验未通过",
        "genuine_not_valid": "证书真实，但已不再有效",
        "steps": "核验步骤",
        "log": "透明日志",
        "index": "索引",
        "tree": "树头",
        "pending": "已登记，等待记入日志的下一个已签名树头。",
        "error": "无法核验",
        "switch": "English",
        "api": "接口文档",
        "definitions": "核验方法见 docs/certificates.md",
        "by_number": "按证书编号查询",
        "look_up": "查询",
        "kind_verification": "检定证书",
        "kind_failure_notice": "检定结果通知书",
        "kind_calibration": "校准证书",
        "kind": "证书类别",
        "conclusion": "检定结论",
        "conclusion_calibration": "符合性",
        "pass": "合格",
        "fail": "不合格",
        "performed_verification": "检定日期",
        "performed_calibration": "校准日期",
        "valid_until": "有效期至",
        "signed": "签字人员",
        "points": "检定数据",
        "point": "检定点",
        "nominal": "标准值",
        "indication": "示值",
        "error_col": "示值误差",
        "u": "扩展不确定度 U",
        "mpe": "最大允许误差",
        "result": "结论",
        "local": "北京时间",
    },
    "en": {
        "title": "Verify a digital calibration certificate",
        "intro": "Upload a digital calibration certificate (DCC XML) to check its schema, signature, issuer, "
        "integrity, inclusion in the transparency log, and whether it has been withdrawn.",
        "upload": "Verify",
        "file": "Certificate file",
        "number": "Certificate number",
        "issuer": "Issued by",
        "credit": "Unified social credit code",
        "item": "Instrument",
        "issued": "Issued",
        "status": "Status",
        "valid": "valid",
        "withdrawn": "withdrawn",
        "superseded": "superseded",
        "superseded_by": "Superseded by",
        "genuine": "Genuine and valid",
        "not_genuine": "Verification failed",
        "genuine_not_valid": "Genuine, but no longer valid",
        "steps": "Checks",
        "log": "Transparency log",
        "index": "index",
        "tree": "tree head",
        "pending": "Registered; awaiting the log's next signed tree head.",
        "error": "Cannot verify",
        "switch": "中文",
        "api": "API docs",
        "definitions": "How it checks: docs/certificates.md",
        "by_number": "Look up by certificate number",
        "look_up": "Look up",
        "kind_verification": "Verification certificate",
        "kind_failure_notice": "Notice of verification result (failed)",
        "kind_calibration": "Calibration certificate",
        "kind": "Document",
        "conclusion": "Conclusion",
        "conclusion_calibration": "Conformity",
        "pass": "pass",
        "fail": "fail",
        "performed_verification": "Verified on",
        "performed_calibration": "Calibrated on",
        "valid_until": "Valid until",
        "signed": "Signed off by",
        "points": "Measured results",
        "point": "Point",
        "nominal": "Reference value",
        "indication": "Indication",
        "error_col": "Error",
        "u": "Expanded uncertainty U",
        "mpe": "MPE",
        "result": "Result",
        "local": "China Standard Time",
    },
}


def _context(lang: str) -> dict[str, Any]:
    return {"t": STRINGS[lang], "lang": lang, "version": __version__}


@router.get("/verify", response_class=HTMLResponse)
def verify_form(request: Request, lang: Annotated[str, Query(pattern="^(zh|en)$")] = "zh") -> HTMLResponse:
    return templates.TemplateResponse(request, "verify.html", _context(lang))


@router.post("/verify", response_class=HTMLResponse)
async def verify_upload(
    request: Request, platform: PlatformDep, lang: Annotated[str, Query(pattern="^(zh|en)$")] = "zh"
) -> HTMLResponse:
    from starlette.concurrency import run_in_threadpool

    context = _context(lang)
    try:
        document = await read_document(request)
        result = await run_in_threadpool(certificates.verify_upload, platform, document)
        context.update(
            report=result.report,
            cert=result.registered,
            problem=result.problem,
            summary=result.summary,
            performed=result.performed,
        )
    except JiliangError as exc:
        context["error"] = exc.message
    return templates.TemplateResponse(request, "verify.html", context)


@router.get("/v/{number}", response_class=HTMLResponse)
def by_number(
    request: Request,
    number: str,
    platform: PlatformDep,
    lang: Annotated[str, Query(pattern="^(zh|en)$")] = "zh",
) -> HTMLResponse:
    context = _context(lang)
    try:
        st = certificates.public_status(platform, number)
        context.update(public=st, report=st.check, summary=st.summary, performed=st.performed)
    except JiliangError as exc:
        context["error"] = exc.message
        return templates.TemplateResponse(request, "verify.html", context, status_code=404)
    return templates.TemplateResponse(request, "verify.html", context)
