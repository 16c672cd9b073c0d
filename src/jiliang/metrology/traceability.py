"""Traceability chains (量值溯源链) and impact analysis (召回) over NumPy arrays.

The graph is a graph of *events*, not of things. A calibration of a measurement standard S made with a
higher standard P on day d is valid only through the calibration of P that was in force on d (the
latest calibration of P made on or before d), and so on up to an anchor: a national primary standard
(计量基准) or a foreign NMI's published CMC, entered as a calibration with no reference standard. A use of
S (a verification record of an instrument, or a calibration of a lower standard) resolves the same way.
Each event therefore has exactly one parent event, and the chains form a forest that is walked level by
level for *all* events at once: the Python loop runs over the depth (≤ ``max_depth``), never over nodes.

A link is valid on its date when the standard used has a calibration made on or before that date,
whose certificate is still in force (``valid_until`` ≥ date) and which found it within tolerance, and the
standard's approval certificate (计量标准考核证书) is in force on that date (JJF 1033).

Uncertainty model (documented in docs/traceability.md): every link carries the standard uncertainty
(k = 1) of its own step, ``U / k`` from its certificate; the uncertainty propagated to an item is the
root-sum-square of the link uncertainties from the anchor down, treating the steps as independent
(JCGM 100:2008 5.1.2 with all sensitivity coefficients 1). Where a certificate's U already includes its
parent's contribution this over-states the total: the estimate is conservative. A chain whose links are
stated in different units (after normalising to relative or SI base units) has no propagated value.

Test uncertainty ratio (TUR, after ANSI/NCSL Z540.3): the tolerance of the item calibrated (±T) over
the 95 % expanded uncertainty of the calibration process, taken as 2u: TUR = T / (2u).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

import numpy as np
import numpy.typing as npt

from jiliang.errors import InvalidInput

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

# Day numbers (date.toordinal) stay below 3.7 million until the year 9999; keys are standard*SPAN + day.
SPAN = 4_000_000
NONE = -1


class LinkStatus(IntEnum):
    """Why a chain is broken; OK when it reaches an anchor with every link valid on its date."""

    OK = 0
    NO_STANDARD = 1  # the verification names no standard
    NO_CALIBRATION = 2  # the standard had never been calibrated by that date
    OUT_OF_TOLERANCE = 3  # the calibration in force found the standard out of tolerance
    CALIBRATION_EXPIRED = 4  # the calibration certificate had lapsed by that date
    APPROVAL_NOT_IN_FORCE = 5  # the standard's approval certificate was not in force that date
    CYCLE = 6  # the chain passes through the same standard twice (circular traceability)
    TOO_DEEP = 7  # no anchor within max_depth links

    @property
    def reason(self) -> str:
        return REASONS[self]


REASONS = {
    LinkStatus.OK: "溯源链完整有效 / chain valid up to an anchor",
    LinkStatus.NO_STANDARD: "未记录所用计量标准 / no measurement standard recorded",
    LinkStatus.NO_CALIBRATION: "所用标准在该日前从未校准 / standard not calibrated before the date of use",
    LinkStatus.OUT_OF_TOLERANCE: "所用标准经校准超差 / standard found out of tolerance by its calibration",
    LinkStatus.CALIBRATION_EXPIRED: "所用标准校准证书已过期 / calibration certificate of the standard expired",
    LinkStatus.APPROVAL_NOT_IN_FORCE: (
        "所用标准考核证书不在有效期内 / approval certificate of the standard not in force"
    ),
    LinkStatus.CYCLE: "溯源链成环 / circular traceability: the chain returns to a standard",
    LinkStatus.TOO_DEEP: "超过最大层级仍未到达溯源源头 / no anchor within the maximum depth",
}


class TraceabilityCycle(InvalidInput):
    """A calibration that would make a standard traceable to itself."""


def _as(a: object, dtype: type, n: int, name: str) -> Any:
    arr: Any = np.asarray(a, dtype=dtype)
    if arr.shape != (n,):
        raise InvalidInput(f"{name} 长度应为 {n} / {name} must have length {n}", field=name)
    return arr


@dataclass
class TraceabilityGraph:
    """Standards, their calibrations and the uses of standards (verification records), as arrays.

    Standards are numbered 0..S-1 by the caller; calibrations and uses keep the caller's order in every
    result. ``cal_reference`` is -1 for an anchored calibration; ``use_standard`` -1 when no standard
    was recorded. Days are ``date.toordinal()``. Uncertainties are standard uncertainties (k = 1) in the
    unit numbered by the matching ``*_unit`` array; tolerances NaN where unknown.
    """

    approval_from: IntArray
    approval_until: IntArray
    cal_standard: IntArray
    cal_reference: IntArray
    cal_on: IntArray
    cal_until: IntArray
    cal_u: FloatArray
    cal_unit: IntArray
    cal_tolerance: FloatArray
    cal_in_tolerance: BoolArray
    use_standard: IntArray
    use_on: IntArray
    use_tolerance: FloatArray
    use_unit: IntArray
    use_u: FloatArray
    # derived in __post_init__ (sorted calibrations and resolved parents)
    order: IntArray = field(init=False)
    rank: IntArray = field(init=False)
    keys: IntArray = field(init=False)
    cal_parent: IntArray = field(init=False)  # sorted index of the parent calibration, or -1
    cal_link: npt.NDArray[np.int8] = field(init=False)
    use_cal: IntArray = field(init=False)  # sorted index of the calibration in force, or -1
    use_link: npt.NDArray[np.int8] = field(init=False)
    _csr: tuple[IntArray, IntArray] | None = field(init=False, default=None)

    @classmethod
    def build(
        cls,
        *,
        approval_from: object,
        approval_until: object,
        cal_standard: object,
        cal_reference: object,
        cal_on: object,
        cal_until: object,
        cal_u: object,
        cal_in_tolerance: object,
        cal_unit: object = None,
        cal_tolerance: object = None,
        use_standard: object = (),
        use_on: object = (),
        use_tolerance: object = None,
        use_unit: object = None,
        use_u: object = None,
    ) -> TraceabilityGraph:
        s = int(np.asarray(approval_from).shape[0])
        e = int(np.asarray(cal_standard).shape[0])
        n = int(np.asarray(use_standard).shape[0])
        g = cls(
            approval_from=_as(approval_from, np.int64, s, "approval_from"),
            approval_until=_as(approval_until, np.int64, s, "approval_until"),
            cal_standard=_as(cal_standard, np.int64, e, "cal_standard"),
            cal_reference=_as(cal_reference, np.int64, e, "cal_reference"),
            cal_on=_as(cal_on, np.int64, e, "cal_on"),
            cal_until=_as(cal_until, np.int64, e, "cal_until"),
            cal_u=_as(cal_u, np.float64, e, "cal_u"),
            cal_unit=_as(np.zeros(e) if cal_unit is None else cal_unit, np.int64, e, "cal_unit"),
            cal_tolerance=_as(
                np.full(e, np.nan) if cal_tolerance is None else cal_tolerance, np.float64, e, "cal_tolerance"
            ),
            cal_in_tolerance=_as(cal_in_tolerance, np.bool_, e, "cal_in_tolerance"),
            use_standard=_as(use_standard, np.int64, n, "use_standard"),
            use_on=_as(use_on, np.int64, n, "use_on"),
            use_tolerance=_as(
                np.full(n, np.nan) if use_tolerance is None else use_tolerance, np.float64, n, "use_tolerance"
            ),
            use_unit=_as(np.zeros(n) if use_unit is None else use_unit, np.int64, n, "use_unit"),
            use_u=_as(np.zeros(n) if use_u is None else use_u, np.float64, n, "use_u"),
        )
        return g

    def __post_init__(self) -> None:
        s = self.approval_from.shape[0]
        for name in ("cal_standard", "cal_reference", "use_standard"):
            arr = getattr(self, name)
            low = -1 if name != "cal_standard" else 0
            if arr.size and (arr.min() < low or arr.max() >= s):
                raise InvalidInput(f"{name} 指向不存在的标准 / {name} names an unknown standard", field=name)
        for name in ("cal_u", "use_u"):
            arr = getattr(self, name)
            if arr.size and not (np.isfinite(arr).all() and (arr >= 0).all()):
                raise InvalidInput(
                    f"{name} 必须为非负有限数 / {name} must be finite and non-negative", field=name
                )
        if self.cal_standard.size and (self.cal_until < self.cal_on).any():
            raise InvalidInput(
                "校准有效期止早于校准日期 / a calibration's valid_until precedes its date", field="cal_until"
            )
        if self.cal_standard.size and (self.cal_standard == self.cal_reference).any():
            bad = int(self.cal_standard[self.cal_standard == self.cal_reference][0])
            raise TraceabilityCycle(
                f"计量标准 {bad} 不能用自身校准 / standard {bad} cannot be calibrated with itself",
                field="reference_standard_id",
                standards=[bad],
            )
        # Calibrations sorted by (standard, date, caller's order): "in force on d" is one searchsorted.
        self.order = np.lexsort((np.arange(self.cal_on.size), self.cal_on, self.cal_standard)).astype(
            np.int64
        )
        self.rank = np.empty_like(self.order)
        self.rank[self.order] = np.arange(self.order.size)
        self.keys = self.cal_standard[self.order] * SPAN + self.cal_on[self.order]
        ref = self.cal_reference[self.order]
        self.cal_parent, self.cal_link = self._resolve(ref, self.cal_on[self.order])
        anchored = ref == NONE
        self.cal_link[anchored] = LinkStatus.OK
        self.cal_parent[anchored] = NONE
        self.use_cal, self.use_link = self._resolve(self.use_standard, self.use_on)

    # ------------------------------------------------------------------------------------------

    def _resolve(self, standard: IntArray, day: IntArray) -> tuple[IntArray, npt.NDArray[np.int8]]:
        """The calibration of ``standard`` in force on ``day`` (sorted index, -1) and the link's status."""
        n = standard.shape[0]
        status = np.zeros(n, dtype=np.int8)
        pos = np.searchsorted(self.keys, standard * SPAN + day, side="right") - 1
        sorted_std = self.cal_standard[self.order]
        found = (pos >= 0) & (standard >= 0)
        found[found] = sorted_std[pos[found]] == standard[found]
        pos = np.where(found, pos, NONE)
        p = np.where(found, pos, 0)
        srt = self.order
        if self.approval_from.size:
            sd = np.where(standard >= 0, standard, 0)
            approval = (self.approval_from[sd] <= day) & (day <= self.approval_until[sd])
        else:
            approval = np.ones(n, dtype=bool)
        if self.order.size:
            expired = day > self.cal_until[srt[p]]
            oot = ~self.cal_in_tolerance[srt[p]]
        else:
            expired = oot = np.zeros(n, dtype=bool)
        # One reason per link, the most telling first.
        status[~approval] = LinkStatus.APPROVAL_NOT_IN_FORCE
        status[found & expired] = LinkStatus.CALIBRATION_EXPIRED
        status[found & oot] = LinkStatus.OUT_OF_TOLERANCE
        status[~found] = LinkStatus.NO_CALIBRATION
        status[standard < 0] = LinkStatus.NO_STANDARD
        return pos.astype(np.int64), status

    def children(self, parents: IntArray) -> IntArray:
        """The calibrations made under any of ``parents`` (sorted indices), from the CSR adjacency."""
        if self._csr is None:
            e = self.order.size
            child = np.nonzero(self.cal_parent >= 0)[0]
            by_parent = child[np.argsort(self.cal_parent[child], kind="stable")]
            indptr = np.zeros(e + 1, dtype=np.int64)
            np.cumsum(np.bincount(self.cal_parent[child], minlength=e), out=indptr[1:])
            self._csr = (indptr, by_parent)
        indptr, by_parent = self._csr
        starts = indptr[parents]
        counts = indptr[parents + 1] - starts
        total = int(counts.sum())
        if not total:
            return np.zeros(0, dtype=np.int64)
        # start of each parent's run, repeated once per child, plus the position within the run
        offsets = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(total)
        kids: IntArray = by_parent[offsets]
        return kids

    def sorted_field(self, name: str) -> npt.NDArray[np.generic]:
        arr: npt.NDArray[np.generic] = getattr(self, name)[self.order]
        return arr

    def calibration_chains(self, max_depth: int = 12) -> ChainResults:
        """The chain of every calibration, walked level by level for all of them at once (caller's order)."""
        srt = _sorted_chains(self, max_depth)
        return srt.take(self.rank)

    def use_chains(self, max_depth: int = 12) -> ChainResults:
        """The chain of every use (verification record): its own link, then its standard's chain."""
        n = self.use_standard.shape[0]
        if self.order.size == 0:  # nothing calibrated: every use with a standard has no calibration
            cal = ChainResults.empty(1)
            cal_u_sorted, cal_unit_sorted, later = np.zeros(1), np.full(1, NONE), np.zeros(1, dtype=bool)
        else:
            cal = _sorted_chains(self, max_depth - 1)
            cal_u_sorted, cal_unit_sorted = self.cal_u[self.order], self.cal_unit[self.order]
            later = _later_out_of_tolerance(self)
        ev = self.use_cal
        has = ev >= 0
        e = np.where(has, ev, 0)
        link = self.use_link.astype(np.int8)
        u_std = np.where(has, cal_u_sorted[e], np.nan)
        unit_std = np.where(has, cal_unit_sorted[e], NONE)
        chain_status = np.where(has, cal.status[e], LinkStatus.OK).astype(np.int8)
        status = np.where(link != 0, link, chain_status).astype(np.int8)
        level = np.where(link != 0, 0, np.where(chain_status != 0, cal.first_broken_level[e] + 1, -1))
        broken_std = np.where(
            link != 0, self.use_standard, np.where(chain_status != 0, cal.broken_standard[e], NONE)
        )
        broken_cal = np.where(link != 0, NONE, np.where(chain_status != 0, cal.broken_calibration[e], NONE))
        # Propagation: the verification's own u (0 if unknown) and the chain of the standard used.
        chain_u2 = np.where(has, cal.u[e] ** 2, np.nan)
        same_unit = ~has | (cal.unit[e] == self.use_unit) | (self.use_u == 0)
        mixed = has & (cal.mixed_units[e] | ~same_unit)
        u = np.where(mixed, np.nan, np.sqrt(self.use_u**2 + chain_u2))
        # TUR of the use: instrument tolerance over 2u of the standard used (and of the process, if known).
        u_proc = np.sqrt(u_std**2 + self.use_u**2)
        with np.errstate(divide="ignore", invalid="ignore"):
            tur = np.where(
                has & (unit_std == self.use_unit) & (u_proc > 0), self.use_tolerance / (2 * u_proc), np.nan
            )
        min_tur = np.fmin(tur, np.where(has, cal.min_tur[e], np.nan))
        suspect = has & (later[e] | cal.suspect[e])
        return ChainResults(
            status=status,
            first_broken_level=level.astype(np.int16),
            broken_standard=broken_std.astype(np.int64),
            broken_calibration=broken_cal.astype(np.int64),
            depth=np.where(has, cal.depth[e] + 1, 1).astype(np.int16),
            u=u,
            unit=np.where(has, cal.unit[e], self.use_unit).astype(np.int64),
            mixed_units=mixed,
            min_tur=min_tur,
            tur=tur,
            suspect=suspect,
            anchor=np.where(has, cal.anchor[e], NONE).astype(np.int64),
            sorted_calibrations=False,
            size=n,
        )

    # ------------------------------------------------------------------------------------------
    # single chains, for display and for refusing cycles (a Python walk of ≤ max_depth steps)

    def chain_of_calibration(self, calibration: int, max_depth: int = 12) -> list[int]:
        """Calibrations (caller's indices) from ``calibration`` up to its anchor, or to where it stops."""
        out: list[int] = []
        cur = int(self.rank[calibration])
        seen: set[int] = set()
        while cur >= 0 and len(out) < max_depth:
            std = int(self.cal_standard[self.order[cur]])
            if std in seen:
                break
            seen.add(std)
            out.append(int(self.order[cur]))
            cur = int(self.cal_parent[cur])
        return out

    def in_force(self, standard: int, day: int) -> int:
        """The caller's index of the calibration of ``standard`` in force on ``day``, or -1."""
        pos, _ = self._resolve(np.array([standard], dtype=np.int64), np.array([day], dtype=np.int64))
        return int(self.order[pos[0]]) if pos[0] >= 0 else NONE

    def cycle_through(self, standard: int, reference: int, day: int, max_depth: int = 64) -> list[int] | None:
        """The standards of the cycle that calibrating ``standard`` with ``reference`` on ``day`` would make.

        Returns ``[standard, reference, …, standard]`` when ``standard`` is already upstream of
        ``reference`` on that day, else None.
        """
        if standard == reference:
            return [standard, standard]
        path = [standard, reference]
        pos = self.rank[self.in_force(reference, day)] if self.in_force(reference, day) >= 0 else NONE
        while pos >= 0 and len(path) < max_depth:
            ref = int(self.cal_reference[self.order[pos]])
            if ref < 0:
                return None
            path.append(ref)
            if ref == standard:
                return path
            if ref in path[1:-1]:
                return None  # an older cycle further up, not through this standard
            pos = int(self.cal_parent[pos])
        return None

    # ------------------------------------------------------------------------------------------

    def impact(self, standard: int, on: int, since: int | None = None) -> Impact:
        """What to recall when ``standard`` is found out of tolerance (or its certificate lapses) on ``on``.

        The window starts at ``since`` or, by default, at the last calibration of the standard made on or
        before ``on`` that found it within tolerance (the beginning of its history if there is none).
        Every calibration of the standard made in the window (through ``on``) is a *seed*: any use of the
        standard under a seed (verification records, calibrations of lower standards) is suspect, and so
        is, transitively, everything calibrated under a suspect calibration: a breadth-first walk of the
        calibration forest in CSR form, one NumPy step per level.
        """
        if not 0 <= standard < self.approval_from.shape[0]:
            raise InvalidInput(
                f"计量标准 {standard} 不存在 / standard {standard} not found", field="standard"
            )
        lo = int(np.searchsorted(self.keys, standard * SPAN, side="left"))
        hi = int(np.searchsorted(self.keys, standard * SPAN + on, side="right"))
        mine = np.arange(lo, hi)
        on_day = self.cal_on[self.order[mine]]
        if since is None:
            good = mine[self.cal_in_tolerance[self.order[mine]]]
            start = int(self.cal_on[self.order[good[-1]]]) if good.size else np.iinfo(np.int64).min
        else:
            start = since
        seeds = mine[on_day >= start]
        e = self.order.size
        suspect = np.zeros(e, dtype=bool)
        suspect[seeds] = True
        frontier = seeds
        while frontier.size:
            kids = self.children(frontier)
            kids = kids[~suspect[kids]]
            suspect[kids] = True
            frontier = kids
        uses = np.nonzero((self.use_cal >= 0) & suspect[np.maximum(self.use_cal, 0)])[0]
        if self.order.size == 0:
            uses = np.zeros(0, dtype=np.int64)
        calibrations = np.sort(self.order[np.nonzero(suspect)[0]])
        downstream = calibrations[~np.isin(calibrations, self.order[seeds])]
        std_down = (
            np.unique(self.cal_standard[downstream]) if downstream.size else np.zeros(0, dtype=np.int64)
        )
        return Impact(
            standard=standard,
            on=on,
            since=None if start == np.iinfo(np.int64).min else start,
            seed_calibrations=np.sort(self.order[seeds]),
            calibrations=downstream,
            standards=std_down,
            uses=uses.astype(np.int64),
        )


