"""The GUM uncertainty framework (JCGM 100:2008): propagation, degrees of freedom, coverage, budget.

- Law of propagation of uncertainty (5.1.2, 5.2.2), in matrix form ``U_y = J V J^T`` so that several
  outputs get their covariance and correlation (H.2).
- Correlation matrices are checked (symmetric, unit diagonal, |r| ≤ 1, positive semi-definite); a
  refusal names the inputs.
- Effective degrees of freedom by Welch–Satterthwaite (G.4.1, G.2b). With correlated inputs the formula
  does not apply as such; we follow Willink (2007, Metrologia 44 340, §4.1): the inputs joined by non-zero
  correlations form a group, and a group whose members share one finite ν (estimates from the same set of
  observations, as in H.2) enters as one component ``c_g^T V_g c_g`` with that ν; a group whose members
  all have ν = ∞ contributes nothing to the denominator; a group with unequal finite ν is refused (give k
  explicitly instead), naming its inputs.
- Only elementary inputs enter the formula, so ν_eff does not change when the same model is written with
  intermediate lines or rearranged algebraically (the sensitivity coefficients, hence the components
  c_i u(x_i), are the same).
- Coverage factor ``k = t_p(ν_eff)`` (G.3, G.6.4); ν_eff truncated to the next lower integer before
  looking up t (G.4.1 NOTE 1 and H.1.6) unless ``truncate_dof=False``; or a fixed ``k``.
- Reporting (7.2.6, JJF 1059.1-2012 §5.3.8): u_c and U rounded to 2 significant digits (option), by
  "round half to even" (四舍六入，逢五取偶, GB/T 8170) or by always rounding up (末位后的数字全都进位,
  the conservative choice JJF 1059.1 allows); the estimate rounded to U's last digit. U may be formed from
  the rounded or the unrounded u_c (option; the default, unrounded, is the GUM's own H.1 arithmetic).
- Second-order terms (5.1.2 NOTE, the option ``second_order``; uncorrelated inputs only):
  ``Σ_i Σ_j [½ (∂²f/∂x_i∂x_j)² + ∂f/∂x_i ∂³f/∂x_i∂x_j²] u²(x_i) u²(x_j)`` is added to u_c². The higher
  derivatives are central differences of the exact (automatic) gradient with steps of 10⁻³ u(x_j): exact
  for the products and polynomials measurement models are mostly made of, and otherwise accurate far
  beyond the two digits reported. They change u_c only: ν_eff is still formed from the first-order
  components, and the outputs' covariance stays first-order.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_HALF_EVEN, ROUND_UP, Decimal
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats  # type: ignore[import-untyped]

from jiliang.errors import InvalidInput
from jiliang.metrology.expression import Model

FloatArray = NDArray[np.float64]
Rounding = Literal["half_even", "up"]


@dataclass(frozen=True)
class Input:
    """An input quantity's estimate, standard uncertainty (in the input's unit) and degrees of freedom."""

    name: str
    estimate: float
    u: float
    dof: float = math.inf

    def __post_init__(self) -> None:
        check_input(self.name, self.estimate, self.u, self.dof)


def check_input(name: str, estimate: float, u: float, dof: float) -> None:
    if not isinstance(estimate, int | float) or not math.isfinite(estimate):
        raise InvalidInput(
            f"估计值无效 / estimate of {name} is not a finite number: {estimate!r}",
            field=f"inputs.{name}.estimate",
        )
    if not isinstance(u, int | float) or not math.isfinite(u) or u < 0:
        raise InvalidInput(
            f"标准不确定度无效 / standard uncertainty of {name} must be finite and ≥ 0, got {u!r}",
            field=f"inputs.{name}.u",
        )
    if not isinstance(dof, int | float) or math.isnan(dof) or dof <= 0:
        raise InvalidInput(
            f"自由度无效 / degrees of freedom of {name} must be > 0, got {dof!r}", field=f"inputs.{name}.dof"
        )


@dataclass(frozen=True)
class Options:
    """The conventions that tools differ on, explicit (see the module docstring)."""

    p: float = 0.95
    k: float | None = None
    truncate_dof: bool = True
    expanded_from_rounded: bool = False
    significant_digits: int = 2
    rounding: Rounding = "half_even"
    second_order: bool = False

    def __post_init__(self) -> None:
        if not (isinstance(self.p, int | float) and 0.5 <= self.p < 1):
            raise InvalidInput(
                f"包含概率无效 / coverage probability must be in [0.5, 1), got {self.p!r}", field="options.p"
            )
        if self.k is not None and not (
            isinstance(self.k, int | float) and math.isfinite(self.k) and self.k > 0
        ):
            raise InvalidInput(
                f"包含因子无效 / coverage factor must be > 0, got {self.k!r}", field="options.k"
            )
        if self.significant_digits not in (1, 2, 3):
            raise InvalidInput(
                "有效位数只能为 1–3 / significant_digits must be 1, 2 or 3",
                field="options.significant_digits",
            )
        if self.rounding not in ("half_even", "up"):
            raise InvalidInput(
                "修约规则无效 / rounding must be 'half_even' or 'up'", field="options.rounding"
            )


@dataclass(frozen=True)
class BudgetRow:
    """One line of the uncertainty budget of one output (JCGM 100:2008 Table H.1 layout)."""

    input: str
    estimate: float
    u: float
    unit: str
    dof: float
    sensitivity: float  # c_i = ∂f/∂x_i, in output unit per input unit
    contribution: float  # u_i(y) = |c_i| u(x_i), in the output unit
    share: float  # (c_i u(x_i))² / u_c²(y); with correlations the rest is in OutputResult.covariance_share


@dataclass(frozen=True)
class OutputResult:
    name: str
    unit: str
    value: float
    u: float
    dof: float
    k: float
    p: float
    U: float
    u_reported: str
    U_reported: str
    value_reported: str
    budget: tuple[BudgetRow, ...]
    covariance_share: float  # the part of u_c² due to correlation terms (0 when independent)
    second_order_share: float = 0.0  # the part of u_c² due to the second-order terms (option second_order)
    expanded_from_rounded: bool = (
        False  # U = k × the rounded u_c (else the unrounded one): said in the answer
    )


@dataclass(frozen=True)
class Result:
    outputs: tuple[OutputResult, ...]
    covariance: FloatArray  # between outputs, in their units
    correlation: FloatArray
    notes: tuple[str, ...] = field(default=())

    def output(self, name: str) -> OutputResult:
        for out in self.outputs:
            if out.name == name:
                return out
        raise KeyError(name)

    def r(self, a: str, b: str) -> float:
        names = [o.name for o in self.outputs]
        return float(self.correlation[names.index(a), names.index(b)])


# --------------------------------------------------------------------------------------------------
# Correlations


def correlation_matrix(names: Sequence[str], pairs: Mapping[tuple[str, str], float] | None) -> FloatArray:
    """Build and validate the input correlation matrix from ``{(a, b): r}``; refusals name the inputs."""
    n = len(names)
    r = np.eye(n)
    if not pairs:
        return r
    index = {name: i for i, name in enumerate(names)}
    seen: dict[tuple[int, int], float] = {}
    for (a, b), value in pairs.items():
        for x in (a, b):
            if x not in index:
                raise InvalidInput(
                    f"相关系数引用了未知输入 / correlation names unknown input {x!r}", field="correlations"
                )
        if not isinstance(value, int | float) or not math.isfinite(value):
            raise InvalidInput(
                f"相关系数无效 / correlation r({a},{b}) is not a number: {value!r}", field="correlations"
            )
        i, j = index[a], index[b]
        if i == j:
            if value != 1:
                raise InvalidInput(
                    f"自相关必须为 1 / r({a},{a}) must be 1 (unit diagonal), got {value}",
                    field="correlations",
                )
            continue
        if abs(value) > 1:
            raise InvalidInput(
                f"相关系数超出 [-1, 1] / |r({a},{b})| = {abs(value)} exceeds 1", field="correlations"
            )
        key = (min(i, j), max(i, j))
        if key in seen and seen[key] != value:
            raise InvalidInput(
                f"相关矩阵不对称 / correlation matrix not symmetric: r({a},{b}) given as {seen[key]} and {value}",
                field="correlations",
            )
        seen[key] = float(value)
        r[i, j] = r[j, i] = value
    check_correlation(names, r)
    return r


def check_correlation(names: Sequence[str], r: FloatArray) -> None:
    """Symmetric, unit diagonal, |r| ≤ 1, positive semi-definite; a failing matrix is named by its inputs."""
    n = len(names)
    if r.shape != (n, n):
        raise InvalidInput(f"相关矩阵维数不对 / correlation matrix must be {n}×{n}", field="correlations")
    if not np.all(np.isfinite(r)):
        raise InvalidInput("相关矩阵含非数 / correlation matrix has a non-finite entry", field="correlations")
    for i in range(n):
        if r[i, i] != 1:
            raise InvalidInput(f"自相关必须为 1 / r({names[i]},{names[i]}) must be 1", field="correlations")
        for j in range(i + 1, n):
            if r[i, j] != r[j, i]:
                raise InvalidInput(
                    f"相关矩阵不对称 / correlation matrix not symmetric at ({names[i]}, {names[j]})",
                    field="correlations",
                )
            if abs(r[i, j]) > 1:
                raise InvalidInput(
                    f"相关系数超出 [-1, 1] / |r({names[i]},{names[j]})| exceeds 1", field="correlations"
                )
    w, v = np.linalg.eigh(r)
    if w[0] < -1e-10:
        # the inputs carrying the negative eigenvector are the ones whose correlations contradict each other
        weight = np.abs(v[:, 0])
        involved = [
            names[i]
            for i in np.argsort(-weight)
            if weight[i] > 0.1 and any(r[i, j] != 0 for j in range(n) if j != i)
        ]
        raise InvalidInput(
            f"相关矩阵不是半正定 / correlation matrix is not positive semi-definite (smallest eigenvalue "
            f"{w[0]:.3g}); inconsistent correlations among: {', '.join(involved)}",
            field="correlations",
            inputs=involved,
        )


def _groups(r: FloatArray) -> list[list[int]]:
    """Connected components of the graph 'non-zero correlation'."""
    n = r.shape[0]
    seen = [False] * n
    out = []
    for s in range(n):
        if seen[s]:
            continue
        stack, comp = [s], []
        seen[s] = True
        while stack:
            i = stack.pop()
            comp.append(i)
            for j in range(n):
                if not seen[j] and r[i, j] != 0:
                    seen[j] = True
                    stack.append(j)
        out.append(sorted(comp))
    return out


# --------------------------------------------------------------------------------------------------
# Degrees of freedom, coverage, rounding


def effective_dof(
    c: FloatArray, u: FloatArray, dof: FloatArray, r: FloatArray, names: Sequence[str]
) -> float:
    """Welch–Satterthwaite (G.2b), with Willink's grouping of correlated inputs (module docstring)."""
    terms = c * u
    uc2 = float(terms @ r @ terms)
    if uc2 == 0:
        return math.inf
    denom = 0.0
    for group in _groups(r):
        finite = [dof[i] for i in group if math.isfinite(dof[i]) and terms[i] != 0]
        if not finite:
            continue
        if len(group) == 1:
            denom += terms[group[0]] ** 4 / dof[group[0]]
            continue
        nus = {float(dof[i]) for i in group if terms[i] != 0}
        if len(nus) != 1:
            raise InvalidInput(
                "相关输入的自由度不一致，无法计算有效自由度 / effective degrees of freedom undefined: correlated "
                f"inputs {', '.join(names[i] for i in group)} have different degrees of freedom "
                "(Willink 2007 needs one ν per correlated group); give the coverage factor k instead",
                field="correlations",
            )
        t = terms[group]
        vg = float(t @ r[np.ix_(group, group)] @ t)
        denom += vg**2 / nus.pop()
    return math.inf if denom == 0 else uc2**2 / denom


