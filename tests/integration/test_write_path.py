"""The write path through the command layer and the group-commit writer, on the real node.

The writer is held busy with a unit that waits (`writer_held`), which makes "a commit is still
running" a state the test controls instead of a race it hopes for.
"""

from __future__ import annotations

import threading

import falcon.testing
import pytest

from ringback.demo import bootstrap
from ringback.engine.model import StepStatus
from ringback.storage import enrollments
from ringback.storage.db import open_connections
from ringback.storage.models import Contact, Enrollment
from tests.conftest import Api, seed_lead, wait_for, writer_held

START = "/api/v1/sequences/start"
EMAIL_ONLY = {
    "name": "One email",
    "goal": "Follow up with the lead.",
    "allowed_channels": ["email"],
    "steps": [{"channel": "email", "delay_seconds": 0}],
    "sender": {"name": "Ana", "company": "Ringback Demo", "email": "ana@example.com"},
}


def _sent(enrollment_id: str) -> bool:
    return enrollments.load_state(enrollment_id).steps[0].status == StepStatus.SENT


@pytest.fixture
def api(api):
    """The demo key, used once: its first use queues a `last_used_at` write that would count as pending."""
    api.get("/api/v1/templates")
    return api


def _in_background(call) -> tuple[threading.Thread, list]:
    answers: list = []
    thread = threading.Thread(target=lambda: answers.append(call()))
    thread.start()
    return thread, answers


def test_a_second_call_with_a_key_in_flight_is_409_and_a_retry_after_the_commit_replays(api, node):
    lead = seed_lead(api.template_id, auto_approve=True)
    with writer_held(node):
        first, answers = _in_background(lambda: api.post(START, lead))
        wait_for(lambda: node.writer.pending() == 1)

        during = api.post(START, lead)

    first.join(30)
    after = api.post(START, lead)
    assert during.status_code == 409 and during.json["error"]["details"] == {"idempotency_key": lead["idempotency_key"]}
    assert answers[0].status_code == 202
    assert after.status_code == 200 and after.json == answers[0].json
    assert Enrollment.select().count() == 1


def test_a_start_that_outlives_the_write_timeout_answers_503_keeps_its_key_and_still_lands(make_node, clock):
    """The reported duplicate: the HTTP layer gave up and freed the key while the start still committed."""
    node = make_node(write_timeout_seconds=0.05)
    demo = bootstrap(clock.now())
    api = Api(falcon.testing.TestClient(node.app), demo.api_key, demo.workspace_id, demo.template_id)
    api.get("/api/v1/templates")
    lead = seed_lead(demo.template_id, auto_approve=True)

    with writer_held(node):
        timed_out = api.post(START, lead)
        retried_too_soon = api.post(START, lead)

    assert timed_out.status_code == 503 and timed_out.json["error"]["code"] == "outcome_unknown"
    assert int(timed_out.headers["Retry-After"]) > 0
    assert retried_too_soon.status_code == 409
    wait_for(lambda: Enrollment.select().count() == 1)
    wait_for(lambda: node.writer.pending() == 0)
    retried = wait_for(lambda: (r := api.post(START, lead)).status_code == 200 and r)
    assert retried.headers["Idempotent-Replayed"] == "true"
    assert [e.id for e in Enrollment.select()] == [retried.json["enrollment_id"]]
    wait_for(lambda: _sent(retried.json["enrollment_id"]))  # the supervisor heard of it after the late commit


def test_starts_queued_behind_a_commit_share_the_next_one(api, node):
    leads = [seed_lead(api.template_id, idempotency_key=f"k{i}", contact={"emails": [f"lead{i}@example.com"]})
             for i in range(6)]
    with writer_held(node):
        started = [_in_background(lambda lead=lead: api.post(START, lead)) for lead in leads]
        wait_for(lambda: node.writer.pending() == len(leads))
    for thread, _ in started:
        thread.join(30)

    assert [answers[0].status_code for _, answers in started] == [202] * len(leads)
    registry = node.metrics.registry
    batches = registry.get_sample_value("ringback_db_commit_units_count")
    up_to_four = registry.get_sample_value("ringback_db_commit_units_bucket", {"le": "4.0"})
    assert batches - up_to_four >= 1  # the six starts went into one commit
    assert Enrollment.select().count() == len(leads)


def test_a_refused_start_in_a_shared_commit_changes_nothing_and_the_others_land(api, node):
    template = api.post("/api/v1/templates", EMAIL_ONLY).json["id"]
    good = seed_lead(template, idempotency_key="good", contact={"emails": ["ok@example.com"]})
    # Valid on its own, but only the contact and the template together show it cannot be reached.
    nobody = {"first_name": "Nobody", "phone_numbers": ["+34911000000"]}
    unreachable = seed_lead(template, idempotency_key="bad", contact=nobody)
    with writer_held(node):
        first, good_answer = _in_background(lambda: api.post(START, good))
        wait_for(lambda: node.writer.pending() == 1)
        second, bad_answer = _in_background(lambda: api.post(START, unreachable))
        wait_for(lambda: node.writer.pending() == 2)
    first.join(30)
    second.join(30)

    assert good_answer[0].status_code == 202
    assert bad_answer[0].status_code == 422 and bad_answer[0].json["error"]["code"] == "no_reachable_channel"
    assert Contact.select().where(Contact.first_name == "Nobody").count() == 0
    assert Enrollment.select().count() == 1


@pytest.mark.parametrize("decision", ["approve", "reject"])
def test_a_decision_is_answered_once_committed_and_reaches_the_actor(api, decision):
    started = api.post(START, seed_lead(api.template_id, auto_approve=False))
    enrollment_id = started.json["enrollment_id"]
    url = f"/api/v1/sequences/enrollments/{enrollment_id}"
    wait_for(lambda: api.get(url).json["status"] == "pending_approval")

    answer = api.post(f"{url}/{decision}")
    again = api.post(f"{url}/{decision}")

    assert answer.status_code == 200
    assert again.status_code == 409
    expected = "active" if decision == "approve" else "rejected"
    wait_for(lambda: api.get(url).json["status"] in {expected, "completed"})


def test_connections_stay_within_the_pool_however_many_actors_come_and_go(make_node, clock):
    """Forty leads' actors each read and write; the node still holds at most its bound (+ the writer's)."""
    node = make_node(db_connections=3)
    demo = bootstrap(clock.now())
    api = Api(falcon.testing.TestClient(node.app), demo.api_key, demo.workspace_id, demo.template_id)
    leads = [
        {"emails": [f"p{i}@example.com"], "phone_numbers": [f"+349110000{i:02d}"]} for i in range(40)
    ]
    started = [
        api.post(START, seed_lead(demo.template_id, auto_approve=True, idempotency_key=f"p{i}", contact=lead))
        for i, lead in enumerate(leads)
    ]

    assert [r.status_code for r in started] == [202] * 40
    for answer in started:
        wait_for(lambda e=answer.json["enrollment_id"]: _sent(e))
    assert open_connections(node.db) <= 3 + 1
