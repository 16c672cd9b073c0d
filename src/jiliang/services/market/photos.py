"""Photo evidence of a market inspection result, taken in the field.

An inspector attaches up to ``settings.market_photo_max_count`` photos to a result, each at most
``settings.market_photo_max_bytes``. The type is read from the bytes (JPEG's SOI marker, PNG's signature
and IHDR chunk), never taken from the client's name or header; anything else is refused naming the photo,
and nothing of the result is stored. Photos are kept in the database with their SHA-256 (as certificates
keep their documents), are part of the result (a correction is a new result with its own photos), and their
hashes go into the result's transparency-log leaf (``photos_sha256``, only when there are photos, so the
leaves of results without photos are byte for byte what they were). They are shown only to the
supervisors of the plan's jurisdiction; another region's photo is not found.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jiliang.domain.access import Principal
from jiliang.errors import InvalidInput
from jiliang.services.common import not_found
from jiliang.services.market.common import now, require_region, require_supervisor
from jiliang.services.platform import Platform
from jiliang.store.models import MarketPlan, MarketResult, MarketResultPhoto, MarketTarget

JPEG, PNG = "image/jpeg", "image/png"
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def sniff(content: bytes) -> str | None:
    """The image type the bytes are, or None: JPEG starts with SOI (FF D8) then a marker (FF); PNG with its
    8-byte signature followed by the IHDR chunk (length 13)."""
    if len(content) >= 4 and content[:3] == b"\xff\xd8\xff":
        return JPEG
    if content[:8] == _PNG_SIGNATURE and content[8:16] == b"\x00\x00\x00\x0dIHDR":
        return PNG
    return None


@dataclass(frozen=True)
class CheckedPhoto:
    content_type: str
    content: bytes
    sha256: str


def check(platform: Platform, photos: Any) -> list[CheckedPhoto]:
    """Validate the uploads (a list of (file name, bytes)); the first bad one is refused naming it."""
    if photos is None:
        return []
    if not isinstance(photos, list):
        raise InvalidInput("photos 须为列表 / photos must be a list", field="photos")
    most, largest = platform.settings.market_photo_max_count, platform.settings.market_photo_max_bytes
    if len(photos) > most:
        raise InvalidInput(
            f"一条结果最多 {most} 张照片 / at most {most} photos in one result", field="photos"
        )
    out = []
    for i, item in enumerate(photos):
        name, content = item if isinstance(item, tuple) and len(item) == 2 else ("", item)
        which = f"photos[{i}]" + (f" ({str(name)[:80]})" if name else "")
        if not isinstance(content, bytes) or not content:
            raise InvalidInput(f"{which} 为空 / {which} is empty", field="photos")
        if len(content) > largest:
            raise InvalidInput(
                f"{which} 超过 {largest // (1024 * 1024)} MB / {which} is larger than {largest} bytes",
                field="photos",
            )
        kind = sniff(content)
        if kind is None:
            raise InvalidInput(
                f"{which} 不是 JPEG 或 PNG 图片 / {which} is not a JPEG or PNG image", field="photos"
            )
        out.append(CheckedPhoto(kind, content, hashlib.sha256(content).hexdigest()))
    return out


def store_in(
    session: Session, platform: Platform, principal: Principal, result_id: int, photos: list[CheckedPhoto]
) -> None:
    """Add the checked photos to the result inside the caller's transaction (each row audited)."""
    at = now(platform)
    for position, photo in enumerate(photos):
        session.add(
            MarketResultPhoto(
                result_id=result_id,
                position=position,
                content_type=photo.content_type,
                size=len(photo.content),
                sha256=photo.sha256,
                content=photo.content,
                uploaded_by=principal.username,
                recorded_at=at,
            )
        )


def listed(session: Session, result_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """The photos of each result (without their bytes), in the order they were attached."""
    out: dict[int, list[dict[str, Any]]] = {r: [] for r in result_ids}
    if not result_ids:
        return out
    rows = session.execute(
        select(
            MarketResultPhoto.id,
            MarketResultPhoto.result_id,
            MarketResultPhoto.content_type,
            MarketResultPhoto.size,
            MarketResultPhoto.sha256,
        )
        .where(MarketResultPhoto.result_id.in_(result_ids))
        .order_by(MarketResultPhoto.result_id, MarketResultPhoto.position)
    ).all()
    for pid, rid, kind, size, sha in rows:
        out[rid].append({"id": pid, "content_type": kind, "size": size, "sha256": sha})
    return out


def photo(platform: Platform, principal: Principal, photo_id: int) -> tuple[str, bytes, str]:
    """(content type, bytes, SHA-256) of one photo; outside the caller's jurisdiction it is not found."""
    require_supervisor(principal)
    with platform.reading() as s:
        row = s.get(MarketResultPhoto, photo_id)
        if row is None:
            raise not_found("照片 photo", photo_id)
        result = s.get(MarketResult, row.result_id)
        target = s.get(MarketTarget, result.target_id) if result else None
        plan = s.get(MarketPlan, target.plan_id) if target else None
        if plan is None:
            raise not_found("照片 photo", photo_id)
        require_region(principal, plan.region_code, "照片 photo", photo_id)
        return row.content_type, bytes(row.content), row.sha256
