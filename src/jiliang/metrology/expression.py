"""Measurement models as lab staff write them, parsed safely and differentiated exactly.

A model is one or more lines ``name = expression``; a later line may use an earlier line's output (an
intermediate result). The text is parsed with Python's ``ast`` and every node is checked against a short
whitelist (numbers, names, ``+ - * / **``, unary minus, and calls to a fixed set of functions); nothing is
ever passed to ``eval``.

Sensitivity coefficients come from forward-mode automatic differentiation with dual numbers: each value
carries its partial derivatives with respect to the inputs, propagated through every operation by the
chain rule, so the coefficients are exact to rounding (JCGM 100:2008 5.1.3 asks for the partial
derivatives; no finite step is involved). Values and derivatives are NumPy arrays, so one pass evaluates
a million instruments.

Units (pint): each input may carry a unit and each output a declared unit. The expression is walked once
with units only: sums and differences must have one dimension, function arguments other than ``sqrt``'s
and ``abs``'s must be dimensionless, exponents of dimensioned bases must be constants. Internally every
value is converted to SI base units, so ``ls`` in mm plus ``d`` in nm adds correctly; results and
sensitivity coefficients are converted back to the declared (or inferred) units. Temperatures in °C/°F
are treated as temperature *intervals* (their unit's size, not their offset): a formula that needs an
absolute temperature takes it in K or adds 273.15 K itself. A number with a unit is written
``number[unit]`` (``t - 20[degC]``, ``T + 273.15[K]``, ``1e-6[1/K]``): valid Python syntax that nothing
else in a model can mean, so the formula keeps its units checked instead of needing an exact input for
every constant. A bare number is dimensionless.

Python functions (:meth:`Model.from_callable`) are differentiated by the complex-step method
(``∂f/∂x ≈ Im f(x + ih) / h`` with ``h = 1e-20·max(|x|, 1)``): exact to rounding for real-analytic
functions written with NumPy, but wrong for functions that use ``abs``, comparisons or ``.real``.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import pint
from numpy.typing import ArrayLike, NDArray

from jiliang.errors import InvalidInput

FloatArray = NDArray[np.float64]

MAX_MODEL_CHARS = 20_000
MAX_DEPTH = 300

FUNCTIONS = frozenset(
    {"sqrt", "exp", "log", "log10", "sin", "cos", "tan", "asin", "acos", "atan", "atan2", "abs"}
)
CONSTANTS = {"pi": math.pi, "e": math.e}
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@lru_cache(maxsize=1)
def unit_registry() -> pint.UnitRegistry:  # type: ignore[type-arg]
    """One registry for the engine (pint registries are not interchangeable)."""
    return pint.UnitRegistry()


_OFFSET = re.compile(r"(?<![A-Za-z_])(degC|°C|celsius|degree_Celsius|degF|°F|fahrenheit|degree_Fahrenheit)\b")


# Lab spellings (JJF 1059.1 examples, instrument labels) rewritten before pint reads them: an exponent
# written after the symbol (m2, kg/m3, s-1, cm³), the one-character ℃/℉, and relative humidity %RH (a
# percentage; pint would read "RH" as ronnahenry).
_LAB_SPELLINGS = (
    (re.compile(r"℃"), "degC"),
    (re.compile(r"℉"), "degF"),
    (re.compile(r"%\s*RH\b", re.IGNORECASE), "percent"),
    (re.compile(r"%"), "percent"),
    (re.compile(r"‰"), "permille"),
    (re.compile(r"²"), "**2"),
    (re.compile(r"³"), "**3"),
    (re.compile(r"⁻¹"), "**-1"),
)
# a unit symbol followed directly by its exponent: m2, m3, s-1 (not the e-6 of a number such as 1e-6)
_TRAILING_EXPONENT = re.compile(r"([A-Za-zµμΩ_]+)(-?[1-9])(?![\d.])")
# Symbols a lab writes that pint would read as something else, or that mean different units in different
# places: refused, saying what to write instead.
AMBIGUOUS_UNITS = {
    "C": "写 degC（或 ℃）表示摄氏度，写 coulomb 表示库仑 / write degC (or ℃) for degrees Celsius, coulomb for the coulomb",
    "F": "写 degF（或 ℉）表示华氏度，写 farad 表示法拉 / write degF (or ℉) for degrees Fahrenheit, farad for the farad",
    "deg": "写 degC 表示摄氏度，写 degree 表示角度 / write degC for degrees Celsius, degree for the angle",
    "ton": "写 t 表示吨（1000 kg），或写 short_ton / long_ton / write t for the tonne (1000 kg), or short_ton / long_ton",
    "gal": "写 L，或写 US_gallon / imperial_gallon / write L, or US_gallon / imperial_gallon",
    "cal": "写 J，或写 international_calorie / thermochemical_calorie / write J, or international_calorie / "
    "thermochemical_calorie",
    "RH": "写 %RH 或 percent / write %RH or percent",
}
_UNIT_TOKEN = re.compile(r"[A-Za-z_µμΩ]+")


def lab_unit_text(text: str) -> str:
    """A unit as a lab writes it (kg/m3, s-1, ℃, %RH) in pint's syntax; ambiguous symbols refused."""
    given = text
    for pattern, replacement in _LAB_SPELLINGS:
        text = pattern.sub(replacement, text)
    for token in _UNIT_TOKEN.findall(text):
        if token in AMBIGUOUS_UNITS:
            raise InvalidInput(
                f"单位 {token!r} 有歧义 / the unit {token!r} in {given!r} is ambiguous: {AMBIGUOUS_UNITS[token]}",
                field="unit",
            )

    def exponent(m: re.Match[str]) -> str:
        before = text[m.start() - 1] if m.start() > 0 else ""
        return m.group(0) if before.isdigit() or before == "." else f"{m.group(1)}**{m.group(2)}"

    return _TRAILING_EXPONENT.sub(exponent, text)