def _later_out_of_tolerance(g: TraceabilityGraph) -> BoolArray:
    """Per sorted calibration: the next calibration of the same standard found it out of tolerance."""
    e = g.order.size
    out = np.zeros(e, dtype=bool)
    if e > 1:
        std = g.cal_standard[g.order]
        nxt_oot = ~g.cal_in_tolerance[g.order[1:]]
        out[:-1] = (std[1:] == std[:-1]) & nxt_oot
    return out


@dataclass
class ChainResults:
    """Per item: status (LinkStatus), where it first broke, depth, propagated u (k = 1), worst TUR."""

    status: npt.NDArray[np.int8]
    first_broken_level: npt.NDArray[np.int16]  # 0 = the item's own link; -1 when not broken
    broken_standard: IntArray  # the standard that failed at that link (or repeated, for a cycle)
    broken_calibration: IntArray  # caller's index of the calibration of the broken link, -1 if none
    depth: npt.NDArray[np.int16]  # links walked up to the anchor (or to the break)
    u: FloatArray  # propagated standard uncertainty, NaN when the units are mixed
    unit: IntArray
    mixed_units: BoolArray
    min_tur: FloatArray  # the lowest TUR of the chain, NaN when no link's TUR is known
    tur: FloatArray  # the TUR of the item's own link
    suspect: BoolArray  # some standard of the chain was found out of tolerance at its next calibration
    anchor: IntArray  # sorted index (internal) / caller's index of the anchoring calibration, -1 if none
    sorted_calibrations: bool
    size: int

    @classmethod
    def empty(cls, n: int) -> ChainResults:
        return cls(
            status=np.zeros(n, dtype=np.int8),
            first_broken_level=np.full(n, -1, dtype=np.int16),
            broken_standard=np.full(n, NONE, dtype=np.int64),
            broken_calibration=np.full(n, NONE, dtype=np.int64),
            depth=np.zeros(n, dtype=np.int16),
            u=np.zeros(n),
            unit=np.zeros(n, dtype=np.int64),
            mixed_units=np.zeros(n, dtype=bool),
            min_tur=np.full(n, np.nan),
            tur=np.full(n, np.nan),
            suspect=np.zeros(n, dtype=bool),
            anchor=np.full(n, NONE, dtype=np.int64),
            sorted_calibrations=True,
            size=n,
        )

    def take(self, idx: IntArray) -> ChainResults:
        return ChainResults(
            status=self.status[idx],
            first_broken_level=self.first_broken_level[idx],
            broken_standard=self.broken_standard[idx],
            broken_calibration=self.broken_calibration[idx],
            depth=self.depth[idx],
            u=self.u[idx],
            unit=self.unit[idx],
            mixed_units=self.mixed_units[idx],
            min_tur=self.min_tur[idx],
            tur=self.tur[idx],
            suspect=self.suspect[idx],
            anchor=self.anchor[idx],
            sorted_calibrations=False,
            size=int(idx.shape[0]),
        )

    @property
    def ok(self) -> BoolArray:
        out: BoolArray = self.status == LinkStatus.OK
        return out

    def tur_warnings(self, minimum: float) -> BoolArray:
        """Chains with a link whose TUR is known and below ``minimum`` (a warning, not a break)."""
        with np.errstate(invalid="ignore"):
            return np.asarray(self.min_tur < minimum)


