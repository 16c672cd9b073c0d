"""The one place where the error hierarchy becomes HTTP statuses; routes never raise HTTP errors."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from jiliang.errors import (
    AuthenticationFailed,
    Conflict,
    ImportRefused,
    InvalidInput,
    JiliangError,
    NotAuthorised,
    NotFound,
    PayloadTooLarge,
    TooManyAttempts,
)

STATUS: list[tuple[type[JiliangError], int]] = [
    (ImportRefused, 422),
    (PayloadTooLarge, 413),
    (Conflict, 409),
    (InvalidInput, 422),
    (NotFound, 404),
    (TooManyAttempts, 429),
    (AuthenticationFailed, 401),
    (NotAuthorised, 403),
]


def status_of(exc: JiliangError) -> int:
    return next((code for cls, code in STATUS if isinstance(exc, cls)), 400)


def install(app: FastAPI) -> None:
    @app.exception_handler(JiliangError)
    async def _domain(request: Request, exc: JiliangError) -> JSONResponse:
        body = {"error": exc.as_dict()}
        if isinstance(exc, ImportRefused):
            body["error"]["rows_read"] = exc.rows_read
            body["error"]["problem_count"] = exc.problem_count
            body["error"]["problems"] = [p.__dict__ for p in exc.problems]
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, AuthenticationFailed) else None
        if isinstance(exc, TooManyAttempts):
            headers = {"Retry-After": str(exc.retry_after_s)}
        return JSONResponse(status_code=status_of(exc), content=jsonable_encoder(body), headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        first = errors[0] if errors else {"loc": ["body"], "msg": "invalid"}
        # A JSON syntax error's location is a character offset, not a field: the body is at fault.
        loc = first.get("loc", ())[:1] if first.get("type") == "json_invalid" else first.get("loc", ())
        field = ".".join(str(p) for p in loc[1:]) or "body"
        body = {
            "error": {
                "code": "invalid",
                "field": field,
                "message": f"字段 {field} 无效：{first.get('msg')} / field {field}: {first.get('msg')}",
                "details": jsonable_encoder([{"loc": e.get("loc"), "msg": e.get("msg")} for e in errors]),
            }
        }
        return JSONResponse(status_code=422, content=body)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        """Routing answers (no such path, method not allowed) in the same error shape as the rest."""
        code, message = _HTTP.get(exc.status_code, ("http_error", f"请求无法处理 / {exc.detail}"))
        return JSONResponse(
            status_code=exc.status_code,
            content={"error": {"code": code, "field": None, "message": message}},
            headers=getattr(exc, "headers", None),
        )


_HTTP = {
    404: ("not_found", "没有这个地址 / no such path"),
    405: ("method_not_allowed", "该地址不支持此方法 / method not allowed on this path"),
}
