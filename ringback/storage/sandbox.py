"""The sandbox outbox: what test keys' steps would have sent. Exactly once per idempotency token."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import peewee

from ringback.ids import new_id
from ringback.storage import fastsql
from ringback.storage.models import SandboxDelivery, database_proxy
from ringback.storage.timestamps import iso


def record_once(
    token: str,
    step_id: str,
    channel: str,
    recipient: str,
    subject: str | None,
    body: str,
    now: datetime,
    voicemail: str | None = None,
) -> str:
    """Record the send unless this token was recorded before; return the provider id either way.
    A call records both its scripts: which one would have played depends on who answers."""
    existing = fastsql.select_one(SandboxDelivery, ("provider_id",), token=token)
    if existing:
        return existing["provider_id"]
    try:
        with database_proxy.atomic():
            provider_id = "sbx_" + new_id("stp")[4:]
            row = {
                "token": token,
                "provider_id": provider_id,
                "step_id": step_id,
                "channel": channel,
                "recipient": recipient,
                "subject": subject,
                "body": body,
                "voicemail_body": voicemail,
                "created_at": now,
            }
            fastsql.insert(SandboxDelivery, row)
            return provider_id
    except peewee.IntegrityError:
        return SandboxDelivery.get(SandboxDelivery.token == token).provider_id


def deliveries(step_id: str | None = None) -> list[dict[str, Any]]:
    query = SandboxDelivery.select().order_by(SandboxDelivery.created_at, SandboxDelivery.id)
    if step_id:
        query = query.where(SandboxDelivery.step_id == step_id)
    return [
        {
            "token": r.token,
            "provider_id": r.provider_id,
            "step_id": r.step_id,
            "channel": r.channel,
            "to": r.recipient,
            "subject": r.subject,
            "body": r.body,
            **({"voicemail": r.voicemail_body} if r.channel == "voice" else {}),
            "at": iso(r.created_at),
        }
        for r in query
    ]


def steps_sent() -> int:
    """How many steps the sandbox has sent (benchmarks poll it: one number, not a row per step)."""
    return SandboxDelivery.select(peewee.fn.COUNT(SandboxDelivery.step_id.distinct())).scalar()


def count_by_step() -> dict[str, int]:
    query = SandboxDelivery.select(
        SandboxDelivery.step_id, peewee.fn.COUNT(SandboxDelivery.id).alias("n")
    ).group_by(SandboxDelivery.step_id)
    return {r.step_id: r.n for r in query}
