"""The headline call through the real HTTP app, supervisor, actors, offline writer and sandbox."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

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


def email_voice_template(api) -> str:
    template = {
        "name": "Email and voice",
        "goal": "Book a demo.",
        "allowed_channels": ["email", "voice"],
        "steps": [{"channel": "email", "delay_seconds": 0}, {"channel": "voice", "delay_seconds": 60},
                  {"channel": "email", "delay_seconds": 60}],
        "sender": {"name": "Acme", "email": "sales@acme.example", "phone": "+14155550100"},
    }
    response = api.post("/api/v1/templates", template)
    assert response.status_code == 201, response.json
    return response.json["id"]


def test_allowed_channels_never_produce_an_sms_even_with_a_phone_on_file(api, clock):
    from datetime import timedelta

    template_id = email_voice_template(api)
    body = api.post("/api/v1/sequences/start", seed_lead(template_id)).json
    for index in range(3):
        wait_for(lambda i=index: step_state(api, body["enrollment_id"], i) == "sent")
        clock.advance(timedelta(seconds=61))
    view = wait_for(lambda: (v := enrollment(api, body["enrollment_id"]))["status"] == "completed" and v)
    assert [s["channel"] for s in view["steps"]] == ["email", "voice", "email"]
    assert all(s["state"] == "sent" for s in view["steps"])
    from ringback.storage import sandbox

    assert {d["channel"] for d in sandbox.deliveries()} == {"email", "voice"}


def test_a_step_whose_channel_the_contact_lacks_is_skipped_not_rerouted(api):
    template_id = email_voice_template(api)
    lead = seed_lead(template_id)
    lead["contact"] = {"first_name": "Ana", "emails": ["ana@example.com"]}
    body = api.post("/api/v1/sequences/start", lead).json
    view = wait_for(lambda: (v := enrollment(api, body["enrollment_id"]))["steps"][0]["state"] == "sent" and v)
    assert view["steps"][1]["state"] == "skipped" and "phone" in view["steps"][1]["note"]


def test_voice_only_template_and_no_phone_is_refused_and_changes_nothing(api):
    template = {"name": "Calls", "goal": "Call.", "allowed_channels": ["voice"],
                "steps": [{"channel": "voice", "delay_seconds": 0}], "sender": {"name": "A", "phone": "+14155550100"}}
    template_id = api.post("/api/v1/templates", template).json["id"]
    lead = seed_lead(template_id)
    lead["contact"] = {"first_name": "Ana", "emails": ["ana@example.com"]}

    response = api.post("/api/v1/sequences/start", lead)

    assert response.status_code == 422
    assert response.json["error"]["code"] == "no_reachable_channel"
    again = api.post("/api/v1/sequences/start", seed_lead(template_id))
    assert again.status_code == 202 and again.json["contact_created"] is True  # the refused call stored nothing


def test_review_path_approve_sends_the_first_step(api):
    body = api.post("/api/v1/sequences/start", seed_lead(api.template_id, auto_approve=False)).json
    assert body["review_required"] is True
    wait_for(lambda: enrollment(api, body["enrollment_id"])["status"] == "pending_approval")
    queue = api.get("/api/v1/review-queue").json["data"]
    assert [item["enrollment_id"] for item in queue] == [body["enrollment_id"]]
    assert enrollment(api, body["enrollment_id"])["steps"][0]["state"] == "planned"

    approved = api.post(f"/api/v1/sequences/enrollments/{body['enrollment_id']}/approve")

    assert approved.status_code == 200
    wait_for(lambda: step_state(api, body["enrollment_id"], 0) == "sent")
    second = api.post(f"/api/v1/sequences/enrollments/{body['enrollment_id']}/reject")
    assert second.status_code == 409 and second.json["error"]["code"] == "conflict"


def test_review_path_reject_sends_nothing(api):
    from ringback.storage import sandbox

    body = api.post("/api/v1/sequences/start", seed_lead(api.template_id, auto_approve=False)).json
    wait_for(lambda: enrollment(api, body["enrollment_id"])["status"] == "pending_approval")

    rejected = api.post(f"/api/v1/sequences/enrollments/{body['enrollment_id']}/reject", {"reason": "duplicate"})

    assert rejected.status_code == 200
    view = wait_for(lambda: (v := enrollment(api, body["enrollment_id"]))["status"] == "rejected" and v)
    assert all(s["state"] in ("canceled", "skipped") for s in view["steps"])
    assert sandbox.deliveries() == []


def test_cancel_stops_an_active_enrollment(api):
    template_id = email_voice_template(api)
    body = api.post("/api/v1/sequences/start", seed_lead(template_id)).json
    wait_for(lambda: step_state(api, body["enrollment_id"], 0) == "sent")

    response = api.post(f"/api/v1/sequences/enrollments/{body['enrollment_id']}/cancel")

    assert response.status_code == 200
    view = wait_for(lambda: (v := enrollment(api, body["enrollment_id"]))["status"] == "stopped" and v)
    assert [s["state"] for s in view["steps"]] == ["sent", "canceled", "canceled"]


def test_idempotency_key_may_come_as_a_header(api):
    lead = seed_lead(api.template_id)
    del lead["idempotency_key"]
    first = api.post("/api/v1/sequences/start", lead, **{"Idempotency-Key": "hdr-1"})
    second = api.post("/api/v1/sequences/start", lead, **{"Idempotency-Key": "hdr-1"})
    assert first.status_code == 202 and second.status_code == 200
    assert second.json["enrollment_id"] == first.json["enrollment_id"]


def test_validation_errors_name_the_field_and_are_not_remembered(api):
    bad = seed_lead(api.template_id)
    bad["contact"]["emails"] = ["not-an-email"]
    response = api.post("/api/v1/sequences/start", bad)
    assert response.status_code == 422
    assert response.json["error"]["details"]["field"] == "contact.emails[0]"
    typo = seed_lead(api.template_id, auto_aprove=True)
    assert api.post("/api/v1/sequences/start", typo).json["error"]["details"]["field"] == "auto_aprove"
    assert api.post("/api/v1/sequences/start", seed_lead(api.template_id)).status_code == 202


def test_another_workspace_cannot_see_the_enrollment_or_the_contact(api, clock):
    from ringback.demo import bootstrap

    body = api.post("/api/v1/sequences/start", seed_lead(api.template_id)).json
    other = bootstrap(clock.now(), name="Other")

    assert api.get(f"/api/v1/sequences/enrollments/{body['enrollment_id']}", key=other.api_key).status_code == 404
    assert api.get(f"/api/v1/contacts/{body['contact_id']}", key=other.api_key).status_code == 404
    start_other = api.post("/api/v1/sequences/start", seed_lead(api.template_id), key=other.api_key)
    assert start_other.status_code == 404 and start_other.json["error"]["details"]["field"] == "template_id"


def test_concurrent_calls_for_the_same_new_email_end_with_one_contact(api):
    import threading

    results = []
    barrier = threading.Barrier(4)

    def call(i: int) -> None:
        barrier.wait()
        results.append(api.post("/api/v1/sequences/start", seed_lead(api.template_id, idempotency_key=f"k{i}")))

    threads = [threading.Thread(target=call, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    assert [r.status_code for r in results] == [202] * 4
    assert len({r.json["contact_id"] for r in results}) == 1
    assert sum(r.json["contact_created"] for r in results) == 1


def test_metadata_is_stored_and_returned(api):
    lead = seed_lead(api.template_id, metadata={"crm_lead_id": "84211", "campaign": "spring"})
    body = api.post("/api/v1/sequences/start", lead).json
    assert body["metadata"] == {"crm_lead_id": "84211", "campaign": "spring"}
    assert enrollment(api, body["enrollment_id"])["metadata"] == {"crm_lead_id": "84211", "campaign": "spring"}
    too_many = seed_lead(api.template_id, idempotency_key="x", metadata={f"k{i}": "v" for i in range(21)})
    assert api.post("/api/v1/sequences/start", too_many).json["error"]["details"]["field"] == "metadata"


def test_a_morning_wish_holds_a_noon_call_until_the_next_morning_in_madrid_and_the_view_says_why(api, clock):
    lead = seed_lead(api.template_id)  # the clock says 12:00 in Madrid
    lead["contact"] = {**lead["contact"], "notes": lead["contact"]["notes"] + " Mejor por la mañana, por favor."}
    body = api.post("/api/v1/sequences/start", lead).json
    view = wait_for(lambda: (v := enrollment(api, body["enrollment_id"]))["steps"][0]["scheduled_for"] and v)

    assert view["time_preference"] == {
        "part": "morning", "start": "08:00", "end": "12:00", "cue": "por la manana", "source": "notes"
    }
    call = view["steps"][0]
    assert call["state"] == "scheduled" and "por la manana" in call["note"]
    local = datetime.fromisoformat(call["scheduled_for"]).astimezone(ZoneInfo("Europe/Madrid"))
    assert (local.day, local.hour, local.minute) == (7, 8, 0)
    clock.advance(datetime.fromisoformat(call["scheduled_for"]) - clock.now())
    wait_for(lambda: step_state(api, body["enrollment_id"], 0) == "sent")


def test_an_email_only_lead_on_a_call_first_template_hears_of_no_call(api):
    """Issue 12: the email after a skipped call said "I just tried to reach you by phone"."""
    lead = seed_lead(api.template_id)
    notes = "Hola, quiero saber cuánto cuesta."
    lead["contact"] = {"first_name": "Maria", "emails": ["maria@example.com"], "notes": notes}
    body = api.post("/api/v1/sequences/start", lead).json
    view = wait_for(lambda: (v := enrollment(api, body["enrollment_id"]))["steps"][1]["state"] == "sent" and v)

    assert view["steps"][0]["state"] == "skipped"
    assert view["time_preference"] is None
    email = view["steps"][1]["body"]
    assert "teléfono" not in email and "Gracias por ponerse en contacto" in email
    assert "Dana Whitfield" in email and "Ringback" in email
