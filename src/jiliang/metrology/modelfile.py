"""The model-file format (YAML or JSON) that ``jiliang uncertainty evaluate`` and the API read.

Documented with examples in docs/uncertainty.md. In short::

    title: End gauge (JCGM 100:2008 H.1)
    model: |
      l = ls + d - ls*(dalpha*theta + alpha_s*dtheta)
    outputs: {l: {unit: mm}}
    inputs:
      ls:     {estimate: 50.000623, unit: mm, u: 25 nm, dof: 18}
      alpha_s: {estimate: 11.5e-6, unit: 1/K, distribution: {kind: rectangular, half_width: 2e-6}}
      d:      {estimate: 215, unit: nm, U: 19.4, k: 2}
    correlations: [[V, I, -0.36]]          # or {a: V, b: I, r: -0.36}
    options: {p: 0.95, k: null, truncate_dof: true, expanded_from_rounded: false,
              significant_digits: 2, rounding: half_even, method: gum}

An input gives its standard uncertainty as ``u`` (a number in the input's unit, or a string with its own
unit such as ``25 nm``), or as an expanded ``U`` with its ``k``, or as a ``distribution`` (converted by
``jiliang.metrology.distributions.from_spec``, which also supplies the estimate and ν when they are not
given). Parsing the text is the caller's business; this module takes the parsed mapping.
"""

from __future__ import annotations

import importlib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml  # type: ignore[import-untyped]

from jiliang.errors import InvalidInput
from jiliang.metrology import gum
from jiliang.metrology.expression import Model, parse_unit, si_factor, unit_registry

MAX_INPUTS = 500
METHODS = ("gum", "monte_carlo", "both")
_QUANTITY = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(.*?)\s*$")
_INPUT_KEYS = {"estimate", "u", "U", "k", "unit", "dof", "distribution", "description"}
_OPTION_KEYS = {"p", "k", "truncate_dof", "expanded_from_rounded", "significant_digits", "rounding", "method"}


@dataclass(frozen=True)
class ModelFile:
    title: str
    model: Model
    inputs: tuple[gum.Input, ...]
    correlations: dict[tuple[str, str], float]
    options: gum.Options
    method: str
    descriptions: dict[str, str]


def parse_text(text: str) -> Mapping[str, Any]:
    """YAML or JSON text (JSON is read as YAML, its superset) to a mapping; refusals say where."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidInput(
            f"模型文件无法解析 / model file is neither YAML nor JSON: {exc}", field="file"
        ) from exc
    if not isinstance(doc, Mapping):
        raise InvalidInput(
            "模型文件应为映射 / model file must be a mapping with model, inputs, …", field="file"
        )
    return doc


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(f"应为数值 / {where} must be a number, got {value!r}", field=where)
    return float(value)


def _u_in_unit(value: Any, unit: str | None, where: str) -> float:
    """``u`` as a number in the input's unit, or a string ``"25 nm"`` converted to it."""
    if isinstance(value, str):
        m = _QUANTITY.match(value)
        if not m:
            raise InvalidInput(f"无法读取的量 / {where}: cannot read {value!r} as 'number unit'", field=where)
        number = float(m.group(1))
        if not m.group(2):
            return number
        own = parse_unit(m.group(2), field_name=where)
        target = parse_unit(unit, field_name=where)
        ureg = unit_registry()
        if ureg.Quantity(1.0, own).dimensionality != ureg.Quantity(1.0, target).dimensionality:
            raise InvalidInput(
                f"单位不一致 / inconsistent units: {where} is given in [{own:~}] but the input is in [{target:~}]",
                field=where,
            )
        return number * si_factor(own) / si_factor(target)
    return _number(value, where)


