"""The audit log: each erasure and export of a contact, readable by its workspace (newest first)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ringback.ids import new_id
from ringback.storage.models import AuditEntry
from ringback.storage.timestamps import iso

ERASED = "contact.erased"
EXPORTED = "contact.exported"


def record(workspace_id: str, action: str, key_id: str, subject: str, counts: dict[str, int], now: datetime) -> str:
    """Append one entry. Only ids and counts go in: the log outlives the data it describes."""
    entry_id = new_id("aud")
    AuditEntry.create(
        id=entry_id,
        workspace=workspace_id,
        action=action,
        key_id=key_id,
        subject=subject,
        counts=counts,
        created_at=now,
    )
    return entry_id


def _view(row: AuditEntry) -> dict[str, Any]:
    return {
        "id": row.id,
        "action": row.action,
        "key_id": row.key_id,
        "contact_id": row.subject,
        "counts": row.counts,
        "at": iso(row.created_at),
    }


def page(workspace_id: str, limit: int, after: str | None = None) -> tuple[list[dict[str, Any]], str | None] | None:
    """Up to `limit` entries, newest first, after the entry `after`; and the cursor of the next page.

    None when `after` is not an entry of this workspace.
    """
    query = AuditEntry.select().where(AuditEntry.workspace == workspace_id)
    if after:
        cursor = AuditEntry.get_or_none(AuditEntry.id == after, AuditEntry.workspace == workspace_id)
        if cursor is None:
            return None
        query = query.where(
            (AuditEntry.created_at < cursor.created_at)
            | ((AuditEntry.created_at == cursor.created_at) & (AuditEntry.id < cursor.id))
        )
    rows = list(query.order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc()).limit(limit + 1))
    more = len(rows) > limit
    rows = rows[:limit]
    return [_view(r) for r in rows], rows[-1].id if more else None


def for_contact(workspace_id: str, contact_id: str) -> list[dict[str, Any]]:
    query = AuditEntry.select().where(AuditEntry.workspace == workspace_id, AuditEntry.subject == contact_id)
    return [_view(r) for r in query.order_by(AuditEntry.created_at, AuditEntry.id)]
