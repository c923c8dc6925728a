"""`GET /api/v1/audit`: the workspace's erasures and exports, newest first, a page at a time."""

from __future__ import annotations

import falcon

from ringback.http.errors import validation_error
from ringback.http.resources.common import principal
from ringback.storage import audit

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


class AuditResource:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        unknown = sorted(set(req.params) - {"limit", "cursor"})
        if unknown:
            raise validation_error(unknown[0], f"unknown query parameter {unknown[0]!r}")
        limit = req.params.get("limit", str(DEFAULT_LIMIT))
        digits = isinstance(limit, str) and limit.isascii() and limit.isdigit() and len(limit) <= 3
        if not (digits and 1 <= int(limit) <= MAX_LIMIT):
            raise validation_error("limit", f"limit must be a whole number from 1 to {MAX_LIMIT}")
        cursor = req.params.get("cursor")
        if cursor is not None and not isinstance(cursor, str):
            raise validation_error("cursor", "give cursor once")
        found = audit.page(principal(req).workspace_id, int(limit), cursor or None)
        if found is None:
            raise validation_error("cursor", "cursor is not a next_cursor this endpoint returned")
        entries, next_cursor = found
        resp.media = {"data": entries, "next_cursor": next_cursor}