def _distribution(name: str, spec: Any) -> tuple[float, float, float]:
    """(expectation, standard uncertainty, dof) of a distribution, through the Monte Carlo module."""
    where = f"inputs.{name}.distribution"
    if not isinstance(spec, Mapping) or "kind" not in spec:
        raise InvalidInput(f"分布应为含 kind 的映射 / {where} must be a mapping with 'kind'", field=where)
    try:
        # imported here: the Monte Carlo module is optional to the GUM path
        from_spec = importlib.import_module("jiliang.metrology.distributions").from_spec
    except (ImportError, AttributeError) as exc:
        raise InvalidInput(
            f"分布需要 Monte Carlo 模块 / distributions need the Monte Carlo module (input {name})",
            field=where,
        ) from exc
    try:
        dist = from_spec(spec)
    except InvalidInput:
        raise
    except (ValueError, TypeError, KeyError) as exc:
        raise InvalidInput(f"分布无效 / {where}: {exc}", field=where) from exc
    return float(dist.expectation), float(dist.standard_uncertainty), float(getattr(dist, "dof", math.inf))


def _input(name: str, spec: Any) -> tuple[gum.Input, str | None, str]:
    where = f"inputs.{name}"
    if not isinstance(spec, Mapping):
        raise InvalidInput(f"输入应为映射 / {where} must be a mapping (estimate, u, unit, …)", field=where)
    extra = set(spec) - _INPUT_KEYS
    if extra:
        raise InvalidInput(
            f"未知字段 / {where}: unknown field(s) {', '.join(sorted(map(str, extra)))}", field=where
        )
    unit = spec.get("unit")
    if unit is not None and not isinstance(unit, str):
        raise InvalidInput(f"单位应为字符串 / {where}.unit must be a string", field=f"{where}.unit")
    given = [k for k in ("u", "U", "distribution") if k in spec]
    if len(given) != 1:
        raise InvalidInput(
            f"不确定度须且只须给一种 / {where}: give exactly one of u, U (with k), distribution", field=where
        )
    dof = math.inf
    if "distribution" in spec:
        estimate, u, dof = _distribution(name, spec["distribution"])
        if "estimate" in spec:
            estimate = _number(spec["estimate"], f"{where}.estimate")
    else:
        if "estimate" not in spec:
            raise InvalidInput(f"缺少估计值 / {where}.estimate is missing", field=f"{where}.estimate")
        estimate = _number(spec["estimate"], f"{where}.estimate")
        if "u" in spec:
            u = _u_in_unit(spec["u"], unit, f"{where}.u")
        else:
            if "k" not in spec:
                raise InvalidInput(
                    f"扩展不确定度需要 k / {where}: U needs its coverage factor k", field=f"{where}.k"
                )
            k = _number(spec["k"], f"{where}.k")
            if not k > 0:
                raise InvalidInput(f"包含因子无效 / {where}.k must be > 0", field=f"{where}.k")
            u = _u_in_unit(spec["U"], unit, f"{where}.U") / k
    if "dof" in spec and spec["dof"] is not None:
        dof = _number(spec["dof"], f"{where}.dof") if spec["dof"] not in ("inf", ".inf") else math.inf
    gum.check_input(name, estimate, u, dof)
    return gum.Input(name, estimate, u, dof), unit, str(spec.get("description", ""))


def _correlations(raw: Any) -> dict[tuple[str, str], float]:
    if raw is None:
        return {}
    items = list(raw.values()) if isinstance(raw, Mapping) else raw
    if not isinstance(items, list):
        raise InvalidInput(
            "相关系数应为列表 / correlations must be a list of [a, b, r]", field="correlations"
        )
    out: dict[tuple[str, str], float] = {}
    for item in items:
        if isinstance(item, Mapping) and {"a", "b", "r"} <= set(item):
            a, b, r = item["a"], item["b"], item["r"]
        elif isinstance(item, list | tuple) and len(item) == 3:
            a, b, r = item
        else:
            raise InvalidInput(
                f"相关系数格式不对 / correlation {item!r}: write [a, b, r]", field="correlations"
            )
        if not isinstance(a, str) or not isinstance(b, str):
            raise InvalidInput(
                f"相关系数须用输入名 / correlation {item!r}: a and b are input names", field="correlations"
            )
        out[(a, b)] = _number(r, f"correlations[{a},{b}]")
    return out


