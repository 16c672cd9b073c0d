"""Monte Carlo (IPCC 2006 Vol. 1 Ch. 3 Approach 2) of many units' emissions at once, on arrays.

``carbon.emissions`` propagates one unit through the expression engine; a province has thousands of
reporting units. Here all units' activity data are columns and a block of units is drawn as one matrix
``[activity, trial]``: E_u = Σ_{i∈u} ADᵢ · F_f(i), with F_f = NCV_f·CC_f·OF_f·44/12 (t CO₂ per activity
unit) for a fuel and EF_grid for purchased electricity — the model of ``carbon.emissions``, same
distributions (a verified meter's MPE as a rectangular half-width, an unverified meter's MPE or a stated
uncertainty as a normal standard uncertainty, factors normal with their stated u).

One difference, on purpose: a fuel's default factors (NCV, CC, OF) and the grid factor are one national
quantity each, so their trials are drawn once and shared by every unit, as ``carbon.emissions`` shares
them among one unit's activities. Each unit's own result is an ordinary Monte Carlo of its model; a
regional total summed trial by trial then carries the factors' correlation between units, which
independent runs per unit would lose.

Per unit: the mean, the standard deviation and the probabilistically symmetric 95 % interval (JCGM 101
7.7.1, the definition of ``metrology.montecarlo.coverage_intervals``), found by partition, not a sort.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from jiliang.energy.carbon import CO2_PER_C, fuel_factors, grid_factors
from jiliang.energy.rules import EnergyType
from jiliang.errors import InvalidInput

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

ENERGIES: tuple[EnergyType, ...] = tuple(EnergyType)


@dataclass(frozen=True)
class Activities:
    """Every unit's activity data as columns, sorted by ``unit`` (0 … n_units − 1)."""

    n_units: int
    unit: IntArray
    energy: IntArray  # index into ENERGIES
    amount: FloatArray  # the factor's activity unit (t, m³) or MWh for electricity
    mpe_percent: FloatArray  # the meter's MPE; NaN where a stated uncertainty is given instead
    u_percent: FloatArray  # stated standard uncertainty (percent) where there is no meter
    verified: BoolArray


@dataclass(frozen=True)
class UnitResults:
    mean: FloatArray  # t CO2
    u: FloatArray
    low: FloatArray  # 95 % probabilistically symmetric interval
    high: FloatArray
    trials: int


def _interval_ranks(m: int, p: float = 0.95) -> tuple[int, int]:
    pm = p * m
    q = round(pm) if abs(pm - round(pm)) < 1e-9 else math.floor(pm + 0.5)
    if not 0 < q < m:
        raise InvalidInput(f"试验次数太少 / too few trials ({m}) for a {p:.4g} coverage interval", field="trials")
    r = (m - q) // 2 if (m - q) % 2 == 0 else (m - q + 1) // 2
    return r - 1, r + q - 1  # 0-based ranks of the interval's ends


def validate(a: Activities) -> None:
    bad = np.flatnonzero(~(np.isfinite(a.amount) & (a.amount >= 0)))
    if bad.size:
        raise InvalidInput("活动数据须为非负有限数 / activity must be a finite amount ≥ 0", field=f"activities[{bad[0]}].amount")
    has_mpe = ~np.isnan(a.mpe_percent)
    bad = np.flatnonzero(has_mpe & ~(a.mpe_percent > 0))
    if bad.size:
        raise InvalidInput("最大允许误差须为正数 / MPE must be > 0", field=f"activities[{bad[0]}].mpe_percent")
    bad = np.flatnonzero(~has_mpe & ~(np.isfinite(a.u_percent) & (a.u_percent >= 0)))
    if bad.size:
        raise InvalidInput(
            "须给出计量器具的最大允许误差或其不确定度 / give the meter's MPE or a stated uncertainty",
            field=f"activities[{bad[0]}].mpe_percent",
        )
    if a.unit.size and (np.any(np.diff(a.unit) < 0) or a.unit[0] < 0 or a.unit[-1] >= a.n_units):
        raise InvalidInput("活动数据须按单位排序 / activities must be sorted by unit", field="activities.unit")


