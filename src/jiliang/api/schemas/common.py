"""Shapes every resource shares: the page of results and the error body."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from jiliang.api.bounds import MESSAGE, fits
from jiliang.services.common import Page as ServicePage

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


class Out(BaseModel):
    """Base of response models: read from ORM rows and domain dataclasses."""

    model_config = ConfigDict(from_attributes=True)


class In(BaseModel):
    """Base of request models: an unknown key is refused with its name rather than silently dropped."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*")
    @classmethod
    def _fits_the_database(cls, value: Any) -> Any:
        """An integer beyond 64 bits is refused here, naming its field, not by the driver as a 500."""
        if not fits(value):
            raise ValueError(MESSAGE)
        return value


class Page(BaseModel, Generic[T]):
    items: list[T] = Field(description="本页条目 / the rows of this page")
    total: int = Field(description="符合条件的总数 / rows matching the filters, all pages")
    offset: int = Field(description="跳过的条数 / rows skipped")
    limit: int = Field(description="每页条数 / page size")


def page_of(page: ServicePage[Any], model: type[M], convert: Callable[[Any], M] | None = None) -> Page[M]:
    make = convert or model.model_validate
    return Page[model](  # type: ignore[valid-type]
        items=[make(x) for x in page.items], total=page.total, offset=page.offset, limit=page.limit
    )


def items_of(rows: Iterable[Any], model: type[M]) -> list[M]:
    return [model.model_validate(r) for r in rows]


class ErrorDetail(BaseModel):
    code: str = Field(description="错误类别 / error class: invalid, conflict, not_found, forbidden, …")
    field: str | None = Field(default=None, description="出错的字段 / the field at fault")
    message: str = Field(description="原因（中文 / English）/ the reason, Chinese then English")


class ErrorOut(BaseModel):
    error: ErrorDetail


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "未登录或令牌无效 / not authenticated"},
    403: {"model": ErrorOut, "description": "角色无权执行此操作 / the role may not do this"},
    404: {"model": ErrorOut, "description": "不存在或不在管辖范围内 / absent or outside the jurisdiction"},
    409: {"model": ErrorOut, "description": "与已存数据冲突 / clashes with stored data"},
    422: {"model": ErrorOut, "description": "输入无效，指明字段和原因 / invalid input: field and reason"},
}
