"""A data-quality grade of a unit's energy and carbon figures (数据质量等级), from its metering.

No national standard defines this grade; it is the project's rule, stated here and in docs/energy.md so
that a reader can check every step. Five criteria, each graded A (best) to D; the unit's grade is the
worst of them, and each criterion's value and grade are shown so that the reason is visible:

| criterion | A | B | C | D |
| --- | --- | --- | --- | --- |
| boundary coverage: meters installed ÷ required at the boundary, every energy (GB 17167 进出用能单位) | 100 % | — | — | below 100 % |
| equipping rate over all levels (installed ÷ required) | ≥ 95 % | ≥ 90 % | ≥ 80 % | below |
| meters with a valid verification or calibration | all | ≥ 95 % and every boundary meter | a boundary meter without | below 80 % |
| relative expanded uncertainty of the emissions (U ÷ E, k = 2) | ≤ 5 % | ≤ 10 % | ≤ 20 % | above, or none |
| boundary readings of the latest period | complete | with gaps (marked, never filled) | — | no period |

The thresholds of the uncertainty row follow the spirit of tiered monitoring (an installation's figures
within a few percent are the best tier); they are settings of this module, not quotations.
"""

from __future__ import annotations

from dataclasses import dataclass

GRADES = ("A", "B", "C", "D")


@dataclass(frozen=True)
class Criterion:
    code: str
    label_zh: str
    label_en: str
    value: str  # as shown
    grade: str


@dataclass(frozen=True)
class QualityGrade:
    grade: str
    criteria: tuple[Criterion, ...]

    @property
    def weakest(self) -> tuple[Criterion, ...]:
        return tuple(c for c in self.criteria if c.grade == self.grade)


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f} %"


def grade(
    *,
    boundary_required: int,
    boundary_installed: int,
    required: int,
    installed: int,
    meters: int,
    meters_verified: int,
    boundary_unverified: int,
    u_rel: float | None,
    boundary_gaps: int | None,
) -> QualityGrade:
    """The grade from the unit's latest review (counts) and latest period (``u_rel`` = U/E of the
    emissions, ``boundary_gaps`` = boundary points with gaps; None where there is no period)."""
    coverage = boundary_installed / boundary_required if boundary_required else None
    rate = installed / required if required else None
    verified = meters_verified / meters if meters else None
    rows = [
        Criterion(
            "coverage", "边界计量覆盖", "boundary coverage", _pct(coverage),
            "A" if coverage is not None and coverage >= 1 else "D",
        ),
        Criterion(
            "equipping", "计量器具配备率", "equipping rate", _pct(rate),
            "D" if rate is None else "A" if rate >= 0.95 else "B" if rate >= 0.90 else "C" if rate >= 0.80 else "D",
        ),
        Criterion(
            "verification",
            "检定/校准有效",
            "valid verification",
            f"{meters_verified}/{meters}" + (f"，边界 {boundary_unverified} 台无效" if boundary_unverified else ""),
            "D"
            if verified is None or verified < 0.80
            else "C"
            if boundary_unverified
            else "A"
            if verified >= 1
            else "B"
            if verified >= 0.95
            else "C",
        ),
        Criterion(
            "uncertainty", "排放量相对扩展不确定度", "relative expanded uncertainty", _pct(u_rel),
            "D" if u_rel is None else "A" if u_rel <= 0.05 else "B" if u_rel <= 0.10 else "C" if u_rel <= 0.20 else "D",
        ),
        Criterion(
            "readings",
            "边界读数完整性",
            "boundary readings",
            "—" if boundary_gaps is None else ("完整 / complete" if boundary_gaps == 0 else f"{boundary_gaps} 个计量点有缺测"),
            "D" if boundary_gaps is None else "A" if boundary_gaps == 0 else "B",
        ),
    ]
    worst = max(GRADES.index(c.grade) for c in rows)
    return QualityGrade(GRADES[worst], tuple(rows))
