"""Group commit: one writer thread per database commits the transactions of many threads together.

Every write of the running node is a *unit*: a function that does its reads and writes through the
models. Callers hand units to the writer and wait; the writer runs the units queued at that moment
one after another inside one transaction (each in its own savepoint, so a unit that raises is undone
alone and its caller gets the exception), commits once, and only then answers the callers. So a
caller still returns only when its change is durable ("state committed before the side effect"),
while a burst of N concurrent writes pays one commit instead of N, and SQLite's single write lock is
never fought over. Reads stay on the callers' own connections, concurrently.

The units of one batch see each other's writes in order: the writer's order is the commit order.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

import peewee

from ringback import faults
from ringback.storage.db import write_transaction

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_BATCH = 256  # units per transaction: bounds how long one commit keeps its callers waiting


class OutcomeUnknown(Exception):
    """The commit itself failed (e.g. the connection dropped during COMMIT): the work may or may not be durable."""


class WriterClosed(Exception):
    """The node is shutting down; nothing of this unit was written."""


class LeaseLost(Exception):
    """Cluster mode: the unit's partition lease is no longer this node's; nothing of the unit was written."""


Lease = tuple[int, int]  # (partition, epoch)
# Given the leases a batch's units were submitted under, which are still held (run inside the transaction).
Fence = Callable[[set[Lease]], set[Lease]]


class _Unit:
    __slots__ = ("future", "lease", "work")

    def __init__(self, work: Callable[[], Any], lease: Lease | None) -> None:
        self.work = work
        self.lease = lease
        self.future: Future[Any] = Future()


_STOP = object()


class GroupCommitWriter:
    def __init__(
        self,
        db: peewee.Database,
        max_batch: int = MAX_BATCH,
        on_commit: Callable[[int], None] | None = None,
        fence: Fence | None = None,
    ) -> None:
        """`on_commit(units)` hears of every committed batch (the commit counters of /metrics); `fence` checks
        the leases of fenced units (cluster mode), once per batch, before any unit runs."""
        self._db = db
        self._fence = fence
        self._max_batch = max_batch
        self._on_commit = on_commit or (lambda units: None)
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name="db-writer", daemon=True)
        self._thread.start()

    # --- callers ---------------------------------------------------------------------------------------

    def submit(self, work: Callable[[], T], lease: Lease | None = None) -> Future[T]:
        """Queue a unit; the future resolves once the batch holding it is committed (or the unit failed).

        `lease`: the unit runs only if that partition lease is still ours, else it fails with `LeaseLost`."""
        unit = _Unit(work, lease)
        if threading.current_thread() is self._thread:
            # A unit that writes through a helper which itself submits: already inside the transaction.
            unit.future.set_result(work())
            return unit.future
        if self._closed:
            unit.future.set_exception(WriterClosed("the database writer is stopped"))
            return unit.future
        self._queue.put(unit)
        return unit.future

    def run(self, work: Callable[[], T], timeout: float | None = None, lease: Lease | None = None) -> T:
        """Submit and wait: returns the unit's result once it is durable, or raises the unit's exception."""
        return self.submit(work, lease).result(timeout)

    def pending(self) -> int:
        """Units queued and not yet taken into a batch (tests wait on it; /metrics could show it)."""
        return self._queue.qsize()

    def close(self, timeout: float = 10.0) -> None:
        """Commit what is queued, then stop the thread; later submissions fail with `WriterClosed`."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(_STOP)
        self._thread.join(timeout)

    # --- the writer thread -----------------------------------------------------------------------------

    def _loop(self) -> None:
        self._db.connect(reuse_if_open=True)  # before any unit: the writer never waits for a pooled connection
        stopping = False
        while not stopping:
            batch: list[_Unit] = []
            item = self._queue.get()
            while True:
                if item is _STOP:
                    stopping = True
                    break
                batch.append(item)
                if len(batch) >= self._max_batch:
                    break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            if batch:
                self._commit(batch)
        self._db.close()

    def _commit(self, batch: list[_Unit]) -> None:
        results: list[tuple[_Unit, bool, Any]] = []
        committing = False
        try:
            with write_transaction(self._db):
                held = self._held_leases(batch)
                for unit in batch:
                    if not unit.future.set_running_or_notify_cancel():
                        continue
                    if unit.lease is not None and unit.lease not in held:
                        results.append((unit, False, LeaseLost(f"partition {unit.lease[0]} is not ours any more")))
                        continue
                    try:
                        with self._db.atomic():  # a savepoint: a failing unit is undone alone
                            results.append((unit, True, unit.work()))
                    except Exception as error:
                        results.append((unit, False, error))
                faults.reach("during_group_commit")
                committing = True
        except Exception as error:
            log.error("group commit of %d units failed: %r", len(batch), error)
            self._reset_connection()
            failure = OutcomeUnknown(str(error)) if committing else error
            for unit, ok, value in results:
                unit.future.set_exception(value if not ok else failure)
            for unit in batch:
                if not unit.future.done():
                    unit.future.set_exception(failure)
            return
        self._on_commit(len(results))
        for unit, ok, value in results:
            if ok:
                unit.future.set_result(value)
            else:
                unit.future.set_exception(value)

    def _held_leases(self, batch: list[_Unit]) -> set[Lease]:
        wanted = {unit.lease for unit in batch if unit.lease is not None}
        if not wanted:
            return set()
        if self._fence is None:
            raise RuntimeError("a fenced unit was submitted to a writer without a fence")
        return self._fence(wanted)

    def _reset_connection(self) -> None:
        """After a failed transaction the connection may be broken (PostgreSQL restarted): open a new one."""
        try:
            self._db.close()
        except peewee.PeeweeException:
            log.debug("closing the writer's connection failed", exc_info=True)
