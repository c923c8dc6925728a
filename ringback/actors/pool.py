"""A fixed pool of identical worker actors; each job goes to the least busy worker.

Least-busy matters because LLM calls and sends are slow and uneven: round-robin would queue a
lead behind a slow call while another worker idles. The pool also keeps the book of the jobs each
worker holds: a worker that dies answers for them (no enrollment waits forever for a lost reply),
and shutdown can tell when every job is done.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import pykka

from ringback.storage.db import release as release_connection

log = logging.getLogger(__name__)

Metric = Callable[..., None]  # (name, value=1, **labels), as Node._record_metric


class LoadCounter:
    """The book a pool shares with its workers: the jobs each worker holds, and whether the pool is closing."""

    def __init__(
        self, pool: str = "pool", metric: Metric | None = None, redo: Callable[[Any], None] | None = None
    ) -> None:
        self.pool = pool
        self.metric: Metric = metric or (lambda name, value=1, **labels: None)
        self.redo = redo or (lambda job: None)  # hands a job that was never started to another worker
        self.closing = False
        self._lock = threading.Lock()
        self._jobs: dict[str, deque[Any]] = {}
        self._taken = 0

    def took(self, urn: str, job: Any) -> None:
        with self._lock:
            self._jobs.setdefault(urn, deque()).append(job)
            self._taken += 1

    def done(self, urn: str) -> None:
        """A worker finished its oldest job (its inbox is first in, first out)."""
        with self._lock:
            jobs = self._jobs.get(urn)
            if jobs:
                jobs.popleft()

    def abandon(self, urn: str) -> list[Any]:
        """Every job a dead worker still held."""
        with self._lock:
            return list(self._jobs.pop(urn, ()))

    def load(self, urn: str) -> int:
        with self._lock:
            return len(self._jobs.get(urn, ()))

    def in_flight(self) -> int:
        with self._lock:
            return sum(len(jobs) for jobs in self._jobs.values())

    def taken(self) -> int:
        """Jobs handed out since the start: with `in_flight`, tells shutdown whether new work appeared."""
        with self._lock:
            return self._taken


class PoolWorker(pykka.ThreadingActor):
    """Base for pool workers: never dies on a bad job, and answers for its jobs if it dies anyway."""

    # A send stuck past the shutdown grace must not keep the process alive. Its step is already
    # `sending` in storage, so recovery reconciles it after the restart (DESIGN §5).
    use_daemon_thread = True

    def __init__(self, counter: LoadCounter) -> None:
        super().__init__()
        self._book = counter

    def on_receive(self, message: Any) -> Any:
        try:
            if self._book.closing:
                return None  # shutting down: a job not started stays as storage has it, for recovery
            return self.handle(message)
        except Exception:
            # One bad job must not take the worker (and every job queued behind it) down.
            log.exception(
                "%s worker crashed on %s for enrollment %s",
                self._book.pool,
                type(message).__name__,
                getattr(message, "enrollment_id", "?"),
            )
            self._book.metric("pool_job_crashes", pool=self._book.pool)
            self.handle_crash(message)
        finally:
            release_connection()
            self._book.done(self.actor_urn)

    def on_failure(self, exception_type, exception_value, traceback) -> None:
        """Something escaped `on_receive` (a failing `handle_crash`), so this worker is dead.

        The job it died on gets no reply (its enrollment is reconciled at the next restart); the jobs
        queued behind it were never started, so another worker can safely run them.
        """
        self._book.metric("pool_worker_deaths", pool=self._book.pool)
        queued = self._book.abandon(self.actor_urn)
        log.error("%s worker died; %d queued jobs go to another worker", self._book.pool, len(queued))
        for job in queued:
            self._book.redo(job)

    def handle(self, message: Any) -> Any:
        raise NotImplementedError

    def handle_crash(self, message: Any) -> None:
        """Tell whoever waits for this job that it failed."""


class Pool:
    def __init__(
        self,
        name: str,
        size: int,
        factory: Callable[[LoadCounter], pykka.ActorRef],
        metric: Metric | None = None,
    ) -> None:
        self.name = name
        self._book = LoadCounter(name, metric, redo=self.tell)
        self._factory = factory
        self._lock = threading.Lock()
        self._closed = False
        self._workers = [factory(self._book) for _ in range(size)]

    def tell(self, message: Any) -> None:
        with self._lock:
            if self._closed:
                # Only during shutdown: the job's state is committed, so recovery picks it up after the restart.
                log.debug("pool %s is closed; %s left for recovery", self.name, type(message).__name__)
                return
            self._replace_dead_workers()
            worker = min(self._workers, key=lambda ref: self._book.load(ref.actor_urn))
            # Book and tell under one lock, so the book's order is the worker's inbox order.
            self._book.took(worker.actor_urn, message)
            worker.tell(message)

    def _replace_dead_workers(self) -> None:
        for i, ref in enumerate(self._workers):
            if not ref.is_alive():
                log.error("pool %s: replacing a dead worker", self.name)
                self._book.metric("pool_workers_replaced", pool=self.name)
                self._workers[i] = self._factory(self._book)

    def stop(self, deadline: float) -> None:
        """Refuse new jobs, drop the ones not started, and wait until `deadline` (monotonic) for the running ones."""
        with self._lock:
            self._closed = True
            self._book.closing = True
            workers = list(self._workers)
        stopping = [ref.stop(block=False) for ref in workers]
        for future in stopping:
            try:
                future.get(timeout=max(deadline - time.monotonic(), 0.01))
            except pykka.Timeout:
                log.warning("pool %s: a worker was still busy at the end of the shutdown grace", self.name)

    @property
    def size(self) -> int:
        return len(self._workers)

    def in_flight(self) -> int:
        return self._book.in_flight()

    def taken(self) -> int:
        return self._book.taken()
