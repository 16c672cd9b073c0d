"""督办 (follow-up): mark overdue instruments, remind their owners through the outbox, see who acted.

Marking writes one ``follow_ups`` row per instrument (Audited: the trail says who opened it) and, when
asked, one outbox message per active webhook of the owner in the same transaction (topic
``verification.follow_up``, deduplicated per follow-up and webhook), so that the reminder is sent by
``services.reminders.deliver_pending`` exactly like a due reminder, and only if the marking committed.
"Verified since" is read from the instrument's own state, so it follows the records.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, func, or_, select

from jiliang.domain.access import Principal, Role
from jiliang.domain.instruments import optional_text
from jiliang.errors import Conflict, InvalidInput
from jiliang.services import scope
from jiliang.services.common import Page, not_found, require_role
from jiliang.services.platform import Platform
from jiliang.services.supervision import search
from jiliang.store.models import FollowUp, Instrument, Organisation, OutboxMessage, Region, User, Webhook

TOPIC_FOLLOW_UP = "verification.follow_up"
MAX_MARK = 500
FOLLOW_UP_STATES = ("open", "verified", "closed", "all")


@dataclass(frozen=True)
class MarkResult:
    opened: list[int]  # follow-up ids
    already_open: list[int]  # instrument ids opened today already
    reminders_queued: int
    owners_without_webhook: list[str]  # owner names: remind them by the contact in the export


def mark(
    platform: Platform,
    principal: Principal,
    instrument_ids: Sequence[int],
    *,
    note: str = "",
    remind: bool = True,
) -> MarkResult:
    """Open a follow-up on each instrument (each must be overdue today and in the caller's reach)."""
    require_role(principal, Role.SUPERVISOR)
    ids = sorted({int(i) for i in instrument_ids})
    if not ids:
        raise InvalidInput("请选择要督办的器具 / choose at least one instrument", field="instrument_ids")
    if len(ids) > MAX_MARK:
        raise InvalidInput(
            f"一次最多督办 {MAX_MARK} 台 / at most {MAX_MARK} instruments at a time", field="instrument_ids"
        )
    text = optional_text(note, "note", 500)
    today, now = platform.local_today(), platform.now()
    overdue_stmt, _ = search.instrument_statement(platform, principal, {"state": "overdue"})
    overdue_ids = overdue_stmt.with_only_columns(Instrument.id).order_by(None).where(Instrument.id.in_(ids))
    with platform.unit_of_work(principal) as s:
        visible = {
            int(i)
            for i in s.scalars(
                scope.instruments(select(Instrument.id).where(Instrument.id.in_(ids)), principal)
            )
        }
        for iid in ids:
            if iid not in visible:
                raise not_found("instrument", iid)
        overdue = {int(i) for i in s.scalars(overdue_ids)}
        not_overdue = [iid for iid in ids if iid not in overdue]
        if not_overdue:
            raise Conflict(
                f"器具 {not_overdue[0]} 今日未超期，无需督办 / instrument {not_overdue[0]} is not overdue today",
                field="instrument_ids",
            )
        opened_today = set(
            s.scalars(
                select(FollowUp.instrument_id).where(
                    FollowUp.instrument_id.in_(ids), FollowUp.opened_on == today
                )
            )
        )
        instruments = {i.id: i for i in s.scalars(select(Instrument).where(Instrument.id.in_(ids)))}
        owner_ids = {i.owner_id for i in instruments.values()}
        hooks: dict[int, list[Webhook]] = {}
        for hook in s.scalars(select(Webhook).where(Webhook.organisation_id.in_(owner_ids), Webhook.active)):
            hooks.setdefault(hook.organisation_id, []).append(hook)
        owner_names = _pairs(
            s.execute(select(Organisation.id, Organisation.name).where(Organisation.id.in_(owner_ids)))
        )
        opened: list[FollowUp] = []
        queued = 0
        without: set[str] = set()
        for iid in ids:
            if iid in opened_today:
                continue
            inst = instruments[iid]
            row = FollowUp(
                instrument_id=iid,
                owner_id=inst.owner_id,
                region_code=inst.region_code,
                opened_on=today,
                opened_at=now,
                opened_by=principal.username,
                due_on=inst.due_on,
                note=text,
                reminders_queued=0,
            )
            s.add(row)
            s.flush()
            opened.append(row)
            if not remind:
                continue
            owner_hooks = hooks.get(inst.owner_id, [])
            if not owner_hooks:
                without.add(owner_names.get(inst.owner_id, ""))
            for hook in owner_hooks:
                s.add(
                    OutboxMessage(
                        dedupe_key=f"followup:{row.id}:{hook.id}",
                        topic=TOPIC_FOLLOW_UP,
                        webhook_id=hook.id,
                        payload={
                            "topic": TOPIC_FOLLOW_UP,
                            "follow_up_id": row.id,
                            "instrument_id": iid,
                            "name": inst.name,
                            "serial_number": inst.serial_number,
                            "item_code": inst.item_code,
                            "location": inst.location,
                            "due_on": None if inst.due_on is None else inst.due_on.isoformat(),
                            "days_overdue": None if inst.due_on is None else (today - inst.due_on).days,
                            "note": text,
                            "message": "您单位的强制检定计量器具已超期未检，请尽快申请检定。 / A compulsory "
                            "instrument of yours is overdue for verification: please book one.",
                        },
                        created_at=now,
                        attempts=0,
                        next_attempt_at=now,
                        dead=False,
                    )
                )
                row.reminders_queued += 1
                queued += 1
    return MarkResult(
        opened=[f.id for f in opened],
        already_open=sorted(opened_today),
        reminders_queued=queued,
        owners_without_webhook=sorted(n for n in without if n),
    )


@dataclass(frozen=True)
class FollowUpRow:
    id: int
    instrument_id: int
    instrument_name: str
    serial_number: str
    location: str
    owner_name: str
    owner_contact: str
    region_name: str
    opened_on: date
    opened_by: str
    due_on: date | None
    note: str
    reminders_queued: int
    reminders_delivered: int
    verified_on: date | None  # the verification since it was opened, if any
    verified_conclusion: str | None
    closed_at: datetime | None = None  # closed by hand, with its reason and by whom
    closed_by: str = ""
    close_reason: str = ""


def _statement(principal: Principal, state: str) -> Any:
    if state not in FOLLOW_UP_STATES:
        raise InvalidInput(
            f"state 须为 {'/'.join(FOLLOW_UP_STATES)} / state must be one of {FOLLOW_UP_STATES}",
            field="state",
        )
    stmt: Any = (
        select(
            FollowUp,
            Instrument.name,
            Instrument.serial_number,
            Instrument.location,
            Organisation.name,
            Organisation.contact,
            Region.name_zh,
            Instrument.last_verified_on,
            Instrument.last_conclusion,
        )
        .join(Instrument, Instrument.id == FollowUp.instrument_id)
        .join(Organisation, Organisation.id == FollowUp.owner_id)
        .join(Region, Region.code == FollowUp.region_code)
    )
    if principal.role is not Role.ADMINISTRATOR:
        require_role(principal, Role.SUPERVISOR)
        stmt = stmt.where(scope.within(FollowUp.region_code, principal.jurisdiction))
        stmt = scope.instruments(stmt, principal)
    verified = and_(
        Instrument.last_verified_on.is_not(None), Instrument.last_verified_on >= FollowUp.opened_on
    )
    # verified since it was opened wins over a hand closing: the records are the facts
    if state == "open":
        stmt = stmt.where(~verified, FollowUp.closed_at.is_(None))
    elif state == "verified":
        stmt = stmt.where(verified)
    elif state == "closed":
        stmt = stmt.where(~verified, FollowUp.closed_at.is_not(None))
    return stmt.order_by(FollowUp.opened_on.desc(), FollowUp.id.desc())


def list_follow_ups(
    platform: Platform,
    principal: Principal,
    *,
    state: str = "all",
    offset: int = 0,
    limit: int = 50,
) -> Page[FollowUpRow]:
    """Newest first; ``open``: not verified since, ``verified``: verified since it was opened."""
    search._bounded(platform, offset, limit)
    stmt = _statement(principal, state)
    with platform.reading() as s:
        page = search._page(s, stmt, offset, limit, lambda r: r)
        rows = _rows(s, page.items)
    return Page(items=rows, total=page.total, offset=offset, limit=limit)


def _rows(s: Any, items: Sequence[Any]) -> list[FollowUpRow]:
    ids = [r[0].id for r in items]
    delivered: dict[int, int] = {}
    if ids:
        likes = or_(*[OutboxMessage.dedupe_key.like(f"followup:{i}:%") for i in ids])
        for key in s.scalars(
            select(OutboxMessage.dedupe_key).where(likes, OutboxMessage.delivered_at.is_not(None))
        ):
            fid = int(key.split(":")[1])
            delivered[fid] = delivered.get(fid, 0) + 1
    # who opened (or closed) it, by the display name people know (the user name is what the row keeps)
    usernames = {r[0].opened_by for r in items} | {r[0].closed_by for r in items}
    shown = _pairs(s.execute(select(User.username, User.display_name).where(User.username.in_(usernames))))
    rows = []
    for fu, name, serial, location, owner, contact, region, last_on, last_conclusion in items:
        since = last_on is not None and last_on >= fu.opened_on
        rows.append(
            FollowUpRow(
                id=fu.id,
                instrument_id=fu.instrument_id,
                instrument_name=name,
                serial_number=serial,
                location=location,
                owner_name=owner,
                owner_contact=contact,
                region_name=region,
                opened_on=fu.opened_on,
                opened_by=shown.get(fu.opened_by) or fu.opened_by,
                due_on=fu.due_on,
                note=fu.note,
                reminders_queued=fu.reminders_queued,
                reminders_delivered=delivered.get(fu.id, 0),
                verified_on=last_on if since else None,
                verified_conclusion=last_conclusion if since else None,
                closed_at=fu.closed_at,
                closed_by=(shown.get(fu.closed_by) or fu.closed_by) if fu.closed_by else "",
                close_reason=fu.close_reason,
            )
        )
    return rows


def get(platform: Platform, principal: Principal, follow_up_id: int) -> FollowUpRow:
    """One follow-up in the caller's reach (else not found)."""
    stmt = _statement(principal, "all").where(FollowUp.id == follow_up_id)
    with platform.reading() as s:
        items = list(s.execute(stmt).all())
        if not items:
            raise not_found("follow-up", follow_up_id)
        return _rows(s, items)[0]


def _reason(reason: str) -> str:
    text = (reason or "").strip()
    if not text or len(text) > 500:
        raise InvalidInput("须说明原因（1–500 字）/ give a reason (1–500 characters)", field="reason")
    return text


def _reachable(s: Any, principal: Principal, follow_up_id: int) -> FollowUp:
    require_role(principal, Role.SUPERVISOR)
    stmt: Any = select(FollowUp).join(Instrument, Instrument.id == FollowUp.instrument_id)
    stmt = stmt.where(FollowUp.id == follow_up_id)
    if principal.role is not Role.ADMINISTRATOR:
        stmt = scope.instruments(stmt.where(scope.within(FollowUp.region_code, principal.jurisdiction)), principal)
    row: FollowUp | None = s.scalars(stmt).first()
    if row is None:
        raise not_found("follow-up", follow_up_id)
    return row


def close(platform: Platform, principal: Principal, follow_up_id: int, reason: str) -> FollowUp:
    """Close a 督办 by hand (the instrument was retired, moved away, verified elsewhere…), with a reason;
    audited. One already closed, or verified since it was opened (closed by the records), is refused."""
    text = _reason(reason)
    with platform.unit_of_work(principal) as s:
        row = _reachable(s, principal, follow_up_id)
        if row.closed_at is not None:
            raise Conflict("该督办已办结 / the follow-up is already closed", field="follow_up_id")
        inst = s.get(Instrument, row.instrument_id)
        if inst is not None and inst.last_verified_on is not None and inst.last_verified_on >= row.opened_on:
            raise Conflict(
                "督办后已检定，无需手工办结 / verified since it was opened: the records closed it",
                field="follow_up_id",
            )
        row.closed_at, row.closed_by, row.close_reason = platform.now(), principal.username, text
        return row


def reopen(platform: Platform, principal: Principal, follow_up_id: int, reason: str) -> FollowUp:
    """Reopen a follow-up closed by hand; the reason is appended to its note. Audited."""
    text = _reason(reason)
    with platform.unit_of_work(principal) as s:
        row = _reachable(s, principal, follow_up_id)
        if row.closed_at is None:
            raise Conflict("该督办未办结 / the follow-up is not closed", field="follow_up_id")
        line = f"重新督办 / reopened {platform.local_today().isoformat()} {principal.username}：{text}"
        row.note = f"{row.note}\n{line}" if row.note else line
        row.closed_at, row.closed_by, row.close_reason = None, "", ""
        return row


def counts(platform: Platform, principal: Principal) -> dict[str, int]:
    """How many follow-ups are open and how many were verified since, in the caller's reach."""
    out = {}
    with platform.reading() as s:
        for state in ("open", "verified"):
            stmt = _statement(principal, state).order_by(None)
            out[state] = int(s.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
    return out


def _pairs(result: Any) -> dict[Any, Any]:
    return {key: value for key, value in result}
