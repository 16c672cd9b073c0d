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
_INPUT_KEYS = {
    "estimate",
    "u",
    "U",
    "k",
    "unit",
    "dof",
    "distribution",
    "description",
    "observations",
    "anova",
    "fit",
}
# an input evaluated from data (Type A, ANOVA, a fitted line) takes its estimate, u and ν from the data
_FROM_DATA = ("observations", "anova", "fit")
MAX_TABLE_VALUES = 100_000  # numbers in all the data tables of one model file together
FIT_PARAMETERS = ("intercept", "slope")
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
    "nonfinite",
}
NONFINITE = ("refuse", "exclude")
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
    nonfinite: str = (
        "refuse"  # a trial where the model is undefined: refuse the run, or exclude and report it
    )


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
    # how each input given by data was evaluated (Type A, ANOVA, fitted line), for the answer
    evaluations: dict[str, dict[str, Any]] = field(default_factory=dict)


class _Yaml12Loader(yaml.SafeLoader):  # type: ignore[misc]
    """PyYAML's safe loader with the float rule of YAML 1.2's core schema (and of JSON).

    PyYAML implements YAML 1.1, whose float pattern needs a dot and a signed exponent, so ``2e-06`` and
    ``1e+20`` (what ``json.dumps`` writes) were read as strings. The int rule is unchanged (it is tried
    first, so ``2`` stays an int).
    """


_Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:float"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"""^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?
            |[-+]?\.(?:inf|Inf|INF)
            |\.(?:nan|NaN|NAN))$""",
        re.VERBOSE,
    ),
    list("-+0123456789."),
)


def parse_text(text: str) -> Mapping[str, Any]:
    """YAML or JSON text (JSON is read as YAML, its superset) to a mapping; refusals say where.

    Numbers are read as YAML 1.2 and JSON read them: ``2e-06`` and ``1e+20`` are floats.
    """
    try:
        doc = yaml.load(text, Loader=_Yaml12Loader)  # a SafeLoader subclass: no arbitrary objects
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
    given = [k for k in ("u", "U", "distribution", *_FROM_DATA) if k in spec]
    if len(given) != 1:
        raise InvalidInput(
            f"不确定度须且只须给一种 / {where}: give exactly one of u, U (with k), distribution, observations, "
            "anova, fit",
            field=where,
        )
    dof = math.inf
    dist = None
    if given[0] in _FROM_DATA:
        raise InvalidInput(  # from_document evaluates these through _data_input
            f"{where}: {given[0]} needs the model file's tables", field=where
        )
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


def _tables(raw: Any) -> dict[str, dict[str, list[float]]]:
    """The ``tables`` section: name → column → numbers, every column of a table equally long."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise InvalidInput(
            "tables 应为映射 / tables must map each table name to its columns (name: [numbers])",
            field="tables",
        )
    out: dict[str, dict[str, list[float]]] = {}
    total = 0
    for tname, columns in raw.items():
        where = f"tables.{tname}"
        if not isinstance(columns, Mapping) or not columns:
            raise InvalidInput(
                f"数据表应为列名到数值列表的映射 / {where} must map column names to lists of numbers",
                field=where,
            )
        lengths = set()
        table: dict[str, list[float]] = {}
        for cname, values in columns.items():
            cwhere = f"{where}.{cname}"
            if not isinstance(values, list):
                raise InvalidInput(f"列应为数值列表 / {cwhere} must be a list of numbers", field=cwhere)
            total += len(values)
            if total > MAX_TABLE_VALUES:
                raise InvalidInput(
                    f"数据表过大 / the tables hold more than {MAX_TABLE_VALUES:,} numbers", field="tables"
                )
            for i, v in enumerate(values):
                if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
                    raise InvalidInput(
                        f"应为有限数 / {cwhere}[{i}] must be a finite number, got {v!r}",
                        field=f"{cwhere}[{i}]",
                    )
            lengths.add(len(values))
            table[str(cname)] = [float(v) for v in values]
        if len(lengths) != 1:
            raise InvalidInput(
                f"各列长度须相同 / the columns of {where} must be equally long (one row per observation set), "
                f"got lengths {sorted(lengths)}",
                field=where,
            )
        out[str(tname)] = table
    return out


