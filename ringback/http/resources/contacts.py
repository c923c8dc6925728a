"""/api/v1/contacts/{id}: a contact with every address and the full notes history; its erasure and export."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import falcon

from ringback.actors.messages import ForgetEnrollments
from ringback.clock import Clock
from ringback.commands.erase_contact import EraseContact
from ringback.commands.export_contact import ExportContact
from ringback.http.errors import not_found
from ringback.http.resources.common import principal
from ringback.ids import looks_like
from ringback.storage import contacts


class ContactResource:
    def __init__(self, erase: EraseContact, tell_supervisor: Callable[[Any], None], clock: Clock) -> None:
        self._erase = erase
        self._tell = tell_supervisor
        self._clock = clock

    def on_get(self, req: falcon.Request, resp: falcon.Response, contact_id: str) -> None:
        view = contacts.contact_view(principal(req).workspace_id, contact_id) if looks_like(contact_id, "ct") else None
        if view is None:
            raise not_found("contact not found")
        resp.media = view

    def on_delete(self, req: falcon.Request, resp: falcon.Response, contact_id: str) -> None:
        """Erase the person (docs/privacy.md); 200 with what was erased, 404 when there is no such contact."""
        who = principal(req)
        erased = (
            self._erase.run(who.workspace_id, contact_id, who.key_id, self._clock.now())
            if looks_like(contact_id, "ct")
            else None
        )
        if erased is None:
            raise not_found("contact not found")
        self._tell(ForgetEnrollments(erased.enrollment_ids))
        resp.media = {"contact_id": contact_id, "erased": erased.counts}


class ContactExportResource:
    """`GET /api/v1/contacts/{id}/export`: everything held about the contact (a subject access request)."""

    def __init__(self, export: ExportContact, clock: Clock) -> None:
        self._export = export
        self._clock = clock

    def on_get(self, req: falcon.Request, resp: falcon.Response, contact_id: str) -> None:
        who = principal(req)
        data = (
            self._export.run(who.workspace_id, contact_id, who.key_id, self._clock.now())
            if looks_like(contact_id, "ct")
            else None
        )
        if data is None:
            raise not_found("contact not found")
        resp.media = data
