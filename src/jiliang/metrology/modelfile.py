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
              significant_digits: 2, rounding: half_even, method: gum,      # gum | monte_carlo | both
              trials: 1000000, adaptive: false, ndig: 2, seed: null, interval: symmetric,
              t_inputs: scale}

An input gives its standard uncertainty as ``u`` (a number in the input's unit, or a string with its own
unit such as ``25 nm``), or as an expanded ``U`` with its ``k``, or as a ``distribution`` (converted by
``jiliang.metrology.distributions.from_spec``, which also supplies the estimate and ν when they are not
given). Parsing the text is the caller's business; this module takes the parsed mapping.

Monte Carlo (JCGM 101) draws each input from its distribution, or from N(x, u²), or t_ν(x, u²) when ν is
finite (JCGM 101 6.4.9.7), correlated inputs jointly from a multivariate normal (6.4.8); see
:func:`mc_distributions` and docs/uncertainty.md.
"""

from __future__ import annotations

import importlib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import yaml  # type: ignore[import-untyped]

from jiliang.errors import InvalidInput
from jiliang.metrology import gum
from jiliang.metrology.expression import Model, parse_unit, si_factor, unit_registry

MAX_INPUTS = 500
METHODS = ("gum", "monte_carlo", "both")
_QUANTITY = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(.*?)\s*$")
_INPUT_KEYS = {"estimate", "u", "U", "k", "unit", "dof", "distribution", "description"}
_OPTION_KEYS = {
    "p",
    "k",
    "truncate_dof",
    "expanded_from_rounded",
    "significant_digits",
    "rounding",
    "second_order",
    "method",
    "trials",
    "adaptive",
    "ndig",
    "seed",
    "interval",
    "t_inputs",
}
T_INPUTS = ("scale", "standard_deviation", "normal")
MAX_TRIALS = 10_000_000  # 80 MB of output values per output; also the adaptive procedure's cap
MAX_OUTPUT_VALUES = 20_000_000  # outputs × trials kept at once by one sample of several outputs (160 MB)


@dataclass(frozen=True)
class MonteCarloOptions:
    """JCGM 101 settings of a model file: fixed ``trials`` or the adaptive procedure to ``ndig`` digits."""

    trials: int | None = None
    adaptive: bool = False
    ndig: int = 2
    seed: int | None = None
    interval: str = "symmetric"
    t_inputs: str = "scale"  # how an input with u and finite ν is drawn: see mc_distributions


@dataclass(frozen=True)
class ModelFile:
    title: str
    model: Model
    inputs: tuple[gum.Input, ...]
    correlations: dict[tuple[str, str], float]
    options: gum.Options
    method: str
    descriptions: dict[str, str]
    # inputs given by a ``distribution:`` spec keep it here for Monte Carlo; the others are built from
    # estimate, u and ν when Monte Carlo runs (normal, or scaled-and-shifted t when ν is finite)
    distributions: dict[str, Any] = field(default_factory=dict)
    mc: MonteCarloOptions = field(default_factory=MonteCarloOptions)


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


# Distribution parameters that are widths may be written with a unit ("15 mg") like u; locations may not
# (a location in an offset unit such as degC would convert differently from a width).
_DISTRIBUTION_WIDTHS = ("half_width", "sd", "scale", "u", "d")
# Where a distribution is centred when the file gives the input's estimate and no location:
# "estimate: 0, distribution: {kind: rectangular, half_width: 15 mg}" reads as 0 ± 15 mg.
_DISTRIBUTION_LOCATION = {
    "rectangular": ("centre", ("centre", "center", "lower", "upper")),
    "triangular": ("centre", ("centre", "center", "lower", "upper")),
    "arcsine": ("centre", ("centre", "center", "lower", "upper")),
    "trapezoidal": ("centre", ("centre", "center", "lower", "upper")),
    "curvilinear_trapezoidal": ("centre", ("centre", "center", "lower", "upper")),
    "normal": ("mean", ("mean",)),
    "student_t": ("mean", ("mean",)),
}


def _distribution(name: str, spec: Any, unit: str | None, estimate: Any) -> tuple[float, float, float, Any]:
    """(expectation, standard uncertainty, dof) of a distribution, through the Monte Carlo module."""
    where = f"inputs.{name}.distribution"
    if not isinstance(spec, Mapping) or "kind" not in spec:
        raise InvalidInput(f"分布应为含 kind 的映射 / {where} must be a mapping with 'kind'", field=where)
    try:
        # imported here: the Monte Carlo module is optional to the GUM path
        distributions = importlib.import_module("jiliang.metrology.distributions")
        from_spec = distributions.from_spec
        aliases = getattr(distributions, "ALIASES", {})
    except (ImportError, AttributeError) as exc:
        raise InvalidInput(
            f"分布需要 Monte Carlo 模块 / distributions need the Monte Carlo module (input {name})",
            field=where,
        ) from exc
    spec = dict(spec)
    for key in _DISTRIBUTION_WIDTHS:
        if isinstance(spec.get(key), str):
            spec[key] = _u_in_unit(spec[key], unit, f"{where}.{key}")
    kind = spec["kind"].strip().lower() if isinstance(spec["kind"], str) else spec["kind"]
    location = _DISTRIBUTION_LOCATION.get(aliases.get(kind, kind))
    if estimate is not None and location is not None and not any(k in spec for k in location[1]):
        spec[location[0]] = _number(estimate, f"inputs.{name}.estimate")
    try:
        dist = from_spec(spec)
    except InvalidInput as exc:
        raise InvalidInput(
            f"输入 {name} 的分布 / {where}: {exc.message}",
            field=f"{where}.{exc.field}" if exc.field else where,
        ) from exc
    except (ValueError, TypeError, KeyError) as exc:
        raise InvalidInput(f"分布无效 / {where}: {exc}", field=where) from exc
    try:
        moments = (
            float(dist.expectation),
            float(dist.standard_uncertainty),
            float(getattr(dist, "dof", math.inf)),
        )
    except TypeError as exc:  # a vector distribution has array moments
        raise InvalidInput(
            f"输入 {name} 须为标量分布 / {where}: input {name} needs a scalar distribution, "
            "give correlated normal inputs through 'correlations'",
            field=where,
        ) from exc
    return (*moments, dist)


def _input(name: str, spec: Any) -> tuple[gum.Input, str | None, str, Any]:
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
    dist = None
    if "distribution" in spec:
        estimate, u, dof, dist = _distribution(name, spec["distribution"], unit, spec.get("estimate"))
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
    return gum.Input(name, estimate, u, dof), unit, str(spec.get("description", "")), dist


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


def _mc_options(raw: Mapping[str, Any]) -> MonteCarloOptions:
    kw: dict[str, Any] = {}
    for key, low in (("trials", 2), ("seed", 0), ("ndig", 1)):
        value = raw.get(key)
        if value is None:
            continue
        high = {"trials": MAX_TRIALS, "seed": 2**128 - 1, "ndig": 10}[key]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise InvalidInput(
                f"options.{key} 应为 {low}…{high} 的整数 / must be an integer in {low}…{high}, got {value!r}",
                field=f"options.{key}",
            )
        kw[key] = value
    if "adaptive" in raw:
        if not isinstance(raw["adaptive"], bool):
            raise InvalidInput(
                "options.adaptive 应为 true/false / must be true or false", field="options.adaptive"
            )
        kw["adaptive"] = raw["adaptive"]
    if "interval" in raw:
        if raw["interval"] not in ("symmetric", "shortest"):
            raise InvalidInput(
                "区间类型无效 / options.interval must be symmetric or shortest", field="options.interval"
            )
        kw["interval"] = raw["interval"]
    if "t_inputs" in raw:
        if raw["t_inputs"] not in T_INPUTS:
            raise InvalidInput(
                f"options.t_inputs 应为 {' / '.join(T_INPUTS)} / must be one of {', '.join(T_INPUTS)}",
                field="options.t_inputs",
            )
        kw["t_inputs"] = raw["t_inputs"]
    return MonteCarloOptions(**kw)


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
    for key in ("truncate_dof", "expanded_from_rounded", "second_order"):
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
    inputs, units, descriptions, distributions = [], {}, {}, {}
    for name, spec in raw_inputs.items():
        if not isinstance(name, str):
            raise InvalidInput(f"输入名应为字符串 / input name {name!r} must be a string", field="inputs")
        inp, unit, desc, dist = _input(name, spec)
        inputs.append(inp)
        units[name] = unit
        descriptions[name] = desc
        if dist is not None:
            distributions[name] = dist
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
    raw_options = doc.get("options") or {}
    title = doc.get("title")
    return ModelFile(
        title=str(title) if title is not None else "",
        model=model,
        inputs=tuple(inputs),
        correlations=_correlations(doc.get("correlations")),
        options=options,
        method=method,
        descriptions=descriptions,
        distributions=distributions,
        mc=_mc_options(raw_options),
    )


def planned_trials(o: MonteCarloOptions) -> int:
    """How many trials a run will draw at most: the file's number, else the adaptive cap or 10⁶."""
    if o.trials is not None:
        return o.trials
    return (
        MAX_TRIALS
        if o.adaptive
        else int(importlib.import_module("jiliang.metrology.montecarlo").DEFAULT_TRIALS)
    )


