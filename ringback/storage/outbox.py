"""The event outbox: integrator-facing events written in the transaction of the change they report.

`record` is the one hook every writer calls inside its own transaction; it inserts the events and one
pending delivery per subscribed endpoint, so a crash can neither lose an event nor invent one. The
webhook dispatcher claims due deliveries from here, and the event feed reads the events in `seq` order.

Commit order (docs/webhooks.md): on PostgreSQL `record` first takes a transaction-level advisory lock,
so outbox-writing transactions take their `seq` numbers one at a time and release the lock only when
they commit or roll back: a reader never sees a `seq` while a smaller one can still commit. SQLite
has one writer at a time already.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from peewee import fn

from ringback.engine.webhook_events import OutboundEvent, wants
from ringback.ids import new_id
from ringback.storage import fastsql
from ringback.storage.db import is_sqlite
from ringback.storage.models import OutboxEvent, WebhookDelivery, WebhookEndpoint, database_proxy
from ringback.storage.timestamps import iso

OUTBOX_LOCK = 0x7269_6E67_6576  # any constant; only outbox writers take it
PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"


def record(workspace_id: str | None, events: Iterable[OutboundEvent], now: datetime) -> None:
    """Insert `events` and their deliveries. Call inside the transaction of the change they report."""
    events = list(events)
    if not events or workspace_id is None:
        return
    db = database_proxy.obj
    if not is_sqlite(db):
        db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (OUTBOX_LOCK,))
    # Every transition passes here: statements composed once (storage/fastsql).
    endpoints = [
        (row["id"], tuple(row["events"]) if row["events"] is not None else None)
        for row in fastsql.select(WebhookEndpoint, ("id", "events"), workspace=workspace_id, enabled=True)
    ]
    for event in events:
        seq = fastsql.insert_returning_id(
            OutboxEvent,
            {"id": new_id("evt"), "workspace": workspace_id, "type": event.type, "data": dict(event.data),
             "created_at": now},
        )
        rows = [
            {"event": seq, "endpoint": endpoint_id, "status": PENDING, "next_attempt_at": now, "created_at": now}
            for endpoint_id, subscribed in endpoints
            if wants(subscribed, event.type)
        ]
        fastsql.insert_many(WebhookDelivery, rows)


def body(row: OutboxEvent) -> dict[str, Any]:
    """The event as integrators see it, in a webhook body and in the feed."""
    return {
        "id": row.id,
        "type": row.type,
        "created_at": iso(row.created_at),
        "workspace_id": row.workspace_id,
        "data": row.data,
    }


def feed(
    workspace_id: str, after: int, limit: int, types: tuple[str, ...] = ()
) -> tuple[list[dict[str, Any]], int]:
    """The workspace's events after cursor `after`, in commit order; and the cursor to ask with next."""
    query = OutboxEvent.select().where(OutboxEvent.workspace == workspace_id, OutboxEvent.seq > after)
    if types:
        query = query.where(OutboxEvent.type.in_(types))
    rows = list(query.order_by(OutboxEvent.seq).limit(limit))
    return [body(row) for row in rows], rows[-1].seq if rows else after


def purge(before: datetime) -> int:
    """Forget events older than `before` (and their deliveries); the newest event always stays, so `seq`
    never restarts below a cursor an integrator holds."""
    newest = OutboxEvent.select(fn.MAX(OutboxEvent.seq)).scalar()
    if newest is None:
        return 0
    old = OutboxEvent.select(OutboxEvent.seq).where(OutboxEvent.created_at < before, OutboxEvent.seq < newest)
    WebhookDelivery.delete().where(WebhookDelivery.event.in_(old)).execute()
    return OutboxEvent.delete().where(OutboxEvent.created_at < before, OutboxEvent.seq < newest).execute()


# --- delivery ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Due:
    """A claimed delivery: everything needed to send it without another query."""

    delivery_id: int
    endpoint_id: str
    workspace_id: str
    url: str
    secret: str
    event_id: str  # the webhook-id header: the same on every attempt
    payload: str
    attempts: int


def due_ids(now: datetime, limit: int) -> list[tuple[int, datetime]]:
    """Pending deliveries of enabled endpoints whose time has come: (id, next attempt) to claim."""
    query = (
        WebhookDelivery.select(WebhookDelivery.id, WebhookDelivery.next_attempt_at)
        .join(WebhookEndpoint)
        .where(
            WebhookDelivery.status == PENDING,
            WebhookDelivery.next_attempt_at <= now,
            WebhookEndpoint.enabled == True,  # noqa: E712
        )
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(limit)
    )
    return [(row.id, row.next_attempt_at) for row in query]