def _sorted_chains(g: TraceabilityGraph, max_depth: int) -> ChainResults:
    """Every calibration's chain at once, by dynamic programming down the calibration forest.

    A breadth-first pass from the roots (anchored calibrations, and those whose standard used had no
    calibration) visits each calibration once, after its parent, and derives its chain from its
    parent's: u² adds, the worst TUR is a running minimum, the first broken link from the bottom is its
    own link if broken or else its parent's one level higher. A standard met twice along a chain
    (circular traceability) is found afterwards with ancestor pointers, one 1-D gather per level.
    Calibrations never reached from a root lie on a pointer cycle (calibrated by one another the same day).
    """
    if max_depth < 1:
        raise InvalidInput("max_depth 至少为 1 / max_depth must be ≥ 1", field="max_depth")
    e = g.order.size
    res = ChainResults.empty(e)
    if e == 0:
        return res
    std = g.cal_standard[g.order]
    ref = g.cal_reference[g.order]
    cal_u = g.cal_u[g.order]
    unit = g.cal_unit[g.order]
    with np.errstate(divide="ignore", invalid="ignore"):
        link_tur = np.where(cal_u > 0, g.cal_tolerance[g.order] / (2 * cal_u), np.nan)
    later_oot = _later_out_of_tolerance(g)
    parent, link = g.cal_parent, g.cal_link
    res.unit, res.tur = unit, link_tur
    u2 = np.zeros(e)
    seen = np.zeros(e, dtype=bool)

    def visit(k: IntArray, p: IntArray | None) -> None:
        seen[k] = True
        ls = link[k]
        broken = ls != 0
        if p is None:
            res.depth[k] = 1
            u2[k] = cal_u[k] ** 2
            res.min_tur[k] = link_tur[k]
            res.anchor[k] = np.where(ref[k] == NONE, g.order[k], NONE)
            res.status[k] = ls
            res.first_broken_level[k] = np.where(broken, 0, -1)
            res.broken_standard[k] = np.where(broken, ref[k], NONE)
            res.broken_calibration[k] = np.where(broken, g.order[k], NONE)
            return
        res.depth[k] = res.depth[p] + 1
        u2[k] = u2[p] + cal_u[k] ** 2
        res.mixed_units[k] = res.mixed_units[p] | (unit[k] != unit[p])
        res.min_tur[k] = np.fmin(link_tur[k], res.min_tur[p])
        res.suspect[k] = res.suspect[p] | later_oot[p]
        res.anchor[k] = res.anchor[p]
        res.status[k] = np.where(broken, ls, res.status[p])
        lower = res.first_broken_level[p]
        res.first_broken_level[k] = np.where(broken, 0, np.where(lower >= 0, lower + 1, -1))
        res.broken_standard[k] = np.where(broken, ref[k], res.broken_standard[p])
        res.broken_calibration[k] = np.where(broken, g.order[k], res.broken_calibration[p])

    frontier = np.nonzero(parent < 0)[0]
    visit(frontier, None)
    while frontier.size:
        kids = g.children(frontier)
        if not kids.size:
            break
        visit(kids, parent[kids])
        frontier = kids
    # Circular traceability: here[x] when x's own standard reappears above x (within max_depth links);
    # a chain is circular when any of its calibrations is such an x, and breaks as a whole.
    top = min(int(res.depth.max()), max_depth + 1)
    here = np.zeros(e, dtype=bool)
    anc = parent.copy()
    for _ in range(1, top):
        ok = np.nonzero(anc >= 0)[0]
        here[ok] |= std[anc[ok]] == std[ok]
        anc[ok] = parent[anc[ok]]
    cyc = here.copy()
    cyc_level = np.where(here, 0, -1).astype(np.int16)
    cyc_std = np.where(here, std, NONE)
    anc = parent.copy()
    for level in range(1, top):
        ok = np.nonzero(anc >= 0)[0]
        new = ok[here[anc[ok]] & ~cyc[ok]]
        cyc_level[new] = level
        cyc_std[new] = std[anc[new]]
        cyc[new] = True
        anc[ok] = parent[anc[ok]]
    res.status[cyc] = LinkStatus.CYCLE
    res.first_broken_level[cyc] = cyc_level[cyc]
    res.broken_standard[cyc] = cyc_std[cyc]
    res.broken_calibration[cyc] = NONE
    lost = ~seen  # on a pointer cycle (calibrations of one another on the same day)
    res.status[lost] = LinkStatus.CYCLE
    res.first_broken_level[lost] = 0
    res.broken_standard[lost] = std[lost]
    res.broken_calibration[lost] = g.order[lost]
    deep = (res.depth > max_depth) & (res.status == LinkStatus.OK)
    res.status[deep] = LinkStatus.TOO_DEEP
    res.first_broken_level[deep] = max_depth
    res.u = np.where(res.mixed_units | lost, np.nan, np.sqrt(u2))
    return res


