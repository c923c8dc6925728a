"""Write use cases of the webhook endpoints API; each owns its transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ringback.storage import webhook_endpoints
from ringback.storage.db import write_transaction
from ringback.storage.models import database_proxy


class WebhookEndpointCommands:
    """Create, change, delete an endpoint, or give it a new secret; input is validated by the caller."""

    def create(
        self, workspace_id: str, url: str, events: list[str] | None, description: str, now: datetime
    ) -> tuple[str, str]:
        with write_transaction(database_proxy.obj):
            return webhook_endpoints.create(workspace_id, url, events, description, now)

    def update(self, workspace_id: str, endpoint_id: str, changes: dict[str, Any], now: datetime) -> bool:
        with write_transaction(database_proxy.obj):
            return webhook_endpoints.update(workspace_id, endpoint_id, changes, now)

    def delete(self, workspace_id: str, endpoint_id: str) -> bool:
        with write_transaction(database_proxy.obj):
            return webhook_endpoints.delete(workspace_id, endpoint_id)

    def rotate_secret(self, workspace_id: str, endpoint_id: str, now: datetime) -> str | None:
        with write_transaction(database_proxy.obj):
            return webhook_endpoints.rotate_secret(workspace_id, endpoint_id, now)
