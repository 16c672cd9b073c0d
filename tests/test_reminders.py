"""Due lists and the webhook outbox: nothing lost while a receiver is down, nothing sent twice."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from jiliang.errors import InvalidInput, NotAuthorised
from jiliang.services import reminders
from jiliang.store.models import OutboxMessage
from tests.factories import World, authorise_all
from tests.test_registry import FUEL, file, verify


@pytest.fixture
def due(world: World) -> World:
    authorise_all(world, [FUEL])
    soon, later, overdue = file(world, "S-1"), file(world, "S-2"), file(world, "S-3")
    verify(world, soon.id, "2026-01-01")  # due 2026-07-01 (in 16 days)
    verify(world, later.id, "2026-06-01")  # due 2026-12-01
    verify(world, overdue.id, "2025-12-01")  # due 2026-06-01, overdue
    return world


def test_due_list_within_days_per_owner(due: World) -> None:
    p = due.platform
    page = reminders.due_list(p, due.as_("enterprise"), within_days=30)
    assert [i.serial_number for i in page.items] == ["S-3", "S-1"]
    assert [
        i.serial_number
        for i in reminders.due_list(p, due.as_("enterprise"), within_days=30, include_overdue=False).items
    ] == ["S-1"]
    assert reminders.due_list(p, due.as_("other_enterprise"), within_days=365).total == 0
    with pytest.raises(InvalidInput) as err:
        reminders.due_list(p, due.as_("enterprise"), within_days=-1)
    assert err.value.field == "within_days"


class Receiver:
    """A webhook receiver that is down for the first ``down`` calls."""

    def __init__(self, down: int) -> None:
        self.down, self.calls, self.received = down, 0, []  # type: ignore[var-annotated]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        if self.calls <= self.down:
            return httpx.Response(503)
        self.received.append(request)
        return httpx.Response(204)


def test_outbox_survives_a_receiver_outage_and_never_duplicates(due: World) -> None:
    p = due.platform
    hook, secret = reminders.add_webhook(p, due.as_("enterprise"), url="https://erp.example/hooks/jiliang")
    assert reminders.enqueue_due_reminders(p, within_days=30) == 2
    assert reminders.enqueue_due_reminders(p, within_days=30) == 0  # same reminders are not queued twice

    receiver = Receiver(down=2)
    client = httpx.Client(transport=httpx.MockTransport(receiver))
    first = reminders.deliver_pending(p, client)
    assert (first.delivered, first.failed) == (0, 2)
    assert reminders.deliver_pending(p, client).delivered == 0  # backing off: nothing due yet

    original = p.now
    p.now = lambda: original() + timedelta(hours=1)
    try:
        second = reminders.deliver_pending(p, client)
    finally:
        p.now = original
    assert second.delivered == 2 and len(receiver.received) == 2
    body = receiver.received[0].content
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    assert receiver.received[0].headers["x-jiliang-signature"] == expected
    payloads = sorted(json.loads(r.content)["serial_number"] for r in receiver.received)
    assert payloads == ["S-1", "S-3"]
    with p.reading() as s:
        msgs = list(s.scalars(select(OutboxMessage)))
    assert all(m.delivered_at is not None and m.attempts == 2 and m.webhook_id == hook.id for m in msgs)


def test_messages_are_kept_as_dead_after_the_last_attempt(due: World) -> None:
    p = due.platform
    p.settings.webhook_max_attempts = 1
    reminders.add_webhook(p, due.as_("enterprise"), url="https://erp.example/down")
    reminders.enqueue_due_reminders(p, within_days=30)
    result = reminders.deliver_pending(p, httpx.Client(transport=httpx.MockTransport(Receiver(down=99))))
    assert result.dead == 2
    with p.reading() as s:
        assert [m.last_error for m in s.scalars(select(OutboxMessage))] == ["HTTP 503", "HTTP 503"]


def test_backoff_grows_and_is_capped() -> None:
    spans = [reminders.backoff(n, rng=lambda: 1.0).total_seconds() for n in (1, 2, 3, 20)]
    assert spans == [30, 60, 120, 6 * 3600]
    assert reminders.backoff(1, rng=lambda: 0.0).total_seconds() == 15


def test_webhook_registration_rules(due: World) -> None:
    with pytest.raises(InvalidInput) as err:
        reminders.add_webhook(due.platform, due.as_("enterprise"), url="ftp://x")
    assert err.value.field == "url"
    with pytest.raises(NotAuthorised):
        reminders.add_webhook(
            due.platform, due.as_("enterprise"), url="https://x", organisation_id=due.other_enterprise_id
        )


def test_several_senders_at_once_neither_crash_nor_duplicate(world: World) -> None:
    """Issue 16: two senders at once on SQLite crashed on 'database is locked' while claiming, left ten
    messages leased for five minutes and the receiver got eleven duplicates."""
    import threading

    p = world.platform
    authorise_all(world, [FUEL])
    for n in range(24):
        verify(world, file(world, f"M-{n}").id, "2026-01-01")  # all due 2026-07-01
    reminders.add_webhook(p, world.as_("enterprise"), url="https://erp.example/hooks/jiliang")

    lock = threading.Lock()
    received: list[httpx.Request] = []
    errors: list[BaseException] = []
    queued: list[int] = []

    def receive(request: httpx.Request) -> httpx.Response:
        with lock:
            received.append(request)
        return httpx.Response(204)

    start = threading.Barrier(4)

    def sender() -> None:
        client = httpx.Client(transport=httpx.MockTransport(receive))
        start.wait()
        try:
            queued.append(reminders.enqueue_due_reminders(p, within_days=30))
            for _ in range(20):
                reminders.deliver_pending(p, client, batch=3)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=sender) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sum(queued) == 24
    keys = [r.headers["idempotency-key"] for r in received]
    assert len(keys) == 24 and len(set(keys)) == 24
    assert all(k.startswith('"due:') and k.endswith('"') for k in keys)
    with p.reading() as s:
        assert all(m.delivered_at is not None and m.attempts == 1 for m in s.scalars(select(OutboxMessage)))


def test_the_idempotency_key_is_the_same_on_every_attempt(due: World) -> None:
    p = due.platform
    reminders.add_webhook(p, due.as_("enterprise"), url="https://erp.example/hooks/jiliang")
    reminders.enqueue_due_reminders(p, within_days=30)
    receiver = Receiver(down=2)
    seen: list[str] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["idempotency-key"])
        return receiver(request)

    client = httpx.Client(transport=httpx.MockTransport(record))
    reminders.deliver_pending(p, client)
    original = p.now
    p.now = lambda: original() + timedelta(hours=1)
    try:
        reminders.deliver_pending(p, client)
    finally:
        p.now = original
    assert len(seen) == 4 and sorted(seen[:2]) == sorted(seen[2:])
