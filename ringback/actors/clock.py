"""The clock actor: says when live enrollments' next steps are due.

pykka has no timers, so a small ticker thread tells the clock `ClockTick` every `tick_seconds`;
the clock compares due times with the injected Clock, so tests move time by hand. Due wakes and
every tick go to the supervisor, which routes wakes and re-activates passivated enrollments.
Only near wakes come here (an enrollment waiting longer is passivated and found by the
supervisor's due poll), so the heap stays as small as the set of live enrollments.
"""

from __future__ import annotations

import heapq
import threading
from datetime import datetime

import pykka

from ringback.actors.messages import ClockTick, Deliver, Tick, WakeMeAt
from ringback.clock import Clock
from ringback.engine.events import Wake


class ClockActor(pykka.ThreadingActor):
    def __init__(self, clock: Clock, supervisor: pykka.ActorRef) -> None:
        super().__init__()
        self._clock = clock
        self._supervisor = supervisor
        self._heap: list[tuple[datetime, str]] = []
        self._queued: set[tuple[datetime, str]] = set()  # an actor repeats its WakeAt after every event

    def on_receive(self, message: object) -> None:
        if isinstance(message, WakeMeAt):
            entry = (message.at, message.enrollment_id)
            if entry not in self._queued:
                self._queued.add(entry)
                heapq.heappush(self._heap, entry)
        elif isinstance(message, ClockTick):
            now = self._clock.now()
            due = set()
            while self._heap and self._heap[0][0] <= now:
                entry = heapq.heappop(self._heap)
                self._queued.discard(entry)
                due.add(entry[1])
            for enrollment_id in sorted(due):
                self._supervisor.tell(Deliver(enrollment_id, Wake()))
            self._supervisor.tell(Tick(now))


class Ticker:
    """A daemon thread that tells the clock actor to look at the time."""

    def __init__(self, clock_ref: pykka.ActorRef, interval: float) -> None:
        self._ref = clock_ref
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ringback-ticker", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self._ref.tell(ClockTick())
            except pykka.ActorDeadError:
                return

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
