"""The clock actor: says when live enrollments' next steps are due.

pykka has no timers, so a small ticker thread tells the clock `ClockTick` every `tick_seconds`;
the clock compares due times with the injected Clock, so tests move time by hand. Due wakes and
every tick go to the supervisor, which routes wakes and re-activates passivated enrollments.
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

    def on_receive(self, message: object) -> None:
        if isinstance(message, WakeMeAt):
            heapq.heappush(self._heap, (message.at, message.enrollment_id))
        elif isinstance(message, ClockTick):
            now = self._clock.now()
            due = set()
            while self._heap and self._heap[0][0] <= now:
                due.add(heapq.heappop(self._heap)[1])
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