def _options(raw: Any) -> tuple[gum.Options, str]:
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise InvalidInput("options 应为映射 / options must be a mapping", field="options")
    extra = set(raw) - _OPTION_KEYS
    if extra:
        raise InvalidInput(
            f"未知选项 / unknown option(s) {', '.join(sorted(map(str, extra)))}", field="options"
        )
    method = raw.get("method", "gum")
    if method not in METHODS:
        raise InvalidInput(
            f"方法无效 / options.method must be one of {', '.join(METHODS)}", field="options.method"
        )
    kw: dict[str, Any] = {}
    for key in ("p", "k"):
        if raw.get(key) is not None:
            kw[key] = _number(raw[key], f"options.{key}")
    for key in ("truncate_dof", "expanded_from_rounded"):
        if key in raw:
            if not isinstance(raw[key], bool):
                raise InvalidInput(
                    f"options.{key} 应为 true/false / must be true or false", field=f"options.{key}"
                )
            kw[key] = raw[key]
    if "significant_digits" in raw:
        kw["significant_digits"] = raw["significant_digits"]
    if "rounding" in raw:
        kw["rounding"] = raw["rounding"]
    return gum.Options(**kw), str(method)


def from_document(doc: Mapping[str, Any]) -> ModelFile:
    """Check a parsed model file and build the model, the inputs, the correlations and the options."""
    if not isinstance(doc, Mapping):
        raise InvalidInput("模型文件应为映射 / model file must be a mapping", field="file")
    extra = set(doc) - {"title", "model", "inputs", "outputs", "correlations", "options"}
    if extra:
        raise InvalidInput(f"未知字段 / unknown field(s) {', '.join(sorted(map(str, extra)))}", field="file")
    text = doc.get("model")
    if not isinstance(text, str):
        raise InvalidInput(
            "缺少模型 / 'model' must be the model text (lines 'y = expression')", field="model"
        )
    raw_inputs = doc.get("inputs")
    if not isinstance(raw_inputs, Mapping) or not raw_inputs:
        raise InvalidInput(
            "缺少输入 / 'inputs' must map each input name to its estimate and uncertainty", field="inputs"
        )
    if len(raw_inputs) > MAX_INPUTS:
        raise InvalidInput(f"输入过多 / more than {MAX_INPUTS} inputs", field="inputs")
    inputs, units, descriptions = [], {}, {}
    for name, spec in raw_inputs.items():
        if not isinstance(name, str):
            raise InvalidInput(f"输入名应为字符串 / input name {name!r} must be a string", field="inputs")
        inp, unit, desc = _input(name, spec)
        inputs.append(inp)
        units[name] = unit
        descriptions[name] = desc
    raw_outputs = doc.get("outputs") or {}
    if not isinstance(raw_outputs, Mapping):
        raise InvalidInput("outputs 应为映射 / outputs must map output names to {unit: …}", field="outputs")
    output_units: dict[str, str | None] = {}
    for name, spec in raw_outputs.items():
        unit = spec.get("unit") if isinstance(spec, Mapping) else spec
        if unit is not None and not isinstance(unit, str):
            raise InvalidInput(
                f"outputs.{name}.unit 应为字符串 / must be a string", field=f"outputs.{name}.unit"
            )
        output_units[str(name)] = unit
    model = Model.parse(text, units=units, output_units=output_units, inputs=list(raw_inputs))
    options, method = _options(doc.get("options"))
    title = doc.get("title")
    return ModelFile(
        title=str(title) if title is not None else "",
        model=model,
        inputs=tuple(inputs),
        correlations=_correlations(doc.get("correlations")),
        options=options,
        method=method,
        descriptions=descriptions,
    )


def evaluate(mf: ModelFile) -> dict[str, Any]:
    """The GUM evaluation of a model file as a JSON-ready mapping; Monte Carlo is not wired here yet."""
    if mf.method != "gum":
        raise InvalidInput(
            "Monte Carlo 方法尚不可用 / method monte_carlo is not available in this build: use method: gum",
            field="options.method",
        )
    result = gum.evaluate(mf.model, mf.inputs, mf.correlations, mf.options)
    out = gum.as_dict(result)
    out["title"] = mf.title
    out["model"] = mf.model.text
    out["method"] = mf.method
    out["options"] = {
        "p": mf.options.p,
        "k": mf.options.k,
        "truncate_dof": mf.options.truncate_dof,
        "expanded_from_rounded": mf.options.expanded_from_rounded,
        "significant_digits": mf.options.significant_digits,
        "rounding": mf.options.rounding,
    }
    return out
