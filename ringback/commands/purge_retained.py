"""Retention (housekeeping, hourly): notes and finished enrollments' generated content older than configured."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from ringback.storage import retention
from ringback.storage.writer import GroupCommitWriter

log = logging.getLogger(__name__)


class PurgeRetained:
    def __init__(self, notes_days: int, content_days: int, writer: GroupCommitWriter) -> None:
        """0 days keeps that kind of data for ever (the default)."""
        self._writer = writer
        self._notes_days = notes_days
        self._content_days = content_days

    def run(self, now: datetime) -> dict[str, int]:
        """Purge what is past its age; return counts by kind (empty when retention is off)."""
        counts: dict[str, int] = {}
        if not (self._notes_days or self._content_days):
            return counts

        def unit() -> None:
            if self._notes_days:
                counts["notes"] = retention.purge_notes(now - timedelta(days=self._notes_days))
            if self._content_days:
                counts.update(retention.purge_content(now - timedelta(days=self._content_days)))

        self._writer.run(unit)
        if any(counts.values()):
            log.info("retention: purged %s", ", ".join(f"{n} {kind}" for kind, n in counts.items() if n))
        return counts
