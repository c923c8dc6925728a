"""Idempotency keys (Stripe / IETF draft semantics), scoped per workspace.

A key is claimed (in flight) before the work and completed with the response in the same
transaction as the work, so a completed key always points at data that exists. A claim left
behind by a crash expires after CLAIM_LEASE and can be taken again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import peewee

from ringback.storage.db import write_transaction
from ringback.storage.models import IdempotencyRecord, database_proxy

CLAIM_LEASE = timedelta(seconds=60)


@dataclass(frozen=True)
class Claimed:
    pass


@dataclass(frozen=True)
class Replay:
    status: int
    body: dict[str, Any]


@dataclass(frozen=True)
class Mismatch:
    pass


@dataclass(frozen=True)
class InFlight:
    pass


ClaimResult = Claimed | Replay | Mismatch | InFlight


def claim(workspace_id: str, key: str, fingerprint: str, now: datetime, ttl: timedelta) -> ClaimResult:
    for _ in range(2):
        try:
            with write_transaction(database_proxy.obj):
                row = IdempotencyRecord.get_or_none(
                    IdempotencyRecord.workspace == workspace_id, IdempotencyRecord.key == key
                )
                if row is not None and (
                    row.expires_at <= now
                    or (row.state == "in_flight" and row.created_at + CLAIM_LEASE <= now)
                ):
                    row.delete_instance()
                    row = None
                if row is None:
                    IdempotencyRecord.create(
                        workspace=workspace_id,
                        key=key,
                        request_hash=fingerprint,
                        state="in_flight",
                        created_at=now,
                        expires_at=now + ttl,
                    )
                    return Claimed()
                if row.request_hash != fingerprint:
                    return Mismatch()
                if row.state == "in_flight":
                    return InFlight()
                return Replay(row.response_status, row.response_body)
        except peewee.IntegrityError:
            continue  # another node inserted the same key between our read and insert: read it again
    return InFlight()


def complete(workspace_id: str, key: str, status: int, body: dict[str, Any]) -> None:
    """Store the response; call inside the transaction that did the work."""
    IdempotencyRecord.update(state="done", response_status=status, response_body=body).where(
        IdempotencyRecord.workspace == workspace_id, IdempotencyRecord.key == key
    ).execute()


def release(workspace_id: str, key: str) -> None:
    """Forget an in-flight claim whose work was refused (validation errors are not stored)."""
    IdempotencyRecord.delete().where(
        IdempotencyRecord.workspace == workspace_id,
        IdempotencyRecord.key == key,
        IdempotencyRecord.state == "in_flight",
    ).execute()


def purge_expired(now: datetime) -> int:
    return IdempotencyRecord.delete().where(IdempotencyRecord.expires_at <= now).execute()
