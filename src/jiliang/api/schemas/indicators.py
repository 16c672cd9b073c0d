"""Indicators against their targets, due lists, webhooks and the audit trail."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import Field

from jiliang.api.schemas.common import In, Out
from jiliang.legal.coverage import Indicator


class IndicatorValueOut(Out):
    indicator: Indicator = Field(
        description="指标 / indicator: verification_coverage 强检计量器具检定覆盖率, standard_coverage "
        "强检项目建标覆盖率, overdue 超期未检数量"
    )
    region_code: str = Field(description="区划 / region code")
    item_code: str = Field(description="目录项（空 = 全部）/ catalogue item, empty for all items")
    numerator: int = Field(description="分子 / numerator")
    denominator: int = Field(description="分母 / denominator")
    rate: float | None = Field(description="比率（分母为 0 时为空）/ numerator ÷ denominator")
    target: float | None = Field(description="规划目标 / plan target for the year")
    gap: float | None = Field(description="比率减目标（负数为未达标）/ rate − target, negative when short")
    meets_target: bool | None = Field(description="是否达标 / whether the rate meets the target")


class IndicatorReportOut(Out):
    as_of: date = Field(description="统计日期 / date the indicators are computed for")
    root: str = Field(description="所查区划 / region the report covers, with its subtree")
    values: list[IndicatorValueOut] = Field(description="各区划、各目录项的指标值 / every value")


class TrendPointOut(Out):
    on: date = Field(description="日期（月末）/ date, a month end or today")
    value: IndicatorValueOut = Field(description="指标值 / value on that date")


class TargetIn(In):
    region_code: str = Field(description="区划 / region code")
    year: int = Field(description="年份 / year")
    indicator: Indicator = Field(description="比率类指标 / rate indicator")
    target: float = Field(description="目标值（0–1，如 0.92）/ target as a fraction, e.g. 0.92")
    source: str = Field(default="", description="依据（规划文件）/ source, e.g. the plan document")


class TargetOut(Out):
    id: int = Field(description="目标编号 / target id")
    region_code: str = Field(description="区划 / region code")
    year: int = Field(description="年份 / year")
    indicator: Indicator = Field(description="指标 / indicator")
    target: float = Field(description="目标值 / target fraction")
    source: str = Field(description="依据 / source")


class WebhookIn(In):
    url: str = Field(description="接收地址 (http/https) / receiver URL")
    organisation_id: int | None = Field(
        default=None, description="接收提醒的单位（企业账户默认为本单位）/ organisation whose reminders"
    )


class WebhookOut(Out):
    id: int = Field(description="编号 / webhook id")
    organisation_id: int = Field(description="单位 / organisation")
    url: str = Field(description="接收地址 / receiver URL")
    active: bool = Field(description="是否启用 / active")


class WebhookCreatedOut(WebhookOut):
    secret: str = Field(
        description="签名密钥，仅此一次返回 / signing secret for X-Jiliang-Signature, shown only once"
    )


WEBHOOK_EXCLUDED = frozenset({"secret"})  # returned once, at registration, never again


class AuditEntryOut(Out):
    id: int = Field(description="编号 / entry id")
    at: datetime = Field(description="时间 / when")
    actor_id: int | None = Field(description="操作人编号 / actor's user id")
    actor_name: str = Field(description="操作人 / actor's name at the time")
    request_id: str = Field(
        description="请求编号（服务器生成，见响应头 X-Request-ID）/ request id, chosen by the server"
    )
    client_request_id: str = Field(
        default="",
        description="客户端自报的 X-Request-ID（仅作标签）/ the X-Request-ID the client sent: a label only",
    )
    action: str = Field(description="动作 / action: create, update, delete, import")
    object_type: str = Field(description="对象类型（表名）/ object type (table)")
    object_id: str = Field(description="对象编号 / object id")
    summary: str = Field(description="摘要 / short representation")
    before: dict[str, Any] | None = Field(description="变更前 / values before")
    after: dict[str, Any] | None = Field(description="变更后 / values after")
