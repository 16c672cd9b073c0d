"""A digital calibration certificate (DCC) as frozen values: what ``dcc.build`` writes and ``dcc.parse`` reads.

The shape follows the four rings of PTB's DCC schema (administrative data, measurement results, comment,
document) closely enough that a certificate read from any release 3.0.0–3.2.0 survives as these values,
and a certificate built from them parses back equal. Numbers are ``Decimal`` so that digits written are
the digits read (a float would turn 0.1 into 0.1000000000000000055…).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal


@dataclass(frozen=True)
class Text:
    """Localised text (``dcc:textType``): one content per language; lang None = unmarked."""

    contents: tuple[tuple[str | None, str], ...]

    @classmethod
    def of(cls, zh: str | None = None, en: str | None = None) -> Text:
        return cls(tuple((lang, s) for lang, s in (("zh", zh), ("en", en)) if s))

    @classmethod
    def plain(cls, text: str) -> Text:
        return cls(((None, text),))

    def get(self, lang: str) -> str | None:
        return next((s for la, s in self.contents if la == lang), None)

    def first(self, *langs: str) -> str:
        """The text in the first language asked for that is present, else the first content."""
        for lang in langs:
            found = self.get(lang)
            if found is not None:
                return found
        return self.contents[0][1] if self.contents else ""

    def __str__(self) -> str:
        return " / ".join(dict.fromkeys(s for _, s in self.contents))


@dataclass(frozen=True)
class Identification:
    """``dcc:identification``: who issued the identifier, its value, what it is called."""

    issuer: str  # manufacturer | calibrationLaboratory | customer | owner | other
    value: str
    name: Text | None = None
    ref_type: str | None = None


@dataclass(frozen=True)
class Location:
    city: str | None = None
    country_code: str | None = None
    post_code: str | None = None
    state: str | None = None
    street: str | None = None
    further: tuple[str, ...] = ()


@dataclass(frozen=True)
class Contact:
    name: Text
    email: str | None = None
    phone: str | None = None
    location: Location | None = None


@dataclass(frozen=True)
class Software:
    name: str
    release: str


@dataclass(frozen=True)
class ExpandedUncertainty:
    """D-SI ``expandedUnc``: U with coverage factor k and coverage probability p (JCGM 100:2008 6.2–6.3)."""

    uncertainty: Decimal
    coverage_factor: Decimal
    coverage_probability: Decimal
    distribution: str | None = None


@dataclass(frozen=True)
class RealQuantity:
    """A D-SI real: value and unit (D-SI unit string, e.g. ``\\degreecelsius``), uncertainty optional."""

    value: Decimal
    unit: str
    uncertainty: ExpandedUncertainty | None = None
    label: str | None = None


@dataclass(frozen=True)
class Quantity:
    """``dcc:quantity``: named; either D-SI reals (one for si:real, several for a list) or a text.

    ``alternatives`` keeps the further representations of a D-SI hybrid (the same values in other units).
    ``conformity`` is the pass/fail of its ``basic_conformity`` metadata, when it states one.
    """

    name: Text
    values: tuple[RealQuantity, ...] = ()
    text: Text | None = None
    ref_type: str | None = None
    alternatives: tuple[tuple[RealQuantity, ...], ...] = ()
    conformity: tuple[str, ...] = ()
    # Quantities stated in its measurementMetaData (acceptance limits, the nominal calibration point, …).
    meta: tuple[Quantity, ...] = ()


@dataclass(frozen=True)
class Result:
    name: Text
    quantities: tuple[Quantity, ...] = ()
    texts: tuple[Text, ...] = ()
    ref_type: str | None = None


@dataclass(frozen=True)
class UsedMethod:
    name: Text
    norms: tuple[str, ...] = ()


@dataclass(frozen=True)
class MeasuringEquipment:
    """A measurement standard used (``basic_normalUsed``), identified by its certificate number."""

    name: Text
    identifications: tuple[Identification, ...] = ()
    ref_type: str | None = None


@dataclass(frozen=True)
class InfluenceCondition:
    """``dcc:influenceCondition``: a condition under which the results hold (ambient temperature, …)."""

    name: Text
    quantities: tuple[Quantity, ...] = ()
    ref_type: str | None = None


@dataclass(frozen=True)
class MeasurementResult:
    name: Text
    results: tuple[Result, ...]
    used_methods: tuple[UsedMethod, ...] = ()
    measuring_equipments: tuple[MeasuringEquipment, ...] = ()
    influence_conditions: tuple[InfluenceCondition, ...] = ()


@dataclass(frozen=True)
class Statement:
    """``dcc:statement``: a declaration, with a conformity (pass/fail…) and a date when it states them."""

    declaration: Text | None = None
    ref_type: str | None = None
    norms: tuple[str, ...] = ()
    conformity: str | None = None
    date: date | None = None


@dataclass(frozen=True)
class Item:
    """The calibrated (verified) item: name, manufacturer, model, identifications, nominal quantities."""

    name: Text
    manufacturer: str
    identifications: tuple[Identification, ...]
    model: str | None = None
    quantities: tuple[Quantity, ...] = ()


@dataclass(frozen=True)
class RespPerson:
    name: str
    role: str | None = None
    main_signer: bool = False


@dataclass(frozen=True)
class CoreData:
    country: str
    used_languages: tuple[str, ...]
    mandatory_languages: tuple[str, ...]
    unique_identifier: str
    begin_performance: date
    end_performance: date
    performance_location: str = "laboratory"
    identifications: tuple[Identification, ...] = ()
    receipt_date: date | None = None
    issue_date: date | None = None


@dataclass(frozen=True)
class Laboratory:
    contact: Contact
    code: str | None = None


@dataclass(frozen=True)
class DccCertificate:
    """One certificate; ``schema_version`` is the release it was read from (3.2.0 for what we write)."""

    software: tuple[Software, ...]
    core: CoreData
    items: tuple[Item, ...]
    laboratory: Laboratory
    customer: Contact
    resp_persons: tuple[RespPerson, ...]
    measurement_results: tuple[MeasurementResult, ...]
    statements: tuple[Statement, ...] = ()
    schema_version: str = "3.2.0"
    signed: bool = field(default=False, compare=False)

    def identification(self, ref_type: str) -> str | None:
        """The value of the core-data identification with this refType (e.g. ``jiliang_creditCode``)."""
        return next((i.value for i in self.core.identifications if i.ref_type == ref_type), None)

    @property
    def conformity(self) -> str | None:
        """The certificate's statement of conformity (``basic_conformity``), if it makes one."""
        return next(
            (s.conformity for s in self.statements if s.conformity is not None and _is_conformity(s)), None
        )


def _is_conformity(s: Statement) -> bool:
    return s.ref_type is None or "basic_conformity" in s.ref_type.split()