def _column(tables: Mapping[str, Mapping[str, list[float]]], ref: Any, where: str) -> tuple[str, list[float]]:
    """``"table.column"`` → (table name, the column's numbers)."""
    if not isinstance(ref, str) or ref.count(".") != 1:
        raise InvalidInput(
            f"应写 表名.列名 / {where} must be a list of numbers or 'table.column', got {ref!r}", field=where
        )
    tname, cname = ref.split(".")
    if tname not in tables:
        raise InvalidInput(f"没有这个数据表 / {where}: no table {tname!r} in tables", field=where)
    if cname not in tables[tname]:
        raise InvalidInput(
            f"数据表中没有这一列 / {where}: table {tname!r} has no column {cname!r} "
            f"(it has {', '.join(tables[tname])})",
            field=where,
        )
    return tname, tables[tname][cname]


@dataclass(frozen=True)
class _DataInput:
    input: gum.Input
    evaluation: dict[str, Any]
    table: str | None = None  # observations taken from a table's column
    column: list[float] | None = None
    fit_key: tuple[Any, ...] | None = None
    fit_parameter: str | None = None
    fit_correlation: float = 0.0


def _data_input(
    name: str, spec: Mapping[str, Any], tables: Mapping[str, Mapping[str, list[float]]]
) -> _DataInput:
    """An input evaluated from observations (Type A), a one-way ANOVA, or a straight line fitted to a table."""
    where = f"inputs.{name}"
    clash = [k for k in ("estimate", "u", "U", "k", "dof", "distribution") if k in spec]
    kinds = [k for k in _FROM_DATA if k in spec]
    if len(kinds) != 1 or clash:
        extra = clash[0] if clash else kinds[1]
        raise InvalidInput(
            f"由数据评定的输入不能再给 {extra} / {where}: an input evaluated from {kinds[0]} takes its estimate, u "
            f"and dof from the data; remove {extra}",
            field=f"{where}.{extra}",
        )
    kind = kinds[0]
    obs = importlib.import_module("jiliang.metrology.observations")
    if kind == "observations":
        raw = spec["observations"]
        table = column = None
        if isinstance(raw, list):
            values = raw
        else:
            table, column = _column(tables, raw, f"{where}.observations")
            values = column
        ta = obs.type_a(values, where=f"{where}.observations")
        evaluation = {
            "kind": "type_a",
            "source": raw if isinstance(raw, str) else "list",
            "n": ta.n,
            "mean": ta.mean,
            "s": ta.s,
            "u": ta.u,
            "dof": ta.dof,
        }
        return _DataInput(gum.Input(name, ta.mean, ta.u, ta.dof), evaluation, table, column)
    if kind == "anova":
        raw = spec["anova"]
        awhere = f"{where}.anova"
        if isinstance(raw, str):  # a table whose columns are the groups (days)
            if raw not in tables:
                raise InvalidInput(f"没有这个数据表 / {awhere}: no table {raw!r} in tables", field=awhere)
            result = obs.anova(groups=list(tables[raw].values()), where=awhere)
        elif isinstance(raw, Mapping):
            unknown = set(raw) - {"groups", "means", "sds", "n"}
            if unknown:
                raise InvalidInput(
                    f"未知字段 / {awhere}: unknown field(s) {', '.join(sorted(map(str, unknown)))}",
                    field=awhere,
                )
            result = obs.anova(
                groups=raw.get("groups"),
                means=raw.get("means"),
                sds=raw.get("sds"),
                n=raw.get("n"),
                where=awhere,
            )
        else:
            raise InvalidInput(
                f"anova 应为表名或 {{means, sds, n}} / {awhere} must be a table name or {{means, sds, n}} or {{groups}}",
                field=awhere,
            )
        evaluation = {
            "kind": "anova",
            "groups": result.k,
            "per_group": result.j,
            "grand_mean": result.grand_mean,
            "s_means": result.s_means,
            "u": result.u,
            "dof": result.dof,
            "s_within": result.s_within,
            "dof_within": result.dof_within,
            "s_between": result.s_between,
            "ms_between": result.ms_between,
            "ms_within": result.ms_within,
            "F": result.f,
            "F_critical": result.f_critical,
            "p_value": result.p_value,
        }
        return _DataInput(gum.Input(name, result.grand_mean, result.u, result.dof), evaluation)
    raw = spec["fit"]
    fwhere = f"{where}.fit"
    if not isinstance(raw, Mapping):
        raise InvalidInput(f"fit 应为映射 / {fwhere} must be {{table, x, y, x0, parameter}}", field=fwhere)
    unknown = set(raw) - {"table", "x", "y", "x0", "u_y", "parameter"}
    if unknown:
        raise InvalidInput(
            f"未知字段 / {fwhere}: unknown field(s) {', '.join(sorted(map(str, unknown)))}", field=fwhere
        )
    parameter = raw.get("parameter")
    if parameter not in FIT_PARAMETERS:
        raise InvalidInput(
            f"parameter 应为 intercept 或 slope / {fwhere}.parameter must be intercept or slope, got {parameter!r}",
            field=f"{fwhere}.parameter",
        )
    tname = raw.get("table")
    if not isinstance(tname, str) or tname not in tables:
        raise InvalidInput(
            f"没有这个数据表 / {fwhere}.table: no table {tname!r} in tables", field=f"{fwhere}.table"
        )
    x = _column(tables, f"{tname}.{raw.get('x')}", f"{fwhere}.x")[1]
    y = _column(tables, f"{tname}.{raw.get('y')}", f"{fwhere}.y")[1]
    u_y = _column(tables, f"{tname}.{raw['u_y']}", f"{fwhere}.u_y")[1] if raw.get("u_y") is not None else None
    x0 = _number(raw.get("x0", 0.0), f"{fwhere}.x0")
    curve = importlib.import_module("jiliang.metrology.calibration_curve")
    try:
        line = curve.fit_line(x, y, u_y, t0=x0)
    except InvalidInput as exc:
        raise InvalidInput(f"{fwhere}: {exc.message}", field=f"{fwhere}.{exc.field or 'table'}") from exc
    value, u = (line.intercept, line.u_intercept) if parameter == "intercept" else (line.slope, line.u_slope)
    evaluation = {
        "kind": "fit",
        "table": tname,
        "x": raw.get("x"),
        "y": raw.get("y"),
        "x0": x0,
        "weighted": line.weighted,
        "parameter": parameter,
        "n": line.n,
        "intercept": line.intercept,
        "u_intercept": line.u_intercept,
        "slope": line.slope,
        "u_slope": line.u_slope,
        "r": line.correlation,
        "s": line.s if not line.weighted else None,
        "dof": line.dof,
    }
    key = (tname, raw.get("x"), raw.get("y"), x0, raw.get("u_y"))
    return _DataInput(
        gum.Input(name, value, u, line.dof),
        evaluation,
        fit_key=key,
        fit_parameter=parameter,
        fit_correlation=line.correlation,
    )


