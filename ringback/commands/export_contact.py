"""Export a contact's data (subject access request), and note in the audit log that it was exported."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ringback.storage import audit, export
from ringback.storage.db import write_transaction
from ringback.storage.models import database_proxy


class ExportContact:
    def run(self, workspace_id: str, contact_id: str, key_id: str, now: datetime) -> dict[str, Any] | None:
        """The export; None when the workspace has no such contact (nothing is recorded)."""
        with write_transaction(database_proxy.obj):  # the export and its audit entry see the same data
            data = export.contact_export(workspace_id, contact_id)
            if data is not None:
                audit.record(workspace_id, audit.EXPORTED, key_id, contact_id, export.counts(data), now)
        return data
