"""The headline call through the real HTTP app, supervisor, actors, offline writer and sandbox."""

from __future__ import annotations

from tests.conftest import seed_lead, wait_for


def enrollment(api, enrollment_id):
    return api.get(f"/api/v1/sequences/enrollments/{enrollment_id}").json


def step_state(api, enrollment_id, index):
    return enrollment(api, enrollment_id)["steps"][index]["state"]


def test_seed_lead_is_called_in_spanish_and_later_steps_are_scheduled(api):
    response = api.post("/api/v1/sequences/start", seed_lead(api.template_id))

    assert response.status_code == 202
    body = response.json
    assert body["contact_created"] is True and body["match"] == "created"
    assert body["language"] == "es" and body["review_required"] is False
    assert body["status_url"] == f"/api/v1/sequences/enrollments/{body['enrollment_id']}"

    wait_for(lambda: step_state(api, body["enrollment_id"], 0) == "sent")
    view = wait_for(
        lambda: (v := enrollment(api, body["enrollment_id"]))["steps"][1]["state"] == "scheduled" and v
    )
    assert view["status"] == "active"
    assert view["language"] == "es" and view["timezone"] == "Europe/Madrid"
    first = view["steps"][0]
    assert first["channel"] == "voice" and first["provider"] == "sandbox" and first["to"] == "+34911234567"
    assert "Maria" in first["script"]
    assert "precio" in first["script"].lower() or "precios" in first["script"].lower()
    assert view["steps"][1]["channel"] == "email" and view["steps"][1]["to"] == "maria@example.com"
    assert view["steps"][1]["scheduled_for"] > first["sent_at"]


def test_replay_returns_the_original_ids_without_a_second_enrollment(api):
    first = api.post("/api/v1/sequences/start", seed_lead(api.template_id))
    again = api.post("/api/v1/sequences/start", seed_lead(api.template_id))

    assert first.status_code == 202
    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json == first.json


def test_same_key_with_a_different_body_is_refused(api):
    api.post("/api/v1/sequences/start", seed_lead(api.template_id))
    changed = seed_lead(api.template_id, auto_approve=False)

    response = api.post("/api/v1/sequences/start", changed)

    assert response.status_code == 422
    assert response.json["error"]["code"] == "idempotency_mismatch"


def test_upsert_matches_email_in_any_case_and_appends_notes(api, clock):
    from datetime import timedelta

    first = api.post("/api/v1/sequences/start", seed_lead(api.template_id, idempotency_key="a")).json
    clock.advance(timedelta(minutes=5))
    lead = seed_lead(api.template_id, idempotency_key="b")
    lead["contact"] = {"emails": ["MARIA@Example.com"], "notes": "Called back, wants a demo."}
    second = api.post("/api/v1/sequences/start", lead).json

    assert second["contact_id"] == first["contact_id"]
    assert second["contact_created"] is False and second["match"] == "email"
    contact = api.get(f"/api/v1/contacts/{first['contact_id']}").json
    assert contact["notes"].splitlines() == [
        "[via API 2026-05-06T10:00:00Z] Speaks Spanish. Located in Madrid. Submitted contact form 30 seconds ago "
        "asking about pricing.",
        "[via API 2026-05-06T10:05:00Z] Called back, wants a demo.",
    ]


def test_phone_is_the_fallback_match(api):
    api.post("/api/v1/sequences/start", seed_lead(api.template_id, idempotency_key="a"))
    lead = seed_lead(api.template_id, idempotency_key="b")
    lead["contact"] = {"emails": ["other@example.com"], "phone_numbers": ["+34911234567"]}

    second = api.post("/api/v1/sequences/start", lead).json

    assert second["match"] == "phone" and second["contact_created"] is False
    contact = api.get(f"/api/v1/contacts/{second['contact_id']}").json
    assert contact["emails"] == ["maria@example.com", "other@example.com"]
