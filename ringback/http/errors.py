"""One error envelope for every 4xx/5xx answer.

Resources raise :class:`ApiError` (usually through the helpers below), and let what commands and the
engine refuse with (InvalidInput, NotFound, Conflict, ...) pass: one handler maps those. falcon's own
errors and anything unexpected are mapped here too, so a client always gets
``{"error": {"code": ..., "message": ..., "details": {...}}}`` and never a stack trace.
"""

from __future__ import annotations

import http
import logging
from collections.abc import Iterable, Mapping
from typing import Any

import falcon

from ringback.commands.errors import Conflict, IdempotencyMismatch, KeyInFlight, NotFound
from ringback.engine.errors import InvalidInput
from ringback.storage.writer import OutcomeUnknown, WriterClosed

log = logging.getLogger("ringback.http")

# falcon's own errors are named by status; codes our contract (DESIGN §6) fixes differ from the reason phrase.
_CODE_BY_STATUS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
}


class ApiError(Exception):
    """An error a resource or middleware wants the client to see, exactly as given."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = dict(details or {})
        self.headers = dict(headers or {})


def bad_request(message: str, details: Mapping[str, Any] | None = None) -> ApiError:
    return ApiError(400, "bad_request", message, details)


def unauthorized() -> ApiError:
    """The one answer for a missing, malformed, unknown or revoked key, so callers cannot probe keys."""
    return ApiError(401, "unauthorized", "missing or invalid API key", headers={"WWW-Authenticate": "Bearer"})


def forbidden(message: str, details: Mapping[str, Any] | None = None) -> ApiError:
    return ApiError(403, "forbidden", message, details)


def not_found(message: str = "not found") -> ApiError:
    return ApiError(404, "not_found", message)


def method_not_allowed(allowed: Iterable[str]) -> ApiError:
    allow = ", ".join(allowed)
    return ApiError(405, "method_not_allowed", "method not allowed", headers={"Allow": allow})


def conflict(message: str, details: Mapping[str, Any] | None = None) -> ApiError:
    return ApiError(409, "conflict", message, details)


def payload_too_large(max_bytes: int) -> ApiError:
    return ApiError(
        413, "payload_too_large", f"request body exceeds {max_bytes} bytes", {"max_bytes": max_bytes}
    )


def unsupported_media_type(message: str = "expected Content-Type: application/json") -> ApiError:
    return ApiError(415, "unsupported_media_type", message)


def validation_error(field: str, message: str) -> ApiError:
    return ApiError(422, "validation_error", message, {"field": field})


def idempotency_mismatch(
    message: str = "idempotency key was already used with a different request body",
) -> ApiError:
    return ApiError(422, "idempotency_mismatch", message)


def rate_limited(retry_after: int, headers: Mapping[str, str] | None = None) -> ApiError:
    return ApiError(
        429,
        "rate_limited",
        f"rate limit exceeded; retry in {retry_after} s",
        {"retry_after": retry_after},
        {**(headers or {}), "Retry-After": str(retry_after)},
    )


def internal_error() -> ApiError:
    return ApiError(500, "internal_error", "internal server error")


RETRY_UNKNOWN_OUTCOME_SECONDS = 2


def from_domain(ex: Exception) -> ApiError:
    """What a command or the engine refused with, as the one envelope (resources never translate by hand)."""
    if isinstance(ex, InvalidInput):
        return ApiError(422, ex.code, ex.message, {"field": ex.field})
    if isinstance(ex, NotFound):
        return ApiError(404, "not_found", ex.message, {"field": ex.field} if ex.field else None)
    if isinstance(ex, KeyInFlight):
        return conflict(
            "a request with this idempotency key is still in flight; retry shortly", {"idempotency_key": ex.key}
        )
    if isinstance(ex, Conflict):
        return conflict(str(ex))
    if isinstance(ex, IdempotencyMismatch):
        return idempotency_mismatch()
    if isinstance(ex, OutcomeUnknown):
        # The work may still commit: the key stays taken, and a retry with it returns the original answer.
        retry = RETRY_UNKNOWN_OUTCOME_SECONDS
        return ApiError(
            503, "outcome_unknown", str(ex), {"retry_after": retry}, {"Retry-After": str(retry)}
        )
    if isinstance(ex, WriterClosed):
        return ApiError(503, "shutting_down", "the server is shutting down; retry", headers={"Retry-After": "5"})
    raise TypeError(type(ex).__name__)


DOMAIN_ERRORS = (InvalidInput, NotFound, KeyInFlight, Conflict, IdempotencyMismatch, OutcomeUnknown, WriterClosed)


def register_error_handlers(app: falcon.App) -> None:
    """Route every exception through the envelope; falcon picks the most specific handler."""
    app.add_error_handler(Exception, _unexpected)
    app.add_error_handler(falcon.HTTPError, _falcon_error)
    app.add_error_handler(ApiError, _api_error)
    app.add_error_handler(DOMAIN_ERRORS, _domain_error)


def _domain_error(req: falcon.Request, resp: falcon.Response, ex: Exception, params: dict[str, Any]) -> None:
    _write(resp, from_domain(ex))


def code_for(status: int) -> str:
    """The envelope's code for a status that no resource chose a code for."""
    return _CODE_BY_STATUS.get(status) or http.HTTPStatus(status).phrase.lower().replace(" ", "_")


def envelope(status: int, message: str, details: Mapping[str, Any] | None = None, code: str | None = None) -> dict:
    """The one error body: `{"error": {"code", "message", "details"}}`."""
    return {"error": {"code": code or code_for(status), "message": message, "details": dict(details or {})}}


def _write(resp: falcon.Response, error: ApiError) -> None:
    resp.status = error.status
    resp.set_headers(error.headers)
    resp.content_type = falcon.MEDIA_JSON
    resp.media = envelope(error.status, error.message, error.details, error.code)


def _api_error(req: falcon.Request, resp: falcon.Response, ex: ApiError, params: dict[str, Any]) -> None:
    _write(resp, ex)


def _falcon_error(
    req: falcon.Request, resp: falcon.Response, ex: falcon.HTTPError, params: dict[str, Any]
) -> None:
    status = ex.status_code
    if isinstance(ex, falcon.MediaMalformedError):
        message = "malformed JSON"
    elif isinstance(ex, falcon.MediaNotFoundError):
        message = "request body is empty"
    else:
        message = ex.description or ex.title
    code = code_for(status)
    headers = dict(ex.headers or {})  # keeps Allow on 405
    _write(resp, ApiError(status, code, message, headers=headers))


def _unexpected(req: falcon.Request, resp: falcon.Response, ex: Exception, params: dict[str, Any]) -> None:
    log.error(
        "unhandled %s on %s %s request_id=%s",
        type(ex).__name__,
        req.method,
        req.uri_template or req.path,
        getattr(req.context, "request_id", None),
        exc_info=ex,
    )
    _write(resp, internal_error())
