"""Per-key rolling-window rate limits (DESIGN §6: 60 writes and 120 reads per minute by default).

The limiter keeps, per key, the timestamps of the requests it admitted in the last window (a deque never
longer than the limit). Refused requests are not recorded, so hammering a limit does not extend the wait.

``X-RateLimit-Reset`` and ``Retry-After`` both mean "seconds until the oldest counted request leaves the
window", i.e. until ``Remaining`` next grows; rounded up and never below 1, so a client that waits that long
is guaranteed a free slot.

On SQLite (always one node) the window lives in memory (:class:`RateLimiter`). On PostgreSQL several nodes may
serve one API behind a load balancer, so the window lives in the database (:class:`SharedRateLimiter`, one
statement per request) and a key's 61st write of a minute is refused whichever node it reaches.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import falcon

from ringback.http import errors
from ringback.http.auth import is_write
from ringback.storage import rate_limits
from ringback.storage.db import is_sqlite

if TYPE_CHECKING:
    import peewee

log = logging.getLogger(__name__)
WINDOW_SECONDS = 60.0


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset_seconds),
        }


class Limiter(Protocol):
    def hit(self, key: Hashable, limit: int) -> Decision: ...


class RateLimiter:
    """Thread-safe rolling-window counter; ``now`` is a monotonic clock in seconds (injected for tests)."""

    def __init__(self, now: Callable[[], float] = time.monotonic, window_seconds: float = WINDOW_SECONDS) -> None:
        self._now = now
        self._window = window_seconds
        self._hits: dict[Hashable, deque[float]] = {}
        self._lock = threading.Lock()
        self._last_sweep = now()

    def hit(self, key: Hashable, limit: int) -> Decision:
        """Count one request for ``key`` if the window has room; either way say where the key stands."""
        if limit < 1:
            raise ValueError("a rate limit must allow at least one request per window")
        with self._lock:
            now = self._now()
            self._sweep(now)
            hits = self._hits.setdefault(key, deque())
            self._expire(hits, now)
            allowed = len(hits) < limit
            if allowed:
                hits.append(now)
            # hits is never empty here: either we just appended, or it holds at least `limit` entries.
            reset = max(1, math.ceil(hits[0] + self._window - now))
            return Decision(allowed, limit, max(0, limit - len(hits)), reset)

    def tracked_keys(self) -> int:
        with self._lock:
            return len(self._hits)

    def _expire(self, hits: deque[float], now: float) -> None:
        horizon = now - self._window
        while hits and hits[0] <= horizon:
            hits.popleft()

    def _sweep(self, now: float) -> None:
        """Forget keys idle for a whole window; runs at most once per window, so it stays amortised O(1)."""
        if now - self._last_sweep < self._window:
            return
        self._last_sweep = now
        horizon = now - self._window
        for key in [key for key, hits in self._hits.items() if not hits or hits[-1] <= horizon]:
            del self._hits[key]


class SharedRateLimiter:
    """The rolling window kept in PostgreSQL, shared by every node on the database (same semantics as
    :class:`RateLimiter`, on database time).

    A failing check fails open: the request is counted by this node's own in-memory limiter instead, so a
    database outage neither takes the API down nor lifts the limits altogether (each node then allows up to the
    limit on its own). The first failure is logged as a warning, the recovery too; `on_error` counts each one.
    """

    def __init__(
        self,
        db: peewee.Database,
        window_seconds: float = WINDOW_SECONDS,
        on_error: Callable[[], object] = lambda: None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._db = db
        self._window = window_seconds
        self._on_error = on_error
        self._monotonic = monotonic
        self._fallback = RateLimiter(monotonic, window_seconds)
        self._next_purge = monotonic()  # the first check purges what stopped nodes left behind
        self._failing = False

    def hit(self, key: Hashable, limit: int) -> Decision:
        """Count one request for ``key`` if the shared window has room; either way say where the key stands."""
        if limit < 1:
            raise ValueError("a rate limit must allow at least one request per window")
        try:
            state = rate_limits.hit(self._db, key_name(key), limit, self._window, self._purge_due())
        except rate_limits.WindowUnavailable as error:
            self._failed(error)
            return self._fallback.hit(key, limit)
        if self._failing:
            self._failing = False
            log.warning("rate limits: the shared window in the database answers again")
        reset = max(1, math.ceil(self._window - state.oldest_age_seconds))
        return Decision(state.allowed, limit, max(0, limit - state.counted), reset)

    def _purge_due(self) -> bool:
        """Once a window per node; two threads racing here both purge, which is harmless."""
        now = self._monotonic()
        if now < self._next_purge:
            return False
        self._next_purge = now + self._window
        return True

    def _failed(self, error: Exception) -> None:
        self._on_error()
        if not self._failing:
            self._failing = True
            log.warning("rate limits: the shared window failed (%s); this node counts alone until it answers", error)


def key_name(key: Hashable) -> str:
    """The database key of a limiter key: ``("key_1", "write")`` → ``"key_1:write"``."""
    return ":".join(map(str, key)) if isinstance(key, tuple) else str(key)


def build_rate_limiter(db: peewee.Database, on_error: Callable[[], object] = lambda: None) -> Limiter:
    """In memory on SQLite (one node); in the database on PostgreSQL, where several nodes may share it."""
    return RateLimiter() if is_sqlite(db) else SharedRateLimiter(db, on_error=on_error)


class RateLimitMiddleware:
    """Applies the limiter to authenticated ``/api/`` requests, keyed by API key id and read/write class.

    Must run after :class:`~ringback.http.auth.AuthMiddleware`: requests refused there (401/403) have no
    principal and never spend budget.
    """

    def __init__(
        self, limiter: Limiter, writes_per_minute: int = 60, reads_per_minute: int = 120
    ) -> None:
        self._limiter = limiter
        self._limits = {"write": writes_per_minute, "read": reads_per_minute}

    def process_resource(
        self, req: falcon.Request, resp: falcon.Response, resource: object, params: dict[str, Any]
    ) -> None:
        principal = getattr(req.context, "principal", None)
        if principal is None:
            return
        kind = "write" if is_write(req.method) else "read"
        decision = self._limiter.hit((principal.key_id, kind), self._limits[kind])
        req.context.rate_limit = decision
        if not decision.allowed:
            raise errors.rate_limited(decision.reset_seconds)

    def process_response(
        self, req: falcon.Request, resp: falcon.Response, resource: object, req_succeeded: bool
    ) -> None:
        decision: Decision | None = getattr(req.context, "rate_limit", None)
        if decision is not None:
            resp.set_headers(decision.headers())