def parse_unit(text: str | None, *, field_name: str) -> pint.Unit:
    """A unit string to a pint unit; °C/°F become their interval units (see the module docstring).

    Lab spellings are accepted (``kg/m3``, ``m2``, ``s-1``, ``µm``, ``℃``, ``%RH``) and ambiguous symbols
    (``C``, ``F``, ``deg``, ``ton``, ``gal``, ``cal``) refused with what to write (:func:`lab_unit_text`).
    """
    ureg = unit_registry()
    if text is None or str(text).strip() in ("", "1", "dimensionless"):
        return ureg.dimensionless
    try:
        lab = lab_unit_text(str(text).strip())
    except InvalidInput as exc:
        raise InvalidInput(exc.message, field=field_name) from None
    cleaned = _OFFSET.sub(
        lambda m: "delta_degC" if m.group(1) in ("degC", "°C", "celsius", "degree_Celsius") else "delta_degF",
        lab,
    )
    try:
        q = ureg.Quantity(1.0, cleaned)
    except Exception as exc:
        raise InvalidInput(
            f"无法识别的单位 / unknown unit {text!r} of {field_name}: {exc}", field=field_name
        ) from exc
    units: pint.Unit = q.units  # type: ignore[assignment]
    try:
        factor = si_factor(units)
    except ArithmeticError:  # pint overflows on km**400
        factor = math.inf
    if not (math.isfinite(factor) and factor > 0):
        raise InvalidInput(
            f"单位超出范围 / unit {text!r} of {field_name} is out of range (its size in SI is {factor})",
            field=field_name,
        )
    return units


def si_factor(unit: pint.Unit) -> float:
    """Magnitude of one ``unit`` in SI base units (a pure scale: offsets were removed by parse_unit)."""
    return float(unit_registry().Quantity(1.0, unit).to_base_units().magnitude)


# --------------------------------------------------------------------------------------------------
# Parsing


@dataclass(frozen=True)
class Equation:
    """One line of a model: ``output = expression``."""

    output: str
    expression: ast.expr
    text: str


def _is_number(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Constant)
        and isinstance(node.value, int | float)
        and not isinstance(node.value, bool)
    )


def _is_unit_text(node: ast.AST) -> bool:
    """The inside of ``number[unit]``: unit names joined by * / ** (and numbers, as in 1/K)."""
    if isinstance(node, ast.Name):
        return True
    if isinstance(node, ast.BinOp):
        return (
            isinstance(node.op, ast.Mult | ast.Div | ast.Pow)
            and _is_unit_text(node.left)
            and _is_unit_text(node.right)
        )
    return _is_number(node)


@lru_cache(maxsize=256)
def literal_unit(text: str) -> pint.Unit:
    """The unit of a ``number[unit]`` literal (°C/°F as intervals, like every other unit here)."""
    unit = parse_unit(text, field_name="model")
    factor = si_factor(unit)
    if not (math.isfinite(factor) and factor > 0):
        raise InvalidInput(
            f"单位超出范围 / unit {text!r} is out of range (its size in SI is {factor})", field="model"
        )
    return unit


