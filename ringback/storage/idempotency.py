"""Idempotency keys (Stripe / IETF draft semantics), scoped per workspace.

A key is looked up and stored inside the same transaction as the work it answers for (the start
command's unit in the group-commit writer), so a stored key always points at data that exists and
data never exists without its key: no lease, no claim to release, no window in which a retry can
create a second enrollment. A request still running is known to the node that runs it (the start
command's keys in flight); another node racing on the same key meets the unique index, and its
retry reads the stored answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ringback.storage import fastsql
from ringback.storage.models import IdempotencyRecord

_COLUMNS = ("id", "expires_at", "state", "request_hash", "response_status", "response_body")


@dataclass(frozen=True)
class Replay:
    status: int
    body: dict[str, Any]


@dataclass(frozen=True)
class Mismatch:
    pass


def lookup(workspace_id: str, key: str, fingerprint: str, now: datetime) -> Replay | Mismatch | None:
    """The stored answer for this key, Mismatch for a different request, None when the key is free.

    Call inside the work's transaction. An expired answer, or a claim left in flight by a version of
    ringback that claimed keys in a transaction of their own, frees the key.
    """
    row = fastsql.select_one(IdempotencyRecord, _COLUMNS, workspace=workspace_id, key=key)
    if row is None:
        return None
    if row["expires_at"] <= now or row["state"] != "done":
        IdempotencyRecord.delete().where(IdempotencyRecord.id == row["id"]).execute()
        return None
    if row["request_hash"] != fingerprint:
        return Mismatch()
    return Replay(row["response_status"], row["response_body"])


def store(
    workspace_id: str,
    key: str,
    fingerprint: str,
    status: int,
    body: dict[str, Any],
    now: datetime,
    ttl: timedelta,
) -> None:
    """Remember the answer; call inside the transaction that did the work."""
    fastsql.insert(
        IdempotencyRecord,
        {
            "workspace": workspace_id,
            "key": key,
            "request_hash": fingerprint,
            "state": "done",
            "response_status": status,
            "response_body": body,
            "created_at": now,
            "expires_at": now + ttl,
        },
    )


def purge_expired(now: datetime) -> int:
    return IdempotencyRecord.delete().where(IdempotencyRecord.expires_at <= now).execute()
