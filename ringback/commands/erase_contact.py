"""Erase a contact (GDPR art. 17 / CCPA deletion): their data goes, keyed hashes of their addresses stay.

One transaction deletes every row that carries the person (contact, addresses, notes, sequences,
enrollments with their steps and generated content, timelines, sandbox outbox, replayable idempotency
answers, opt-outs), keeps the fingerprints that refuse a later start for them (`suppressed`), and appends
the audit entry. Deleting the enrollments is what stops them: recovery, the due poll and review links
find nothing, and a live actor's send-time check finds no contact. The caller then tells the supervisor
to drop the live actors (`ForgetEnrollments`). A send a dispatcher already holds may still finish.

On SQLite, `secure_delete` zeroes the deleted rows in the database file; the WAL still holds older
copies of those pages until a checkpoint, so one is forced here (docs/privacy.md).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import peewee

from ringback.fingerprints import AddressFingerprints
from ringback.storage import audit, enrollments, erasure
from ringback.storage.db import is_sqlite
from ringback.storage.models import database_proxy
from ringback.storage.writer import GroupCommitWriter

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Erased:
    counts: dict[str, int]
    enrollment_ids: tuple[str, ...]  # for the supervisor to forget


class EraseContact:
    def __init__(self, fingerprints: AddressFingerprints, writer: GroupCommitWriter, timeout_seconds: float) -> None:
        self._fingerprints = fingerprints
        self._writer = writer
        self._timeout = timeout_seconds

    def run(self, workspace_id: str, contact_id: str, key_id: str, now: datetime) -> Erased | None:
        """Erase (one unit of the writer); None when the workspace has no such contact (nothing changes)."""

        def unit() -> Erased | None:
            if not erasure.lock(workspace_id, contact_id):
                return None
            enrollment_ids = tuple(enrollments.ids_for_contact(contact_id))
            stopped = len(enrollments.open_ids_for_contact(contact_id))
            emails, phones = erasure.addresses(contact_id)
            erasure.remember(workspace_id, self._fingerprints.of(emails, phones), now)
            counts = {**erasure.delete_contact(workspace_id, contact_id), "stopped_enrollments": stopped}
            audit.record(workspace_id, audit.ERASED, key_id, contact_id, counts, now)
            return Erased(counts, enrollment_ids)

        erased = self._writer.run(unit, self._timeout)
        db = database_proxy.obj
        if erased is not None and is_sqlite(db):
            _checkpoint(db)
        return erased


def _checkpoint(db: peewee.Database) -> None:
    """Copy the WAL into the database file and truncate it, so no older page copy keeps the erased bytes."""
    busy, _, _ = db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    if busy:
        log.warning("erasure: the WAL checkpoint was blocked by a reader; the next checkpoint completes it")