def coverage_factor(dof: float, p: float, truncate: bool = True) -> float:
    """k = t_p(ν): the two-sided p quantile of Student's t (normal when ν = ∞); ν truncated per G.4.1."""
    nu = math.floor(dof) if truncate and math.isfinite(dof) else dof
    if not math.isfinite(nu):
        return float(stats.norm.ppf(0.5 + p / 2))
    nu = max(nu, 1.0)
    return float(stats.t.ppf(0.5 + p / 2, nu))


def round_significant(x: float, digits: int = 2, rounding: Rounding = "half_even") -> tuple[float, int]:
    """``x`` to ``digits`` significant digits and the decimal exponent of its last digit.

    Works on the shortest decimal representation of the float (``repr``), so 0.0125 rounds as the
    decimal it prints as, not as its binary neighbour.
    """
    if x == 0 or not math.isfinite(x):
        return x, 0
    d = Decimal(repr(float(x)))
    exp = d.adjusted() - digits + 1
    mode = ROUND_HALF_EVEN if rounding == "half_even" else (ROUND_UP if x > 0 else ROUND_CEILING)
    q = d.quantize(Decimal(1).scaleb(exp), rounding=mode)
    if q.adjusted() > d.adjusted():  # 9.96 -> 10: keep `digits` significant digits
        exp += 1
        q = d.quantize(Decimal(1).scaleb(exp), rounding=mode)
    return float(q), exp


