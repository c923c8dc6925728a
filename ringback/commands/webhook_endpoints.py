"""Write use cases of the webhook endpoints API, each one unit of the group-commit writer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ringback.storage import webhook_endpoints
from ringback.storage.writer import GroupCommitWriter


class WebhookEndpointCommands:
    """Create, change, delete an endpoint, or give it a new secret; input is validated by the caller."""

    def __init__(self, writer: GroupCommitWriter, timeout_seconds: float) -> None:
        self._writer = writer
        self._timeout = timeout_seconds

    def create(
        self, workspace_id: str, url: str, events: list[str] | None, description: str, now: datetime
    ) -> tuple[str, str]:
        return self._writer.run(
            lambda: webhook_endpoints.create(workspace_id, url, events, description, now), self._timeout
        )

    def update(self, workspace_id: str, endpoint_id: str, changes: dict[str, Any], now: datetime) -> bool:
        return self._writer.run(
            lambda: webhook_endpoints.update(workspace_id, endpoint_id, changes, now), self._timeout
        )

    def delete(self, workspace_id: str, endpoint_id: str) -> bool:
        return self._writer.run(lambda: webhook_endpoints.delete(workspace_id, endpoint_id), self._timeout)

    def rotate_secret(self, workspace_id: str, endpoint_id: str, now: datetime) -> str | None:
        return self._writer.run(
            lambda: webhook_endpoints.rotate_secret(workspace_id, endpoint_id, now), self._timeout
        )
