"""Cross-cutting request handling: request ids, the body-size limit, security headers and the access log.

falcon runs ``process_request`` in list order and ``process_response`` in reverse, for every request,
including ones that failed in an earlier middleware (``app.py`` fixes the order).
"""

from __future__ import annotations

import io
import json
import logging
import re
import time
import uuid
from collections.abc import Mapping
from typing import Any

import falcon

from ringback.http import errors
from ringback.storage.db import release as release_connection

access_log = logging.getLogger("ringback.access")

_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
UNMATCHED_ROUTE = "unmatched"


def route_of(req: falcon.Request) -> str:
    """The route template (bounded cardinality for logs and metrics), or "unmatched" for unknown paths."""
    return req.uri_template or UNMATCHED_ROUTE


# Paths whose next segment is a bearer token (unsubscribe and review links): never logged in full.
TOKEN_PATH_PREFIXES = ("/u/", "/review/")
REDACTED = "[token]"


def loggable_path(path: str) -> str:
    """The path with the token segment of a link path replaced, so logs cannot replay the link."""
    for prefix in TOKEN_PATH_PREFIXES:
        if path.startswith(prefix):
            _, slash, rest = path[len(prefix) :].partition("/")
            return prefix + REDACTED + slash + rest
    return path


def elapsed_seconds(req: falcon.Request) -> float:
    started = getattr(req.context, "started_at", None)
    return 0.0 if started is None else time.perf_counter() - started


class RequestIdMiddleware:
    """Tags every request and response with an id; it runs first, so it also stamps the start time that
    the access log and the metrics both measure from."""

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        req.context.started_at = time.perf_counter()
        incoming = req.get_header("X-Request-Id")
        sane = incoming is not None and _SANE_REQUEST_ID.match(incoming)
        req.context.request_id = incoming if sane else uuid.uuid4().hex

    def process_response(
        self, req: falcon.Request, resp: falcon.Response, resource: object, req_succeeded: bool
    ) -> None:
        resp.set_header("X-Request-Id", req.context.request_id)


class BodyLimitMiddleware:
    """413 for bodies over ``max_bytes`` before anything parses them (falcon itself has no limit).

    A declared Content-Length is checked without reading. A chunked body has no length, and falcon's
    ``bounded_stream`` reads nothing without one, so at most ``max_bytes + 1`` bytes are read from the raw
    stream and handed back as a sized body, letting falcon's media parsing work as usual. (waitress already
    de-chunks and sizes bodies itself, capped by ``max_request_body_size``; this covers other servers.)
    """

    def __init__(self, max_bytes: int = 65536) -> None:
        self._max_bytes = max_bytes

    def process_resource(
        self, req: falcon.Request, resp: falcon.Response, resource: object, params: dict[str, Any]
    ) -> None:
        length = req.content_length
        if length is not None:
            if length > self._max_bytes:
                raise errors.payload_too_large(self._max_bytes)
            return
        if "chunked" not in (req.get_header("Transfer-Encoding") or "").lower():
            return  # no body at all; never read a stream whose end nobody announced
        body = req.stream.read(self._max_bytes + 1)
        if len(body) > self._max_bytes:
            raise errors.payload_too_large(self._max_bytes)
        req.stream = req.env["wsgi.input"] = io.BytesIO(body)
        req.env["CONTENT_LENGTH"] = str(len(body))


# Polled every few seconds by load balancers, container engines and Prometheus: DEBUG, not INFO, when they succeed.
QUIET_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})


class AccessLogMiddleware:
    """One JSON line per request on ``ringback.access``; never headers, query strings, bodies or link tokens."""

    def process_response(
        self, req: falcon.Request, resp: falcon.Response, resource: object, req_succeeded: bool
    ) -> None:
        principal = getattr(req.context, "principal", None)
        record = {
            "method": req.method,
            "route": route_of(req),
            "path": loggable_path(req.path),
            "status": resp.status_code,
            "duration_ms": round(elapsed_seconds(req) * 1000, 3),
            "request_id": getattr(req.context, "request_id", None),
            "workspace_id": principal.workspace_id if principal is not None else None,
        }
        quiet = record["route"] in QUIET_ROUTES and resp.status_code < 400
        access_log.log(logging.DEBUG if quiet else logging.INFO, json.dumps(record, ensure_ascii=False))


class SecurityHeadersMiddleware:
    """Every HTML response gets the pages' security headers (CSP, no framing, nosniff, ...), whichever
    resource wrote it, so a new page cannot forget them. Headers a resource set itself are kept."""

    def __init__(self, headers: Mapping[str, str]) -> None:
        self._headers = dict(headers)

    def process_response(
        self, req: falcon.Request, resp: falcon.Response, resource: object, req_succeeded: bool
    ) -> None:
        if (resp.content_type or "").startswith(falcon.MEDIA_HTML.split(";")[0]):
            for name, value in self._headers.items():
                if resp.get_header(name) is None:
                    resp.set_header(name, value)


class ReleaseConnectionMiddleware:
    """Gives the request thread's database connection back to the pool once the response is ready."""

    def process_response(
        self, req: falcon.Request, resp: falcon.Response, resource: object, req_succeeded: bool
    ) -> None:
        release_connection()