def format_at(x: float, exp: int) -> str:
    """``x`` written with its last digit at 10**exp (the reporting form of 7.2.6)."""
    q = Decimal(repr(float(x))).quantize(Decimal(1).scaleb(exp), rounding=ROUND_HALF_EVEN)
    return f"{q:f}" if exp < 0 else f"{int(q)}"


# --------------------------------------------------------------------------------------------------
# Evaluation


def _prepare(
    model: Model, inputs: Sequence[Input] | Mapping[str, Input]
) -> tuple[list[Input], FloatArray, FloatArray, FloatArray]:
    items = list(inputs.values()) if isinstance(inputs, Mapping) else list(inputs)
    by_name = {i.name: i for i in items}
    unknown = [n for n in by_name if n not in model.inputs]
    if unknown:
        raise InvalidInput(
            f"输入未被模型使用 / input(s) {', '.join(unknown)} not used by the model",
            field=f"inputs.{unknown[0]}",
        )
    missing = [n for n in model.inputs if n not in by_name]
    if missing:
        raise InvalidInput(
            f"未知变量 / unknown variable(s) {', '.join(missing)}: used by the model but not given as inputs",
            field=f"inputs.{missing[0]}",
        )
    ordered = [by_name[n] for n in model.inputs]
    x = np.array([i.estimate for i in ordered], dtype=float)
    u = np.array([i.u for i in ordered], dtype=float)
    dof = np.array([i.dof for i in ordered], dtype=float)
    return ordered, x, u, dof


