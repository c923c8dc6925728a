"""Prometheus metrics on a registry of our own (not the global one, so tests can build many apps)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any, TypeVar

import falcon
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from ringback.http.middleware import elapsed_seconds, route_of

_KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

_M = TypeVar("_M", Counter, Gauge, Histogram)


class Metrics:
    """Owns the registry and the HTTP request metrics; other parts add theirs via counter(), gauge()..."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self._collectors: dict[str, Counter | Gauge | Histogram] = {}
        self._lock = threading.Lock()
        self.http_requests = self.counter(
            "ringback_http_requests_total", "HTTP requests answered.", ("route", "method", "status")
        )
        self.http_duration = self.histogram(
            "ringback_http_request_duration_seconds", "Time spent answering HTTP requests.", ("route",)
        )

    def counter(self, name: str, documentation: str, labels: Sequence[str] = ()) -> Counter:
        return self._get(Counter, name, documentation, labels)

    def gauge(self, name: str, documentation: str, labels: Sequence[str] = ()) -> Gauge:
        return self._get(Gauge, name, documentation, labels)

    def histogram(
        self, name: str, documentation: str, labels: Sequence[str] = (), **options: Any
    ) -> Histogram:
        """``options`` go to prometheus_client (e.g. ``buckets=``)."""
        return self._get(Histogram, name, documentation, labels, **options)

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        # Arbitrary verbs must not grow the label set.
        method = method if method in _KNOWN_METHODS else "OTHER"
        self.http_requests.labels(route, method, str(status)).inc()
        self.http_duration.labels(route).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)

    def _get(
        self, kind: type[_M], name: str, documentation: str, labels: Sequence[str], **options: Any
    ) -> _M:
        """Create once, then hand back the same object: callers may ask from several places."""
        with self._lock:
            existing = self._collectors.get(name)
            if existing is None:
                existing = kind(name, documentation, tuple(labels), registry=self.registry, **options)
                self._collectors[name] = existing
            if not isinstance(existing, kind):
                raise ValueError(f"metric {name!r} already exists as a {type(existing).__name__}")
            return existing


class MetricsMiddleware:
    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def process_response(
        self, req: falcon.Request, resp: falcon.Response, resource: object, req_succeeded: bool
    ) -> None:
        self._metrics.observe_request(route_of(req), req.method, resp.status_code, elapsed_seconds(req))


class MetricsResource:
    """``GET /metrics`` in the Prometheus text format."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.data = self._metrics.render()
        resp.content_type = CONTENT_TYPE_LATEST
