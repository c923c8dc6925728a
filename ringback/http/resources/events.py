"""`GET /api/v1/events`: the workspace's events in commit order, for integrators who prefer to pull.

`?after=<cursor>&limit=<1..100>&types=a,b`: pass back `next_cursor` to get what happened since; an
empty page keeps the cursor. The cursor is opaque (today: the outbox sequence number).
"""

from __future__ import annotations

import falcon

from ringback.engine.webhook_events import EVENT_TYPES
from ringback.http.errors import validation_error
from ringback.http.resources.common import principal
from ringback.storage import outbox

MAX_LIMIT = 100


def _number(req: falcon.Request, name: str, default: int, low: int, high: int) -> int:
    raw = req.get_param(name)
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= high:
        raise validation_error(name, f"{name} must be a whole number from {low} to {high}")
    return int(raw)


def _types(req: falcon.Request) -> tuple[str, ...]:
    raw = req.get_param("types") or ""
    types = tuple(t for t in (part.strip() for part in raw.split(",")) if t)
    unknown = sorted(set(types) - set(EVENT_TYPES))
    if unknown:
        raise validation_error("types", f"unknown event type {unknown[0]!r}; known: {', '.join(EVENT_TYPES)}")
    return types


class EventsResource:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        after = _number(req, "after", 0, 0, 2**63 - 1)
        limit = _number(req, "limit", MAX_LIMIT, 1, MAX_LIMIT)
        data, cursor = outbox.feed(principal(req).workspace_id, after, limit, _types(req))
        resp.media = {"data": data, "next_cursor": str(cursor)}
