"""Uncertain numbers that remember which elementary influences they depend on, across program runs.

Each elementary influence (a standard's calibration, a thermometer's resolution…) gets a persistent
UUID. A result keeps its *components* ``u_i(y) = c_i u(x_i)`` keyed by those UUIDs, propagated by the
chain rule through arithmetic, so that two results that share one standard's influence are correlated
(``r = Σ u_i(a) u_i(b) / (u(a) u(b))``, JCGM 100:2008 F.1.2.3), and a result restored from an archive in
a later run combines correctly with new results (as GTC's archives do). Elementary influences are
independent of each other; correlation arises only through shared influences.

A result can be marked as an *intermediate* (``x.intermediate("d")``): later results also carry their
partial derivatives with respect to it, so a budget can be taken against it (``u_x(y) = ∂y/∂x · u(x)``).
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from jiliang.errors import InvalidInput

ARCHIVE_FORMAT = "jiliang-influence-archive"
ARCHIVE_VERSION = 1


@dataclass(frozen=True)
class Influence:
    """An elementary influence: persistent identity, label, standard uncertainty, degrees of freedom."""

    uid: str
    label: str
    u: float
    dof: float = math.inf


@dataclass(frozen=True)
class Intermediate:
    uid: str
    label: str
    u: float


@dataclass(frozen=True)
class UncertainNumber:
    value: float
    components: Mapping[str, float] = field(default_factory=dict)  # influence uid -> u_i(y) (signed)
    influences: Mapping[str, Influence] = field(default_factory=dict)
    partials: Mapping[str, float] = field(default_factory=dict)  # intermediate uid -> ∂y/∂x
    intermediates: Mapping[str, Intermediate] = field(default_factory=dict)
    label: str | None = None
    mark: str | None = None  # this number's own intermediate uid, when it was marked as one

    # ---- the numbers

    @property
    def u(self) -> float:
        return math.sqrt(sum(c * c for c in self.components.values()))

    @property
    def dof(self) -> float:
        """Welch–Satterthwaite over the elementary influences (JCGM 100:2008 G.4.1)."""
        u4 = self.u**4
        den = sum(
            c**4 / self.influences[k].dof
            for k, c in self.components.items()
            if math.isfinite(self.influences[k].dof)
        )
        return math.inf if den == 0 else u4 / den

    def budget(self) -> list[tuple[str, float]]:
        """``(label, |u_i(y)|)`` per elementary influence, largest first."""
        rows = [(self.influences[k].label, abs(c)) for k, c in self.components.items()]
        return sorted(rows, key=lambda r: -r[1])

    def budget_against(self, other: UncertainNumber) -> float:
        """The component of this result's uncertainty due to an intermediate result ``other``."""
        uid = other.mark
        if uid is None:
            raise InvalidInput(
                "不是中间结果 / that number was not marked with .intermediate()", field="intermediate"
            )
        return abs(self.partials.get(uid, 0.0)) * other.intermediates[uid].u

    def intermediate(self, label: str, uid: str | None = None) -> UncertainNumber:
        """This number marked as an intermediate result that later budgets may be taken against."""
        mark = Intermediate(uid or uuid.uuid4().hex, label, self.u)
        return UncertainNumber(
            self.value,
            self.components,
            self.influences,
            {**self.partials, mark.uid: 1.0},
            {**self.intermediates, mark.uid: mark},
            label,
            mark.uid,
        )

    # ---- arithmetic (first-order propagation)

    def _apply(
        self, value: float, da: float, other: UncertainNumber | None = None, db: float = 0.0
    ) -> UncertainNumber:
        comps = {k: da * c for k, c in self.components.items()}
        parts = {k: da * p for k, p in self.partials.items()}
        infl = dict(self.influences)
        inter = dict(self.intermediates)
        if other is not None:
            for k, c in other.components.items():
                comps[k] = comps.get(k, 0.0) + db * c
            for k, p in other.partials.items():
                parts[k] = parts.get(k, 0.0) + db * p
            infl.update(other.influences)
            inter.update(other.intermediates)
        return UncertainNumber(value, comps, infl, parts, inter)

    def __add__(self, o: Any) -> UncertainNumber:
        o = _lift(o)
        return self._apply(self.value + o.value, 1.0, o, 1.0)

    __radd__ = __add__

    def __sub__(self, o: Any) -> UncertainNumber:
        o = _lift(o)
        return self._apply(self.value - o.value, 1.0, o, -1.0)

    def __rsub__(self, o: Any) -> UncertainNumber:
        return _lift(o) - self

    def __mul__(self, o: Any) -> UncertainNumber:
        o = _lift(o)
        return self._apply(self.value * o.value, o.value, o, self.value)

    __rmul__ = __mul__

    def __truediv__(self, o: Any) -> UncertainNumber:
        o = _lift(o)
        v = self.value / o.value
        return self._apply(v, 1.0 / o.value, o, -v / o.value)

    def __rtruediv__(self, o: Any) -> UncertainNumber:
        return _lift(o) / self

    def __neg__(self) -> UncertainNumber:
        return self._apply(-self.value, -1.0)

    def __pow__(self, n: float) -> UncertainNumber:
        if isinstance(n, UncertainNumber):
            raise InvalidInput("指数不能含不确定度 / exponent must be a plain number", field="exponent")
        return self._apply(self.value**n, n * self.value ** (n - 1))


