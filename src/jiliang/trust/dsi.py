"""D-SI unit strings for the units the registry writes (measuring ranges, MPEs of the catalogue's instruments).

D-SI (PTB, "Digital System of Units", XML schema 2.x) writes units as the SI brochure's names in LaTeX-like
tokens: prefixes and units as ``\\kilo\\watt``, powers as ``\\tothe{3}``, a quotient as a negative power
(``\\metre\\tothe{3}\\hour\\tothe{-1}``), products by juxtaposition. The table covers what the registry's
ledger and the demo city use (℃, kg, t, m³/h, L/min, MPa, kW·h, MΩ, m⁻¹, μSv/h, μmol/mol, …); a symbol
outside it is refused rather than guessed, so that no certificate carries a unit nobody checked.
Units outside the SI that D-SI does not admit (mmHg, dB HL, pH, %LEL) stay text in a certificate.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from jiliang.errors import InvalidInput

# symbol as the registry writes it -> D-SI unit string
UNITS: dict[str, str] = {
    "℃": "\\degreecelsius",
    "°C": "\\degreecelsius",
    "K": "\\kelvin",
    "g": "\\gram",
    "mg": "\\milli\\gram",
    "kg": "\\kilogram",
    "t": "\\tonne",
    "t/h": "\\tonne\\hour\\tothe{-1}",
    "kg/min": "\\kilogram\\minute\\tothe{-1}",
    "L": "\\litre",
    "mL": "\\milli\\litre",
    "L/min": "\\litre\\minute\\tothe{-1}",
    "m³": "\\metre\\tothe{3}",
    "m³/h": "\\metre\\tothe{3}\\hour\\tothe{-1}",
    "g/L": "\\gram\\litre\\tothe{-1}",
    "mg/L": "\\milli\\gram\\litre\\tothe{-1}",
    "Pa": "\\pascal",
    "kPa": "\\kilo\\pascal",
    "MPa": "\\mega\\pascal",
    "m": "\\metre",
    "km": "\\kilo\\metre",
    "km/h": "\\kilo\\metre\\hour\\tothe{-1}",
    "m⁻¹": "\\metre\\tothe{-1}",
    "A": "\\ampere",
    "V": "\\volt",
    "kV": "\\kilo\\volt",
    "W": "\\watt",
    "kW": "\\kilo\\watt",
    "kW·h": "\\kilo\\watt\\hour",
    "kWh": "\\kilo\\watt\\hour",
    "Ω": "\\ohm",
    "MΩ": "\\mega\\ohm",
    "dB": "\\decibel",
    "Gy": "\\gray",
    "GBq": "\\giga\\becquerel",
    "MBq": "\\mega\\becquerel",
    "μSv/h": "\\micro\\sievert\\hour\\tothe{-1}",
    "mSv/h": "\\milli\\sievert\\hour\\tothe{-1}",
    "μmol/mol": "\\micro\\mole\\mole\\tothe{-1}",
    "%": "\\percent",
    "1": "\\one",
    "s": "\\second",
    "min": "\\minute",
    "h": "\\hour",
}

# D-SI string -> the symbol a reader expects on a rendered certificate (first symbol wins)
SYMBOLS: dict[str, str] = {}
for _symbol, _dsi in UNITS.items():
    SYMBOLS.setdefault(_dsi, _symbol)


def to_dsi(symbol: str) -> str:
    """The D-SI string of a registry unit symbol; InvalidInput for a symbol the table does not hold."""
    try:
        return UNITS[symbol.strip()]
    except KeyError:
        raise InvalidInput(
            f"单位 {symbol!r} 没有 D-SI 表示 / unit {symbol!r} has no D-SI form in jiliang's table",
            field="unit",
        ) from None


def symbol(dsi: str) -> str:
    """How to print a D-SI unit: the registry's symbol where known, else the D-SI string itself."""
    return SYMBOLS.get(dsi.strip(), dsi.strip())


_NUMBER = r"[-+−]?\d+(?:\.\d+)?"
_MAGNITUDE = re.compile(rf"^\s*±?\s*({_NUMBER})\s*([^\d\s.].*?)\s*$")
_RANGE = re.compile(rf"^\s*\(?\s*({_NUMBER})\s*(\S*?)\s*[–~-]\s*({_NUMBER})\s*\)?\s*(\S.*?)\s*$")


def _decimal(text: str) -> Decimal:
    try:
        return Decimal(text.replace("−", "-"))
    except InvalidOperation:  # pragma: no cover - the patterns admit only numbers
        raise InvalidInput(f"数值 {text!r} 无效 / not a number: {text!r}", field="value") from None


def parse_magnitude(text: str) -> tuple[Decimal, str] | None:
    """``"±0.1 ℃"`` → (0.1, ``\\degreecelsius``); None when the text is no number with a known unit
    (an accuracy class such as "Ⅲ" or "0.5", or a unit D-SI does not admit)."""
    m = _MAGNITUDE.match(text)
    if not m or m.group(2) not in UNITS:
        return None
    return _decimal(m.group(1)), UNITS[m.group(2)]


def parse_range(text: str) -> tuple[Decimal, Decimal, str] | None:
    """``"(35–42) ℃"`` → (35, 42, ``\\degreecelsius``); None when the range is not of that simple form."""
    m = _RANGE.match(text)
    if not m:
        return None
    low_unit, unit = m.group(2), m.group(4)
    if unit not in UNITS or (low_unit and low_unit != unit):
        return None
    return _decimal(m.group(1)), _decimal(m.group(3)), UNITS[unit]
