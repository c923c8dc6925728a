"""10,000 enrollments waiting for a step two days away hold no live actor; when the (manual) clock reaches the
due time, every one of them is woken and dispatched through the real supervisor, actors, pool and sandbox.

The waiting enrollments are written in bulk (bench/common.py), as a node would have left them; creating them
one by one through the API would only measure the start path again.
"""

from __future__ import annotations

import threading
from datetime import timedelta

from peewee import fn

from bench.common import seed_enrollments
from ringback.actors.messages import Stats
from ringback.storage.models import Enrollment, SandboxDelivery, Step
from tests.conftest import wait_for

WAITING = 10_000


def test_ten_thousand_waiting_enrollments_hold_no_actor_and_all_go_out_when_due(make_node, clock):
    make_node().stop()  # creates the schema
    due = clock.now() + timedelta(days=2)
    seeded = seed_enrollments(WAITING, clock.now(), due)
    threads_before = threading.active_count()

    node = make_node(max_live_enrollments=200, recovery_rate_per_second=100_000)

    assert node.supervisor.ask(Stats(), timeout=5) == {
        "live_enrollments": 0,
        "waiting_enrollments": 0,
        "recovery_backlog": 0,
    }
    # The node's own threads (ticker, clock, supervisor, pools): nothing per enrollment.
    assert threading.active_count() - threads_before < 20

    clock.advance(timedelta(days=2))

    wait_for(lambda: SandboxDelivery.select().count() == WAITING, timeout=300, interval=0.5)
    wait_for(lambda: Enrollment.select().where(Enrollment.status == "completed").count() == WAITING, timeout=30)
    per_step = (
        Step.select(fn.COUNT(SandboxDelivery.id))
        .where(Step.index == 1, Step.status == "sent")
        .join(SandboxDelivery, on=(SandboxDelivery.step_id == Step.id))
    )
    assert per_step.scalar() == WAITING  # each due step exactly once
    assert {e for (e,) in Enrollment.select(Enrollment.id).tuples()} == set(seeded.enrollment_ids)
    wait_for(lambda: node.supervisor.ask(Stats(), timeout=5)["live_enrollments"] == 0)
