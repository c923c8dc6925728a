"""Per-key rolling-window rate limits (DESIGN §6: 60 writes and 120 reads per minute by default).

The limiter keeps, per key, the timestamps of the requests it admitted in the last window (a deque never
longer than the limit). Refused requests are not recorded, so hammering a limit does not extend the wait.

``X-RateLimit-Reset`` and ``Retry-After`` both mean "seconds until the oldest counted request leaves the
window", i.e. until ``Remaining`` next grows; rounded up and never below 1, so a client that waits that long
is guaranteed a free slot.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

import falcon

from ringback.http import errors
from ringback.http.auth import is_write


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


class RateLimiter:
    """Thread-safe rolling-window counter; ``now`` is a monotonic clock in seconds (injected for tests)."""

    def __init__(self, now: Callable[[], float] = time.monotonic, window_seconds: float = 60.0) -> None:
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


class RateLimitMiddleware:
    """Applies the limiter to authenticated ``/api/`` requests, keyed by API key id and read/write class.

    Must run after :class:`~ringback.http.auth.AuthMiddleware`: requests refused there (401/403) have no
    principal and never spend budget.
    """

    def __init__(
        self, limiter: RateLimiter, writes_per_minute: int = 60, reads_per_minute: int = 120
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
