"""Contacts: upsert by primary email then phone, append-only notes, suppression (opt-outs)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ringback.engine.lead import ContactInput
from ringback.engine.model import Channel
from ringback.ids import new_id
from ringback.storage.models import Contact, ContactEmail, ContactNote, ContactPhone, Suppression
from ringback.storage.timestamps import iso

NOTES_FOR_PROMPT = 4000


@dataclass(frozen=True)
class Upserted:
    contact_id: str
    created: bool
    match: str  # "created", "email" or "phone"


@dataclass(frozen=True)
class ContactProfile:
    """What planning and writing need to know about a contact."""

    id: str
    first_name: str
    last_name: str
    company: str
    emails: tuple[str, ...]
    phones: tuple[str, ...]
    notes: str  # most recent last, bounded
    language: str | None
    timezone: str | None


def note_line(created_at: datetime, text: str, source: str = "api") -> str:
    stamp = created_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"[via {source.upper() if source == 'api' else source} {stamp}] {text}"


def _find(workspace_id: str, lead: ContactInput) -> tuple[Contact | None, str]:
    if lead.emails:
        row = Contact.get_or_none(
            Contact.workspace == workspace_id, Contact.primary_email_lower == lead.emails[0].lower()
        )
        if row:
            return row, "email"
    if lead.phones:
        row = (
            Contact.select()
            .join(ContactPhone)
            .where(ContactPhone.workspace == workspace_id, ContactPhone.e164.in_(lead.phones))
            .order_by(Contact.created_at)
            .first()
        )
        if row:
            return row, "phone"
    return None, "created"


def upsert_contact(workspace_id: str, lead: ContactInput, now: datetime) -> Upserted:
    """Match or create; add new emails and phones; append the notes. Call inside a transaction.

    A concurrent insert of the same primary email raises IntegrityError from the unique index;
    the caller retries the whole transaction, which then finds the row.
    """
    row, match = _find(workspace_id, lead)
    created = row is None
    if created:
        primary = lead.emails[0] if lead.emails else None
        row = Contact.create(
            id=new_id("ct"),
            workspace=workspace_id,
            first_name=lead.first_name,
            last_name=lead.last_name,
            primary_email=primary,
            primary_email_lower=primary.lower() if primary else None,
            language=lead.language,
            timezone=lead.timezone,
            metadata={"company": lead.company} if lead.company else {},
            created_at=now,
            updated_at=now,
        )
    else:
        changes: dict[str, Any] = {"updated_at": now}
        for name in ("first_name", "last_name", "language", "timezone"):
            value = getattr(lead, name)
            if value:
                changes[name] = value
        if lead.company:
            changes["metadata"] = {**row.metadata, "company": lead.company}
        if row.primary_email is None and lead.emails:
            changes.update(primary_email=lead.emails[0], primary_email_lower=lead.emails[0].lower())
        Contact.update(**changes).where(Contact.id == row.id).execute()
    _add_addresses(row.id, workspace_id, lead)
    if lead.notes:
        ContactNote.create(contact=row.id, created_at=now, source="api", text=lead.notes)
    return Upserted(row.id, created, match)


def _add_addresses(contact_id: str, workspace_id: str, lead: ContactInput) -> None:
    known_emails = {
        e.email_lower
        for e in ContactEmail.select(ContactEmail.email_lower).where(ContactEmail.contact == contact_id)
    }
    position = len(known_emails)
    for email in lead.emails:
        if email.lower() not in known_emails:
            ContactEmail.create(contact=contact_id, position=position, email=email, email_lower=email.lower())
            known_emails.add(email.lower())
            position += 1
    known_phones = {
        p.e164 for p in ContactPhone.select(ContactPhone.e164).where(ContactPhone.contact == contact_id)
    }
    position = len(known_phones)
    for phone in lead.phones:
        if phone not in known_phones:
            ContactPhone.create(contact=contact_id, workspace=workspace_id, position=position, e164=phone)
            known_phones.add(phone)
            position += 1


def profile(contact_id: str) -> ContactProfile:
    row = Contact.get_by_id(contact_id)
    emails = tuple(
        e.email
        for e in ContactEmail.select()
        .where(ContactEmail.contact == contact_id)
        .order_by(ContactEmail.position)
    )
    if row.primary_email and row.primary_email in emails:
        emails = (row.primary_email, *[e for e in emails if e != row.primary_email])
    phones = tuple(
        p.e164
        for p in ContactPhone.select()
        .where(ContactPhone.contact == contact_id)
        .order_by(ContactPhone.position)
    )
    notes = "\n".join(
        n.text
        for n in ContactNote.select()
        .where(ContactNote.contact == contact_id)
        .order_by(ContactNote.created_at, ContactNote.id)
    )
    return ContactProfile(
        id=row.id,
        first_name=row.first_name,
        last_name=row.last_name,
        company=row.metadata.get("company", ""),
        emails=emails,
        phones=phones,
        notes=notes[-NOTES_FOR_PROMPT:],
        language=row.language,
        timezone=row.timezone,
    )


def contact_view(workspace_id: str, contact_id: str) -> dict[str, Any] | None:
    row = Contact.get_or_none(Contact.id == contact_id, Contact.workspace == workspace_id)
    if row is None:
        return None
    info = profile(contact_id)
    notes = list(
        ContactNote.select()
        .where(ContactNote.contact == contact_id)
        .order_by(ContactNote.created_at, ContactNote.id)
    )
    return {
        "id": row.id,
        "first_name": row.first_name,
        "last_name": row.last_name,
        "emails": list(info.emails),
        "primary_email": row.primary_email,
        "phone_numbers": list(info.phones),
        "language": row.language,
        "timezone": row.timezone,
        "metadata": row.metadata,
        "notes": "\n".join(note_line(n.created_at, n.text, n.source) for n in notes),
        "notes_history": [
            {
                "created_at": iso(n.created_at),
                "source": n.source,
                "text": n.text,
            }
            for n in notes
        ],
        "suppressed_channels": sorted(suppressed_channels(contact_id)),
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
    }


def contact_exists(workspace_id: str, contact_id: str) -> bool:
    return Contact.select().where(Contact.id == contact_id, Contact.workspace == workspace_id).exists()


def suppressed_channels(contact_id: str) -> set[str]:
    return {
        s.channel for s in Suppression.select(Suppression.channel).where(Suppression.contact == contact_id)
    }


def _erased(contact_id: str) -> bool:
    return not Contact.select().where(Contact.id == contact_id).exists()


def blocked_channels(contact_id: str) -> set[str]:
    """The channels a send must not use: the opted-out ones, or all of them once the contact was erased."""
    if _erased(contact_id):
        return {c.value for c in Channel}
    return suppressed_channels(contact_id)


def suppress(contact_id: str, channels: tuple[Channel, ...], reason: str, now: datetime) -> None:
    """Record opt-outs. An erased contact (an unsubscribe link in an old email) has nothing left to suppress."""
    if _erased(contact_id):
        return
    existing = suppressed_channels(contact_id)
    for channel in channels:
        if channel.value not in existing:
            Suppression.create(contact=contact_id, channel=channel.value, reason=reason[:200], created_at=now)


def lift_suppression(contact_id: str, channels: tuple[Channel, ...]) -> None:
    Suppression.delete().where(
        Suppression.contact == contact_id, Suppression.channel.in_([c.value for c in channels])
    ).execute()


def contacts_by_phone(e164: str) -> list[tuple[str, str]]:
    """(workspace id, contact id) of every contact holding this number, across workspaces (inbound SMS)."""
    query = ContactPhone.select(ContactPhone.workspace, ContactPhone.contact).where(ContactPhone.e164 == e164)
    return [(row.workspace_id, row.contact_id) for row in query]
