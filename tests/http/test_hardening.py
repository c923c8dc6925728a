"""Issue 13: inputs that once produced a 500, crashed an actor or were silently accepted — through real HTTP,
on SQLite and on PostgreSQL (where NUL characters and column widths used to differ)."""

from __future__ import annotations

import json

import pytest

from ringback.engine import fields
from ringback.http.json_input import MAX_DEPTH
from tests.conftest import Api, seed_lead, wait_for

BAD_TEXT = {"lone surrogate": "x\ud800y", "NUL": "x\x00y"}


def raw_post(api: Api, path: str, text: str):
    """A body sent as given: json.dumps would not produce every broken body worth sending."""
    return api.client.simulate_post(
        path, body=text.encode("utf-8", "surrogatepass"), headers=api.headers(**{"Content-Type": "application/json"})
    )


def assert_envelope(result, status: int, code: str | None = None) -> dict:
    assert result.status_code == status, result.text
    error = result.json["error"]
    assert set(error) == {"code", "message", "details"}
    assert code is None or error["code"] == code
    return error


def pending(api: Api, n: int = 0) -> str:
    lead = seed_lead(api.template_id, auto_approve=False, idempotency_key=None)
    lead["contact"] = {**lead["contact"], "emails": [f"lead{n}@example.com"], "phone_numbers": []}
    enrollment_id = api.post("/api/v1/sequences/start", lead).json["enrollment_id"]
    wait_for(lambda: _review_requested(api.get(f"/api/v1/sequences/enrollments/{enrollment_id}").json))
    return enrollment_id


def _review_requested(view: dict) -> bool:
    """Pending, and the admins' review email has had its outcome recorded (it changes the status reason)."""
    return view["status"] == "pending_approval" and bool(
        view["review"]["admins_notified_at"] or view["status_reason"]
    )


def _start_with(api: Api, where: str, value: str) -> dict:
    body = seed_lead(api.template_id)
    if where == "metadata key":
        body["metadata"] = {value: "v"}
    elif where == "unknown field name":
        body[value] = 1
    elif where == "idempotency_key":
        body["idempotency_key"] = value
    else:
        body["contact"] = {**body["contact"], where: value}
    return body


@pytest.mark.parametrize("kind", BAD_TEXT)
@pytest.mark.parametrize("where", ["first_name", "notes", "metadata key", "idempotency_key", "unknown field name"])
def test_text_that_cannot_be_stored_is_refused_by_the_start_call(db_api, kind, where):
    body = _start_with(db_api, where, BAD_TEXT[kind])

    result = raw_post(db_api, "/api/v1/sequences/start", json.dumps(body))

    assert_envelope(result, 422, "validation_error")
    # Nothing was stored: the same lead, sent properly, creates its contact now.
    assert db_api.post("/api/v1/sequences/start", seed_lead(db_api.template_id)).json["contact_created"] is True


@pytest.mark.parametrize("kind", BAD_TEXT)
def test_text_that_cannot_be_stored_is_refused_everywhere_else(db_api, kind):
    bad = BAD_TEXT[kind]
    enrollment_id = pending(db_api)
    before = db_api.get(f"/api/v1/sequences/enrollments/{enrollment_id}").json
    contact_id = before["contact_id"]
    cases = [
        (f"/api/v1/sequences/enrollments/{enrollment_id}/reject", {"reason": bad}),
        (f"/api/v1/sequences/enrollments/{enrollment_id}/cancel", {"reason": bad}),
        (f"/api/v1/contacts/{contact_id}/events", {"type": "replied", "note": bad}),
        ("/api/v1/templates", {"name": bad, "goal": "g", "allowed_channels": ["email"], "steps": []}),
    ]
    for path, body in cases:
        assert_envelope(raw_post(db_api, path, json.dumps(body)), 422, "validation_error")
    patched = db_api.client.simulate_patch(
        f"/api/v1/sequences/enrollments/{enrollment_id}/steps/0",
        body=json.dumps({"body": bad}).encode(),
        headers=db_api.headers(**{"Content-Type": "application/json"}),
    )
    assert_envelope(patched, 422, "validation_error")
    view = db_api.get(f"/api/v1/sequences/enrollments/{enrollment_id}").json
    assert (view["status"], view["status_reason"], view["steps"]) == (
        "pending_approval",
        before["status_reason"],
        before["steps"],
    )