def evaluate(
    model: Model,
    inputs: Sequence[Input] | Mapping[str, Input],
    correlations: Mapping[tuple[str, str], float] | FloatArray | None = None,
    options: Options | None = None,
) -> Result:
    """Evaluate every output of ``model`` by the GUM framework."""
    opts = options or Options()
    ordered, x, u, dof = _prepare(model, inputs)
    names = list(model.inputs)
    if isinstance(correlations, np.ndarray):
        r = np.asarray(correlations, dtype=float)
        check_correlation(names, r)
    else:
        r = correlation_matrix(names, correlations)
    ev = model.evaluate({n: x[i] for i, n in enumerate(names)})
    y, jac = ev.values, ev.jacobian
    if not np.all(np.isfinite(y)) or not np.all(np.isfinite(jac)):
        bad = [
            model.outputs[i] for i in range(len(y)) if not (np.isfinite(y[i]) and np.all(np.isfinite(jac[i])))
        ]
        where = model.undefined({n: x[i] for i, n in enumerate(names)})
        raise InvalidInput(
            f"模型在输入估计值处无定义 / the model is not defined (or not differentiable) at the estimates: {', '.join(bad)}"
            + (f"; {where.message()}" if where is not None else ""),
            field=where.field if where is not None else "model",
        )
    v = r * np.outer(u, u)
    cov = jac @ v @ jac.T
    sd = np.sqrt(np.clip(np.diag(cov), 0, None))
    with np.errstate(all="ignore"):
        corr = np.where(np.outer(sd, sd) > 0, cov / np.outer(sd, sd), 0.0)
    np.fill_diagonal(corr, 1.0)
    second = np.zeros(len(model.outputs))
    if opts.second_order:
        if np.any(r != np.eye(len(names))):
            raise InvalidInput(
                "二阶项只适用于不相关输入 / second-order terms (GUM 5.1.2 NOTE) need uncorrelated inputs",
                field="options.second_order",
            )
        second = second_order_terms(model, x, u, jac)
    outs = []
    for m, name in enumerate(model.outputs):
        c = jac[m]
        uc = math.sqrt(max(float(sd[m]) ** 2 + float(second[m]), 0.0))
        nu = effective_dof(c, u, dof, r, names) if opts.k is None else _dof_or_inf(c, u, dof, r, names)
        k = opts.k if opts.k is not None else coverage_factor(nu, opts.p, opts.truncate_dof)
        uc_r, _ = round_significant(uc, opts.significant_digits, opts.rounding)
        U = k * (uc_r if opts.expanded_from_rounded else uc)
        U_r, exp = round_significant(U, opts.significant_digits, opts.rounding)
        _, exp_u = round_significant(uc, opts.significant_digits, opts.rounding)
        rows = []
        for i, inp in enumerate(ordered):
            contrib = abs(float(c[i])) * inp.u
            rows.append(
                BudgetRow(
                    input=inp.name,
                    estimate=inp.estimate,
                    u=inp.u,
                    unit=model.unit_label(inp.name),
                    dof=inp.dof,
                    sensitivity=float(c[i]),
                    contribution=contrib,
                    share=contrib**2 / uc**2 if uc > 0 else 0.0,
                )
            )
        outs.append(
            OutputResult(
                name=name,
                unit=model.unit_label(name),
                value=float(y[m]),
                u=uc,
                dof=nu,
                k=float(k),
                p=opts.p,
                U=float(U),
                u_reported=format_at(uc_r, exp_u) if uc > 0 else "0",
                U_reported=format_at(U_r, exp) if U > 0 else "0",
                value_reported=format_at(float(y[m]), exp) if U > 0 else repr(float(y[m])),
                budget=tuple(rows),
                covariance_share=(
                    1.0 - sum(row.share for row in rows) - float(second[m]) / uc**2 if uc > 0 else 0.0
                ),
                second_order_share=float(second[m]) / uc**2 if uc > 0 else 0.0,
                expanded_from_rounded=opts.expanded_from_rounded,
            )
        )
    notes = [expanded_basis_note(opts)]
    if opts.second_order:
        notes.append("u_c 含二阶项（GUM 5.1.2 注）/ u_c includes the second-order terms of GUM 5.1.2 NOTE")
    if np.any(r != np.eye(len(names))):
        notes.append(
            "相关输入按 Willink (2007) 分组计算有效自由度 / effective dof with correlated inputs: Willink (2007) grouping"
        )
    return Result(tuple(outs), cov, corr, tuple(notes))


