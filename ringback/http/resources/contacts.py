"""/api/v1/contacts/{id}: a contact with every address and the full notes history."""

from __future__ import annotations

import falcon

from ringback.http.errors import not_found
from ringback.http.resources.common import principal
from ringback.ids import looks_like
from ringback.storage import contacts


class ContactResource:
    def on_get(self, req: falcon.Request, resp: falcon.Response, contact_id: str) -> None:
        view = (
            contacts.contact_view(principal(req).workspace_id, contact_id)
            if looks_like(contact_id, "ct")
            else None
        )
        if view is None:
            raise not_found("contact not found")
        resp.media = view