def test_a_note_the_api_accepted_never_fails_the_enrollment(db_api):
    """Issue 13 item 4: `{"type": "replied", "note": "x\\ud800y"}` got 202 and then crashed the actor 4 times."""
    enrollment_id = pending(db_api)
    contact_id = db_api.get(f"/api/v1/sequences/enrollments/{enrollment_id}").json["contact_id"]

    refused = raw_post(db_api, f"/api/v1/contacts/{contact_id}/events", '{"type": "replied", "note": "x\\ud800y"}')
    accepted = db_api.post(f"/api/v1/contacts/{contact_id}/events", {"type": "replied", "note": "x\U0001f600y"})

    assert_envelope(refused, 422, "validation_error")
    assert accepted.status_code == 202
    view = wait_for(
        lambda: (v := db_api.get(f"/api/v1/sequences/enrollments/{enrollment_id}").json)["status"] == "stopped" and v
    )
    assert view["status_reason"] == "contact replied: x\U0001f600y"


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/sequences/start",
        "/api/v1/templates",
        "/api/v1/contacts/{contact}/events",
        "/api/v1/sequences/enrollments/{enrollment}/reject",
        "/api/v1/sequences/enrollments/{enrollment}/cancel",
    ],
)
def test_deep_nesting_is_a_400_on_every_json_endpoint(api, path):
    enrollment_id = pending(api)
    contact_id = api.get(f"/api/v1/sequences/enrollments/{enrollment_id}").json["contact_id"]
    url = path.format(contact=contact_id, enrollment=enrollment_id)

    for depth in (5_000, MAX_DEPTH + 1):
        error = assert_envelope(raw_post(api, url, "[" * depth + "]" * depth), 400, "bad_request")
        assert "nested" in error["message"]
    assert api.get(f"/api/v1/sequences/enrollments/{enrollment_id}").json["status"] == "pending_approval"


@pytest.mark.parametrize("number", ["1" + "0" * 4300, "1" + "0" * 20, "1e999", "-1e999", "NaN"])
def test_numbers_no_field_means_are_refused(api, number):
    body = json.dumps(seed_lead(api.template_id)).replace('"auto_approve": true', f'"auto_approve": {number}')

    assert raw_post(api, "/api/v1/sequences/start", body).status_code in (400, 422)
    assert_envelope(
        raw_post(api, "/api/v1/sequences/start", body), raw_post(api, "/api/v1/sequences/start", body).status_code
    )


def test_a_step_index_of_4301_digits_is_not_found(api):
    enrollment_id = pending(api)

    result = api.patch(f"/api/v1/sequences/enrollments/{enrollment_id}/steps/{'9' * 4301}", {"body": "Hi"})

    assert_envelope(result, 404, "not_found")


@pytest.mark.parametrize("metadata", [False, "", 0, [], {"": "v"}])
def test_metadata_must_be_an_object_of_strings(api, metadata):
    result = api.post("/api/v1/sequences/start", seed_lead(api.template_id, metadata=metadata))

    assert assert_envelope(result, 422, "validation_error")["details"]["field"].startswith("metadata")
    assert api.get("/api/v1/review-queue").json["data"] == []


def test_an_empty_idempotency_key_is_refused_not_ignored(api):
    in_body = api.post("/api/v1/sequences/start", seed_lead(api.template_id, idempotency_key=""))
    in_header = api.post(
        "/api/v1/sequences/start", seed_lead(api.template_id, idempotency_key=None), **{"Idempotency-Key": ""}
    )

    for result in (in_body, in_header):
        assert assert_envelope(result, 422, "validation_error")["details"]["field"] == "idempotency_key"


def test_contact_events_refuse_unknown_fields(api):
    contact_id = api.post("/api/v1/sequences/start", seed_lead(api.template_id)).json["contact_id"]

    result = api.post(f"/api/v1/contacts/{contact_id}/events", {"type": "opted_out", "notes": "typo"})

    assert assert_envelope(result, 422, "validation_error")["details"]["field"] == "notes"
    assert api.get(f"/api/v1/contacts/{contact_id}").json["suppressed_channels"] == []


