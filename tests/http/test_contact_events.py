"""POST /api/v1/contacts/{id}/events: the customer reports what happened; the contact's sequences stop."""

from __future__ import annotations

import pytest

from ringback.demo import bootstrap
from tests.conftest import Api, seed_lead, wait_for


@pytest.fixture
def lead(api) -> dict:
    return api.post("/api/v1/sequences/start", seed_lead(api.template_id)).json


def events(api: Api, contact_id: str, body: object, key: str | None = None):
    return api.post(f"/api/v1/contacts/{contact_id}/events", body, key=key)


def stopped(api: Api, enrollment_id: str) -> dict:
    return wait_for(
        lambda: (v := api.get(f"/api/v1/sequences/enrollments/{enrollment_id}").json)["status"] == "stopped" and v
    )


@pytest.mark.parametrize(
    ("kind", "reason", "suppressed"),
    [
        ("replied", "contact replied", []),
        ("meeting_booked", "meeting booked", []),
        ("bounced", "email bounced", ["email"]),
        ("opted_out", "contact opted out", ["email", "sms", "voice"]),
    ],
)
def test_each_event_stops_the_sequences(api, lead, kind, reason, suppressed):
    result = events(api, lead["contact_id"], {"type": kind})

    assert result.status_code == 202
    assert result.json == {
        "contact_id": lead["contact_id"],
        "type": kind,
        "stopping_enrollments": [lead["enrollment_id"]],
        "suppressed_channels": suppressed,
    }
    assert stopped(api, lead["enrollment_id"])["status_reason"] == reason
    assert api.get(f"/api/v1/contacts/{lead['contact_id']}").json["suppressed_channels"] == suppressed


def test_the_note_is_kept_in_the_stop_reason(api, lead):
    events(api, lead["contact_id"], {"type": "meeting_booked", "note": "Demo on\nTuesday 10:00"})

    assert stopped(api, lead["enrollment_id"])["status_reason"] == "meeting booked: Demo on Tuesday 10:00"


def test_a_contact_without_open_sequences_is_accepted(api, lead):
    events(api, lead["contact_id"], {"type": "replied"})
    stopped(api, lead["enrollment_id"])

    result = events(api, lead["contact_id"], {"type": "replied"})

    assert result.status_code == 202
    assert result.json["stopping_enrollments"] == []


def test_another_workspaces_contact_is_not_found(api, lead, clock):
    other = bootstrap(clock.now(), name="Other workspace")

    result = events(api, lead["contact_id"], {"type": "opted_out"}, key=other.api_key)

    assert result.status_code == 404
    assert result.json["error"]["code"] == "not_found"
    assert api.get(f"/api/v1/contacts/{lead['contact_id']}").json["suppressed_channels"] == []


def test_unknown_contact_is_not_found(api):
    assert events(api, "ct_01JUNKJUNKJUNKJUNKJUNKJUNK", {"type": "replied"}).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"type": "unsubscribed"}, "type"),
        ({}, "type"),
        ({"type": "replied", "note": 7}, "note"),
        ({"type": "replied", "note": "x" * 201}, "note"),
        (["replied"], "body"),
    ],
)
def test_invalid_events_are_refused(api, lead, body, field):
    result = events(api, lead["contact_id"], body)

    assert result.status_code == 422
    assert result.json["error"]["code"] == "validation_error"
    assert result.json["error"]["details"] == {"field": field}
