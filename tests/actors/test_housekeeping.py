"""Housekeeping on the supervisor's tick: expired idempotency keys are forgotten, live ones kept; retention."""

from __future__ import annotations

from datetime import timedelta

import falcon.testing

from ringback.demo import bootstrap
from ringback.engine.model import EnrollmentStatus, StepStatus
from ringback.storage import enrollments
from ringback.storage.models import ContactNote, IdempotencyRecord
from tests.conftest import Api, seed_lead, wait_for


def stored_keys() -> set[str]:
    return {row.key for row in IdempotencyRecord.select(IdempotencyRecord.key)}


def test_expired_idempotency_keys_are_purged_and_fresh_ones_kept(api, clock):
    assert api.post("/api/v1/sequences/start", seed_lead(api.template_id, idempotency_key="old")).status_code == 202
    clock.advance(timedelta(hours=47))
    assert api.post("/api/v1/sequences/start", seed_lead(api.template_id, idempotency_key="new")).status_code == 202
    assert stored_keys() == {"old", "new"}

    clock.advance(timedelta(hours=2))  # "old" is 49 hours old: past the 48-hour default; "new" is 2 hours old

    wait_for(lambda: stored_keys() == {"new"})
    replay = api.post("/api/v1/sequences/start", seed_lead(api.template_id, idempotency_key="new"))
    assert (replay.status_code, replay.headers.get("Idempotent-Replayed")) == (200, "true")


def test_retention_purges_finished_content_then_old_notes_on_the_housekeeping_tick(make_node, clock):
    node = make_node(retention_notes_days=30, retention_content_days=7)
    demo = bootstrap(clock.now())
    api = Api(falcon.testing.TestClient(node.app), demo.api_key, demo.workspace_id, demo.template_id)
    finished = api.post("/api/v1/sequences/start", seed_lead(api.template_id)).json
    wait_for(lambda: enrollments.load_state(finished["enrollment_id"]).steps[0].status == StepStatus.SENT)
    api.post(f"{finished['status_url']}/cancel")
    wait_for(lambda: enrollments.status_of(api.workspace_id, finished["enrollment_id"]) == EnrollmentStatus.STOPPED)
    pending_lead = {"first_name": "A", "emails": ["ana@example.com"], "phone_numbers": ["+34917770000"], "notes": "."}
    pending = api.post(
        "/api/v1/sequences/start",
        seed_lead(api.template_id, contact=pending_lead, auto_approve=False, idempotency_key="p"),
    ).json
    wait_for(
        lambda: enrollments.status_of(api.workspace_id, pending["enrollment_id"]) == EnrollmentStatus.PENDING_APPROVAL
    )

    clock.advance(timedelta(days=8))  # the stopped enrollment finished 8 days ago; the notes are 8 days old

    wait_for(lambda: not any(s.content for s in enrollments.load_state(finished["enrollment_id"]).steps))
    assert all(s.content for s in enrollments.load_state(pending["enrollment_id"]).steps)
    assert ContactNote.select().count() == 2

    clock.advance(timedelta(days=23))

    wait_for(lambda: ContactNote.select().count() == 0)
    assert api.get(f"/api/v1/contacts/{pending['contact_id']}").json["notes_history"] == []
    assert all(s.content for s in enrollments.load_state(pending["enrollment_id"]).steps)  # still open