def _data_correlations(
    raw: Any, data: Mapping[str, _DataInput], tables: Mapping[str, Mapping[str, list[float]]]
) -> dict[tuple[str, str], float]:
    """Correlations estimated from the data: the intercept and slope of one fitted line always (H.3), and
    inputs observed together in a table named by a ``{table: name}`` item of ``correlations`` (H.2, eq. 14)."""
    out: dict[tuple[str, str], float] = {}
    fits: dict[tuple[Any, ...], dict[str, str]] = {}
    for name, d in data.items():
        if d.fit_key is not None and d.fit_parameter is not None:
            seen = fits.setdefault(d.fit_key, {})
            if d.fit_parameter in seen:
                raise InvalidInput(
                    f"同一拟合的 {d.fit_parameter} 给了两次 / inputs {seen[d.fit_parameter]} and {name} are both the "
                    f"{d.fit_parameter} of one fitted line",
                    field=f"inputs.{name}.fit",
                )
            seen[d.fit_parameter] = name
            if len(seen) == 2:
                out[(seen["intercept"], seen["slope"])] = d.fit_correlation
    items = list(raw.values()) if isinstance(raw, Mapping) else (raw or [])
    obs = importlib.import_module("jiliang.metrology.observations")
    for item in items if isinstance(items, list) else []:
        if not (isinstance(item, Mapping) and set(item) == {"table"}):
            continue
        tname = item["table"]
        if tname not in tables:
            raise InvalidInput(
                f"没有这个数据表 / correlations: no table {tname!r} to estimate correlations from",
                field="correlations",
            )
        names = [n for n, d in data.items() if d.table == tname and d.column is not None]
        if len(names) < 2:
            raise InvalidInput(
                f"数据表 {tname} 中少于两个输入 / correlations: fewer than two inputs are observed in table {tname!r}",
                field="correlations",
            )
        for i, a in enumerate(names):
            for b in names[i + 1 :]:
                col_a, col_b = data[a].column, data[b].column
                assert col_a is not None and col_b is not None
                out[(a, b)] = obs.correlation(col_a, col_b, where=f"tables.{tname}")
    return out


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
        if isinstance(item, Mapping) and set(item) == {"table"}:
            continue  # estimated from the table's observations: _data_correlations
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
    if "nonfinite" in raw:
        if raw["nonfinite"] not in NONFINITE:
            raise InvalidInput(
                "options.nonfinite 应为 refuse 或 exclude / must be refuse or exclude",
                field="options.nonfinite",
            )
        kw["nonfinite"] = raw["nonfinite"]
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
    extra = set(doc) - {"title", "model", "inputs", "outputs", "correlations", "options", "tables"}
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
    tables = _tables(doc.get("tables"))
    inputs, units, descriptions, distributions = [], {}, {}, {}
    data: dict[str, _DataInput] = {}
    for name, spec in raw_inputs.items():
        if not isinstance(name, str):
            raise InvalidInput(f"输入名应为字符串 / input name {name!r} must be a string", field="inputs")
        if isinstance(spec, Mapping) and any(k in spec for k in _FROM_DATA):
            extra = set(spec) - _INPUT_KEYS
            if extra:
                raise InvalidInput(
                    f"未知字段 / inputs.{name}: unknown field(s) {', '.join(sorted(map(str, extra)))}",
                    field=f"inputs.{name}",
                )
            unit = spec.get("unit")
            if unit is not None and not isinstance(unit, str):
                raise InvalidInput(
                    f"单位应为字符串 / inputs.{name}.unit must be a string", field=f"inputs.{name}.unit"
                )
            data[name] = _data_input(name, spec, tables)
            inputs.append(data[name].input)
            units[name] = unit
            descriptions[name] = str(spec.get("description", ""))
            continue
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
        correlations={
            **_data_correlations(doc.get("correlations"), data, tables),
            **_correlations(doc.get("correlations")),
        },
        options=options,
        method=method,
        descriptions=descriptions,
        distributions=distributions,
        mc=_mc_options(raw_options),
        evaluations={name: d.evaluation for name, d in data.items()},
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
        "nonfinite": mf.mc.nonfinite,
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
        y, pole = model.values_checked(values)
        if pole is not None and pole.count == 0:
            # every trial finite, but a denominator changes sign: no finite mean or variance (refused always)
            raise InvalidInput(pole.message(), field=pole.field, undefined=pole.expression)
        bad = ~np.isfinite(y)
        if np.any(bad):
            count = int(np.count_nonzero(np.any(bad, axis=0)))
            if mf.mc.nonfinite == "refuse":
                where = model.undefined(values) or pole
                raise InvalidInput(
                    f"模型在 {count} 次试验中无定义 / the model is undefined in {count} of {y.shape[-1]} trials"
                    + (f": {where.message()}" if where is not None else "")
                    + " (options.nonfinite: exclude leaves them out and reports how many)",
                    field=where.field if where is not None else "model",
                    bad_trials=count,
                )
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
        "excluded": res.excluded,
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
                nonfinite="exclude" if o.nonfinite == "exclude" else "refuse",
            )
        seed = next(iter(results.values())).seed
    else:
        multi = mc.propagate_outputs(
            fn,
            inputs,
            names,
            trials=o.trials,
            p=p,
            seed=o.seed,
            nonfinite="exclude" if o.nonfinite == "exclude" else "refuse",
        )
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
        "nonfinite": o.nonfinite,
        "excluded": max(res.excluded for res in results.values()),
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
        against = gum.intermediate_budgets(mf.model, mf.inputs, gum_result)
        for o in out["outputs"]:
            if o["name"] in against:
                o["intermediate_budget"] = [
                    {
                        "intermediate": row.intermediate,
                        "value": row.value,
                        "u": row.u,
                        "unit": row.unit,
                        "sensitivity": row.sensitivity,
                        "contribution": row.contribution,
                        "share": row.share,
                    }
                    for row in against[o["name"]]
                ]
    out["title"] = mf.title
    out["model"] = mf.model.text
    out["method"] = mf.method
    if mf.evaluations:
        out["evaluations"] = mf.evaluations
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
        nonfinite=mf.mc.nonfinite,
    )
    mc_answer = monte_carlo(mf, gum_result)
    if mc_answer["excluded"]:
        out.setdefault("notes", []).append(
            f"蒙特卡洛排除了模型无定义的 {mc_answer['excluded']:,} 次试验（nonfinite: exclude），结果是模型有定义条件下的分布 / "
            f"Monte Carlo left out {mc_answer['excluded']:,} trial(s) where the model is undefined (nonfinite: exclude): "
            "the results describe the output given that the model is defined"
        )
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