def factor_trials(
    energies: set[int], trials: int, rng: np.random.Generator, grid_year: int | None = None
) -> dict[int, FloatArray]:
    """Trials of F (t CO₂ per activity unit) for each energy used: NCV·CC·OF·44/12 ÷ 1000 for a fuel,
    EF_grid for electricity; one draw sequence per quantity, shared by every unit."""
    fuels, grids = fuel_factors(), grid_factors()
    out: dict[int, FloatArray] = {}
    for e in sorted(energies):
        et = ENERGIES[e]
        if et is EnergyType.ELECTRICITY:
            year = grid_year if grid_year is not None else max(grids)
            if year not in grids:
                raise InvalidInput(f"没有 {year} 年的电网排放因子 / no grid factor for {year}", field="grid_year")
            g = grids[year]
            out[e] = rng.normal(g.tco2_per_mwh, g.u_percent / 100 * g.tco2_per_mwh, trials)
            continue
        if et not in fuels:
            raise InvalidInput(f"没有排放因子 / no emission factor with a source for {et.value}", field="activities.energy")
        f = fuels[et]
        ncv = rng.normal(f.ncv, f.ncv_u_percent / 100 * f.ncv, trials)
        cc = rng.normal(f.carbon_content, f.carbon_content_u_percent / 100 * f.carbon_content, trials)
        of = rng.normal(f.oxidation, f.oxidation_u_percent / 100 * f.oxidation, trials)
        out[e] = ncv * cc * of * (CO2_PER_C / 1000)
    return out


def _order_statistic(values: FloatArray, rank: int, cut: float, below: bool) -> float:
    """The ``rank``-th smallest of ``values`` (0-based). The values beyond ``cut`` on the tail are picked
    out first and only they partitioned when the rank lies among them (exact either way, since they are
    the smallest — or largest — values); otherwise the whole row is partitioned."""
    n = values.size
    tail = values[values < cut] if below else values[values > cut]
    if below and tail.size > rank:
        return float(np.partition(tail, rank)[rank])
    if not below and tail.size > n - 1 - rank:
        at = tail.size - n + rank
        return float(np.partition(tail, at)[at])
    return float(np.partition(values, rank)[rank])


def monte_carlo(
    a: Activities,
    trials: int = 100_000,
    seed: int = 1,
    grid_year: int | None = None,
) -> UnitResults:
    """Mean, u and the 95 % interval of every unit's emissions by ``trials`` Monte Carlo trials.

    Trials are vectors; units are taken one after another through two buffers of ``trials`` values
    that stay in the processor's cache (one matrix of all units' trials would be read from memory at
    every step, which is slower, measured in benchmarks/bench_energy.py)."""
    validate(a)
    rng = np.random.default_rng(seed)
    factors = factor_trials({int(e) for e in np.unique(a.energy)}, trials, rng, grid_year)
    lo_rank, hi_rank = _interval_ranks(trials)
    mean = np.zeros(a.n_units)
    u = np.zeros(a.n_units)
    low = np.zeros(a.n_units)
    high = np.zeros(a.n_units)
    starts = np.searchsorted(a.unit, np.arange(a.n_units + 1)).tolist()
    rect = (~np.isnan(a.mpe_percent) & a.verified).tolist()
    half_a = np.where(np.isnan(a.mpe_percent), 0.0, a.mpe_percent) / 100 * a.amount
    sd_a = np.where(np.isnan(a.mpe_percent), np.nan_to_num(a.u_percent) / 100 * a.amount, half_a)
    half, sd, amount, energy = half_a.tolist(), sd_a.tolist(), a.amount.tolist(), a.energy.tolist()
    acc = np.empty(trials)
    row = np.empty(trials)
    for unit in range(a.n_units):
        acc.fill(0.0)
        for i in range(starts[unit], starts[unit + 1]):
            if rect[i]:
                rng.random(out=row)
                row *= 2 * half[i]
                row += amount[i] - half[i]
            else:
                rng.standard_normal(out=row)
                row *= sd[i]
                row += amount[i]
            row *= factors[energy[i]]
            acc += row
        m = float(acc.sum()) / trials
        np.subtract(acc, m, out=row)
        s = math.sqrt(float(np.einsum("i,i->", row, row)) / (trials - 1))  # no BLAS threads
        mean[unit], u[unit] = m, s
        low[unit] = _order_statistic(acc, lo_rank, m - 1.4 * s, below=True)
        high[unit] = _order_statistic(acc, hi_rank, m + 1.4 * s, below=False)
    return UnitResults(mean, u, low, high, trials)
