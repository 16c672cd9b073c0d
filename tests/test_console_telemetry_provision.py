"""The bulk provisioning page (/console/supervision/telemetry/provision) through the real app, signed in:
a refused file lists every problem by row and stores nothing; an accepted one shows each secret once with
the credentials sheet; another role is refused, and the form needs its token."""

from __future__ import annotations

import csv
import io

from jiliang.services import instruments
from jiliang.services.telemetry import devices
from tests.console_support import Console, form_token
from tests.factories import instrument_raw

PATH = "/console/supervision/telemetry/provision"


def test_a_supervisor_provisions_devices_from_a_csv(console: Console) -> None:
    w = console.world
    instruments.file_instrument(w.platform, w.as_("enterprise"), instrument_raw("PG-1", item_code="09.01"))
    city = console.client_for("city")
    page = city.get(PATH)
    assert page.status_code == 200 and page.text.count("<h1>") == 1 and "批量登记远程监管设备" in page.text
    token = form_token(city, PATH)
    bad = "device_id,instrument_type,serial_number\nPG1,fuel_dispenser,PG-1\nPG2,teapot,PG-404\n"
    answer = city.post(PATH, data={"csrf_token": token}, files={"file": ("d.csv", bad.encode(), "text/csv")})
    assert answer.status_code == 422, answer.text[answer.text.find("<main"):][:1500]
    main = answer.text[answer.text.find("<main"):]
    assert 'id="problems"' in answer.text, main[:2000]
    assert "instrument_type" in answer.text and "serial_number" in answer.text
    assert devices.list_devices(w.platform, w.as_("city")) == []
    good = "device_id,instrument_type,serial_number\nPG1,fuel_dispenser,PG-1\n"
    answer = city.post(
        PATH, data={"csrf_token": token}, files={"file": ("d.csv", good.encode("gb18030"), "text/csv")}
    )
    assert answer.status_code == 201 and answer.headers["cache-control"] == "no-store"
    sheet = answer.text.split('readonly spellcheck="false">', 1)[1].split("</textarea>", 1)[0]
    row = next(csv.DictReader(io.StringIO(sheet.replace("&#34;", '"'))))
    assert row["device_id"] == "PG1"
    assert devices.authenticate_device(w.platform, "PG1", row["secret"]).device_id == "PG1"
    assert city.get(f"{PATH}?lang=en").text.count("Provision remote devices in bulk") >= 1
    # without the token nothing happens; an enterprise account may not provision
    assert city.post(PATH, files={"file": ("d.csv", good.encode(), "text/csv")}).status_code == 403
    assert console.client_for("enterprise").get(PATH).status_code == 403
