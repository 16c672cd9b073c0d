"""The public lookups as JSON, no sign-in: only public facts, unknown codes 404."""

from __future__ import annotations

from jiliang.services import instruments, places
from tests.api.conftest import Api
from tests.factories import COUNTY_A, instrument_raw


def test_a_place_and_its_instruments_as_json_without_signing_in(api: Api) -> None:
    world = api.world
    station = places.add_place(
        world.platform,
        world.as_("enterprise"),
        {"name": "东城加油站（人民路）", "kind": "fuel_station", "region_code": COUNTY_A},
    )
    inst = instruments.file_instrument(
        world.platform, world.as_("enterprise"), instrument_raw("J-1", item_code="09.01")
    )
    places.place_instruments(world.platform, world.as_("enterprise"), [inst.id], station.code)
    body = api.get(f"/api/v1/public/places/{station.code}", None).json()
    assert body["name"] == "东城加油站（人民路）" and body["counts"] == {"never_verified": 1}
    (item,) = body["instruments"]["items"]
    assert item["status"] == "never_verified" and item["item_name_zh"] == "燃油加油机"
    assert not {"id", "owner_id", "contact"} & set(item)
    again = api.get(f"/api/v1/public/instruments/{item['registry_code']}", None).json()
    assert again["serial_number"] == "J-1"
    found = api.get("/api/v1/public/places", None, params={"q": "加油"}).json()
    assert found["total"] == 1 and found["items"][0]["instruments"] == 1
    assert api.get("/api/v1/public/places", None, params={"q": "加"}).status_code == 422
    assert api.get("/api/v1/public/places/339901-0099", None).status_code == 404
    assert api.get("/api/v1/public/instruments/339901-00000001-0", None).status_code == 404
