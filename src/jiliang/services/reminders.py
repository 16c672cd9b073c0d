"""Due reminders (到期提醒): the due list, and a transactional outbox delivered to owners' webhooks.

Messages are written in the same transaction that decides them, keyed so that the same reminder is never
queued twice, and stay in the outbox until a receiver answers 2xx: a receiver that is down loses nothing,
it is retried with exponential back-off and jitter, and marked dead (still kept) after the last attempt.

Several senders may run at once (docs/security.md): each claims a batch in a short transaction that
locks what it takes (FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite's write lock, taken up front), so no
message is handed to two senders while its lease runs; a sender that cannot get the lock in time ends its
pass quietly. Delivery stays at-least-once (a sender that dies after posting sends again when the lease
runs out), so every post carries an ``Idempotency-Key`` the receiver de-duplicates on (docs/security.md).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast

import httpx
from sqlalchemy import Table, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from jiliang.domain.access import Principal, Role
from jiliang.domain.instruments import InstrumentStatus
from jiliang.errors import Busy, InvalidInput, NotAuthorised, NotFound
from jiliang.services import scope
from jiliang.services.common import Page, paginate, require_role
from jiliang.services.platform import Platform
from jiliang.store import audit
from jiliang.store.models import AuditEntry, Instrument, Organisation, OutboxMessage, Webhook

TOPIC_DUE = "verification.due"


def due_query(
    principal: Principal,
    on: date,
    within_days: int,
    owner_id: int | None = None,
    include_overdue: bool = True,
) -> Any:
    if not 0 <= within_days <= 366:
        raise InvalidInput("天数须在 0–366 / within_days must be 0..366", field="within_days")
    horizon = on + timedelta(days=within_days)
    stmt = scope.instruments(select(Instrument), principal).where(
        Instrument.compulsory,
        Instrument.status == InstrumentStatus.IN_SERVICE.value,
        Instrument.due_on.is_not(None),
        Instrument.due_on <= horizon,
    )
    if not include_overdue:
        stmt = stmt.where(Instrument.due_on >= on)
    if owner_id is not None:
        stmt = stmt.where(Instrument.owner_id == owner_id)
    return stmt.order_by(Instrument.owner_id, Instrument.due_on, Instrument.id)


def due_list(
    platform: Platform,
    principal: Principal,
    *,
    within_days: int = 30,
    owner_id: int | None = None,
    on: date | None = None,
    include_overdue: bool = True,
    offset: int = 0,
    limit: int = 100,
) -> Page[Instrument]:
    on = on or platform.local_today()
    with platform.reading() as s:
        return paginate(
            s,
            due_query(principal, on, within_days, owner_id, include_overdue),
            offset,
            limit,
            platform.settings.page_size_max,
        )


def add_webhook(
    platform: Platform, principal: Principal, *, url: str, organisation_id: int | None = None
) -> tuple[Webhook, str]:
    """Register a receiver; the signing secret is returned once and used for X-Jiliang-Signature."""
    require_role(principal, Role.ENTERPRISE, Role.SUPERVISOR)
    if not url.startswith(("http://", "https://")) or len(url) > 500:
        raise InvalidInput("url 须为 http(s) 地址 / url must be an http(s) address", field="url")
    org_id = organisation_id if principal.role is not Role.ENTERPRISE else principal.organisation_id
    if principal.role is Role.ENTERPRISE and organisation_id not in (None, principal.organisation_id):
        raise NotAuthorised("只能为本单位登记 / only for your own organisation", field="organisation_id")
    secret = secrets.token_hex(16)
    with platform.unit_of_work(principal) as s:
        org = s.scalars(
            scope.organisations(select(Organisation).where(Organisation.id == org_id), principal)
        ).first()
        if org is None:
            raise InvalidInput("单位不存在 / organisation not found", field="organisation_id")
        hook = Webhook(organisation_id=org.id, url=url, secret=secret, active=True)
        s.add(hook)
    return hook, secret


def enqueue_due_reminders(platform: Platform, *, within_days: int = 30, on: date | None = None) -> int:
    """Queue one message per (webhook, instrument, due date); running it again queues nothing new."""
    on = on or platform.local_today()
    horizon = on + timedelta(days=within_days)
    now = platform.now()
    queued = 0
    with platform.unit_of_work() as s:
        hooks = list(s.scalars(select(Webhook).where(Webhook.active)))
        for hook in hooks:
            rows = s.execute(
                select(
                    Instrument.id,
                    Instrument.name,
                    Instrument.serial_number,
                    Instrument.item_code,
                    Instrument.due_on,
                    Instrument.region_code,
                ).where(
                    Instrument.owner_id == hook.organisation_id,
                    Instrument.compulsory,
                    Instrument.status == InstrumentStatus.IN_SERVICE.value,
                    Instrument.due_on.is_not(None),
                    Instrument.due_on <= horizon,
                )
            )
            keys = {}
            for iid, name, serial, item, due, region in rows:
                assert due is not None  # filtered in SQL
                key = f"due:{hook.id}:{iid}:{due.isoformat()}"
                keys[key] = {
                    "topic": TOPIC_DUE,
                    "instrument_id": iid,
                    "name": name,
                    "serial_number": serial,
                    "item_code": item,
                    "due_on": due.isoformat(),
                    "region_code": region,
                    "overdue": due < on,
                }
            if not keys:
                continue
            # Keys already queued are skipped by the unique dedupe_key itself (ON CONFLICT DO NOTHING), so
            # two senders queueing the same reminders at once on PostgreSQL neither fail nor double them.
            table = cast(Table, OutboxMessage.__table__)
            insert = (postgresql.insert if platform.postgres else sqlite.insert)(table)
            values = [
                {
                    "dedupe_key": key,
                    "topic": TOPIC_DUE,
                    "webhook_id": hook.id,
                    "payload": payload,
                    "created_at": now,
                    "attempts": 0,
                    "next_attempt_at": now,
                    "dead": False,
                    "last_error": "",
                }
                for key, payload in keys.items()
            ]
            for start in range(0, len(values), 500):  # well under SQLite's bound on bound parameters
                stmt = (
                    insert.values(values[start : start + 500])
                    .on_conflict_do_nothing(index_elements=["dedupe_key"])
                    .returning(table.c.id)
                )
                queued += len(s.execute(stmt).all())
    return queued


def backoff(
    attempts: int, base_s: float = 30.0, cap_s: float = 6 * 3600.0, rng: Callable[[], float] = random.random
) -> timedelta:
    """Full-jitter exponential back-off: uniform in [0.5, 1] × min(cap, base · 2^(attempts−1))."""
    span = min(cap_s, base_s * 2 ** max(attempts - 1, 0))
    return timedelta(seconds=span * (0.5 + 0.5 * rng()))


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass
class DeliveryResult:
    delivered: int = 0
    failed: int = 0
    dead: int = 0
    # Posted, but the outcome could not be recorded (the database was busy): sent again when the lease
    # runs out, and the receiver drops the repeat by its Idempotency-Key.
    unrecorded: int = 0
    # The claim itself did not get the lock in time (another sender or a long import held it).
    busy: bool = False


LEASE = timedelta(minutes=5)


def _claim(platform: Platform, batch: int) -> list[tuple[int, str, str, str, bytes]]:
    """Lease due messages in a short transaction, so that no lock is held while receivers answer.

    A sender that dies mid-batch loses nothing: the lease runs out and the message is sent again
    (at-least-once; receivers de-duplicate on Idempotency-Key). The rows taken are locked until the lease
    is written: on PostgreSQL another sender skips them (SKIP LOCKED), on SQLite it waits for the write lock
    and then sees the lease.
    """
    with platform.unit_of_work() as s:
        now = platform.now()
        stmt = (
            select(OutboxMessage)
            .where(
                OutboxMessage.delivered_at.is_(None),
                OutboxMessage.dead.is_(False),
                OutboxMessage.next_attempt_at <= now,
            )
            .order_by(OutboxMessage.id)
            .limit(batch)
        )
        if platform.postgres:
            stmt = stmt.with_for_update(skip_locked=True)
        claimed = []
        for msg in s.scalars(stmt):
            hook = s.get(Webhook, msg.webhook_id)
            msg.next_attempt_at = now + LEASE
            if hook is None:
                continue
            body = json.dumps({"id": msg.id, **msg.payload}, ensure_ascii=False, sort_keys=True).encode()
            claimed.append((msg.id, msg.dedupe_key, hook.url, hook.secret, body))
        return claimed


def deliver_pending(
    platform: Platform, client: httpx.Client | None = None, batch: int = 100
) -> DeliveryResult:
    """One pass of the sender. Each message is marked only after its receiver answered."""
    own = client is None
    http = client or httpx.Client(timeout=platform.settings.webhook_timeout_s)
    result = DeliveryResult()
    try:
        try:
            claimed = _claim(platform, batch)
        except Busy:
            result.busy = True
            claimed = []
        for msg_id, key, url, secret, body in claimed:
            try:
                response = http.post(
                    url,
                    content=body,
                    headers={
                        "content-type": "application/json",
                        "x-jiliang-signature": signature(secret, body),
                        "x-jiliang-delivery": str(msg_id),
                        "idempotency-key": idempotency_key(key),
                    },
                )
                ok = 200 <= response.status_code < 300
                error = "" if ok else f"HTTP {response.status_code}"
            except httpx.HTTPError as exc:
                ok, error = False, f"{type(exc).__name__}: {exc}"[:500]
            try:
                _record(platform, msg_id, ok, error, result)
            except Busy:
                result.unrecorded += 1
    finally:
        if own:
            http.close()
    return result


def idempotency_key(dedupe_key: str) -> str:
    """The Idempotency-Key header of a message: its outbox key as a structured-field string (RFC 8941),
    as the IETF httpapi draft "The Idempotency-Key HTTP Header Field" has it. Stable across every attempt
    and every sender, unique per (webhook, instrument, due date)."""
    return '"' + dedupe_key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _record(platform: Platform, msg_id: int, ok: bool, error: str, result: DeliveryResult) -> None:
    with platform.unit_of_work() as s:
        msg = s.get(OutboxMessage, msg_id)
        assert msg is not None
        msg.attempts += 1
        if ok:
            msg.delivered_at, msg.last_error = platform.now(), ""
            outcome = "delivered"
        elif msg.attempts >= platform.settings.webhook_max_attempts:
            msg.dead, msg.last_error = True, error
            outcome = "dead"
        else:
            msg.next_attempt_at, msg.last_error = platform.now() + backoff(msg.attempts), error
            outcome = "failed"
    setattr(result, outcome, getattr(result, outcome) + 1)  # counted once committed


# --- the outbox's state, for administrators (the console's /console/admin/webhooks) ----------------------


@dataclass(frozen=True)
class WebhookRow:
    """A receiver with its organisation by name and its messages by state."""

    id: int
    organisation_name: str
    url: str
    active: bool
    pending: int
    delivered: int
    dead: int
    last_error: str


@dataclass(frozen=True)
class OutboxRow:
    id: int
    organisation_name: str
    topic: str
    created_at: datetime
    attempts: int
    next_attempt_at: datetime
    delivered_at: datetime | None
    dead: bool
    last_error: str
    summary: str  # what the message is about, from its payload (instrument name and serial, due date)


@dataclass(frozen=True)
class OutboxState:
    pending: int  # waiting for their first or next attempt
    retrying: int  # pending after at least one failed attempt
    delivered: int
    dead: int
    oldest_pending_at: datetime | None
    webhooks: list[WebhookRow]
    problems: list[OutboxRow]  # the latest dead or failing messages


def _summary(payload: dict[str, Any]) -> str:
    parts = [str(payload.get(k, "")) for k in ("name", "serial_number") if payload.get(k)]
    if payload.get("due_on"):
        parts.append(f"到期 / due {payload['due_on']}")
    return " · ".join(parts)


def outbox_state(platform: Platform, principal: Principal, problems: int = 20) -> OutboxState:
    """Counts of the outbox by state, each webhook's share, and the latest messages in trouble."""
    require_role(principal, Role.ADMINISTRATOR)
    pending_clause = OutboxMessage.delivered_at.is_(None) & OutboxMessage.dead.is_(False)
    with platform.reading() as s:
        pending, retrying, delivered, dead, oldest = s.execute(
            select(
                func.count().filter(pending_clause),
                func.count().filter(pending_clause & (OutboxMessage.attempts > 0)),
                func.count().filter(OutboxMessage.delivered_at.is_not(None)),
                func.count().filter(OutboxMessage.dead.is_(True)),
                func.min(OutboxMessage.created_at).filter(pending_clause),
            )
        ).one()
        per_hook = {
            hook_id: (p, d, x)
            for hook_id, p, d, x in s.execute(
                select(
                    OutboxMessage.webhook_id,
                    func.count().filter(pending_clause),
                    func.count().filter(OutboxMessage.delivered_at.is_not(None)),
                    func.count().filter(OutboxMessage.dead.is_(True)),
                ).group_by(OutboxMessage.webhook_id)
            )
        }
        last_errors = {
            hook_id: error
            for hook_id, error in s.execute(
                select(OutboxMessage.webhook_id, OutboxMessage.last_error)
                .where(OutboxMessage.last_error != "")
                .order_by(OutboxMessage.id)
            )
        }
        hooks = [
            WebhookRow(h.id, name, h.url, h.active, *per_hook.get(h.id, (0, 0, 0)), last_errors.get(h.id, ""))
            for h, name in s.execute(
                select(Webhook, Organisation.name)
                .join(Organisation, Organisation.id == Webhook.organisation_id)
                .order_by(Webhook.id)
            )
        ]
        trouble = [
            OutboxRow(
                m.id,
                name,
                m.topic,
                m.created_at,
                m.attempts,
                m.next_attempt_at,
                m.delivered_at,
                m.dead,
                m.last_error,
                _summary(m.payload),
            )
            for m, name in s.execute(
                select(OutboxMessage, Organisation.name)
                .join(Webhook, Webhook.id == OutboxMessage.webhook_id)
                .join(Organisation, Organisation.id == Webhook.organisation_id)
                .where(OutboxMessage.delivered_at.is_(None), OutboxMessage.last_error != "")
                .order_by(OutboxMessage.dead.desc(), OutboxMessage.id.desc())
                .limit(problems)
            )
        ]
    return OutboxState(pending, retrying, delivered, dead, oldest, hooks, trouble)