@dataclass(frozen=True)
class IntermediateRow:
    """One line of a budget against intermediate results: u_x(y) = |∂y/∂x| u(x), x an earlier output."""

    intermediate: str
    value: float
    u: float
    unit: str
    sensitivity: float  # ∂y/∂x through x only, in output unit per unit of x
    contribution: float
    share: float  # u_x²(y)/u_c²(y); intermediates share inputs, so the shares need not add up to 1


def intermediate_budgets(
    model: Model, inputs: Sequence[Input] | Mapping[str, Input], result: Result
) -> dict[str, tuple[IntermediateRow, ...]]:
    """For each output computed from earlier lines, its budget against those intermediate results.

    The intermediates' own u(x) come from ``result`` (first order, with the input correlations). Only the
    outputs that use an earlier line get an entry (e.g. a titration volume before it enters a concentration).
    """
    _, x, _, _ = _prepare(model, inputs)
    at = {n: x[i] for i, n in enumerate(model.inputs)}
    out: dict[str, tuple[IntermediateRow, ...]] = {}
    partials = {name: model.partials_against(at, name) for name in model.outputs if _is_used(model, name)}
    for m, y in enumerate(model.outputs):
        deps = model.depends_on(y)
        if not deps:
            continue
        uc = result.outputs[m].u
        rows = []
        for dep in deps:
            xr = result.output(dep)
            c = float(partials[dep][m])
            contribution = abs(c) * xr.u
            rows.append(
                IntermediateRow(
                    dep, xr.value, xr.u, xr.unit, c, contribution, contribution**2 / uc**2 if uc > 0 else 0.0
                )
            )
        out[y] = tuple(rows)
    return out