def _check_node(node: ast.AST, line: str, depth: int = 0) -> None:
    """The whitelist: anything not named here is refused, with the offending piece of text."""
    if depth > MAX_DEPTH:
        raise InvalidInput(f"模型嵌套过深 / model nests too deeply: {line!r}", field="model")
    ok = True
    if isinstance(node, ast.Constant):
        ok = _is_number(node)
    elif isinstance(node, ast.Subscript):
        ok = _is_number(node.value) and _is_unit_text(node.slice)
        if ok:
            literal_unit(ast.unparse(node.slice))  # refuses an unknown unit now, naming it
    elif isinstance(node, ast.Name):
        ok = isinstance(node.ctx, ast.Load)
    elif isinstance(node, ast.BinOp):
        ok = isinstance(node.op, ast.Add | ast.Sub | ast.Mult | ast.Div | ast.Pow)
        if ok:
            _check_node(node.left, line, depth + 1)
            _check_node(node.right, line, depth + 1)
    elif isinstance(node, ast.UnaryOp):
        ok = isinstance(node.op, ast.USub | ast.UAdd)
        if ok:
            _check_node(node.operand, line, depth + 1)
    elif isinstance(node, ast.Call):
        fname = node.func.id if isinstance(node.func, ast.Name) else ""
        ok = fname in FUNCTIONS and not node.keywords
        if ok:
            want = 2 if fname == "atan2" else 1
            if len(node.args) != want:
                raise InvalidInput(
                    f"函数参数个数不对 / {fname} takes {want} argument(s): {ast.unparse(node)!r}",
                    field="model",
                )
            for arg in node.args:
                _check_node(arg, line, depth + 1)
    else:
        ok = False
    if not ok:
        piece = ast.unparse(node) if isinstance(node, ast.expr) else type(node).__name__
        raise InvalidInput(
            f"模型含不允许的成分 / model uses something not allowed: {piece!r} in {line!r} "
            f"(allowed: numbers, numbers with a unit such as 20[degC], names, + - * / **, "
            f"{', '.join(sorted(FUNCTIONS))}, pi, e)",
            field="model",
        )


