"""Things that happened to a contact outside ringback and end its outreach.

The customer reports them (`POST /api/v1/contacts/{id}/events`), and the inbound SMS webhook and the
one-click unsubscribe page record theirs the same way, through `record`: suppress the channels the
contact must no longer be reached on and write the `contact.*` outbound event (one transaction,
committed first, so the send-time re-check sees it), then ask the supervisor to stop every open
enrollment of the contact.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import falcon
import pykka

from ringback.actors.messages import StopContact
from ringback.clock import Clock
from ringback.engine import fields
from ringback.engine.model import Channel
from ringback.engine.webhook_events import OutboundEvent, contact_event
from ringback.http.errors import not_found, validation_error
from ringback.http.resources.common import json_body, principal
from ringback.ids import looks_like
from ringback.storage import contacts, enrollments, outbox
from ringback.storage.db import write_transaction
from ringback.storage.models import database_proxy

ALL_CHANNELS = (Channel.EMAIL, Channel.SMS, Channel.VOICE)
_FIELDS = {"type", "note"}


@dataclass(frozen=True)
class ContactEvent:
    reason: str
    suppress: tuple[Channel, ...] = ()
    opt_out: str | None = None  # an opt-out, and where it was said (the opt-out counter's source)
    webhook: str | None = None  # the outbound event it makes: contact.replied or contact.opted_out


# What the customer may report. A bounce makes the address useless, not the phone.
REPORTED: dict[str, ContactEvent] = {
    "replied": ContactEvent("contact replied", webhook="contact.replied"),
    "meeting_booked": ContactEvent("meeting booked"),
    "bounced": ContactEvent("email bounced", (Channel.EMAIL,)),
    "opted_out": ContactEvent("contact opted out", ALL_CHANNELS, opt_out="api", webhook="contact.opted_out"),
}


def record(
    supervisor: pykka.ActorRef, contact_ids: Iterable[str], event: ContactEvent, now: datetime, stop: bool = True
) -> None:
    """Suppress and write the outbound event, commit, then (unless `stop` is off) stop each contact's open
    enrollments (asynchronously, in the supervisor)."""
    contact_ids = list(contact_ids)
    if event.suppress or event.webhook:
        for contact_id in contact_ids:
            with write_transaction(database_proxy.obj):  # suppress() checks, then inserts
                contacts.suppress(contact_id, event.suppress, event.reason, now)
                outbox.record(contacts.workspace_of(contact_id), _outbound(contact_id, event), now)
    for contact_id in contact_ids if stop else ():
        supervisor.tell(StopContact(contact_id, event.reason, event.opt_out))


def _outbound(contact_id: str, event: ContactEvent) -> list[OutboundEvent]:
    return [contact_event(event.webhook, contact_id, event.reason, event.opt_out)] if event.webhook else []


class ContactEventsResource:
    """`POST /api/v1/contacts/{id}/events` `{"type": ..., "note"?: ...}` → 202 with what was done."""

    def __init__(self, supervisor: pykka.ActorRef, clock: Clock) -> None:
        self._supervisor = supervisor
        self._clock = clock

    def on_post(self, req: falcon.Request, resp: falcon.Response, contact_id: str) -> None:
        workspace_id = principal(req).workspace_id
        body = json_body(req)
        if not looks_like(contact_id, "ct") or not contacts.contact_exists(workspace_id, contact_id):
            raise not_found("contact not found")
        event = _parse(body)
        stopping = enrollments.open_ids_for_contact(contact_id)
        record(self._supervisor, [contact_id], event, self._clock.now())
        resp.status = falcon.HTTP_202
        resp.media = {
            "contact_id": contact_id,
            "type": body["type"],
            "stopping_enrollments": stopping,
            "suppressed_channels": sorted(contacts.suppressed_channels(contact_id)),
        }


def _parse(body: object) -> ContactEvent:
    if not isinstance(body, dict):
        raise validation_error("body", "the request body must be a JSON object")
    unknown = sorted(set(body) - _FIELDS)
    if unknown:
        raise validation_error(unknown[0], f"unknown field {unknown[0]!r}")
    kind = body.get("type")
    if not isinstance(kind, str) or kind not in REPORTED:
        raise validation_error("type", f"type must be one of {', '.join(REPORTED)}")
    note = body.get("note", "")
    # The note becomes part of the stop reason shown on the enrollment and its steps.
    if not isinstance(note, str) or len(note) > fields.EVENT_NOTE:
        raise validation_error("note", f"note must be a string of at most {fields.EVENT_NOTE} characters")
    event = REPORTED[kind]
    note = " ".join(note.split())
    reason = f"{event.reason}: {note}" if note else event.reason
    return ContactEvent(reason, event.suppress, event.opt_out, event.webhook)
