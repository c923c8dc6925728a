"""The webhook dispatcher: a few threads that claim due deliveries from the outbox and POST them.

It holds nothing worth keeping: every delivery is a row (pending, with its next attempt time), so after
a kill -9 the next start claims whatever was not settled. A claim moves the row's next attempt one
lease ahead, so a sender that dies mid-POST leaves the delivery to be retried then: at least once,
and always with the same `webhook-id` (the event id).

Plain threads rather than pykka actors: nobody sends them messages; they poll the table, which is
also how deliveries written by other nodes (PostgreSQL) are found.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from ringback import faults
from ringback.clock import Clock
from ringback.engine.webhook_events import retry_delay
from ringback.providers.webhooks.sender import WebhookSender
from ringback.storage import outbox
from ringback.storage.db import release as release_connection
from ringback.storage.models import database_proxy

log = logging.getLogger(__name__)

POLL_SECONDS = 0.25  # idle wait between looks at the table
BATCH = 10  # deliveries one thread claims at a time, sent one after the other
LEASE = timedelta(seconds=90)  # longer than a batch can take (BATCH sends of 5 s at most)
HOUSEKEEPING = timedelta(hours=1)  # business time between purges of events past retention
DISABLED_REASON = "every delivery failed for about three days"


class WebhookDispatcher:
    def __init__(
        self,
        clock: Clock,
        sender: WebhookSender,
        threads: int,
        retention_days: int,
        on_disabled: Callable[[outbox.Due], None] = lambda due: None,
        jitter: Callable[[], float] = random.random,
        write: Callable[[Callable[[], Any]], Any] = lambda unit: unit(),
    ) -> None:
        """`on_disabled` hears of an endpoint given up on (the node emails the admins); tests fix `jitter`.
        `write` runs a unit of writes: the node's group-commit writer, so claims never fight it for the lock."""
        self._write = write
        self._clock = clock
        self._sender = sender
        self._threads_wanted = threads
        self._retention = timedelta(days=retention_days)
        self._on_disabled = on_disabled
        self._jitter = jitter
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._housekeeping_lock = threading.Lock()
        self._last_housekeeping: datetime | None = None

    def start(self) -> WebhookDispatcher:
        for number in range(self._threads_wanted):
            thread = threading.Thread(target=self._loop, name=f"webhooks-{number}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self, deadline: float) -> None:
        """Stop claiming; wait until `deadline` (monotonic) for POSTs in flight. Unsent claims wait for their lease."""
        self._stopping.set()
        for thread in self._threads:
            thread.join(max(deadline - time.monotonic(), 0.01))

    def run_once(self) -> int:
        """Claim one batch of due deliveries and send it; how many were sent (tests call this directly)."""
        now = self._clock.now()
        self._housekeeping(now)
        candidates = outbox.due_ids(now, BATCH)
        if not candidates:
            return 0
        faults.reach("after_outbox_commit_before_delivery")
        claimed = self._write(lambda: outbox.claim(candidates, now + LEASE))
        for due in claimed:
            if self._stopping.is_set():
                break  # its lease runs out and it is sent after the restart
            self._deliver(due)
        return len(claimed)

    def _deliver(self, due: outbox.Due) -> None:
        result = self._sender.send(due.url, due.secret, due.event_id, due.payload)
        now = self._clock.now()
        retry_at = None
        if not result.ok:
            delay = retry_delay(due.attempts + 1, self._jitter())
            retry_at = now + delay if delay is not None else None
        attempt = outbox.Attempt(now, result.ok, result.status_code, result.duration_ms, result.error, retry_at)
        if self._write(lambda: outbox.settle(due, attempt, DISABLED_REASON)):
            log.warning("webhook endpoint %s disabled: %s", due.endpoint_id, DISABLED_REASON)
            self._on_disabled(due)
        elif not result.ok:
            log.info("webhook %s to endpoint %s failed (%s)", due.event_id, due.endpoint_id, result.error)

    def _housekeeping(self, now: datetime) -> None:
        with self._housekeeping_lock:
            last = self._last_housekeeping
            if last is not None and now - last < HOUSEKEEPING:
                return
            self._last_housekeeping = now
        purged = self._write(lambda: outbox.purge(now - self._retention))
        if purged:
            log.info("housekeeping: %d events past retention forgotten", purged)

    def _loop(self) -> None:
        try:
            while not self._stopping.is_set():
                try:
                    busy = self.run_once()
                except Exception:
                    log.exception("webhook dispatcher pass failed; trying again")
                    busy = 0
                release_connection()  # back to the pool between passes (the pool is bounded)
                if not busy:
                    self._stopping.wait(POLL_SECONDS)
        finally:
            database_proxy.close()
