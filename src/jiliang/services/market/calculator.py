"""The net-content check without storage: what the public calculator and the CLI's ``check`` run."""

from __future__ import annotations

from typing import Any

from jiliang.errors import InvalidInput
from jiliang.legal import net_content


def check(data: dict[str, Any]) -> dict[str, Any]:
    """Inspect one lot as ``results.record_net_content`` does, and return the report; nothing is stored."""
    lot = data.get("lot_size")
    if isinstance(lot, bool) or not isinstance(lot, int):
        raise InvalidInput("检验批量须为整数 / lot_size must be an integer", field="lot_size")
    ruleset = data.get("ruleset") or "JJF1070-2023"
    report = net_content.inspect(
        ruleset=str(ruleset),
        nominal=data.get("nominal"),  # type: ignore[arg-type]
        unit=data.get("unit"),
        lot_size=lot,
        measurements=data.get("measurements") or [],
        measurement_unit=data.get("measurement_unit"),
        tares=data.get("tares"),
        method=data.get("method", "non_destructive"),
        drained=bool(data.get("drained", False)),
    )
    return report.as_dict()
