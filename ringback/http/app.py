"""The falcon app factory and the waitress server that runs it.

``create_app`` is the one place that fixes the middleware order and the JSON handling; the caller
(``node.py``) passes collaborators and the route table, so tests build apps from fakes.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import Any

import falcon
import falcon.media
import waitress
from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer

from ringback.config import Settings
from ringback.http import json_input
from ringback.http.auth import AuthMiddleware, KeyResolver
from ringback.http.errors import register_error_handlers
from ringback.http.metrics import Metrics, MetricsMiddleware
from ringback.http.middleware import (
    AccessLogMiddleware,
    BodyLimitMiddleware,
    ReleaseConnectionMiddleware,
    RequestIdMiddleware,
    SecurityHeadersMiddleware,
)
from ringback.http.pages.render import HEADERS as PAGE_HEADERS
from ringback.http.ratelimit import Limiter, RateLimitMiddleware
from ringback.http.waitress_guard import GuardedChannel

# (template, resource) or (template, resource, suffix) for falcon's suffixed responders (on_post_approve).
Route = tuple[str, object] | tuple[str, object, str]


# Request bodies go through json_input.loads (NaN, lone surrogates, NUL, deep nesting, huge numbers refused).
_JSON = falcon.media.JSONHandler(loads=json_input.loads)


def create_app(
    *,
    resolve_key: KeyResolver,
    routes: Iterable[Route],
    metrics: Metrics,
    limiter: Limiter,
    writes_per_minute: int,
    reads_per_minute: int,
    max_body_bytes: int,
) -> falcon.App:
    """Build the WSGI app.

    Middleware order: request id → security headers → access log → metrics → body limit → auth → rate limit.
    The first four wrap everything (including errors raised later); the last three run after routing, so
    their 4xx answers are logged and counted under the route template.
    """
    app = falcon.App(
        media_type=falcon.MEDIA_JSON,
        middleware=[
            ReleaseConnectionMiddleware(),  # first in, so its response hook runs last
            RequestIdMiddleware(),
            SecurityHeadersMiddleware(PAGE_HEADERS),
            AccessLogMiddleware(),
            MetricsMiddleware(metrics),
            BodyLimitMiddleware(max_body_bytes),
            AuthMiddleware(resolve_key),
            RateLimitMiddleware(limiter, writes_per_minute, reads_per_minute),
        ],
    )
    # JSON only: any other request Content-Type answers 415 when a resource reads the body.
    app.req_options.media_handlers = falcon.media.Handlers({falcon.MEDIA_JSON: _JSON})
    app.resp_options.media_handlers = falcon.media.Handlers({falcon.MEDIA_JSON: _JSON})
    register_error_handlers(app)
    for template, resource, *suffix in routes:
        app.add_route(template, resource, **({"suffix": suffix[0]} if suffix else {}))
    return app


# waitress refuses bodies of ``max_request_body_size`` bytes *or more* with its own plain-text 413, before the
# app runs. Set to the app's limit, no client would ever see our envelope (and a body of exactly the limit
# would be refused). So waitress is only the backstop that bounds buffering: bodies over the app's limit get
# the JSON 413 from BodyLimitMiddleware up to this factor, waitress's bare 413 beyond it.
WAITRESS_BODY_FACTOR = 4


class HttpServer:
    """waitress around the app, stoppable from another thread.

    ``close()`` finishes in-flight requests, cancels queued ones, then closes the listener and every
    connection once its response is flushed; the closing happens on the server's own event-loop thread
    (via waitress's trigger), because waitress objects are not meant to be touched from elsewhere.
    """

    def __init__(
        self,
        app: falcon.App,
        *,
        host: str,
        port: int,
        threads: int,
        max_body_bytes: int,
        connection_limit: int = Settings.connection_limit,
        channel_timeout_seconds: int = Settings.channel_timeout_seconds,
    ) -> None:
        # waitress warns once per queued request when all threads are busy (DESIGN §11): noise under load.
        logging.getLogger("waitress.queue").setLevel(logging.ERROR)
        self._map: dict[int, Any] = {}
        self._server = waitress.create_server(
            app,
            map=self._map,
            host=host,
            port=port,
            threads=threads,
            max_request_body_size=WAITRESS_BODY_FACTOR * max_body_bytes,
            ident="ringback",
            connection_limit=connection_limit,
            channel_timeout=channel_timeout_seconds,
            cleanup_interval=min(channel_timeout_seconds, 30),  # how often idle connections are looked for
            asyncore_use_poll=True,  # select() cannot watch file descriptors above 1023
        )
        if not isinstance(self._server, BaseWSGIServer):  # a MultiSocketServer has no single port or trigger
            self._server.close()
            raise ValueError(f"host {host!r} resolves to several addresses; bind a single address")
        self._server.channel_class = GuardedChannel  # slow senders cut off; waitress's errors in our envelope
        self._thread = threading.Thread(target=self._server.run, name="ringback-http", daemon=True)
        self._closing = False

    @property
    def port(self) -> int:
        """The bound port (useful after asking for port 0)."""
        return int(self._server.effective_port)

    def start(self) -> HttpServer:
        self._thread.start()
        return self

    def close(self, timeout: float = 5.0) -> bool:
        """Stop serving; True when everything stopped within ``timeout`` (per phase). Safe to call twice."""
        if not self._closing:
            self._closing = True  # the trigger is gone after the first close: never pull it again
            self._server.task_dispatcher.shutdown(timeout=timeout)
            if self._thread.is_alive():
                self._server.trigger.pull_trigger(self._close_all)
            else:
                self._close_all()
        if self._thread.is_alive():
            self._thread.join(timeout)
        return not self._thread.is_alive()

    def _close_all(self) -> None:
        for dispatcher in list(self._map.values()):
            if isinstance(dispatcher, HTTPChannel):
                dispatcher.close_when_flushed = True
            else:
                dispatcher.close()  # the listener and the trigger


def serve(app: falcon.App, **settings: Any) -> HttpServer:
    """Start serving on a background thread (settings as for `HttpServer`); ``close()`` stops it gracefully."""
    return HttpServer(app, **settings).start()
