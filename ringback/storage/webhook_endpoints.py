"""Webhook endpoints: a workspace's receivers. Every lookup is scoped to the workspace."""

from __future__ import annotations

import base64
import secrets
from datetime import datetime
from typing import Any

from ringback.ids import new_id
from ringback.storage.models import WebhookEndpoint
from ringback.storage.timestamps import iso

SECRET_PREFIX = "whsec_"  # noqa: S105 - the Standard Webhooks format prefix, not a secret


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def _get(workspace_id: str, endpoint_id: str) -> WebhookEndpoint | None:
    return WebhookEndpoint.get_or_none(WebhookEndpoint.id == endpoint_id, WebhookEndpoint.workspace == workspace_id)


def create(
    workspace_id: str, url: str, events: list[str] | None, description: str, now: datetime
) -> tuple[str, str]:
    """Insert an enabled endpoint; (its id, its secret)."""
    endpoint_id, secret = new_id("we"), new_secret()
    WebhookEndpoint.create(
        id=endpoint_id,
        workspace=workspace_id,
        url=url,
        description=description,
        events=events,
        enabled=True,
        secret=secret,
        created_at=now,
        updated_at=now,
    )
    return endpoint_id, secret


def update(workspace_id: str, endpoint_id: str, changes: dict[str, Any], now: datetime) -> bool:
    """Apply url / events / enabled / description; enabling again forgets the failure streak."""
    if changes.get("enabled"):
        changes = {**changes, "failing_since": None, "disabled_reason": None}
    return bool(
        WebhookEndpoint.update(updated_at=now, **changes)
        .where(WebhookEndpoint.id == endpoint_id, WebhookEndpoint.workspace == workspace_id)
        .execute()
    )


def delete(workspace_id: str, endpoint_id: str) -> bool:
    return bool(
        WebhookEndpoint.delete()
        .where(WebhookEndpoint.id == endpoint_id, WebhookEndpoint.workspace == workspace_id)
        .execute()
    )


def rotate_secret(workspace_id: str, endpoint_id: str, now: datetime) -> str | None:
    """A new secret for every delivery from now on (retries included); None for an unknown endpoint."""
    secret = new_secret()
    changed = (
        WebhookEndpoint.update(secret=secret, updated_at=now)
        .where(WebhookEndpoint.id == endpoint_id, WebhookEndpoint.workspace == workspace_id)
        .execute()
    )
    return secret if changed else None


def target(workspace_id: str, endpoint_id: str) -> tuple[str, str] | None:
    """(url, secret) to send a test ping with."""
    row = _get(workspace_id, endpoint_id)
    return (row.url, row.secret) if row else None


def _view(row: WebhookEndpoint) -> dict[str, Any]:
    """What the API shows; the secret never again after creation or rotation."""
    return {
        "id": row.id,
        "url": row.url,
        "description": row.description,
        "events": row.events,
        "enabled": row.enabled,
        "disabled_reason": row.disabled_reason,
        "failing_since": iso(row.failing_since),
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
    }


def view(workspace_id: str, endpoint_id: str) -> dict[str, Any] | None:
    row = _get(workspace_id, endpoint_id)
    return _view(row) if row else None


def list_views(workspace_id: str) -> list[dict[str, Any]]:
    query = WebhookEndpoint.select().where(WebhookEndpoint.workspace == workspace_id).order_by(WebhookEndpoint.id)
    return [_view(row) for row in query]


def exists(workspace_id: str, endpoint_id: str) -> bool:
    return (
        WebhookEndpoint.select()
        .where(WebhookEndpoint.id == endpoint_id, WebhookEndpoint.workspace == workspace_id)
        .exists()
    )