def with_overrides(mf: ModelFile, *, trials: int | None = None, seed: int | None = None) -> ModelFile:
    """The same model file with ``trials`` and/or ``seed`` replaced (the CLI's --trials/--seed), checked."""
    raw: dict[str, Any] = {
        "trials": mf.mc.trials if trials is None else trials,
        "seed": mf.mc.seed if seed is None else seed,
        "adaptive": mf.mc.adaptive,
        "ndig": mf.mc.ndig,
        "interval": mf.mc.interval,
        "t_inputs": mf.mc.t_inputs,
    }
    return replace(mf, mc=_mc_options(raw))


def mc_distributions(mf: ModelFile) -> tuple[dict[str, Any], list[tuple[str, tuple[str, ...]]]]:
    """The Monte Carlo input distributions, keyed for ``montecarlo.propagate``, and the joint groups.

    An input with a ``distribution:`` keeps it. One given by estimate and u is normal N(x, u²); with finite
    ν it is the scaled and shifted t_ν(x, u²) of JCGM 101 6.4.9.7, whose scale is the stated u (so its
    standard deviation is u·√(ν/(ν−2)), larger than u, and infinite for ν ≤ 2); ``t_inputs:
    standard_deviation`` takes u as the t distribution's standard deviation instead (the NIST Uncertainty
    Machine's reading, ν > 2 needed) and ``t_inputs: normal`` ignores ν (N(x, u²)). Inputs linked by the
    ``correlations`` section are drawn jointly from one multivariate normal (JCGM 101 6.4.8) under the key
    ``"a|b|…"``; every such input must be normal: given by estimate and u with infinite ν, or by a normal
    ``distribution:`` (its mean and sd are used).
    """
    dists = importlib.import_module("jiliang.metrology.distributions")
    names = [i.name for i in mf.inputs]
    by = {i.name: i for i in mf.inputs}
    r = gum.correlation_matrix(names, mf.correlations)  # validated: names known, |r| ≤ 1, PSD
    # connected components of the non-zero correlations
    parent = list(range(len(names)))

    def root(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for a in range(len(names)):
        for b in range(a + 1, len(names)):
            if r[a, b] != 0.0:
                parent[root(a)] = root(b)
    members: dict[int, list[int]] = {}
    for a in range(len(names)):
        members.setdefault(root(a), []).append(a)
    out: dict[str, Any] = {}
    groups: list[tuple[str, tuple[str, ...]]] = []
    for idx in members.values():
        if len(idx) == 1:
            name = names[idx[0]]
            inp = by[name]
            if name in mf.distributions:
                out[name] = mf.distributions[name]
            elif math.isfinite(inp.dof) and mf.mc.t_inputs != "normal":
                if mf.mc.t_inputs == "scale":
                    out[name] = dists.StudentT(inp.estimate, inp.u, inp.dof)
                elif not inp.dof > 2:
                    raise InvalidInput(
                        f"自由度须大于 2 / input {name}: t_inputs standard_deviation needs dof > 2, got "
                        f"{inp.dof:g} (use t_inputs: scale)",
                        field=f"inputs.{name}.dof",
                    )
                else:
                    out[name] = dists.StudentT.from_standard_deviation(inp.estimate, inp.u, inp.dof)
            else:
                out[name] = dists.Normal(inp.estimate, inp.u)
            continue
        group = tuple(names[i] for i in idx)
        means, sds = [], []
        for name in group:
            why = None
            given = mf.distributions.get(name)
            if isinstance(given, dists.Normal):
                means.append(given.mean)
                sds.append(given.sd)
            elif given is not None:
                why = f"distribution {getattr(given, 'kind', '?')}"
            elif math.isfinite(by[name].dof) and mf.mc.t_inputs != "normal":
                why = f"Student t (dof {by[name].dof:g})"
            else:
                means.append(by[name].estimate)
                sds.append(by[name].u)
            if why is not None:
                raise InvalidInput(
                    f"相关输入须为正态分布 / correlated input {name} has a non-normal {why}: Monte Carlo draws "
                    "correlated inputs jointly from a multivariate normal (JCGM 101 6.4.8); give it by estimate "
                    "and u without dof (or set options.t_inputs: normal), or use method: gum",
                    field=f"inputs.{name}",
                )
        sub = r[np.ix_(idx, idx)]
        key = "|".join(group)
        out[key] = dists.MultivariateNormal.from_correlation(means, sds, sub.tolist())
        groups.append((key, group))
    return out, groups


def mc_function(mf: ModelFile, groups: list[tuple[str, tuple[str, ...]]]) -> Any:
    """The model on arrays of trials, for ``montecarlo.propagate``: outputs in their declared units."""
    model = mf.model
    single = len(model.outputs) == 1

    def fn(x: Mapping[str, Any]) -> Any:
        values = dict(x)
        for key, group in groups:
            joint = values.pop(key)
            for i, name in enumerate(group):
                values[name] = joint[i]
        y = model.values(values)
        return y[0] if single else {name: y[i] for i, name in enumerate(model.outputs)}

    return fn


def _histogram(h: Any) -> dict[str, Any]:
    return {"counts": h.counts.tolist(), "edges": h.edges.tolist()}


def _mc_output(name: str, unit: str, res: Any, kind: str) -> dict[str, Any]:
    return {
        "name": name,
        "unit": unit,
        "y": res.y,
        "u": res.u,
        "p": res.p,
        "interval": list(res.interval(kind)),
        "symmetric": list(res.symmetric),
        "shortest": list(res.shortest),
        "trials": res.trials,
        "converged": res.converged,
        "tolerance": res.tolerance,
        "histogram": _histogram(res.histogram),
    }


def monte_carlo(mf: ModelFile, gum_result: gum.Result | None = None) -> dict[str, Any]:
    """JCGM 101 for a model file: each output's y, u, coverage interval, histogram, and the run's settings.

    One output: ``montecarlo.propagate`` (fixed trials or adaptive). Several outputs with fixed trials:
    ``propagate_outputs``, one sample for all, so their covariance and correlation come too. Several
    outputs with ``adaptive: true``: ``propagate`` once per output with the same seed (hence the same input
    draws), without covariance. When ``gum_result`` is given (method both) and the procedure is adaptive,
    each output is stabilised to δ/5 of its GUM u (JCGM 101 §8.2).
    """
    mc = importlib.import_module("jiliang.metrology.montecarlo")
    inputs, groups = mc_distributions(mf)
    fn = mc_function(mf, groups)
    o = mf.mc
    p = mf.options.p
    names = mf.model.outputs
    units = {n: mf.model.unit_label(n) for n in names}
    results: dict[str, Any] = {}
    covariance = None
    trials = planned_trials(o)
    if not o.adaptive and len(names) * trials > MAX_OUTPUT_VALUES:
        raise InvalidInput(
            f"输出量 × 试验次数过大 / {len(names)} outputs × {trials:,} trials exceed {MAX_OUTPUT_VALUES:,} "
            "values kept in memory: lower options.trials",
            field="options.trials",
        )
    if len(names) == 1 or o.adaptive:
        for i, name in enumerate(names):
            one = fn if len(names) == 1 else (lambda x, _n=name: fn(x)[_n])
            tolerance = None
            if o.adaptive and gum_result is not None:
                tolerance = mc.numerical_tolerance(gum_result.outputs[i].u, o.ndig) / 5
            results[name] = mc.propagate(
                one,
                inputs,
                trials=o.trials,
                p=p,
                seed=o.seed,
                adaptive=o.adaptive,
                ndig=o.ndig,
                interval=o.interval,
                tolerance=tolerance,
            )
        seed = next(iter(results.values())).seed
    else:
        multi = mc.propagate_outputs(fn, inputs, names, trials=o.trials, p=p, seed=o.seed)
        results = dict(multi.outputs)
        covariance = multi.covariance
        seed = multi.seed
    answer: dict[str, Any] = {
        "method": "JCGM 101:2008",
        "seed": seed,
        "trials": max(res.trials for res in results.values()),
        "adaptive": o.adaptive,
        "ndig": o.ndig,
        "p": p,
        "interval_kind": o.interval,
        "outputs": [_mc_output(n, units[n], results[n], o.interval) for n in names],
    }
    if covariance is not None:
        u = np.sqrt(np.diag(covariance))
        with np.errstate(invalid="ignore", divide="ignore"):
            corr = covariance / np.outer(u, u)
        answer["covariance"] = covariance.tolist()
        answer["correlation"] = [[float(v) if math.isfinite(v) else None for v in row] for row in corr]
    answer["_results"] = results
    return answer


def evaluate(mf: ModelFile) -> dict[str, Any]:
    """The model file's evaluation as a JSON-ready mapping, by ``mf.method``.

    ``gum``: the GUM result (``outputs``, ``covariance``, ``correlation``, ``notes``). ``monte_carlo``: the
    JCGM 101 result under ``monte_carlo``. ``both``: the two, plus ``validation``, one JCGM 101 §8 report
    per output comparing the GUM interval y ± U with the Monte Carlo one of the chosen ``interval`` kind.
    """
    out: dict[str, Any] = {"title": mf.title, "model": mf.model.text, "method": mf.method}
    gum_result = None
    if mf.method in ("gum", "both"):
        gum_result = gum.evaluate(mf.model, mf.inputs, mf.correlations, mf.options)
        out.update(gum.as_dict(gum_result))
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
        "second_order": mf.options.second_order,
    }
    if mf.method == "gum":
        return out
    out["options"].update(
        trials=mf.mc.trials,
        adaptive=mf.mc.adaptive,
        ndig=mf.mc.ndig,
        seed=mf.mc.seed,
        interval=mf.mc.interval,
        t_inputs=mf.mc.t_inputs,
    )
    mc_answer = monte_carlo(mf, gum_result)
    results = mc_answer.pop("_results")
    out["monte_carlo"] = mc_answer
    if gum_result is not None:
        mc = importlib.import_module("jiliang.metrology.montecarlo")
        reports = []
        for g in gum_result.outputs:
            v = mc.validate_gum(
                g.value,
                g.u,
                (g.value - g.U, g.value + g.U),
                results[g.name],
                mf.mc.ndig,
                interval=mf.mc.interval,
            )
            reports.append(
                {
                    "output": g.name,
                    "validated": v.passed,
                    "d_low": v.d_low,
                    "d_high": v.d_high,
                    "delta": v.delta,
                    "ndig": v.ndig,
                    "gum_interval": list(v.gum_interval),
                    "mc_interval": list(v.mc_interval),
                    "interval_kind": v.interval,
                }
            )
        out["validation"] = reports
    return out