def claim(candidates: list[tuple[int, datetime]], lease_until: datetime) -> list[Due]:
    """Take each candidate whose next attempt is still as read (first claimer wins, on any node), moving
    it to `lease_until`: a sender that dies leaves it to be claimed again then (at least once)."""
    taken = [
        delivery_id
        for delivery_id, seen in candidates
        if WebhookDelivery.update(next_attempt_at=lease_until)
        .where(
            WebhookDelivery.id == delivery_id,
            WebhookDelivery.status == PENDING,
            WebhookDelivery.next_attempt_at == seen,
        )
        .execute()
    ]
    if not taken:
        return []
    query = (
        WebhookDelivery.select(WebhookDelivery, OutboxEvent, WebhookEndpoint)
        .join(OutboxEvent)
        .switch(WebhookDelivery)
        .join(WebhookEndpoint)
        .where(WebhookDelivery.id.in_(taken))
        .order_by(WebhookDelivery.id)
    )
    return [
        Due(
            delivery_id=row.id,
            endpoint_id=row.endpoint.id,
            workspace_id=row.endpoint.workspace_id,
            url=row.endpoint.url,
            secret=row.endpoint.secret,
            event_id=row.event.id,
            payload=json.dumps(body(row.event), ensure_ascii=False, separators=(",", ":")),
            attempts=row.attempts,
        )
        for row in query
    ]


@dataclass(frozen=True)
class Attempt:
    """What one send did; `retry_at` None after a failure means the schedule is used up."""

    at: datetime
    ok: bool
    status_code: int | None
    duration_ms: int
    error: str | None
    retry_at: datetime | None = None


def settle(due: Due, attempt: Attempt, disabled_reason: str) -> bool:
    """Record an attempt. True when this failure gave up on an endpoint that failed ever since, which is
    then disabled (the caller tells the admins)."""
    db = database_proxy.obj
    with db.atomic():
        status = DELIVERED if attempt.ok else (PENDING if attempt.retry_at else FAILED)
        WebhookDelivery.update(
            status=status,
            attempts=WebhookDelivery.attempts + 1,
            next_attempt_at=attempt.retry_at if status == PENDING else None,
            last_attempt_at=attempt.at,
            last_status_code=attempt.status_code,
            last_duration_ms=attempt.duration_ms,
            last_error=(attempt.error or "")[:300] or None,
        ).where(WebhookDelivery.id == due.delivery_id).execute()
        endpoint = WebhookEndpoint.update
        if attempt.ok:
            endpoint(failing_since=None).where(WebhookEndpoint.id == due.endpoint_id).execute()
            return False
        endpoint(failing_since=attempt.at).where(
            WebhookEndpoint.id == due.endpoint_id, WebhookEndpoint.failing_since.is_null()
        ).execute()
        if status == PENDING:
            return False
        return bool(
            endpoint(enabled=False, disabled_reason=disabled_reason, updated_at=attempt.at)
            .where(
                WebhookEndpoint.id == due.endpoint_id,
                WebhookEndpoint.enabled == True,  # noqa: E712
                WebhookEndpoint.failing_since.is_null(False),
                WebhookEndpoint.failing_since < attempt.at,
            )
            .execute()
        )


def deliveries_view(workspace_id: str, endpoint_id: str, limit: int = 100) -> list[dict[str, Any]]:
    """The endpoint's most recent deliveries, newest first (the caller has checked the endpoint's workspace)."""
    query = (
        WebhookDelivery.select(WebhookDelivery, OutboxEvent.id, OutboxEvent.type)
        .join(OutboxEvent)
        .where(WebhookDelivery.endpoint == endpoint_id, OutboxEvent.workspace == workspace_id)
        .order_by(WebhookDelivery.id.desc())
        .limit(limit)
    )
    return [
        {
            "event_id": row.event.id,
            "event_type": row.event.type,
            "status": row.status,
            "attempts": row.attempts,
            "last_attempt_at": iso(row.last_attempt_at),
            "response_code": row.last_status_code,
            "duration_ms": row.last_duration_ms,
            "error": row.last_error,
            "next_retry_at": iso(row.next_attempt_at) if row.status == PENDING else None,
            "created_at": iso(row.created_at),
        }
        for row in query
    ]