def _is_used(model: Model, name: str) -> bool:
    return any(name in model.depends_on(y) for y in model.outputs)


def expanded_basis_note(opts: Options) -> str:
    """Which u_c the expanded uncertainty was formed from, said in every answer (docs/uncertainty.md)."""
    if opts.expanded_from_rounded:
        return (
            "U = k × 修约后的 u_c（expanded_from_rounded: true，如 GUM H.1 的 2.92 × 32 nm）/ U = k × u_c rounded to "
            "the reported digits (expanded_from_rounded: true, as GUM H.1 writes 2.92 × 32 nm)"
        )
    return (
        "U = k × 未修约的 u_c，只修约报告值（GUM 7.2.6；JJF 1059.1 的修约规则用于最终报告的 u_c 和 U）/ U = k × the "
        "unrounded u_c; only the reported u_c and U are rounded (GUM 7.2.6: keep digits in calculations to avoid "
        "round-off errors; expanded_from_rounded: false, the default)"
    )


SECOND_ORDER_STEP = 1e-3  # relative to u(x_j): the difference step of the higher derivatives


def second_order_terms(model: Model, x: FloatArray, u: FloatArray, jac: FloatArray) -> FloatArray:
    """Per output, Σ_i Σ_j [½ (∂²f/∂x_i∂x_j)² + ∂f/∂x_i ∂³f/∂x_i∂x_j²] u²(x_i) u²(x_j) (GUM 5.1.2 NOTE)."""
    names = list(model.inputs)
    n = len(names)
    moving = [j for j in range(n) if u[j] > 0]
    if not moving:
        return np.zeros(jac.shape[0])
    h = SECOND_ORDER_STEP * u[moving]
    # every shifted point at once: row 2k is x + h_k e_j, row 2k + 1 is x − h_k e_j
    points = np.repeat(x[None, :], 2 * len(moving), axis=0)
    for k, j in enumerate(moving):
        points[2 * k, j] += h[k]
        points[2 * k + 1, j] -= h[k]
    g = model.evaluate({name: points[:, i] for i, name in enumerate(names)}).jacobian  # (m, n, 2k)
    plus, minus = g[:, :, 0::2], g[:, :, 1::2]  # (m, n, k): the gradient at x ± h_k e_j
    hess = (plus - minus) / (2 * h)  # ∂²f/∂x_i∂x_j
    third = (plus - 2 * jac[:, :, None] + minus) / h**2  # ∂³f/∂x_i∂x_j²
    ui2, uj2 = u[None, :, None] ** 2, u[moving][None, None, :] ** 2
    total = (0.5 * hess**2 + jac[:, :, None] * third) * ui2 * uj2
    if not np.all(np.isfinite(total)):
        raise InvalidInput(
            "二阶项无法计算：模型在估计值附近无定义 / the second-order terms cannot be formed: the model is not "
            "defined near the estimates",
            field="options.second_order",
        )
    return np.asarray(total.sum(axis=(1, 2)), dtype=float)


def _dof_or_inf(c: FloatArray, u: FloatArray, dof: FloatArray, r: FloatArray, names: Sequence[str]) -> float:
    """With k given, ν_eff is informative only: NaN where it is undefined instead of refusing."""
    try:
        return effective_dof(c, u, dof, r, names)
    except InvalidInput:
        return math.nan


# --------------------------------------------------------------------------------------------------
# Batch: one model, many instruments


@dataclass(frozen=True)
class BatchResult:
    """Arrays over instruments: ``value[m, N]``, ``u[m, N]``, ``dof[m, N]``, ``k[m, N]``, ``U[m, N]``."""

    outputs: tuple[str, ...]
    value: FloatArray
    u: FloatArray
    dof: FloatArray
    k: FloatArray
    U: FloatArray