def parse_equations(text: str) -> tuple[Equation, ...]:
    """Split a model text into equations; refuse anything that is not ``name = whitelisted expression``."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput("模型为空 / model is empty", field="model")
    if len(text) > MAX_MODEL_CHARS:
        raise InvalidInput(f"模型过长 / model longer than {MAX_MODEL_CHARS} characters", field="model")
    equations: list[Equation] = []
    # ℃/℉ are not Python characters; in a model they can only be the unit of a number[unit] literal
    text = text.replace("℃", "degC").replace("℉", "degF")
    for raw in re.split(r"[\n;]", text):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            tree = ast.parse(line, mode="exec")
        except SyntaxError as exc:
            raise InvalidInput(
                f"模型无法解析 / model does not parse: {line!r} ({exc.msg})", field="model"
            ) from exc
        except (RecursionError, MemoryError, ValueError) as exc:
            raise InvalidInput(
                f"模型无法解析 / model does not parse: {line[:80]!r}… (too complex)", field="model"
            ) from exc
        if (
            len(tree.body) != 1
            or not isinstance(tree.body[0], ast.Assign)
            or len(tree.body[0].targets) != 1
            or not isinstance(tree.body[0].targets[0], ast.Name)
        ):
            raise InvalidInput(
                f"模型无法解析 / model does not parse: {line!r} (each line must read 'output = expression')",
                field="model",
            )
        assign = tree.body[0]
        name = assign.targets[0].id  # type: ignore[attr-defined]
        if name in CONSTANTS or name in FUNCTIONS:
            raise InvalidInput(f"输出名是保留字 / output name {name!r} is reserved", field="model")
        if any(eq.output == name for eq in equations):
            raise InvalidInput(f"输出重复定义 / output {name!r} is defined twice", field="model")
        _check_node(assign.value, line)
        equations.append(Equation(name, assign.value, line))
    if not equations:
        raise InvalidInput("模型为空 / model is empty", field="model")
    return tuple(equations)


def names_in(node: ast.AST) -> list[str]:
    """Variable names in order of first appearance (function names and constants excluded)."""
    seen: list[str] = []
    stack = [node]
    while stack:  # depth first, left to right: the order a reader meets them
        sub = stack.pop()
        if isinstance(sub, ast.Name) and sub.id not in CONSTANTS and sub.id not in FUNCTIONS:
            if sub.id not in seen:
                seen.append(sub.id)
        elif isinstance(sub, ast.Call):
            stack.extend(reversed(sub.args))
        elif isinstance(sub, ast.Subscript):
            continue  # number[unit]: the names inside are units, not variables
        else:
            stack.extend(reversed(list(ast.iter_child_nodes(sub))))
    return seen


# --------------------------------------------------------------------------------------------------
# Dual numbers: value and a sparse gradient {input index: ∂value/∂input}, both NumPy-broadcastable


Grad = dict[int, Any]


@dataclass
class Dual:
    v: Any
    d: Grad = field(default_factory=dict)


def _scale(d: Grad, factor: Any) -> Grad:
    return {k: g * factor for k, g in d.items()}


def _combine(a: Grad, fa: Any, b: Grad, fb: Any) -> Grad:
    out: Grad = {k: g * fa for k, g in a.items()}
    for k, g in b.items():
        out[k] = out[k] + g * fb if k in out else g * fb
    return out


def _unary(name: str, a: Dual) -> Dual:
    x = a.v
    with np.errstate(all="ignore"):
        if name == "sqrt":
            v = np.sqrt(x)
            return Dual(v, _scale(a.d, 0.5 / v))
        if name == "exp":
            v = np.exp(x)
            return Dual(v, _scale(a.d, v))
        if name == "log":
            return Dual(np.log(x), _scale(a.d, 1.0 / x))
        if name == "log10":
            return Dual(np.log10(x), _scale(a.d, 1.0 / (x * math.log(10.0))))
        if name == "sin":
            return Dual(np.sin(x), _scale(a.d, np.cos(x)))
        if name == "cos":
            return Dual(np.cos(x), _scale(a.d, -np.sin(x)))
        if name == "tan":
            v = np.tan(x)
            return Dual(v, _scale(a.d, 1.0 + v * v))
        if name == "asin":
            return Dual(np.arcsin(x), _scale(a.d, 1.0 / np.sqrt(1.0 - x * x)))
        if name == "acos":
            return Dual(np.arccos(x), _scale(a.d, -1.0 / np.sqrt(1.0 - x * x)))
        if name == "atan":
            return Dual(np.arctan(x), _scale(a.d, 1.0 / (1.0 + x * x)))
        if name == "abs":
            return Dual(np.abs(x), _scale(a.d, np.sign(x)))
    raise AssertionError(name)  # pragma: no cover - the whitelist admits no other name


def _binary(op: ast.operator, a: Dual, b: Dual) -> Dual:
    with np.errstate(all="ignore"):
        if isinstance(op, ast.Add):
            return Dual(a.v + b.v, _combine(a.d, 1.0, b.d, 1.0))
        if isinstance(op, ast.Sub):
            return Dual(a.v - b.v, _combine(a.d, 1.0, b.d, -1.0))
        if isinstance(op, ast.Mult):
            return Dual(a.v * b.v, _combine(a.d, b.v, b.d, a.v))
        if isinstance(op, ast.Div):
            v = a.v / b.v
            return Dual(v, _combine(a.d, 1.0 / b.v, b.d, -v / b.v))
        if isinstance(op, ast.Pow):
            if not b.d:  # constant exponent: d(a^c) = c a^(c-1) da, valid for a <= 0 too
                c = b.v
                return Dual(a.v**c, _scale(a.d, c * a.v ** (c - 1.0)))
            v = a.v**b.v
            return Dual(v, _combine(a.d, b.v * a.v ** (b.v - 1.0), b.d, v * np.log(a.v)))
    raise AssertionError(op)  # pragma: no cover


def _evaluate(node: ast.expr, env: Mapping[str, Dual]) -> Dual:
    if isinstance(node, ast.Constant):
        return Dual(float(node.value))  # type: ignore[arg-type]  # numbers only (_check_node)
    if isinstance(node, ast.Subscript):  # number[unit], in SI like every input
        number = float(node.value.value)  # type: ignore[attr-defined]  # a number (_check_node)
        return Dual(number * si_factor(literal_unit(ast.unparse(node.slice))))
    if isinstance(node, ast.Name):
        if node.id in env:
            return env[node.id]
        return Dual(CONSTANTS[node.id])
    if isinstance(node, ast.BinOp):
        return _binary(node.op, _evaluate(node.left, env), _evaluate(node.right, env))
    if isinstance(node, ast.UnaryOp):
        a = _evaluate(node.operand, env)
        return Dual(-a.v, _scale(a.d, -1.0)) if isinstance(node.op, ast.USub) else a
    if isinstance(node, ast.Call):
        name = node.func.id  # type: ignore[attr-defined]
        if name == "atan2":
            y, x = (_evaluate(arg, env) for arg in node.args)
            with np.errstate(all="ignore"):
                r2 = x.v * x.v + y.v * y.v
                return Dual(np.arctan2(y.v, x.v), _combine(y.d, x.v / r2, x.d, -y.v / r2))
        return _unary(name, _evaluate(node.args[0], env))
    raise AssertionError(ast.dump(node))  # pragma: no cover - refused by _check_node


# --------------------------------------------------------------------------------------------------
# Units


def _unit_of(node: ast.expr, env: Mapping[str, Any], line: str) -> Any:
    """The unit of ``node`` as a pint Quantity of magnitude 1, refusing dimensionally wrong terms."""
    ureg = unit_registry()
    one = ureg.Quantity(1.0, ureg.dimensionless)
    if isinstance(node, ast.Constant):
        return one
    if isinstance(node, ast.Subscript):
        return ureg.Quantity(1.0, literal_unit(ast.unparse(node.slice)))
    if isinstance(node, ast.Name):
        return env.get(node.id, one)
    if isinstance(node, ast.UnaryOp):
        return _unit_of(node.operand, env, line)
    if isinstance(node, ast.BinOp):
        a = _unit_of(node.left, env, line)
        b = _unit_of(node.right, env, line)
        if isinstance(node.op, ast.Add | ast.Sub):
            if a.dimensionality != b.dimensionality:
                raise InvalidInput(
                    f"单位不一致 / inconsistent units in {line!r}: term {ast.unparse(node.right)!r} is "
                    f"[{b.units:~}] but {ast.unparse(node.left)!r} is [{a.units:~}]",
                    field="model",
                    term=ast.unparse(node.right),
                )
            return ureg.Quantity(1.0, a.units)
        if isinstance(node.op, ast.Mult):
            return ureg.Quantity(1.0, (a * b).units)
        if isinstance(node.op, ast.Div):
            return ureg.Quantity(1.0, (a / b).units)
        # power
        if not b.dimensionless:
            raise InvalidInput(
                f"单位不一致 / inconsistent units in {line!r}: exponent {ast.unparse(node.right)!r} "
                f"must be dimensionless, it is [{b.units:~}]",
                field="model",
                term=ast.unparse(node.right),
            )
        if a.dimensionless:
            return one
        if names_in(node.right):
            raise InvalidInput(
                f"单位不一致 / inconsistent units in {line!r}: {ast.unparse(node.left)!r} has a unit, so its "
                f"exponent {ast.unparse(node.right)!r} must be a constant",
                field="model",
                term=ast.unparse(node),
            )
        c = float(_evaluate(node.right, {}).v)
        return ureg.Quantity(1.0, (a**c).units)
    if isinstance(node, ast.Call):
        name = node.func.id  # type: ignore[attr-defined]
        args = [_unit_of(arg, env, line) for arg in node.args]
        if name == "sqrt":
            return ureg.Quantity(1.0, (args[0] ** 0.5).units)
        if name == "abs":
            return args[0]
        if name == "atan2":
            if args[0].dimensionality != args[1].dimensionality:
                raise InvalidInput(
                    f"单位不一致 / inconsistent units in {line!r}: the two arguments of "
                    f"{ast.unparse(node)!r} differ ([{args[0].units:~}] and [{args[1].units:~}])",
                    field="model",
                    term=ast.unparse(node),
                )
            return one
        if not args[0].dimensionless:
            raise InvalidInput(
                f"单位不一致 / inconsistent units in {line!r}: the argument of {ast.unparse(node)!r} must be "
                f"dimensionless, it is [{args[0].units:~}]",
                field="model",
                term=ast.unparse(node.args[0]),
            )
        return one
    raise AssertionError(ast.dump(node))  # pragma: no cover


# --------------------------------------------------------------------------------------------------
# The model


@dataclass(frozen=True)
class Evaluation:
    """Outputs ``values[m]`` and ``jacobian[m, n]`` (∂output/∂input) in the declared units, any shape S."""

    values: FloatArray
    jacobian: FloatArray


@dataclass(frozen=True)
class Undefined:
    """Where a model is undefined: the line, the sub-expression, the inputs it depends on, how many points."""

    line: str
    expression: str
    inputs: list[str]
    count: int
    kind: str  # "non_finite": a value is not finite; "pole": a denominator is zero or changes sign

    def message(self) -> str:
        names = ", ".join(self.inputs) or "—"
        if self.kind == "pole" and self.count:
            return (
                f"模型在分母 {self.expression} = 0 处无定义（输入 {names}）/ the model {self.line!r} is undefined: the "
                f"denominator {self.expression} (input {names}) is zero at {self.count} point(s)"
            )
        if self.kind == "pole":
            return (
                f"模型在分母 {self.expression} = 0 处无定义，而输入 {names} 的分布跨越该点 / the model {self.line!r} is "
                f"undefined where {self.expression} = 0, and the distribution of {names} reaches it (the denominator "
                "takes both signs or zero over the trials): the output has no finite mean or variance"
            )
        return (
            f"模型在 {self.expression} 处无定义（输入 {names}）/ the model {self.line!r} is undefined at "
            f"{self.expression} (input {names}): not a finite number in {self.count} point(s)"
        )

    @property
    def field(self) -> str:
        return f"inputs.{self.inputs[0]}" if self.inputs else "model"


class Model:
    """A measurement model ``Y = f(X)``: inputs, outputs, their units, and how to evaluate and differentiate."""

    def __init__(
        self,
        inputs: Sequence[str],
        outputs: Sequence[str],
        input_units: Mapping[str, pint.Unit],
        output_units: Mapping[str, pint.Unit],
        kernel: Callable[[Sequence[Any]], tuple[list[Any], list[Grad]]],
        text: str | None = None,
        value_kernel: Callable[[Sequence[Any]], list[Any]] | None = None,
    ) -> None:
        self.inputs = tuple(inputs)
        self.outputs = tuple(outputs)
        self.input_units = dict(input_units)
        self.output_units = dict(output_units)
        self.text = text
        self._kernel = kernel
        self._value_kernel = value_kernel
        self._in_factor = np.array([si_factor(self.input_units[n]) for n in self.inputs], dtype=float)
        self._out_factor = np.array([si_factor(self.output_units[n]) for n in self.outputs], dtype=float)
        self.equations: tuple[Equation, ...] = ()  # the parsed lines (empty for a Python function)

    # ---- construction

    @classmethod
    def parse(
        cls,
        text: str,
        *,
        units: Mapping[str, str | None] | None = None,
        output_units: Mapping[str, str | None] | None = None,
        inputs: Sequence[str] | None = None,
    ) -> Model:
        """Parse ``text``; ``units`` gives each input's unit, ``output_units`` declares output units.

        ``inputs`` (optional) fixes the input order and is checked against the names the model uses: a
        name used but not given is an unknown variable, one given but unused is refused as likely a typo.
        """
        equations = parse_equations(text)
        outputs = [eq.output for eq in equations]
        used: list[str] = []
        for i, eq in enumerate(equations):
            for name in names_in(eq.expression):
                if name in outputs[:i]:
                    continue
                if name in outputs:
                    raise InvalidInput(
                        f"输出在定义前被使用 / output {name!r} is used in {eq.text!r} before its own line",
                        field="model",
                    )
                if name not in used:
                    used.append(name)
        if inputs is not None:
            given = list(inputs)
            reserved = [n for n in given if n in CONSTANTS or n in FUNCTIONS]
            if reserved:
                raise InvalidInput(
                    f"输入名是保留字 / input name {reserved[0]!r} is reserved (a constant or function)",
                    field=f"inputs.{reserved[0]}",
                )
            unknown = [n for n in used if n not in given]
            if unknown:
                raise InvalidInput(
                    f"未知变量 / unknown variable(s) {', '.join(unknown)}: used by the model but not given as inputs",
                    field=f"inputs.{unknown[0]}",
                )
            unused = [n for n in given if n not in used]
            if unused:
                raise InvalidInput(
                    f"输入未被模型使用 / input(s) {', '.join(unused)} not used by the model",
                    field=f"inputs.{unused[0]}",
                )
            used = given
        units = dict(units or {})
        declared = dict(output_units or {})
        bad = [n for n in declared if n not in outputs]
        if bad:
            raise InvalidInput(f"未知输出 / unknown output {bad[0]!r}", field=f"outputs.{bad[0]}")
        ureg = unit_registry()
        in_units = {n: parse_unit(units.get(n), field_name=f"inputs.{n}.unit") for n in used}
        env: dict[str, Any] = {n: ureg.Quantity(1.0, u) for n, u in in_units.items()}
        out_units: dict[str, pint.Unit] = {}
        for eq in equations:
            q = _unit_of(eq.expression, env, eq.text)
            if declared.get(eq.output) not in (None, ""):
                want = parse_unit(declared[eq.output], field_name=f"outputs.{eq.output}.unit")
                if ureg.Quantity(1.0, want).dimensionality != q.dimensionality:
                    raise InvalidInput(
                        f"单位不一致 / inconsistent units: output {eq.output} is declared [{want:~}] but "
                        f"{eq.text!r} gives [{q.units:~}]",
                        field=f"outputs.{eq.output}.unit",
                    )
                out_units[eq.output] = want
            else:
                out_units[eq.output] = q.units
            env[eq.output] = ureg.Quantity(1.0, out_units[eq.output])
        index = {n: i for i, n in enumerate(used)}

        def kernel(values: Sequence[Any]) -> tuple[list[Any], list[Grad]]:
            denv: dict[str, Dual] = {n: Dual(values[i], {i: 1.0}) for n, i in index.items()}
            vals: list[Any] = []
            grads: list[Grad] = []
            for eq in equations:
                r = _evaluate(eq.expression, denv)
                denv[eq.output] = r
                vals.append(r.v)
                grads.append(r.d)
            return vals, grads

        def value_kernel(values: Sequence[Any]) -> list[Any]:
            # no seeded derivatives: every gradient dict stays empty, so only values are computed
            venv: dict[str, Dual] = {n: Dual(values[i]) for n, i in index.items()}
            vals: list[Any] = []
            for eq in equations:
                r = _evaluate(eq.expression, venv)
                venv[eq.output] = r
                vals.append(r.v)
            return vals

        model = cls(used, outputs, in_units, out_units, kernel, text, value_kernel)
        model.equations = tuple(equations)
        return model

    @classmethod
    def from_callable(
        cls,
        fn: Callable[..., Any],
        inputs: Sequence[str],
        *,
        outputs: Sequence[str] = ("y",),
        units: Mapping[str, str | None] | None = None,
        output_units: Mapping[str, str | None] | None = None,
    ) -> Model:
        """A model from a Python function of the inputs (as keyword arguments), differentiated by complex step.

        ``fn`` returns one value, or a sequence with one value per output; it must accept complex NumPy
        arrays (use ``np.sin`` etc., not ``math``). Values are passed in the inputs' own units and the
        result is taken to be in ``output_units``: no dimensional check is possible on opaque code.
        """
        names = list(inputs)
        if not names:
            raise InvalidInput("没有输入 / a model needs at least one input", field="inputs")
        bad = [n for n in names if not _IDENT.match(n)]
        if bad:
            raise InvalidInput(f"输入名无效 / invalid input name {bad[0]!r}", field="inputs")
        units = dict(units or {})
        declared = dict(output_units or {})
        in_units = {n: parse_unit(units.get(n), field_name=f"inputs.{n}.unit") for n in names}
        out_units = {n: parse_unit(declared.get(n), field_name=f"outputs.{n}.unit") for n in outputs}
        in_f = [si_factor(in_units[n]) for n in names]
        out_f = [si_factor(out_units[n]) for n in outputs]
        m = len(outputs)

        def call(args: Sequence[Any]) -> list[Any]:
            # the kernel works in SI; the function wants its own units
            res = fn(**{n: a / f for n, a, f in zip(names, args, in_f, strict=True)})
            seq = [res] if m == 1 else list(res)
            if len(seq) != m:
                raise InvalidInput(
                    f"函数返回值个数不对 / the function returned {len(seq)} value(s) for {m} output(s)",
                    field="model",
                )
            return [np.asarray(s) * f for s, f in zip(seq, out_f, strict=True)]

        def kernel(values: Sequence[Any]) -> tuple[list[Any], list[Grad]]:
            base = [np.asarray(v, dtype=float) for v in values]
            vals = [np.real(v) for v in call(base)]
            grads: list[Grad] = [{} for _ in range(m)]
            for j, x in enumerate(base):
                h = 1e-20 * np.maximum(np.abs(x), 1.0)
                shifted = list(base)
                shifted[j] = x + 1j * h
                for i, r in enumerate(call(shifted)):
                    grads[i][j] = np.imag(r) / h
            return vals, grads

        def value_kernel(values: Sequence[Any]) -> list[Any]:
            return [np.real(v) for v in call([np.asarray(v, dtype=float) for v in values])]

        return cls(names, outputs, in_units, out_units, kernel, getattr(fn, "__name__", None), value_kernel)

    # ---- evaluation

    def _si_inputs(self, values: Mapping[str, ArrayLike]) -> tuple[list[FloatArray], tuple[int, ...]]:
        """Each input in SI base magnitudes, and the shape they broadcast to; a missing input is named."""
        missing = [n for n in self.inputs if n not in values]
        if missing:
            raise InvalidInput(
                f"缺少输入 / missing input(s) {', '.join(missing)}", field=f"inputs.{missing[0]}"
            )
        arrays = [
            np.asarray(values[n], dtype=float) * f for n, f in zip(self.inputs, self._in_factor, strict=True)
        ]
        return arrays, np.broadcast_shapes(*(a.shape for a in arrays)) if arrays else ()

    def evaluate(self, values: Mapping[str, ArrayLike]) -> Evaluation:
        """Outputs and the Jacobian at ``values`` (each a number or an array; arrays broadcast together)."""
        arrays, shape = self._si_inputs(values)
        vals, grads = self._kernel(arrays)
        m, n = len(self.outputs), len(self.inputs)
        y = np.empty((m, *shape))
        jac = np.zeros((m, n, *shape))
        for i in range(m):
            y[i] = np.broadcast_to(vals[i], shape) / self._out_factor[i]
            for j, g in grads[i].items():
                jac[i, j] = np.broadcast_to(g, shape) * (self._in_factor[j] / self._out_factor[i])
        return Evaluation(y, jac)

    def depends_on(self, output: str) -> list[str]:
        """The earlier outputs (intermediate results) that ``output``'s line uses, directly or through others."""
        if not self.equations:
            return []
        lines = {eq.output: eq for eq in self.equations}
        found: list[str] = []
        todo = [output]
        while todo:
            for name in names_in(lines[todo.pop()].expression):
                if name in lines and name not in found:
                    found.append(name)
                    todo.append(name)
        return [o for o in self.outputs if o in found]

    def partials_against(self, values: Mapping[str, ArrayLike], intermediate: str) -> FloatArray:
        """∂y/∂x of every output y with respect to the intermediate output ``x``, through ``x`` only.

        Later lines see ``x`` as a new variable (the inputs it was computed from are held fixed), which is
        what a budget against an intermediate result needs (GTC's ``budget`` against an intermediate, our
        ``influence.UncertainNumber.budget_against``): u_x(y) = |∂y/∂x| u(x). Units: output unit per unit of x.
        """
        if intermediate not in self.outputs or not self.equations:
            raise InvalidInput(f"不是中间结果 / {intermediate!r} is not an output line", field="intermediate")
        arrays, _ = self._si_inputs(values)
        index = {n: i for i, n in enumerate(self.inputs)}
        fresh = len(self.inputs)
        env: dict[str, Dual] = {n: Dual(arrays[i]) for n, i in index.items()}
        partials = np.zeros(len(self.outputs))
        for m, eq in enumerate(self.equations):
            r = _evaluate(eq.expression, env)
            if eq.output == intermediate:
                r = Dual(r.v, {fresh: 1.0})
            env[eq.output] = r
            g = r.d.get(fresh, 0.0)
            partials[m] = float(np.asarray(g).reshape(-1)[0]) if np.size(g) else 0.0
        k = self.outputs.index(intermediate)
        return np.asarray(partials * self._out_factor[k] / self._out_factor, dtype=float)

    def _line_values(
        self, values: Mapping[str, ArrayLike]
    ) -> tuple[dict[str, Dual], list[Any], tuple[int, ...]]:
        arrays, shape = self._si_inputs(values)
        env: dict[str, Dual] = {n: Dual(arrays[i]) for i, n in enumerate(self.inputs)}
        vals: list[Any] = []
        with np.errstate(all="ignore"):
            for eq in self.equations:
                r = _evaluate(eq.expression, env)
                env[eq.output] = r
                vals.append(r.v)
        return env, vals, shape

    def _inputs_of(self, node: ast.AST) -> list[str]:
        """The inputs a sub-expression depends on, through the earlier lines it names."""
        lines = {eq.output: eq for eq in self.equations}
        found: list[str] = []
        todo = list(names_in(node))
        seen: set[str] = set()
        while todo:
            name = todo.pop(0)
            if name in seen:
                continue
            seen.add(name)
            if name in lines:
                todo.extend(names_in(lines[name].expression))
            elif name in self.inputs and name not in found:
                found.append(name)
        return found

    def undefined(self, values: Mapping[str, ArrayLike]) -> Undefined | None:
        """Where the model is undefined at ``values`` (an estimate or an array of trials), or None.

        The first sub-expression whose value is not finite although its operands are, or a denominator
        that is zero or takes both signs over the trials (a pole inside the inputs' distributions: the
        output then has no finite mean or variance, even when no trial hits the pole exactly). Names the
        inputs the culprit depends on. Parsed models only (None for a Python function).
        """
        if not self.equations:
            return None
        env, _, _ = self._line_values(values)
        for eq in self.equations:
            for node in ast.walk(eq.expression):
                if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
                    with np.errstate(all="ignore"):
                        d = np.asarray(_evaluate(node.right, env).v, dtype=float)
                    d = d[np.isfinite(d)]
                    zero = int(np.count_nonzero(d == 0))
                    if zero or (np.any(d > 0) and np.any(d < 0)):
                        return Undefined(
                            eq.text, ast.unparse(node.right), self._inputs_of(node.right), zero, "pole"
                        )
                if isinstance(node, ast.BinOp | ast.Call | ast.UnaryOp):
                    with np.errstate(all="ignore"):
                        v = np.asarray(_evaluate(node, env).v, dtype=float)
                        if isinstance(node, ast.BinOp):
                            parts = [node.left, node.right]
                        elif isinstance(node, ast.Call):
                            parts = list(node.args)
                        else:
                            parts = [node.operand]
                        ok = np.ones(v.shape, dtype=bool)
                        for part in parts:
                            ok = ok & np.isfinite(np.asarray(_evaluate(part, env).v, dtype=float))
                    bad = ~np.isfinite(v) & ok
                    if np.any(bad):
                        return Undefined(
                            eq.text,
                            ast.unparse(node),
                            self._inputs_of(node),
                            int(np.count_nonzero(bad)),
                            "non_finite",
                        )
        return None

    def values_checked(self, values: Mapping[str, ArrayLike]) -> tuple[FloatArray, Undefined | None]:
        """Outputs (as :meth:`values`) and the first denominator that is zero or changes sign over the trials.

        One pass over the lines; the denominators are evaluated again from the same values (cheap), so
        Monte Carlo can refuse a model with a pole inside its inputs' distributions, whose output has no
        finite mean or variance although every trial may be finite.
        """
        if not self.equations:
            return self.values(values), None
        env, vals, shape = self._line_values(values)
        y = np.empty((len(self.outputs), *shape))
        for i, v in enumerate(vals):
            y[i] = np.real(np.broadcast_to(v, shape)) / self._out_factor[i]
        for eq in self.equations:
            for node in ast.walk(eq.expression):
                if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
                    with np.errstate(all="ignore"):
                        d = np.asarray(_evaluate(node.right, env).v, dtype=float)
                    d = d[np.isfinite(d)]
                    zero = int(np.count_nonzero(d == 0))
                    if zero or (np.any(d > 0) and np.any(d < 0)):
                        return y, Undefined(
                            eq.text, ast.unparse(node.right), self._inputs_of(node.right), zero, "pole"
                        )
        return y, None

    def values(self, values: Mapping[str, ArrayLike]) -> FloatArray:
        """Outputs only, shape (m, *S), in the declared units: the Monte Carlo path needs no Jacobian."""
        arrays, shape = self._si_inputs(values)
        vals = self._value_kernel(arrays) if self._value_kernel is not None else self._kernel(arrays)[0]
        y = np.empty((len(self.outputs), *shape))
        for i, v in enumerate(vals):
            y[i] = np.real(np.broadcast_to(v, shape)) / self._out_factor[i]
        return y

    def unit_label(self, name: str) -> str:
        """A short unit symbol for display ('' when dimensionless)."""
        unit = self.input_units.get(name) or self.output_units.get(name)
        if unit is None or unit == unit_registry().dimensionless:
            return ""
        return f"{unit:~P}"
