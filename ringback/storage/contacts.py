"""Contacts: upsert by primary email then phone, append-only notes, suppression (opt-outs)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ringback.engine.lead import ContactInput
from ringback.engine.model import Channel
from ringback.ids import new_id
from ringback.storage import fastsql
from ringback.storage.models import Contact, ContactEmail, ContactNote, ContactPhone, Suppression
from ringback.storage.timestamps import iso

NOTES_FOR_PROMPT = 4000


@dataclass(frozen=True)
class Upserted:
    contact_id: str
    created: bool
    match: str  # "created", "email" or "phone"
    known_profile: ContactProfile | None = None  # a new contact's profile, so the start need not read it back


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
    """The contact this lead is: by primary email (case-insensitive), else the oldest holding one of its phones."""
    if lead.emails:
        hit = fastsql.select_one(
            Contact, ("id",), workspace=workspace_id, primary_email_lower=lead.emails[0].lower()
        )
        if hit:
            return Contact.get_by_id(hit["id"]), "email"
    holders = {
        row["contact"]
        for phone in lead.phones
        for row in fastsql.select(ContactPhone, ("contact",), workspace=workspace_id, e164=phone)
    }
    if holders:
        oldest = Contact.select().where(Contact.id.in_(holders)).order_by(Contact.created_at).first()
        return oldest, "phone"
    return None, "created"


def upsert_contact(workspace_id: str, lead: ContactInput, now: datetime) -> Upserted:
    """Match or create; add new emails and phones; append the notes. Call inside a transaction.

    A concurrent insert of the same primary email raises IntegrityError from the unique index;
    the caller retries the whole transaction, which then finds the row.
    """
    row, match = _find(workspace_id, lead)
    if row is None:
        return _create(workspace_id, lead, now)
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
        fastsql.update(Contact, changes, id=row.id)
    known_emails = {
        e.email_lower for e in ContactEmail.select(ContactEmail.email_lower).where(ContactEmail.contact == row.id)
    }
    known_phones = {p.e164 for p in ContactPhone.select(ContactPhone.e164).where(ContactPhone.contact == row.id)}
    _add_addresses(row.id, workspace_id, lead, known_emails, known_phones)
    _add_note(row.id, lead, now)
    return Upserted(row.id, False, match)


def _create(workspace_id: str, lead: ContactInput, now: datetime) -> Upserted:
    """A new contact; its profile is known without reading it back (the start's hottest path)."""
    contact_id = new_id("ct")
    primary = lead.emails[0] if lead.emails else None
    fastsql.insert(
        Contact,
        {
            "id": contact_id,
            "workspace": workspace_id,
            "first_name": lead.first_name,
            "last_name": lead.last_name,
            "primary_email": primary,
            "primary_email_lower": primary.lower() if primary else None,
            "language": lead.language,
            "timezone": lead.timezone,
            "metadata": {"company": lead.company} if lead.company else {},
            "created_at": now,
            "updated_at": now,
        },
    )
    emails, phones = _add_addresses(contact_id, workspace_id, lead, set(), set())
    _add_note(contact_id, lead, now)
    known = ContactProfile(
        id=contact_id,
        first_name=lead.first_name,
        last_name=lead.last_name,
        company=lead.company,
        emails=emails,
        phones=phones,
        notes=lead.notes[-NOTES_FOR_PROMPT:],
        language=lead.language,
        timezone=lead.timezone,
    )
    return Upserted(contact_id, True, "created", known)


def _add_note(contact_id: str, lead: ContactInput, now: datetime) -> None:
    if lead.notes:
        fastsql.insert(ContactNote, {"contact": contact_id, "created_at": now, "source": "api", "text": lead.notes})


def _add_addresses(
    contact_id: str, workspace_id: str, lead: ContactInput, known_emails: set[str], known_phones: set[str]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Add the lead's emails and phones the contact lacks; return the ones added, in order."""
    added_emails: list[str] = []
    position = len(known_emails)
    for email in lead.emails:
        if email.lower() not in known_emails:
            row = {"contact": contact_id, "position": position, "email": email, "email_lower": email.lower()}
            fastsql.insert(ContactEmail, row)
            known_emails.add(email.lower())
            added_emails.append(email)
            position += 1
    added_phones: list[str] = []
    position = len(known_phones)
    for phone in lead.phones:
        if phone not in known_phones:
            fastsql.insert(
                ContactPhone, {"contact": contact_id, "workspace": workspace_id, "position": position, "e164": phone}
            )
            known_phones.add(phone)
            added_phones.append(phone)
            position += 1
    return tuple(added_emails), tuple(added_phones)


def profile_of(upserted: Upserted) -> ContactProfile:
    return upserted.known_profile or profile(upserted.contact_id)


def profile(contact_id: str) -> ContactProfile:
    row = fastsql.select_one(Contact, _PROFILE_FIELDS, id=contact_id)
    if row is None:
        raise Contact.DoesNotExist(contact_id)
    return _profile(
        row,
        fastsql.select(ContactEmail, ("email", "position"), contact=contact_id),
        fastsql.select(ContactPhone, ("e164", "position"), contact=contact_id),
        fastsql.select(ContactNote, ("text", "created_at", "id"), contact=contact_id),
    )


def profiles(contact_ids: list[str]) -> dict[str, ContactProfile]:
    """Many contacts' profiles in four queries (a due wave or recovery batch wakes hundreds at once)."""
    if not contact_ids:
        return {}

    def rows(model: type, fields: tuple[str, ...], key: str) -> dict[str, list[dict[str, Any]]]:
        columns = [getattr(model, name) for name in fields]
        grouped: dict[str, list[dict[str, Any]]] = {}
        for row in model.select(*columns).where(getattr(model, key).in_(contact_ids)).dicts():
            grouped.setdefault(row[key], []).append(row)
        return grouped

    emails = rows(ContactEmail, ("contact", "email", "position"), "contact")
    phones = rows(ContactPhone, ("contact", "e164", "position"), "contact")
    notes = rows(ContactNote, ("contact", "text", "created_at", "id"), "contact")
    found = [contact for group in rows(Contact, _PROFILE_FIELDS, "id").values() for contact in group]
    return {
        c["id"]: _profile(c, emails.get(c["id"], []), phones.get(c["id"], []), notes.get(c["id"], []))
        for c in found
    }


def _profile(
    row: dict[str, Any], emails: list[dict[str, Any]], phones: list[dict[str, Any]], notes: list[dict[str, Any]]
) -> ContactProfile:
    ordered = tuple(e["email"] for e in sorted(emails, key=_position))
    primary = row["primary_email"]
    if primary and primary in ordered:
        ordered = (primary, *[e for e in ordered if e != primary])
    text = "\n".join(n["text"] for n in sorted(notes, key=lambda n: (n["created_at"], n["id"])))
    return ContactProfile(
        id=row["id"],
        first_name=row["first_name"],
        last_name=row["last_name"],
        company=row["metadata"].get("company", ""),
        emails=ordered,
        phones=tuple(p["e164"] for p in sorted(phones, key=_position)),
        notes=text[-NOTES_FOR_PROMPT:],
        language=row["language"],
        timezone=row["timezone"],
    )


_PROFILE_FIELDS = ("id", "first_name", "last_name", "metadata", "primary_email", "language", "timezone")


def _position(row: dict[str, Any]) -> int:
    return row["position"]


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


def workspace_of(contact_id: str) -> str | None:
    row = Contact.select(Contact.workspace).where(Contact.id == contact_id).first()
    return row.workspace_id if row else None


def suppressed_channels(contact_id: str) -> set[str]:
    """Asked before every send: SQL composed once (storage/fastsql), as `_erased`."""
    return {row["channel"] for row in fastsql.select(Suppression, ("channel",), contact=contact_id)}


def _erased(contact_id: str) -> bool:
    return fastsql.select_one(Contact, ("id",), id=contact_id) is None


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
