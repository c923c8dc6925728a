"""Small helpers every API resource shares."""

from __future__ import annotations

from typing import Any

import falcon

from ringback.engine.errors import InvalidInput
from ringback.http.auth import Principal
from ringback.http.errors import ApiError

ASK_TIMEOUT_SECONDS = 30.0


def principal(req: falcon.Request) -> Principal:
    return req.context.principal


def from_invalid(error: InvalidInput) -> ApiError:
    """A domain validation error as a 422 in the envelope, naming the field."""
    return ApiError(422, error.code, error.message, {"field": error.field})


def json_body(req: falcon.Request) -> Any:
    """The parsed JSON body; falcon answers 400 (malformed) or 415 (not JSON) through our handlers."""
    if req.content_length in (None, 0) and not req.get_header("Transfer-Encoding"):
        raise ApiError(400, "bad_request", "a JSON request body is required")
    return req.get_media()
