"""The clock actor wakes live enrollments once when their time comes; the pacer bounds re-activations in real time."""

from __future__ import annotations

import queue
from datetime import timedelta

import pykka
import pytest

from ringback.actors.clock import ClockActor
from ringback.actors.messages import ClockTick, Deliver, Tick, WakeMeAt
from ringback.actors.pacing import Pacer
from ringback.engine.events import Wake


class Inbox(pykka.ThreadingActor):
    def __init__(self, received: queue.Queue) -> None:
        super().__init__()
        self._received = received

    def on_receive(self, message: object) -> None:
        self._received.put(message)


@pytest.fixture
def received():
    yield queue.Queue()
    pykka.ActorRegistry.stop_all()


def drain(received: queue.Queue) -> list[object]:
    items = []
    while not received.empty():
        items.append(received.get_nowait())
    return items


def test_a_wake_is_sent_once_when_due_however_often_it_was_asked_for(clock, received):
    supervisor = Inbox.start(received)
    clock_ref = ClockActor.start(clock, supervisor)
    due = clock.now() + timedelta(seconds=30)
    for _ in range(3):  # an actor repeats its WakeAt after every event it handles
        clock_ref.tell(WakeMeAt("enr_a", due))

    clock_ref.ask(ClockTick())
    assert received.get(timeout=5) == Tick(clock.now())
    clock.advance(timedelta(seconds=30))
    clock_ref.ask(ClockTick())
    clock_ref.ask(ClockTick())
    supervisor.ask(None)  # everything told before this is in the queue

    messages = drain(received)
    assert [m for m in messages if isinstance(m, Deliver)] == [Deliver("enr_a", Wake())]
    assert [m for m in messages if isinstance(m, Tick)] == [Tick(clock.now())] * 2


def test_the_pacer_allows_its_rate_per_second_and_banks_at_most_one_second():
    now = [100.0]
    pacer = Pacer(rate=10, monotonic=lambda: now[0])

    assert sum(pacer.take() for _ in range(20)) == 10
    now[0] += 0.5
    assert sum(pacer.take() for _ in range(20)) == 5
    now[0] += 60  # a long quiet spell banks one second's worth, not sixty
    assert pacer.available() == 10
