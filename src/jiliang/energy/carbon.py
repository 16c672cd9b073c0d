"""Carbon emissions of a unit by the calculation method, with their measurement uncertainty (碳计量).

Fuel combustion: E = Σ ADᵢ · NCV_f · CC_f · OF_f · 44/12 (activity data × net calorific value × carbon
content per unit of heat × oxidation factor, the national accounting guidelines' form); purchased
electricity: E = Σ ELⱼ · EF_grid. The activity data come from meters, so their uncertainty comes from the
meters: a meter's maximum permissible error is the half-width of a rectangular distribution (u = MPE/√3); a
meter without a valid verification is flagged and its MPE is taken as a *standard* uncertainty (widened by
√3), since nothing shows it is still within it. Factors carry their published (or stated) uncertainties.

The sum is written as a model for the GUM engine (``metrology.gum``, IPCC 2006 Vol. 1 Ch. 3 Approach 1)
and propagated by Monte Carlo (``metrology.montecarlo``, Approach 2), so the budget names the meter or the
factor that dominates. One fuel's factors are one input each, shared by every activity of that fuel, so
their correlation is carried by the model, not assumed away.
"""

from __future__ import annotations

import csv
import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources

from jiliang.energy.rules import ENERGY_LABELS, EnergyType, Provenance
from jiliang.errors import InvalidInput
from jiliang.metrology import gum, montecarlo
from jiliang.metrology.distributions import Distribution, Normal, Rectangular
from jiliang.metrology.expression import Model

CO2_PER_C = 44.0 / 12.0


@dataclass(frozen=True)
class FuelFactor:
    energy_type: EnergyType
    activity_unit: str  # "t" or "m**3"
    ncv: float  # GJ per activity unit
    carbon_content: float  # t C per TJ
    oxidation: float  # fraction
    ncv_u_percent: float
    carbon_content_u_percent: float
    oxidation_u_percent: float
    provenance: Provenance


@dataclass(frozen=True)
class GridFactor:
    year: int
    tco2_per_mwh: float
    u_percent: float
    provenance: Provenance


def _rows(name: str) -> list[dict[str, str]]:
    with (resources.files("jiliang") / "data" / "energy" / name).open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _source(row: dict[str, str]) -> Provenance:
    if not row.get("source"):
        raise InvalidInput("排放因子缺少来源 / an emission factor needs its source", field="source")
    return Provenance(row["evidence"], row["source"], row["notes"])


@functools.cache
def fuel_factors() -> dict[EnergyType, FuelFactor]:
    out = {}
    for r in _rows("carbon-factors.csv"):
        unit = "m**3" if r["activity_unit"] == "m3" else r["activity_unit"]
        out[EnergyType(r["energy_type"])] = FuelFactor(
            EnergyType(r["energy_type"]),
            unit,
            float(r["ncv"]),
            float(r["carbon_content_tc_per_tj"]),
            float(r["oxidation"]),
            float(r["ncv_u_percent"]),
            float(r["carbon_content_u_percent"]),
            float(r["oxidation_u_percent"]),
            _source(r),
        )
    return out


@functools.cache
def grid_factors() -> dict[int, GridFactor]:
    return {
        int(r["year"]): GridFactor(
            int(r["year"]), float(r["tco2_per_mwh"]), float(r["u_percent"]), _source(r)
        )
        for r in _rows("electricity-factors.csv")
    }


@dataclass(frozen=True)
class Activity:
    """One activity datum: a fuel or purchased electricity read from a meter (or from invoices)."""

    label: str  # the meter (or document) people recognise, e.g. "1# 锅炉天然气表 (NG-0012)"
    energy_type: EnergyType
    amount: float  # in the factor's activity unit (t, m³) or MWh for electricity
    mpe_percent: float | None = None  # the meter's maximum permissible error
    u_percent: float | None = None  # a stated standard uncertainty instead of a meter's MPE
    verified: bool = True  # the meter has a valid verification or calibration


@dataclass(frozen=True)
class Contribution:
    input: str  # model input name
    label: str  # what it is, for people
    u: float  # contribution to u(E), t CO2
    share: float  # of u²(E)


@dataclass(frozen=True)
class CarbonResult:
    total: float  # t CO2
    u: float
    U: float
    k: float
    by_source: tuple[tuple[str, float], ...]  # (label, t CO2)
    budget: tuple[Contribution, ...]  # largest first
    flags: tuple[str, ...]
    mc_total: float | None = None
    mc_u: float | None = None
    mc_interval: tuple[float, float] | None = None
    mc_trials: int | None = None

    @property
    def dominant(self) -> Contribution:
        return self.budget[0]


