"""Erasure: every row that carries a contact's personal data, deleted; the keyed hashes of their addresses kept.

Rows are deleted children first and counted, rather than left to ON DELETE CASCADE, so the answer says
what went and nothing depends on the database enforcing foreign keys.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable
from datetime import datetime
from functools import reduce

from ringback.storage.db import is_sqlite
from ringback.storage.models import (
    Contact,
    ContactEmail,
    ContactNote,
    ContactPhone,
    Enrollment,
    ErasedAddress,
    Event,
    IdempotencyRecord,
    OutboxEvent,
    SandboxDelivery,
    Sequence,
    Step,
    Suppression,
    database_proxy,
)


def lock(workspace_id: str, contact_id: str) -> bool:
    """Lock the contact, then its enrollments: the order the start and the enrollment actors write them in, so
    an erasure waits for them on PostgreSQL instead of deadlocking (SQLite's write lock already serialises).
    False when the workspace has no such contact. Call inside a transaction."""
    contact = Contact.select(Contact.id).where(Contact.id == contact_id, Contact.workspace == workspace_id)
    enrolled = Enrollment.select(Enrollment.id).where(Enrollment.contact == contact_id).order_by(Enrollment.id)
    if not is_sqlite(database_proxy.obj):
        contact, enrolled = contact.for_update(), enrolled.for_update()
    if contact.first() is None:
        return False
    list(enrolled)
    return True


def addresses(contact_id: str) -> tuple[set[str], set[str]]:
    """(emails, phones): the contact's, and every recipient its steps were planned for (copied at planning)."""
    emails = {e.email for e in ContactEmail.select(ContactEmail.email).where(ContactEmail.contact == contact_id)}
    phones = {p.e164 for p in ContactPhone.select(ContactPhone.e164).where(ContactPhone.contact == contact_id)}
    planned = (
        Step.select(Step.channel, Step.recipient)
        .join(Enrollment)
        .where(Enrollment.contact == contact_id, Step.recipient.is_null(False))
    )
    for step in planned:
        (emails if step.channel == "email" else phones).add(step.recipient)
    return emails, phones


def delete_contact(workspace_id: str, contact_id: str) -> dict[str, int]:
    """Delete the contact and everything hanging off it; return counts by kind. Call inside a transaction."""
    enrollment_ids = [e.id for e in Enrollment.select(Enrollment.id).where(Enrollment.contact == contact_id)]
    step_ids = [s.id for s in Step.select(Step.id).where(Step.enrollment.in_(enrollment_ids))]
    with_content = Step.select().where(Step.enrollment.in_(enrollment_ids), Step.body.is_null(False)).count()
    counts = {
        "sandbox_deliveries": SandboxDelivery.delete().where(SandboxDelivery.step_id.in_(step_ids)).execute(),
        # A start's replayable answer names the contact (and carries the caller's metadata).
        "idempotency_records": IdempotencyRecord.delete()
        .where(IdempotencyRecord.workspace == workspace_id, IdempotencyRecord.response_body.text_contains(contact_id))
        .execute(),
        "timeline_events": Event.delete().where(Event.enrollment.in_(enrollment_ids)).execute(),
        # Webhook events (and, by cascade, their deliveries) name the contact or its enrollments, with reasons.
        "webhook_events": OutboxEvent.delete()
        .where(
            OutboxEvent.workspace == workspace_id,
            reduce(operator.or_, [OutboxEvent.data.text_contains(i) for i in (contact_id, *enrollment_ids)]),
        )
        .execute(),
        "steps": Step.delete().where(Step.enrollment.in_(enrollment_ids)).execute(),
        "generated_contents": with_content,
        "enrollments": Enrollment.delete().where(Enrollment.contact == contact_id).execute(),
        "sequences": Sequence.delete().where(Sequence.contact == contact_id).execute(),
        "notes": ContactNote.delete().where(ContactNote.contact == contact_id).execute(),
        "emails": ContactEmail.delete().where(ContactEmail.contact == contact_id).execute(),
        "phone_numbers": ContactPhone.delete().where(ContactPhone.contact == contact_id).execute(),
        "opt_outs": Suppression.delete().where(Suppression.contact == contact_id).execute(),
        "contacts": Contact.delete().where(Contact.id == contact_id, Contact.workspace == workspace_id).execute(),
    }
    return counts


def remember(workspace_id: str, fingerprints: Iterable[tuple[str, str]], now: datetime) -> None:
    """Keep (kind, digest) pairs; ones already kept stay as they are."""
    rows = [{"workspace": workspace_id, "kind": k, "digest": d, "created_at": now} for k, d in fingerprints]
    if rows:
        ErasedAddress.insert_many(rows).on_conflict_ignore().execute()


def erased(workspace_id: str, fingerprints: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """The given (kind, digest) pairs that belong to an erased contact of this workspace."""
    wanted = set(fingerprints)
    if not wanted:
        return set()
    query = ErasedAddress.select(ErasedAddress.kind, ErasedAddress.digest).where(
        ErasedAddress.workspace == workspace_id, ErasedAddress.digest.in_([d for _, d in wanted])
    )
    return {(row.kind, row.digest) for row in query} & wanted
