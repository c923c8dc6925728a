"""Things that happened to a contact outside ringback and end its outreach.

The customer reports them (`POST /api/v1/contacts/{id}/events`); the command
(`ringback/commands/contact_events.py`) suppresses and stops, as for inbound SMS and unsubscribes.
"""

from __future__ import annotations

import falcon

from ringback.commands.contact_events import ContactEvent, ContactEvents
from ringback.engine import fields
from ringback.engine.model import Channel
from ringback.http.errors import not_found, validation_error
from ringback.http.resources.common import json_body, principal
from ringback.ids import looks_like
from ringback.storage import contacts, enrollments

ALL_CHANNELS = (Channel.EMAIL, Channel.SMS, Channel.VOICE)
_FIELDS = {"type", "note"}


# What the customer may report. A bounce makes the address useless, not the phone.
REPORTED: dict[str, ContactEvent] = {
    "replied": ContactEvent("contact replied"),
    "meeting_booked": ContactEvent("meeting booked"),
    "bounced": ContactEvent("email bounced", (Channel.EMAIL,)),
    "opted_out": ContactEvent("contact opted out", ALL_CHANNELS, opt_out="api"),
}


class ContactEventsResource:
    """`POST /api/v1/contacts/{id}/events` `{"type": ..., "note"?: ...}` → 202 with what was done."""

    def __init__(self, events: ContactEvents) -> None:
        self._events = events

    def on_post(self, req: falcon.Request, resp: falcon.Response, contact_id: str) -> None:
        workspace_id = principal(req).workspace_id
        body = json_body(req)
        if not looks_like(contact_id, "ct") or not contacts.contact_exists(workspace_id, contact_id):
            raise not_found("contact not found")
        event = _parse(body)
        stopping = enrollments.open_ids_for_contact(contact_id)
        self._events.record([contact_id], event)
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
    return ContactEvent(f"{event.reason}: {note}" if note else event.reason, event.suppress, event.opt_out)