def _lift(x: Any) -> UncertainNumber:
    if isinstance(x, UncertainNumber):
        return x
    if isinstance(x, int | float) and math.isfinite(x):
        return UncertainNumber(float(x))
    raise InvalidInput(f"不是数 / not a number: {x!r}", field="value")


def sqrt(x: UncertainNumber) -> UncertainNumber:
    v = math.sqrt(x.value)
    return x._apply(v, 0.5 / v)


def exp(x: UncertainNumber) -> UncertainNumber:
    v = math.exp(x.value)
    return x._apply(v, v)


def log(x: UncertainNumber) -> UncertainNumber:
    return x._apply(math.log(x.value), 1.0 / x.value)


def sin(x: UncertainNumber) -> UncertainNumber:
    return x._apply(math.sin(x.value), math.cos(x.value))


def cos(x: UncertainNumber) -> UncertainNumber:
    return x._apply(math.cos(x.value), -math.sin(x.value))


def elementary(
    value: float, u: float, dof: float = math.inf, label: str = "", uid: str | None = None
) -> UncertainNumber:
    """A new elementary influence (a fresh UUID unless ``uid`` restores a known one) and its number."""
    if not math.isfinite(value):
        raise InvalidInput(f"估计值无效 / value of {label or 'input'} is not finite", field=label or "value")
    if not math.isfinite(u) or u < 0:
        raise InvalidInput(
            f"标准不确定度无效 / u of {label or 'input'} must be finite and ≥ 0, got {u}", field=label or "u"
        )
    if not (dof > 0):
        raise InvalidInput(f"自由度无效 / dof of {label or 'input'} must be > 0", field=label or "dof")
    inf = Influence(uid or uuid.uuid4().hex, label or "x", float(u), float(dof))
    return UncertainNumber(float(value), {inf.uid: float(u)}, {inf.uid: inf}, label=label or None)


def correlation(a: UncertainNumber, b: UncertainNumber) -> float:
    """Correlation through shared elementary influences."""
    if a.u == 0 or b.u == 0:
        return 0.0
    cov = sum(c * b.components.get(k, 0.0) for k, c in a.components.items())
    return cov / (a.u * b.u)


# --------------------------------------------------------------------------------------------------
# Archive: JSON that keeps identities


def dumps(results: Mapping[str, UncertainNumber]) -> str:
    """Named results and every influence and intermediate they depend on, as versioned JSON."""
    influences: dict[str, Influence] = {}
    intermediates: dict[str, Intermediate] = {}
    for r in results.values():
        influences.update(r.influences)
        intermediates.update(r.intermediates)
    doc = {
        "format": ARCHIVE_FORMAT,
        "version": ARCHIVE_VERSION,
        "influences": [
            {"uid": i.uid, "label": i.label, "u": i.u, "dof": None if math.isinf(i.dof) else i.dof}
            for i in influences.values()
        ],
        "intermediates": [{"uid": i.uid, "label": i.label, "u": i.u} for i in intermediates.values()],
        "results": {
            name: {
                "value": r.value,
                "label": r.label,
                "mark": r.mark,
                "components": dict(r.components),
                "partials": dict(r.partials),
            }
            for name, r in results.items()
        },
    }
    return json.dumps(doc, ensure_ascii=False, indent=1)


def loads(text: str) -> dict[str, UncertainNumber]:
    """Restore the named results of an archive with the same identities."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"存档不是 JSON / archive is not JSON: {exc.msg}", field="archive") from exc
    if not isinstance(doc, dict) or doc.get("format") != ARCHIVE_FORMAT:
        raise InvalidInput("不是不确定度存档 / not an influence archive", field="archive")
    if doc.get("version") != ARCHIVE_VERSION:
        raise InvalidInput(
            f"存档版本不受支持 / unsupported archive version {doc.get('version')!r}", field="archive"
        )
    try:
        influences = {
            d["uid"]: Influence(
                d["uid"], d["label"], float(d["u"]), math.inf if d["dof"] is None else float(d["dof"])
            )
            for d in doc["influences"]
        }
        inter = {d["uid"]: Intermediate(d["uid"], d["label"], float(d["u"])) for d in doc["intermediates"]}
        out = {}
        for name, r in doc["results"].items():
            comps = {k: float(v) for k, v in r["components"].items()}
            parts = {k: float(v) for k, v in r["partials"].items()}
            out[name] = UncertainNumber(
                float(r["value"]),
                comps,
                {k: influences[k] for k in comps},
                parts,
                {k: inter[k] for k in parts},
                r.get("label"),
                r.get("mark"),
            )
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInput(
            f"存档内容不完整 / archive is incomplete or malformed: {exc!r}", field="archive"
        ) from exc
    return out
