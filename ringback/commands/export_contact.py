"""Export a contact's data (subject access request), and note in the audit log that it was exported."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ringback.storage import audit, export
from ringback.storage.writer import GroupCommitWriter


class ExportContact:
    def __init__(self, writer: GroupCommitWriter, timeout_seconds: float) -> None:
        self._writer = writer
        self._timeout = timeout_seconds

    def run(self, workspace_id: str, contact_id: str, key_id: str, now: datetime) -> dict[str, Any] | None:
        """The export; None when the workspace has no such contact (nothing is recorded)."""

        def unit() -> dict[str, Any] | None:  # the export and its audit entry see the same data
            data = export.contact_export(workspace_id, contact_id)
            if data is not None:
                audit.record(workspace_id, audit.EXPORTED, key_id, contact_id, export.counts(data), now)
            return data

        return self._writer.run(unit, self._timeout)