@dataclass(frozen=True)
class Impact:
    """The recall list: caller's indices of calibrations and uses, and the standards downstream."""

    standard: int
    on: int
    since: int | None  # start of the window (day number), None = the whole history
    seed_calibrations: IntArray  # calibrations of the standard itself in the window
    calibrations: IntArray  # calibrations made under a suspect calibration (downstream, transitively)
    standards: IntArray  # standards calibrated by those
    uses: IntArray  # uses (verification records) made under a suspect calibration


# ----------------------------------------------------------------------------------------------
# units: a link's uncertainty and a tolerance are compared and summed only in one unit

RELATIVE = {"%": 1e-2, "ppm": 1e-6, "1": 1.0, "": 1.0, "relative": 1.0}
RELATIVE_KEY = "1"
# Tolerances and uncertainties are differences: a temperature interval, never an absolute temperature.
_ALIASES = {"℃": "delta_degC", "°C": "delta_degC", "degC": "delta_degC", "K": "kelvin", "℉": "delta_degF"}
_UREG: Any = None


def _registry() -> Any:
    global _UREG
    if _UREG is None:
        import pint

        _UREG = pint.UnitRegistry()
    return _UREG


def normalise(value: float, unit: str, field: str = "unit") -> tuple[float, str]:
    """``value`` in ``unit`` as (magnitude, key): relative units to a fraction (key "1"), others to SI base.

    >>> normalise(0.05, "%")
    (0.0005, '1')
    >>> normalise(3.0, "mmHg")[1]
    'kilogram / meter / second ** 2'
    """
    text = (unit or "").strip()
    if text in RELATIVE:
        return value * RELATIVE[text], RELATIVE_KEY
    reg = _registry()
    try:
        q = reg.Quantity(value, _ALIASES.get(text, text)).to_base_units()
    except Exception:  # pint raises several unrelated classes for unknown or malformed units
        raise InvalidInput(
            f"无法识别的单位 {text!r} / unit {text!r} is not a known unit (use %, ppm, 1 or an SI unit)",
            field=field,
        ) from None
    return float(q.magnitude), str(q.units)


def tolerance_from_accuracy(text: str) -> tuple[float, str] | None:
    """The maximum permissible error of an instrument ledger's accuracy field when it reads ``±X unit``.

    Class designations ("Ⅲ", "0.5S", "2") name a rule of the regulation, not a number on their own, and
    give None: the TUR of such a link is then unknown rather than guessed.

    >>> tolerance_from_accuracy("±0.1 ℃")
    (0.1, '℃')
    >>> tolerance_from_accuracy("Ⅲ") is None
    True
    """
    s = text.strip()
    if not s.startswith("±"):
        return None
    body = s[1:].strip()
    number = ""
    for ch in body:
        if ch.isdigit() or ch == ".":
            number += ch
        else:
            break
    try:
        value = float(number)
    except ValueError:
        return None
    unit = body[len(number) :].strip()
    return value, unit
