"""Uncertainty evaluation of a model file: the engine's answer plus a budget chart (no storage involved)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jiliang.errors import InvalidInput, PayloadTooLarge
from jiliang.metrology import modelfile

MAX_FILE_BYTES = 1_000_000


def evaluate_document(doc: Mapping[str, Any]) -> dict[str, Any]:
    """Evaluate a parsed model file (the API's JSON body or a loaded YAML file)."""
    answer = modelfile.evaluate(modelfile.from_document(doc))
    answer["charts"] = {o["name"]: budget_chart(o) for o in answer["outputs"]}
    return answer


def evaluate_text(text: str) -> dict[str, Any]:
    if len(text.encode("utf-8")) > MAX_FILE_BYTES:
        raise PayloadTooLarge(f"模型文件过大 / model file larger than {MAX_FILE_BYTES:,} bytes", field="file")
    return evaluate_document(modelfile.parse_text(text))


def evaluate_path(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"无法读取模型文件 / cannot read model file {path}: {exc}", field="file") from exc
    return evaluate_text(text)


def budget_chart(output: Mapping[str, Any]) -> dict[str, Any]:
    """An ECharts option: one bar per input, its contribution u_i(y) in the output's unit, share as label."""
    rows = sorted(output["budget"], key=lambda b: -b["contribution"])
    unit = output["unit"]
    return {
        "title": {"text": f"不确定度分量 / uncertainty budget of {output['name']}", "left": "center"},
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "grid": {"containLabel": True, "left": 10, "right": 30, "bottom": 10},
        "xAxis": {"type": "value", "name": f"u_i({output['name']})" + (f" / {unit}" if unit else "")},
        "yAxis": {"type": "category", "inverse": True, "data": [b["input"] for b in rows]},
        "series": [
            {
                "type": "bar",
                "name": "u_i(y)",
                # extra keys on a data item are kept by ECharts and reach tooltip/label formatters
                "data": [
                    {"name": b["input"], "value": b["contribution"], "share": round(100 * b["share"], 2)}
                    for b in rows
                ],
                "label": {"show": True, "position": "right", "formatter": "{c}"},
            }
        ],
    }
