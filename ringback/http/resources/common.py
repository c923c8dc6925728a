"""Small helpers every API resource shares."""

from __future__ import annotations

from typing import Any

import falcon

from ringback.http.auth import Principal
from ringback.http.errors import ApiError


def principal(req: falcon.Request) -> Principal:
    return req.context.principal


def json_body(req: falcon.Request) -> Any:
    """The parsed JSON body; falcon answers 400 (malformed) or 415 (not JSON) through our handlers."""
    if req.content_length in (None, 0) and not req.get_header("Transfer-Encoding"):
        raise ApiError(400, "bad_request", "a JSON request body is required")
    return req.get_media()