def test_every_field_at_its_maximum_length_goes_through_on_both_databases(db_api):
    """Issue 13 item 3: limits come from engine/fields.py for validation and schema alike."""
    template = db_api.post(
        "/api/v1/templates",
        {
            "name": "n" * fields.TEMPLATE_NAME,
            "goal": "g" * fields.TEMPLATE_GOAL,
            "tone": "t" * fields.TEMPLATE_TONE,
            "description": "d" * fields.TEMPLATE_DESCRIPTION,
            "allowed_channels": ["email"],
            "steps": [{"channel": "email", "delay_seconds": 0}, {"channel": "email", "delay_seconds": 86400}],
            "sender": {"name": "s" * fields.SENDER_NAME, "email": "hello@example.com"},
        },
    )
    assert template.status_code == 201, template.text
    local = "l" * 64
    email = f"{local}@{'d' * 60}.{'e' * 60}.{'f' * 63}.com"  # 254: the longest address email-validator takes
    contact = {
        "first_name": "F" * fields.PERSON_NAME,
        "last_name": "L" * fields.PERSON_NAME,
        "company": "C" * fields.COMPANY,
        "notes": "N" * fields.NOTES,
        "emails": [email],
        "language": "es-" + "-".join(["abcdefgh"] * 3) + "-abcde",
        "timezone": "America/Argentina/ComodRivadavia",
    }
    assert len(contact["language"]) == fields.LANGUAGE_TAG
    metadata = {f"{i:0>{fields.METADATA_KEY}}": "v" * fields.METADATA_VALUE for i in range(fields.METADATA_ENTRIES)}
    started = db_api.post(
        "/api/v1/sequences/start",
        {
            "template_id": template.json["id"],
            "contact": contact,
            "metadata": metadata,
            "idempotency_key": "k" * fields.IDEMPOTENCY_KEY,
        },
    )
    assert started.status_code == 202, started.text
    enrollment_id = started.json["enrollment_id"]
    wait_for(lambda: db_api.get(f"/api/v1/sequences/enrollments/{enrollment_id}").json["status"] == "pending_approval")

    reason = "r" * fields.DECISION_REASON
    assert db_api.post(f"/api/v1/sequences/enrollments/{enrollment_id}/cancel", {"reason": reason}).status_code == 200
    view = wait_for(
        lambda: (v := db_api.get(f"/api/v1/sequences/enrollments/{enrollment_id}").json)["status"] == "stopped" and v
    )
    assert view["status_reason"] == reason
    assert {step["state"] for step in view["steps"]} == {"canceled"}
    assert db_api.get(f"/api/v1/contacts/{started.json['contact_id']}").json["first_name"] == contact["first_name"]

    other = pending(db_api, 1)
    other_contact = db_api.get(f"/api/v1/sequences/enrollments/{other}").json["contact_id"]
    note = "o" * fields.EVENT_NOTE
    event = db_api.post(f"/api/v1/contacts/{other_contact}/events", {"type": "opted_out", "note": note})
    assert event.status_code == 202, event.text
    stopped = wait_for(
        lambda: (v := db_api.get(f"/api/v1/sequences/enrollments/{other}").json)["status"] == "stopped" and v
    )
    assert stopped["status_reason"] == f"contact opted out: {note}"
    rejected = pending(db_api, 2)
    assert db_api.post(f"/api/v1/sequences/enrollments/{rejected}/reject", {"reason": reason}).status_code == 200
    assert wait_for(lambda: db_api.get(f"/api/v1/sequences/enrollments/{rejected}").json["status"] == "rejected")


def test_a_language_tag_longer_than_its_column_is_refused(api):
    contact = {**seed_lead(api.template_id)["contact"], "language": "es-" + "-".join(["abcdefgh"] * 4)}

    result = api.post("/api/v1/sequences/start", seed_lead(api.template_id, contact=contact))

    assert assert_envelope(result, 422, "validation_error")["details"]["field"] == "contact.language"


@pytest.mark.parametrize("link", ["evil.example/x", "bit.ly/abc", "//evil.example/x", "ftp://evil.example"])
def test_links_in_the_name_or_company_never_reach_the_content(api, link):
    """Issue 13 item 5: the writer copies the name and company into the text; the guard takes links out."""
    contact = {**seed_lead(api.template_id)["contact"], "first_name": link, "company": link, "language": "en"}
    enrollment_id = api.post(
        "/api/v1/sequences/start", seed_lead(api.template_id, contact=contact, auto_approve=False)
    ).json["enrollment_id"]

    view = wait_for(
        lambda: (
            (v := api.get(f"/api/v1/sequences/enrollments/{enrollment_id}").json)["status"] == "pending_approval" and v
        )
    )
    texts = [step.get(part) for step in view["steps"] for part in ("subject", "body", "script") if step.get(part)]
    assert texts
    host = link.split("//")[-1].split("/")[0]
    assert not [text for text in texts if host in text.lower()]  # the writer may capitalise the name