def set_webhook_active(platform: Platform, principal: Principal, webhook_id: int, active: bool) -> None:
    """Pause or resume a receiver: a paused one gets no new reminders queued (its queued ones stay)."""
    require_role(principal, Role.ADMINISTRATOR)
    with platform.unit_of_work(principal) as s:
        hook = s.get(Webhook, webhook_id)
        if hook is None:
            raise NotFound(f"推送地址 {webhook_id} 不存在 / webhook {webhook_id} not found", field="id")
        hook.active = active


def retry_dead(platform: Platform, principal: Principal, message_id: int | None = None) -> int:
    """Send dead messages again (one, or all): attempts restart, the sender picks them up on its next pass."""
    require_role(principal, Role.ADMINISTRATOR)
    with platform.unit_of_work(principal) as s:
        stmt = select(OutboxMessage).where(OutboxMessage.dead.is_(True))
        if message_id is not None:
            stmt = stmt.where(OutboxMessage.id == message_id)
        messages = list(s.scalars(stmt))
        if message_id is not None and not messages:
            raise NotFound(f"消息 {message_id} 不存在或未失败 / no dead message {message_id}", field="id")
        now = platform.now()
        for msg in messages:
            msg.dead, msg.attempts, msg.next_attempt_at = False, 0, now
        if messages:
            s.execute(
                insert(AuditEntry).values(
                    **audit.entry(
                        "retry",
                        "outbox",
                        str(message_id) if message_id is not None else "all",
                        summary=f"重新发送 {len(messages)} 条失败消息 / {len(messages)} dead message(s) sent again",
                    )
                )
            )
    return len(messages)
