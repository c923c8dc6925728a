"""Workspace set-up written through the API: templates and workspace settings."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ringback.clock import Clock
from ringback.engine.template import TemplateDef
from ringback.storage import accounts, templates
from ringback.storage.writer import GroupCommitWriter


class WorkspaceSetup:
    def __init__(
        self,
        writer: GroupCommitWriter,
        clock: Clock,
        on_workspace_changed: Callable[[str], None],
        timeout_seconds: float,
    ) -> None:
        self._writer = writer
        self._clock = clock
        self._changed = on_workspace_changed
        self._timeout = timeout_seconds

    def create_template(self, workspace_id: str, template: TemplateDef) -> str:
        now = self._clock.now()
        return self._writer.run(lambda: templates.create_template(workspace_id, template, now), self._timeout)

    def update_workspace(self, workspace_id: str, changes: dict[str, Any]) -> None:
        """Commit, then drop the node's cached policy so the next step is planned with the new settings."""
        self._writer.run(lambda: accounts.update_workspace(workspace_id, **changes), self._timeout)
        self._changed(workspace_id)
