"""The worked examples of JCGM 101:2008 §9 as vectorised models, shared by the tests and the benchmark.

Each example is (model, inputs): ``model`` takes the dict of input arrays that ``propagate`` passes.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from jiliang.metrology.distributions import (
    Arcsine,
    CurvilinearTrapezoidal,
    Distribution,
    MultivariateNormal,
    Normal,
    Rectangular,
    ScalarDistribution,
    StudentT,
)
from jiliang.metrology.montecarlo import FloatArray

ROOT3 = math.sqrt(3.0)


@dataclass(frozen=True)
class Example:
    name: str
    section: str
    model: Callable[[Mapping[str, FloatArray]], FloatArray]
    inputs: dict[str, Distribution]


def additive(x: Mapping[str, FloatArray]) -> FloatArray:
    """§9.2: Y = X1 + X2 + X3 + X4."""
    return x["X1"] + x["X2"] + x["X3"] + x["X4"]


def additive_normal() -> Example:
    """§9.2.2: each Xi ~ N(0, 1)."""
    return Example(
        "additive, normal inputs", "9.2.2", additive, {f"X{i}": Normal(0.0, 1.0) for i in range(1, 5)}
    )


def additive_rectangular() -> Example:
    """§9.2.3: each Xi rectangular with expectation 0 and standard deviation 1 (limits ±√3)."""
    return Example(
        "additive, rectangular inputs",
        "9.2.3",
        additive,
        {f"X{i}": Rectangular(-ROOT3, ROOT3) for i in range(1, 5)},
    )


def additive_dominant() -> Example:
    """§9.2.4: as 9.2.3 but X4 has standard deviation 10 (limits ±10√3) and dominates."""
    inputs: dict[str, Distribution] = {f"X{i}": Rectangular(-ROOT3, ROOT3) for i in range(1, 4)}
    inputs["X4"] = Rectangular(-10 * ROOT3, 10 * ROOT3)
    return Example("additive, one rectangular input dominating", "9.2.4", additive, inputs)


# §9.3 mass calibration: δm = (m_R,c + δm_R,c)[1 + (ρa − ρa0)(1/ρW − 1/ρR)] − m_nom, masses in mg,
# densities in kg/m³. Written as (m_R,c − m_nom) + δm_R,c + (m_R,c + δm_R,c)·(…) so that 10⁵ mg does not
# cancel in floating point.
RHO_A0 = 1.2  # kg/m³
M_NOM = 100_000.0  # mg


def mass(x: Mapping[str, FloatArray]) -> FloatArray:
    m = x["m_Rc"] + x["dm_Rc"]
    return (x["m_Rc"] - M_NOM) + x["dm_Rc"] + m * ((x["rho_a"] - RHO_A0) * (1 / x["rho_W"] - 1 / x["rho_R"]))


def mass_calibration() -> Example:
    """§9.3, Table 8 inputs: m_R,c N(100 000.000, 0.050²) mg, δm_R,c N(1.234, 0.020²) mg,
    ρa R(1.10, 1.30), ρW R(7 000, 9 000), ρR R(7 950, 8 050) kg/m³."""
    return Example(
        "mass calibration",
        "9.3",
        mass,
        {
            "m_Rc": Normal(100_000.000, 0.050),
            "dm_Rc": Normal(1.234, 0.020),
            "rho_a": Rectangular(1.10, 1.30),
            "rho_W": Rectangular(7_000.0, 9_000.0),
            "rho_R": Rectangular(7_950.0, 8_050.0),
        },
    )


def comparison_loss(x: Mapping[str, FloatArray]) -> FloatArray:
    """§9.4: δY = 1 − Y = X1² + X2², Γ = X1 + jX2 the reflection coefficient of the power meter."""
    x1, x2 = x["Gamma"]
    return x1 * x1 + x2 * x2


def microwave(x1: float, r: float, u: float = 0.005) -> Example:
    """§9.4: (X1, X2) bivariate normal, expectations (x1, 0), u(x1) = u(x2) = 0.005, correlation r."""
    return Example(
        f"comparison loss, x1 = {x1}, r = {r}",
        "9.4",
        comparison_loss,
        {"Gamma": MultivariateNormal.from_correlation([x1, 0.0], [u, u], [[1.0, r], [r, 1.0]])},
    )


def gauge(x: Mapping[str, FloatArray]) -> FloatArray:
    """§9.5 (the GUM H.1 end gauge), linearised model: L = Ls + D + d1 + d2 − Ls(δα·θ + αs·δθ), θ = θ0 + Δ.

    Lengths in nm, temperatures in °C, expansion coefficients in °C⁻¹.
    """
    theta = x["theta0"] + x["Delta"]
    return x["Ls"] + x["D"] + x["d1"] + x["d2"] - x["Ls"] * (x["dalpha"] * theta + x["alpha_s"] * x["dtheta"])


def gauge_block(t_given_by: str = "scale") -> Example:
    """§9.5 inputs as recalled (NOT confirmed against the JCGM 101 text): the four t inputs with the GUM
    H.1 standard uncertainties and degrees of freedom, taken as the scale of t (JCGM 101 §6.4.9) or, with
    ``t_given_by="standard_deviation"``, as its standard deviation (the NIST Uncertainty Machine's reading).
    """

    def t(mean: float, u: float, nu: float) -> StudentT:
        return (
            StudentT(mean, u, nu) if t_given_by == "scale" else StudentT.from_standard_deviation(mean, u, nu)
        )

    return Example(
        f"gauge block (t by {t_given_by})",
        "9.5",
        gauge,
        {
            "Ls": t(50_000_623.6, 25.0, 18),
            "D": t(215.0, 5.8, 24),
            "d1": t(0.0, 3.9, 5),
            "d2": t(0.0, 6.7, 8),
            "alpha_s": Rectangular(9.5e-6, 13.5e-6),
            "theta0": Normal(-0.1, 0.2),
            "Delta": Arcsine(-0.5, 0.5),
            "dalpha": CurvilinearTrapezoidal(-1.0e-6, 1.0e-6, d=0.1e-6),
            "dtheta": CurvilinearTrapezoidal(-0.050, 0.050, d=0.025),
        },
    )


def gauge_moments(example: Example) -> tuple[float, float]:
    """Exact mean and standard deviation of the §9.5 linearised model from the inputs' closed forms.

    With W = δα·θ + αs·δθ (E[W] = 0 as E[δα] = E[δθ] = 0, all inputs independent):
    E[L] = E[Ls] + E[D] + E[d1] + E[d2]; Var L = Var Ls + E[Ls²]·E[W²] + Var D + Var d1 + Var d2,
    E[W²] = u²(δα)·E[θ²] + E[αs²]·u²(δθ).
    """

    def e_u(name: str) -> tuple[float, float]:
        d = example.inputs[name]
        assert isinstance(d, ScalarDistribution)
        return d.expectation, d.standard_uncertainty

    (m_ls, u_ls), (m_d, u_d), (_, u_1), (_, u_2) = (e_u(k) for k in ("Ls", "D", "d1", "d2"))
    (m_th0, u_th0), (_, u_delta) = e_u("theta0"), e_u("Delta")
    (m_as, u_as), (_, u_da), (_, u_dth) = e_u("alpha_s"), e_u("dalpha"), e_u("dtheta")
    e_theta2 = m_th0**2 + u_th0**2 + u_delta**2
    e_w2 = u_da**2 * e_theta2 + (m_as**2 + u_as**2) * u_dth**2
    var = u_ls**2 + (m_ls**2 + u_ls**2) * e_w2 + u_d**2 + u_1**2 + u_2**2
    return m_ls + m_d, math.sqrt(var)


def all_examples() -> list[Example]:
    return [
        additive_normal(),
        additive_rectangular(),
        additive_dominant(),
        mass_calibration(),
        *(microwave(x1, r) for r in (0.0, 0.9) for x1 in (0.0, 0.010, 0.050)),
        gauge_block(),
    ]


def comparison_loss_moments(x1: float, r: float, u: float = 0.005) -> tuple[float, float]:
    """Exact mean and standard deviation of X1² + X2² for the §9.4 bivariate normal.

    For X ~ N(μ, V): E[XᵀX] = μᵀμ + tr V, Var[XᵀX] = 2 tr(V²) + 4 μᵀVμ.
    """
    v = np.array([[u * u, r * u * u], [r * u * u, u * u]])
    mu = np.array([x1, 0.0])
    mean = float(mu @ mu + np.trace(v))
    var = float(2 * np.trace(v @ v) + 4 * mu @ v @ mu)
    return mean, math.sqrt(var)


def mass_moments() -> tuple[float, float]:
    """Exact mean and standard deviation of the §9.3 output, from the moments of the input distributions.

    With A = ρa − ρa0 (zero mean), B = 1/ρW − 1/ρR and m = m_R,c + δm_R,c, all independent:
    δm = (m − m_nom) + m·A·B, so E = E[m] − m_nom and, as E[A] = 0, Var = Var m + E[m²]E[A²]E[B²].
    """

    def reciprocal_moments(a: float, b: float) -> tuple[float, float]:
        # E[1/ρ], E[1/ρ²] for ρ ~ R(a, b)
        return math.log(b / a) / (b - a), (1 / a - 1 / b) / (b - a)

    e_w, e2_w = reciprocal_moments(7_000.0, 9_000.0)
    e_r, e2_r = reciprocal_moments(7_950.0, 8_050.0)
    e2_b = e2_w - 2 * e_w * e_r + e2_r
    var_a = 0.2**2 / 12
    m_mean, m_var = 100_000.0 + 1.234, 0.050**2 + 0.020**2
    # δm = (m − m_nom) + m·A·B; A independent of m and B, E[A] = 0, so the covariance term vanishes:
    # Var = Var m + E[m²]·E[A²]·E[B²]
    mean = m_mean - M_NOM
    var = m_var + (m_var + m_mean**2) * var_a * e2_b
    return mean, math.sqrt(var)


# ---- exact references (independent of the Monte Carlo method) ------------------------------------------
# The published Monte Carlo digits of §9 are themselves random to about δ; the tests also compare with the
# exact output distribution, computed by quadrature from the input distributions.


def _intervals(
    cdf: Callable[[FloatArray], FloatArray], p: float, lo: float, hi: float, *, symmetric_pdf: bool = False
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Probabilistically symmetric and shortest 100p % intervals of a continuous CDF (vectorised) on [lo, hi].

    Quantiles by Brent's method; the shortest interval by scanning the lower tail probability on a grid
    of the tabulated quantile function, then refining its two ends by Brent's method. For a symmetric
    unimodal density the shortest interval is the symmetric one.
    """
    from scipy import optimize

    def quantile(q: float) -> float:
        return float(
            optimize.brentq(lambda z: float(cdf(np.array([z]))[0]) - q, lo, hi, xtol=1e-15, rtol=1e-13)
        )

    symmetric = (quantile((1 - p) / 2), quantile((1 + p) / 2))
    if symmetric_pdf:
        return symmetric, symmetric
    z = np.linspace(lo, hi, 1601)
    f = np.maximum.accumulate(cdf(z))
    a = np.linspace(0.0, 1 - p, 2001)
    widths = np.interp(a + p, f, z) - np.interp(a, f, z)
    best = float(a[int(np.argmin(widths))])
    low = lo if best == 0.0 else quantile(best)
    return symmetric, (low, quantile(best + p))


def irwin_hall_pdf(v: FloatArray, n: int) -> FloatArray:
    """Density of the sum of n independent R(0, 1) variables."""
    out = np.zeros_like(v)
    for k in range(n + 1):
        out += (-1) ** k * math.comb(n, k) * np.clip(v - k, 0.0, None) ** (n - 1)
    return out / math.factorial(n - 1)


@functools.cache
def additive_exact(example: str, p: float = 0.95) -> tuple[tuple[float, float], tuple[float, float]]:
    """Exact intervals of §9.2.2 (N(0, 4)), §9.2.3 (four R(±√3)) and §9.2.4 (three R(±√3) + R(±10√3))."""
    from scipy import stats

    if example == "9.2.2":
        z = float(stats.norm.ppf((1 + p) / 2)) * 2.0
        return (-z, z), (-z, z)
    # S = 2√3 (V − 3/2) with V Irwin–Hall(3); integrate the CDF of the fourth rectangular against S's density
    n, w = (3, ROOT3) if example == "9.2.3" else (3, 10 * ROOT3)
    nodes, weights = np.polynomial.legendre.leggauss(300)
    v = np.concatenate([k + (nodes + 1) / 2 for k in range(n)])
    density = irwin_hall_pdf(v, n) * np.concatenate([weights / 2] * n)
    s = 2 * ROOT3 * (v - n / 2)

    def cdf(z: FloatArray) -> FloatArray:
        return np.clip((z[:, None] - s[None, :] + w) / (2 * w), 0.0, 1.0) @ density

    bound = n * ROOT3 + w
    return _intervals(cdf, p, -bound, bound, symmetric_pdf=True)


@functools.cache
def mass_exact(p: float = 0.95) -> tuple[tuple[float, float], tuple[float, float]]:
    """Exact intervals of §9.3 by quadrature.

    Given ρW and ρR, the term m·A·B is rectangular with half-width 0.1 kg/m³·m·|B| (m taken at its
    expectation: its relative spread of 5·10⁻⁷ changes that half-width negligibly), added to the normal
    m_R,c + δm_R,c − m_nom; that sum's CDF is closed form, then averaged over ρW and ρR by Gauss–Legendre.
    The density is symmetric about 1.234 mg, so the shortest interval is the symmetric one.
    """
    from scipy import stats

    xw, ww = np.polynomial.legendre.leggauss(160)
    xr, wr = np.polynomial.legendre.leggauss(24)
    rho_w, rho_r = 8000 + 1000 * xw, 8000 + 50 * xr
    weights = (ww[:, None] * wr[None, :]).ravel() / 4
    half = 0.1 * (M_NOM + 1.234) * np.abs(1 / rho_w[:, None] - 1 / rho_r[None, :]).ravel()
    mu, sigma = 1.234, math.hypot(0.050, 0.020)

    def psi(t: FloatArray) -> FloatArray:
        return np.asarray(t * stats.norm.cdf(t) + stats.norm.pdf(t))

    def cdf(z: FloatArray) -> FloatArray:
        zz = z[:, None]
        g = sigma / (2 * half) * (psi((zz - mu + half) / sigma) - psi((zz - mu - half) / sigma))
        return np.asarray(g @ weights)

    return _intervals(cdf, p, 0.5, 2.0, symmetric_pdf=True)


@functools.cache
def comparison_loss_exact(
    x1: float, r: float, p: float = 0.95, u: float = 0.005
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Exact intervals of X1² + X2² for the §9.4 bivariate normal, by quadrature.

    In the eigenbasis of V, X1² + X2² = λ1 W1² + λ2 W2² with Wi ~ N(mi, 1) independent; the CDF is the
    integral over w2 of P(W1² ≤ (q − λ2 w2²)/λ1), which is closed form.
    """
    from scipy import stats

    v = np.array([[u * u, r * u * u], [r * u * u, u * u]])
    lam, vec = np.linalg.eigh(v)
    m = (vec.T @ np.array([x1, 0.0])) / np.sqrt(lam)
    nodes, weights = np.polynomial.legendre.leggauss(400)

    def cdf(q: FloatArray) -> FloatArray:
        half = np.sqrt(np.clip(q, 0.0, None) / lam[1])[:, None]
        w2 = half * nodes[None, :]
        t = np.sqrt(np.clip((q[:, None] - lam[1] * w2 * w2) / lam[0], 0.0, None))
        inner = stats.norm.cdf(t - m[0]) - stats.norm.cdf(-t - m[0])
        return np.asarray(half[:, 0] * ((inner * stats.norm.pdf(w2 - m[1])) @ weights))

    mean, sd = comparison_loss_moments(x1, r, u)
    return _intervals(cdf, p, 0.0, mean + 20 * sd)
