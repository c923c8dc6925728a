"""A fixed pool of identical worker actors; each job goes to the least busy worker.

Least-busy matters because LLM calls and sends are slow and uneven: round-robin would queue a
lead behind a slow call while another worker idles.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import pykka

log = logging.getLogger(__name__)


class LoadCounter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}

    def add(self, urn: str, delta: int) -> None:
        with self._lock:
            self._counts[urn] = self._counts.get(urn, 0) + delta

    def load(self, urn: str) -> int:
        with self._lock:
            return self._counts.get(urn, 0)


class PoolWorker(pykka.ThreadingActor):
    """Base for pool workers: counts its own load and never dies on a bad job."""

    def __init__(self, counter: LoadCounter) -> None:
        super().__init__()
        self._counter = counter

    def on_receive(self, message: Any) -> Any:
        try:
            return self.handle(message)
        except Exception:
            # One bad job must not take the worker (and every job queued behind it) down.
            log.exception("%s failed on %s", type(self).__name__, type(message).__name__)
            self.handle_crash(message)
        finally:
            self._counter.add(self.actor_urn, -1)

    def handle(self, message: Any) -> Any:
        raise NotImplementedError

    def handle_crash(self, message: Any) -> None:
        """Tell whoever waits for this job that it failed."""


class Pool:
    def __init__(self, name: str, size: int, factory: Callable[[LoadCounter], pykka.ActorRef]) -> None:
        self.name = name
        self._counter = LoadCounter()
        self._factory = factory
        self._workers = [factory(self._counter) for _ in range(size)]
        self._lock = threading.Lock()

    def tell(self, message: Any) -> None:
        with self._lock:
            self._replace_dead_workers()
            worker = min(self._workers, key=lambda ref: self._counter.load(ref.actor_urn))
            self._counter.add(worker.actor_urn, 1)
        worker.tell(message)

    def _replace_dead_workers(self) -> None:
        for i, ref in enumerate(self._workers):
            if not ref.is_alive():
                log.error("pool %s: replacing a dead worker", self.name)
                self._workers[i] = self._factory(self._counter)

    def stop(self, timeout: float) -> None:
        for ref in self._workers:
            try:
                ref.stop(block=True, timeout=timeout)
            except (pykka.ActorDeadError, pykka.Timeout):
                pass

    @property
    def size(self) -> int:
        return len(self._workers)

    def in_flight(self) -> int:
        return sum(self._counter.load(ref.actor_urn) for ref in self._workers)