def evaluate_batch(
    model: Model,
    estimates: Mapping[str, ArrayLike],
    uncertainties: Mapping[str, ArrayLike],
    dofs: Mapping[str, ArrayLike] | None = None,
    correlations: Mapping[tuple[str, str], float] | None = None,
    options: Options | None = None,
) -> BatchResult:
    """The same model for N instruments at once: each input's estimate and u are arrays of length N.

    Correlations (one matrix for every instrument) enter the propagation; ν_eff uses Welch–Satterthwaite
    over independent inputs only, so with correlations and finite ν it is refused here (use evaluate()).
    """
    opts = options or Options()
    names = list(model.inputs)
    for n in names:
        if n not in estimates or n not in uncertainties:
            raise InvalidInput(
                f"未知变量 / unknown variable {n}: no estimate or u given", field=f"inputs.{n}"
            )
    r = correlation_matrix(names, correlations)
    ev = model.evaluate({n: estimates[n] for n in names})
    shape = ev.values.shape[1:]
    u = np.stack([np.broadcast_to(np.asarray(uncertainties[n], dtype=float), shape) for n in names])
    if np.any(~np.isfinite(u)) or np.any(u < 0):
        bad = [n for i, n in enumerate(names) if np.any(~np.isfinite(u[i])) or np.any(u[i] < 0)]
        raise InvalidInput(
            f"标准不确定度无效 / standard uncertainty of {bad[0]} must be finite and ≥ 0",
            field=f"inputs.{bad[0]}.u",
        )
    terms = ev.jacobian * u[None]  # (m, n, N): c_i u_i
    if np.all(r == np.eye(len(names))):
        var = np.einsum("mn...,mn...->m...", terms, terms)
    else:
        var = np.einsum("mi...,ij,mj...->m...", terms, r, terms)
    uc = np.sqrt(var)
    if dofs is None:
        nu = np.full(uc.shape, np.inf)
    else:
        dof = np.stack([np.broadcast_to(np.asarray(dofs.get(n, np.inf), dtype=float), shape) for n in names])
        if correlations and np.any(np.isfinite(dof)):
            raise InvalidInput(
                "批量计算不支持相关输入的有限自由度 / batch: finite dof with correlated inputs, use evaluate()",
                field="correlations",
            )
        with np.errstate(divide="ignore", invalid="ignore"):
            den = np.einsum("mn...->m...", terms**4 / dof[None])
            nu = np.where(den > 0, var**2 / den, np.inf)
    if opts.k is not None:
        k = np.full(uc.shape, float(opts.k))
    else:
        nu_t = np.where(np.isfinite(nu), np.floor(nu), nu) if opts.truncate_dof else nu
        q = 0.5 + opts.p / 2
        k = np.where(np.isfinite(nu_t), stats.t.ppf(q, np.maximum(nu_t, 1.0)), stats.norm.ppf(q))
    return BatchResult(tuple(model.outputs), ev.values, uc, nu, k, k * uc)


def as_dict(result: Result) -> dict[str, Any]:
    """JSON-ready form (∞ as None)."""

    def num(x: float) -> float | None:
        return float(x) if math.isfinite(x) else None

    return {
        "outputs": [
            {
                "name": o.name,
                "unit": o.unit,
                "value": o.value,
                "u": o.u,
                "dof": num(o.dof),
                "k": o.k,
                "p": o.p,
                "U": o.U,
                "reported": {"value": o.value_reported, "u": o.u_reported, "U": o.U_reported},
                "covariance_share": o.covariance_share,
                "second_order_share": o.second_order_share,
                "expanded_from": "rounded_u_c" if o.expanded_from_rounded else "unrounded_u_c",
                "budget": [
                    {
                        "input": b.input,
                        "estimate": b.estimate,
                        "u": b.u,
                        "unit": b.unit,
                        "dof": num(b.dof),
                        "sensitivity": b.sensitivity,
                        "contribution": b.contribution,
                        "share": b.share,
                    }
                    for b in o.budget
                ],
            }
            for o in result.outputs
        ],
        "covariance": result.covariance.tolist(),
        "correlation": result.correlation.tolist(),
        "notes": list(result.notes),
    }