def _activity_u(a: Activity, i: int) -> tuple[float, bool, str | None]:
    """(standard uncertainty, rectangular?, flag) of an activity datum."""
    if not (math.isfinite(a.amount) and a.amount >= 0):
        raise InvalidInput(
            f"活动数据须为非负有限数 / activity {a.label!r} must be a finite amount ≥ 0",
            field=f"activities[{i}].amount",
        )
    if a.mpe_percent is not None:
        if not (math.isfinite(a.mpe_percent) and a.mpe_percent > 0):
            raise InvalidInput("最大允许误差须为正数 / MPE must be > 0", field=f"activities[{i}].mpe_percent")
        half = a.mpe_percent / 100 * a.amount
        if not a.verified:
            flag = f"{a.label}: 计量器具无有效检定，按最大允许误差作为标准不确定度 / meter not verified: its MPE is taken as u"
            return half, False, flag
        return half / math.sqrt(3), True, None
    if a.u_percent is not None and math.isfinite(a.u_percent) and a.u_percent >= 0:
        return a.u_percent / 100 * a.amount, False, None
    raise InvalidInput(
        f"活动数据 {a.label!r} 须给出计量器具的最大允许误差或其不确定度 / give the meter's MPE or a stated uncertainty",
        field=f"activities[{i}].mpe_percent",
    )


def emissions(
    activities: Sequence[Activity],
    *,
    grid_year: int | None = None,
    trials: int | None = None,
    seed: int | None = None,
) -> CarbonResult:
    """Emissions (t CO2) of ``activities`` with their GUM uncertainty and, with ``trials``, Monte Carlo."""
    if not activities:
        raise InvalidInput("没有活动数据 / no activity data", field="activities")
    fuels, grids = fuel_factors(), grid_factors()
    terms: list[str] = []
    units: dict[str, str | None] = {}
    inputs: dict[str, gum.Input] = {}
    dists: dict[str, Distribution] = {}
    labels: dict[str, str] = {}
    flags: list[str] = []
    per_source: list[tuple[str, float]] = []

    def add(
        name: str, value: float, u: float, unit: str | None, label: str, rectangular: bool = False
    ) -> None:
        inputs[name] = gum.Input(name, value, u)
        units[name] = unit
        labels[name] = label
        if rectangular and u > 0:
            dists[name] = Rectangular.centred(value, u * math.sqrt(3))
        else:
            dists[name] = Normal(value, u)

    for i, a in enumerate(activities):
        u, rect, flag = _activity_u(a, i)
        if flag:
            flags.append(flag)
        ad = f"AD{i + 1}"
        zh, _en = ENERGY_LABELS[a.energy_type]
        if a.energy_type is EnergyType.ELECTRICITY:
            year = grid_year if grid_year is not None else max(grids)
            if year not in grids:
                raise InvalidInput(
                    f"没有 {year} 年的电网排放因子 / no grid factor for {year}", field="grid_year"
                )
            g = grids[year]
            add(ad, a.amount, u, "MW*h", a.label, rect)
            if "EF_grid" not in inputs:
                add(
                    "EF_grid",
                    g.tco2_per_mwh,
                    g.u_percent / 100 * g.tco2_per_mwh,
                    "t/(MW*h)",
                    f"电网排放因子 {year} / grid factor",
                )
            terms.append(f"{ad}*EF_grid")
            per_source.append((a.label, a.amount * g.tco2_per_mwh))
            continue
        if a.energy_type not in fuels:
            raise InvalidInput(
                f"没有 {zh} 的排放因子 / no emission factor with a source for {a.energy_type.value}",
                field=f"activities[{i}].energy_type",
            )
        f = fuels[a.energy_type]
        key = a.energy_type.value
        add(ad, a.amount, u, f.activity_unit, a.label, rect)
        if f"NCV_{key}" not in inputs:
            add(
                f"NCV_{key}",
                f.ncv,
                f.ncv_u_percent / 100 * f.ncv,
                f"GJ/{f.activity_unit}",
                f"{zh} 低位发热量 / NCV",
            )
            add(
                f"CC_{key}",
                f.carbon_content,
                f.carbon_content_u_percent / 100 * f.carbon_content,
                "t/TJ",
                f"{zh} 单位热值含碳量 / carbon content",
            )
            add(
                f"OF_{key}",
                f.oxidation,
                f.oxidation_u_percent / 100 * f.oxidation,
                None,
                f"{zh} 碳氧化率 / oxidation",
            )
        terms.append(f"{ad}*NCV_{key}*CC_{key}*OF_{key}*44/12")
        per_source.append((a.label, a.amount * f.ncv * f.carbon_content / 1000 * f.oxidation * CO2_PER_C))

    model = Model.parse("E = " + " + ".join(terms), units=units, output_units={"E": "t"}, inputs=list(inputs))
    result = gum.evaluate(model, inputs, options=gum.Options(k=2.0))
    out = result.output("E")
    budget = sorted(
        (Contribution(b.input, labels[b.input], b.contribution, b.share) for b in out.budget),
        key=lambda c: -c.u,
    )
    mc_total = mc_u = None
    mc_interval = None
    if trials:
        mc = montecarlo.propagate(lambda x: model.values(x)[0], dists, trials=trials, seed=seed)
        mc_total, mc_u, mc_interval = mc.y, mc.u, mc.symmetric
    return CarbonResult(
        total=out.value,
        u=out.u,
        U=out.U,
        k=out.k,
        by_source=tuple(per_source),
        budget=tuple(budget),
        flags=tuple(flags),
        mc_total=mc_total,
        mc_u=mc_u,
        mc_interval=mc_interval,
        mc_trials=trials,
    )
