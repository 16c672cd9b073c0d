"""Uncertainty evaluation of a model file: the engine's answer plus a budget chart (no storage involved)."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from importlib import resources
from itertools import pairwise
from pathlib import Path
from typing import Any

from jiliang.errors import InvalidInput, NotFound, PayloadTooLarge
from jiliang.metrology import modelfile

MAX_FILE_BYTES = 1_000_000
# Worked examples shipped with the package (JCGM 100 Annex H, JCGM 101 §9, EA-4/02): the console offers
# them and the tests evaluate them against their published digits.
MODELS = resources.files("jiliang") / "data" / "models"


def example_models() -> dict[str, str]:
    """Name → title of every shipped example model file, in name order."""
    return dict(_example_titles())


@functools.cache
def _example_titles() -> tuple[tuple[str, str], ...]:
    # package data does not change while the process runs: read and parse the files once
    out = []
    for item in sorted(MODELS.iterdir(), key=lambda p: p.name):
        if item.name.endswith(".yaml"):
            doc = modelfile.parse_text(item.read_text(encoding="utf-8"))
            out.append((item.name.removesuffix(".yaml"), str(doc.get("title", item.name))))
    return tuple(out)


def example_text(name: str) -> str:
    if name not in dict(_example_titles()):
        raise NotFound(f"没有这个示例 / no example model {name!r}", field="example")
    return (MODELS / f"{name}.yaml").read_text(encoding="utf-8")


def evaluate_document(
    doc: Mapping[str, Any],
    *,
    trials: int | None = None,
    seed: int | None = None,
    max_trials: int | None = None,
) -> dict[str, Any]:
    """Evaluate a parsed model file (the API's JSON body or a loaded YAML file).

    ``trials`` and ``seed`` override the file's Monte Carlo options. ``max_trials`` bounds the Monte Carlo
    run (the public console's share of the server): a file asking for more runs that many, and a note
    says so. ``charts`` holds an ECharts option per output with the budget bars (GUM); ``histograms``
    one per output with the Monte Carlo histogram.
    """
    mf = modelfile.from_document(doc)
    if trials is not None or seed is not None:
        mf = modelfile.with_overrides(mf, trials=trials, seed=seed)
    capped_from = None
    if max_trials is not None and mf.method != "gum":
        wanted = modelfile.planned_trials(mf.mc)
        if wanted > max_trials:
            mf = modelfile.with_overrides(mf, trials=max_trials)
            capped_from = wanted
    answer = modelfile.evaluate(mf)
    if capped_from is not None:
        answer.setdefault("notes", []).append(
            f"此处蒙特卡洛最多 {max_trials:,} 次（文件要求 {capped_from:,} 次），完整评定请用命令行或接口 / "
            f"Monte Carlo is limited to {max_trials:,} trials here (the file asks for {capped_from:,}); "
            "use `jiliang uncertainty evaluate` or the API for the full run"
        )
    answer["charts"] = {o["name"]: budget_chart(o) for o in answer.get("outputs", [])}
    if "monte_carlo" in answer:
        checks = {v["output"]: v for v in answer.get("validation", [])}
        answer["histograms"] = {
            o["name"]: histogram_chart(o, checks.get(o["name"])) for o in answer["monte_carlo"]["outputs"]
        }
    return answer


def parse_bounded(text: str) -> Mapping[str, Any]:
    """The model file's text to a mapping, refusing one over MAX_FILE_BYTES before parsing it."""
    if len(text.encode("utf-8")) > MAX_FILE_BYTES:
        raise PayloadTooLarge(f"模型文件过大 / model file larger than {MAX_FILE_BYTES:,} bytes", field="file")
    return modelfile.parse_text(text)


def evaluate_text(text: str, *, trials: int | None = None, seed: int | None = None) -> dict[str, Any]:
    return evaluate_document(parse_bounded(text), trials=trials, seed=seed)


def read_path(path: Path) -> str:
    """A model file's text, read at most MAX_FILE_BYTES + 1 bytes: a larger file is refused at the limit."""
    try:
        with path.open("rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise InvalidInput(f"无法读取模型文件 / cannot read model file {path}: {exc}", field="file") from exc
    if len(data) > MAX_FILE_BYTES:
        raise PayloadTooLarge(f"模型文件过大 / model file larger than {MAX_FILE_BYTES:,} bytes", field="file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"无法读取模型文件 / model file {path} is not UTF-8: {exc}", field="file") from exc


def evaluate_path(path: Path, *, trials: int | None = None, seed: int | None = None) -> dict[str, Any]:
    return evaluate_text(read_path(path), trials=trials, seed=seed)


def _shown(value: float, digits: int = 2) -> float:
    """A number as a chart shows it: uncertainties to two significant digits (JJF 1059.1), no float noise
    such as 1.6675207770500002e-05 in a bar's label; the engine's own result keeps every digit."""
    return float(f"{value:.{digits}g}")


def histogram_chart(output: Mapping[str, Any], validation: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """An ECharts option: the Monte Carlo histogram of one output as bars at the bin centres, with the
    coverage interval (and the GUM interval when validated against it) as vertical mark lines."""
    h = output["histogram"]
    edges, counts = h["edges"], h["counts"]
    centres = [(a + b) / 2 for a, b in pairwise(edges)]
    unit = output["unit"]
    lines: list[dict[str, Any]] = [
        {"xAxis": _shown(x, 6), "name": f"MC {output['p']:g}", "lineStyle": {"color": "#c23531"}}
        for x in output["interval"]
    ]
    if validation is not None:
        lines += [
            {"xAxis": _shown(x, 6), "name": "GUM", "lineStyle": {"color": "#2f4554", "type": "dashed"}}
            for x in validation["gum_interval"]
        ]
    return {
        "title": {"text": f"蒙特卡洛分布 / Monte Carlo distribution of {output['name']}", "left": "center"},
        "tooltip": {"trigger": "axis"},
        "grid": {"containLabel": True, "left": 10, "right": 30, "bottom": 10},
        "xAxis": {"type": "value", "name": output["name"] + (f" / {unit}" if unit else ""), "scale": True},
        "yAxis": {"type": "value", "name": "频数 / count"},
        "series": [
            {
                "type": "bar",
                "name": "count",
                "barWidth": "100%",
                "data": [[c, n] for c, n in zip(centres, counts, strict=True)],
                "markLine": {"symbol": "none", "data": lines},
            }
        ],
    }


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
                    {
                        "name": b["input"],
                        "value": _shown(b["contribution"]),
                        "share": round(100 * b["share"], 2),
                    }
                    for b in rows
                ],
                "label": {"show": True, "position": "right", "formatter": "{c}"},
            }
        ],
    }
