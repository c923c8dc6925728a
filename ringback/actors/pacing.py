"""Pacing of re-activations, so a restart after an outage does not stampede the providers."""

from __future__ import annotations

import time
from collections.abc import Callable


class Pacer:
    """A token bucket in real time: at most `rate` re-activations per second, one second's worth banked.

    It paces work against the providers, so it runs on the monotonic clock, never on the business
    clock (which tests freeze and jump).
    """

    def __init__(self, rate: float, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._rate = rate
        self._now = monotonic
        self._tokens = rate
        self._last = monotonic()

    @property
    def rate(self) -> float:
        return self._rate

    def set_rate(self, rate: float) -> None:
        """Cluster mode: this node's share of the rate changes as nodes join and leave."""
        self.available()
        self._rate = rate

    def available(self) -> int:
        now = self._now()
        self._tokens = min(self._tokens + (now - self._last) * self._rate, self._rate)
        self._last = now
        return int(self._tokens)

    def take(self) -> bool:
        if self.available() < 1:
            return False
        self._tokens -= 1
        return True
