"""Passivation and the live-actor bound: an enrollment that only waits gives its actor back, comes back when
its step is due or when anything happens to it, and work beyond the bound waits in the supervisor."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ringback.actors.messages import Deliver, Stats
from ringback.engine.events import DeliveryReported
from tests.actors.conftest import EMAIL_THEN_EMAIL, api_for, start, view
from tests.conftest import wait_for

NEAR = {**EMAIL_THEN_EMAIL, "steps": [{"channel": "email", "delay_seconds": d} for d in (0, 30)]}


def stats(node) -> dict:
    return node.supervisor.ask(Stats(), timeout=5)


def passive(node) -> bool:
    return stats(node)["live_enrollments"] == 0


@pytest.fixture
def node(make_node, providers):
    return make_node(providers)


@pytest.fixture
def api(node, clock):
    return api_for(node, clock)


def test_a_far_step_releases_the_actor_and_the_due_poll_brings_it_back(api, node, clock, channel):
    enrollment_id = start(api)
    wait_for(lambda: view(api, enrollment_id)["steps"][1]["state"] == "scheduled")
    wait_for(lambda: passive(node))

    clock.advance(timedelta(days=2))

    wait_for(lambda: view(api, enrollment_id)["status"] == "completed")
    assert [m.to for m in channel.sent] == ["ana@example.com"] * 2
    wait_for(lambda: passive(node))


def test_a_near_step_keeps_the_actor_and_the_clock_wakes_it(node, clock, channel):
    api = api_for(node, clock, NEAR)
    enrollment_id = start(api)
    wait_for(lambda: view(api, enrollment_id)["steps"][0]["state"] == "sent")
    assert stats(node)["live_enrollments"] == 1

    clock.advance(timedelta(seconds=30))

    wait_for(lambda: view(api, enrollment_id)["status"] == "completed")


def test_live_actors_are_bounded_and_the_rest_wait_in_order(make_node, providers, writer, clock, channel):
    node = make_node(providers, max_live_enrollments=2)
    api = api_for(node, clock)
    writer.hold()
    names = [f"Lead{n}" for n in range(5)]
    ids = [start(api, name=name) for name in names]

    assert stats(node) == {"live_enrollments": 2, "waiting_enrollments": 3, "recovery_backlog": 0}
    writer.release()

    for enrollment_id in ids:
        wait_for(lambda i=enrollment_id: view(api, i)["steps"][0]["state"] == "sent")
    assert sorted(m.to for m in channel.sent) == sorted(f"{n.lower()}@example.com" for n in names)
    wait_for(lambda: passive(node))


def test_an_approval_reactivates_a_passivated_enrollment(api, node):
    enrollment_id = start(api, auto_approve=False)
    wait_for(lambda: view(api, enrollment_id)["review"]["admins_notified_at"])
    wait_for(lambda: passive(node))  # waiting for a human: no actor

    assert api.post(f"/api/v1/sequences/enrollments/{enrollment_id}/approve").status_code == 200

    wait_for(lambda: view(api, enrollment_id)["steps"][0]["state"] == "sent")


def test_a_cancel_reactivates_a_passivated_enrollment(api, node):
    enrollment_id = start(api)
    wait_for(lambda: view(api, enrollment_id)["steps"][1]["state"] == "scheduled")
    wait_for(lambda: passive(node))

    assert api.post(f"/api/v1/sequences/enrollments/{enrollment_id}/cancel").status_code == 200

    stopped = wait_for(lambda: (v := view(api, enrollment_id))["status"] == "stopped" and v)
    assert [s["state"] for s in stopped["steps"]] == ["sent", "canceled"]


def test_a_provider_callback_reactivates_a_passivated_enrollment(api, node):
    enrollment_id = start(api)
    wait_for(lambda: view(api, enrollment_id)["steps"][1]["state"] == "scheduled")
    wait_for(lambda: passive(node))

    node.supervisor.tell(Deliver(enrollment_id, DeliveryReported(0, "delivered", rank=10)))

    step = wait_for(lambda: (s := view(api, enrollment_id)["steps"][0])["state"] == "delivered" and s)
    assert step["delivered_at"]
    wait_for(lambda: passive(node))
