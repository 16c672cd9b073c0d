"""Named places of use in the demo city (一站一码): a fuel station with its dispensers, a market with its
scales, a hospital with its medical instruments, so that the public lookup shows something real.

Chosen deterministically from the generated owners (the first of each kind in the demo city that holds
enough compulsory instruments) and made through the services, as an office would.
"""

from __future__ import annotations

from dataclasses import dataclass

from jiliang.demo import city
from jiliang.domain.access import SYSTEM
from jiliang.domain.places import PlaceKind
from jiliang.services import instruments, organisations, places
from jiliang.services.platform import Platform

# (organisation kind, place kind, catalogue items placed there (empty: every compulsory one), how many)
PLAN: tuple[tuple[str, PlaceKind, tuple[str, ...], int], ...] = (
    ("fuel_station", PlaceKind.FUEL_STATION, ("09.01", "10.01", "10.02", "10.03"), 24),
    ("market_operator", PlaceKind.MARKET, ("02.01", "02.02", "02.03", "14.01"), 40),
    ("hospital", PlaceKind.HOSPITAL, (), 40),
)
MIN_INSTRUMENTS = 3
SCANNED = 30  # owners looked at per kind, at most


@dataclass(frozen=True)
class DemoPlace:
    code: str
    name: str
    kind: PlaceKind
    instruments: int


def build_places(platform: Platform) -> list[DemoPlace]:
    out = []
    for org_kind, kind, items, most in PLAN:
        owners = organisations.list_organisations(
            platform, SYSTEM, region_code=city.DEMO_CITY[0], kind=org_kind, limit=SCANNED
        ).items
        for owner in owners:
            ids: list[int] = []
            for item in items or (None,):
                filters = {"owner_id": owner.id, "compulsory": True, "status": "in_service"}
                if item is not None:
                    filters["item_code"] = item
                page = instruments.list_instruments(platform, SYSTEM, filters, limit=most)
                ids.extend(i.id for i in page.items)
            ids = sorted(ids)[:most]
            if len(ids) < MIN_INSTRUMENTS:
                continue
            place = places.add_place(
                platform,
                SYSTEM,
                {
                    "name": owner.name,
                    "kind": kind.value,
                    "region_code": owner.region_code,
                    "address": owner.address,
                    "operator_id": owner.id,
                },
            )
            places.place_instruments(platform, SYSTEM, ids, place.code)
            out.append(DemoPlace(place.code, place.name, kind, len(ids)))
            break
    return out
