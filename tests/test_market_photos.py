"""Photo evidence on a market result (services/market/photos.py, the field form of web/market_console.py).

Runs on SQLite and (with JILIANG_TEST_POSTGRES_URL) PostgreSQL through the ``platform`` fixture.
"""

from __future__ import annotations

import hashlib
import struct
import zlib

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from jiliang.services import transparency
from jiliang.services.market import photos, plans
from jiliang.store.models import AuditEntry, LogQueueEntry, MarketResult, MarketResultPhoto
from tests.console_support import Console, form_token
from tests.test_console_market import _drawn_plan, _market

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def png(width: int = 24, height: int = 16, rgb: tuple[int, int, int] = (30, 120, 200)) -> bytes:
    """A real PNG (8-bit RGB, one colour), written by hand: signature, IHDR, IDAT, IEND."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


# The start of a camera JPEG (SOI, APP1 "Exif"); only the bytes' type is checked, never decoded.
JPEG = b"\xff\xd8\xff\xe1\x00\x16Exif\x00\x00" + b"\x00" * 200 + b"\xff\xd9"


def test_the_type_is_read_from_the_bytes() -> None:
    assert photos.sniff(png()) == photos.PNG and photos.sniff(JPEG) == photos.JPEG
    assert photos.sniff(b"GIF89a" + b"\x00" * 20) is None
    assert photos.sniff(b"<html><script>alert(1)</script>") is None
    assert photos.sniff(b"\x89PNG\r\n\x1a\n" + b"\x00" * 20) is None  # a signature without its IHDR
    assert photos.sniff(b"") is None


def _target(console: Console) -> tuple[TestClient, int, str]:
    _market(console)
    client = console.client_for("city")
    pid = _drawn_plan(client)
    target = plans.plan_targets(console.world.platform, console.world.as_("city"), pid)[0]["id"]
    return client, target, f"/console/market/targets/{target}"


def _send(
    client: TestClient, page: str, files: list[tuple[str, tuple[str, bytes, str]]], **fields: str
) -> object:
    data = {"inspected_on": "2026-06-15", "conclusion": "pass", "findings": "台秤铭牌清晰", **fields}
    return client.post(
        page,
        data={**data, "csrf_token": form_token(client, page)},
        files=files or [("photos", ("", b"", "application/octet-stream"))],  # an empty file input
        follow_redirects=False,
    )


def test_photos_are_stored_with_their_hash_shown_to_the_jurisdiction_and_logged(console: Console) -> None:
    client, _target_id, page = _target(console)
    p = console.world.platform
    form = client.get(page).text
    assert 'enctype="multipart/form-data"' in form and 'capture="environment"' in form
    assert 'accept="image/jpeg,image/png"' in form and '<label for="photo_camera">' in form
    picture = png()
    # the client's name and header are not believed: the bytes say PNG and JPEG
    sent = _send(
        client,
        page,
        [("photos", ("IMG_0001.gif", picture, "image/gif")), ("photos", ("scan.png", JPEG, "image/png"))],
    )
    assert sent.status_code == 303, sent.text[:400]  # type: ignore[attr-defined]
    shown = client.get(page).text
    with p.reading() as s:
        rows = s.scalars(select(MarketResultPhoto).order_by(MarketResultPhoto.position)).all()
        assert [(r.content_type, r.size) for r in rows] == [("image/png", len(picture)), ("image/jpeg", len(JPEG))]
        assert rows[0].sha256 == hashlib.sha256(picture).hexdigest()
        ids = [r.id for r in rows]
        audit = s.scalars(select(AuditEntry).where(AuditEntry.object_type == "market_result_photos")).all()
        assert len(audit) == 2 and all(a.after and "content" not in a.after and a.after["sha256"] for a in audit)
        leaf = s.scalars(
            select(LogQueueEntry.body).where(LogQueueEntry.kind == "market_result_recorded")
        ).one()
    assert hashlib.sha256(picture).hexdigest().encode() in leaf and hashlib.sha256(JPEG).hexdigest().encode() in leaf
    assert all(f'src="/console/market/photos/{i}"' in shown for i in ids) and 'alt="现场照片 1"' in shown
    got = client.get(f"/console/market/photos/{ids[0]}")
    assert got.status_code == 200 and got.content == picture and got.headers["content-type"] == "image/png"
    assert got.headers["x-content-type-options"] == "nosniff"
    # another city's supervisor: neither the target nor its photo exists; an enterprise is not a supervisor
    other = console.client_for("other_city")
    assert other.get(f"/console/market/photos/{ids[0]}").status_code == 404
    assert other.get(page).status_code == 404
    assert console.client_for("enterprise").get(f"/console/market/photos/{ids[0]}").status_code in (403, 404)
    assert client.get(f"/console/market/photos/{ids[-1] + 99}").status_code == 404


@pytest.mark.parametrize(
    ("files", "limits", "says"),
    [
        ([("photos", ("photo.jpg", b"%PDF-1.7 not a photo", "image/jpeg"))], {}, "photo.jpg"),
        ([("photos", ("big.png", png(400, 400, (1, 2, 3)) + b"\x00" * 4096, "image/png"))], {"bytes": 2048}, "big.png"),
        ([("photos", (f"p{i}.png", png(), "image/png")) for i in range(3)], {"count": 2}, "最多 2 张照片"),
    ],
    ids=["not-an-image", "too-large", "too-many"],
)
def test_a_bad_photo_is_refused_naming_it_and_nothing_is_stored(
    console: Console,
    monkeypatch: pytest.MonkeyPatch,
    files: list[tuple[str, tuple[str, bytes, str]]],
    limits: dict[str, int],
    says: str,
) -> None:
    client, _target_id, page = _target(console)
    p = console.world.platform
    if "bytes" in limits:
        monkeypatch.setattr(p.settings, "market_photo_max_bytes", limits["bytes"])
    if "count" in limits:
        monkeypatch.setattr(p.settings, "market_photo_max_count", limits["count"])
    refused = _send(client, page, files)
    assert refused.status_code == 422  # type: ignore[attr-defined]
    text = refused.text  # type: ignore[attr-defined]
    assert says in text and 'class="photo-inputs" aria-invalid="true"' in text
    with p.reading() as s:
        assert s.scalar(select(func.count()).select_from(MarketResult)) == 0
        assert s.scalar(select(func.count()).select_from(MarketResultPhoto)) == 0


def test_a_result_without_photos_keeps_its_leaf_byte_for_byte(console: Console) -> None:
    client, target, page = _target(console)
    p = console.world.platform
    assert _send(client, page, []).status_code == 303  # type: ignore[attr-defined]
    with p.reading() as s:
        result = s.scalars(select(MarketResult)).one()
        body = s.scalars(select(LogQueueEntry.body).where(LogQueueEntry.kind == "market_result_recorded")).one()
    assert result.target_id == target
    before = {  # the leaf's fields as they were before photos existed
        "result_id": result.id,
        "plan_id": plans.target_view(p, console.world.as_("city"), target)["plan_id"],
        "target_id": target,
        "organisation_id": result.organisation_id,
        "inspected_on": "2026-06-15",
        "conclusion": "pass",
        "instruments_checked": 0,
        "instruments_failed": 0,
        "findings_sha256": hashlib.sha256("台秤铭牌清晰".encode()).hexdigest(),
        "supersedes_id": None,
    }
    assert bytes(body) == transparency.leaf_bytes("market_result_recorded", before)
    assert b"photos" not in bytes(body)
