"""/api/v1/workspace: read and change the calling key's own workspace settings, through the real app."""

from __future__ import annotations

import pytest

from ringback.demo import DEMO_TEMPLATE
from ringback.engine.model import Channel
from ringback.storage import accounts
from tests.conftest import seed_lead

CHANGE = {
    "admin_emails": ["Ops@Example.com", "boss@example.com", "ops@example.com"],
    "default_language": "FR",
    "default_timezone": "europe/paris",
    "default_region": "fr",
    "calling_window": {"start": "09:00", "end": "19:00", "days": "mon-fri"},
    "default_sender": {"name": "Acme", "email": "hello@example.com", "phone": "+33142685300"},
    "sending_limits": {"email": {"daily": 300, "hourly": 100}, "voice": {"daily": 100}, "email_domain_per_minute": 5},
}
NO_LIMITS = {
    "email": {"daily": None, "hourly": None},
    "sms": {"daily": None, "hourly": None},
    "voice": {"daily": None, "hourly": None},
    "email_domain_per_minute": None,
}


def test_get_shows_the_workspace_of_the_key(api):
    answer = api.get("/api/v1/workspace")

    assert answer.status_code == 200
    assert answer.json == {
        "id": api.workspace_id,
        "name": "Demo workspace",
        "plan": "standard",
        "features": ["api_access", "sequences"],
        "admin_emails": ["admin@example.com"],
        "default_language": "en",
        "default_timezone": "UTC",
        "default_region": None,
        "calling_window": {"start": "08:00", "end": "21:00", "days": "mon-sun"},
        "default_sender": None,
        "sending_limits": NO_LIMITS,
    }


def test_patch_changes_every_setting_normalised_and_get_shows_it(api):
    answer = api.patch("/api/v1/workspace", CHANGE)

    assert answer.status_code == 200
    assert answer.json["admin_emails"] == ["Ops@example.com", "boss@example.com"]  # one per address
    assert (answer.json["default_language"], answer.json["default_timezone"]) == ("fr", "Europe/Paris")
    assert answer.json["default_region"] == "FR"
    assert answer.json["calling_window"] == CHANGE["calling_window"]
    assert answer.json["default_sender"] == CHANGE["default_sender"]
    assert answer.json["sending_limits"] == {
        **NO_LIMITS,
        "email": {"daily": 300, "hourly": 100},
        "voice": {"daily": 100, "hourly": None},
        "email_domain_per_minute": 5,
    }
    assert api.get("/api/v1/workspace").json == answer.json


def test_sending_limits_apply_to_the_running_node_and_null_removes_them(api, node):
    api.patch("/api/v1/workspace", {"default_timezone": "Europe/Madrid", "sending_limits": {"sms": {"hourly": 20}}})
    policy = node._policy(api.workspace_id)
    assert (policy.zone, policy.limits.caps_for(Channel.SMS).hourly) == ("Europe/Madrid", 20)

    answer = api.patch("/api/v1/workspace", {"sending_limits": None})

    assert answer.json["sending_limits"] == NO_LIMITS
    assert not node._policy(api.workspace_id).limits.limits(Channel.SMS)


def test_patch_changes_only_what_it_names(api):
    api.patch("/api/v1/workspace", CHANGE)

    answer = api.patch("/api/v1/workspace", {"default_region": None})

    assert answer.json["default_region"] is None
    assert answer.json["default_timezone"] == "Europe/Paris"


def test_a_national_number_is_accepted_once_the_workspace_has_a_region(api):
    lead = seed_lead(api.template_id, idempotency_key="lead-fr-1")
    lead["contact"] = {**lead["contact"], "phone_numbers": ["06 12 34 56 78"]}
    refused = api.post("/api/v1/sequences/start", lead)
    assert refused.status_code == 422 and refused.json["error"]["details"]["field"] == "contact.phone_numbers[0]"

    api.patch("/api/v1/workspace", {"default_region": "FR"})
    accepted = api.post("/api/v1/sequences/start", {**lead, "idempotency_key": "lead-fr-2"})

    assert accepted.status_code == 202
    contact = api.get(f"/api/v1/contacts/{accepted.json['contact_id']}").json
    assert contact["phone_numbers"] == ["+33612345678"]


def test_a_new_calling_window_applies_to_the_running_node_at_once(api, node):
    before = node._policy(api.workspace_id).window

    api.patch("/api/v1/workspace", {"calling_window": {"start": "10:30", "end": "12:00", "days": "sat,sun"}})

    after = node._policy(api.workspace_id).window
    assert (before.start.hour, after.start.hour, after.start.minute, sorted(after.days)) == (8, 10, 30, [6, 7])


def test_a_template_without_a_sender_uses_the_default_sender(api):
    body = {k: v for k, v in DEMO_TEMPLATE.items() if k != "sender"}
    refused = api.post("/api/v1/templates", body)
    assert refused.status_code == 422 and refused.json["error"]["details"]["field"] == "sender"

    api.patch("/api/v1/workspace", {"default_sender": CHANGE["default_sender"]})
    created = api.post("/api/v1/templates", body)

    assert created.status_code == 201
    assert created.json["sender"] == CHANGE["default_sender"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"admin_emails": "ops@example.com"}, "admin_emails"),
        ({"admin_emails": ["ops@example.com", "nope"]}, "admin_emails[1]"),
        ({"admin_emails": [f"a{i}@example.com" for i in range(21)]}, "admin_emails"),
        ({"default_language": "klingon"}, "default_language"),
        ({"default_language": 7}, "default_language"),
        ({"default_timezone": "Mars/Olympus"}, "default_timezone"),
        ({"default_region": "ZZ"}, "default_region"),
        ({"calling_window": {"start": "09:00"}}, "calling_window"),
        ({"calling_window": {"start": "21:00", "end": "08:00"}}, "calling_window"),
        ({"calling_window": {"start": "25:00", "end": "26:00"}}, "calling_window"),
        ({"calling_window": {"start": "09:00", "end": "17:00", "days": "someday"}}, "calling_window"),
        ({"default_sender": {"email": "hello@example.com"}}, "default_sender.name"),
        ({"default_sender": {"name": "Acme", "email": "not-an-email"}}, "default_sender.email"),
        ({"default_sender": {"name": "Acme", "fax": "+1"}}, "default_sender.fax"),
        ({"sending_limits": 300}, "sending_limits"),
        ({"sending_limits": {"fax": {"daily": 1}}}, "sending_limits.fax"),
        ({"sending_limits": {"email": 300}}, "sending_limits.email"),
        ({"sending_limits": {"email": {"weekly": 300}}}, "sending_limits.email"),
        ({"sending_limits": {"email": {"daily": 0}}}, "sending_limits.email.daily"),
        ({"sending_limits": {"email": {"daily": -5}}}, "sending_limits.email.daily"),
        ({"sending_limits": {"email": {"daily": "300"}}}, "sending_limits.email.daily"),
        ({"sending_limits": {"voice": {"hourly": 2.5}}}, "sending_limits.voice.hourly"),
        ({"sending_limits": {"sms": {"daily": True}}}, "sending_limits.sms.daily"),
        ({"sending_limits": {"email": {"daily": 1_000_001}}}, "sending_limits.email.daily"),
        ({"sending_limits": {"email_domain_per_minute": 0}}, "sending_limits.email_domain_per_minute"),
        ({"plan": "pro"}, "plan"),
        ({"name": "Renamed"}, "name"),
        ({}, "body"),
        ([], "body"),
        ({"default_language": "es", "default_region": "ZZ"}, "default_region"),
    ],
)
def test_bad_settings_are_a_422_naming_the_field_and_change_nothing(api, body, field):
    before = api.get("/api/v1/workspace").json

    answer = api.patch("/api/v1/workspace", body)

    assert answer.status_code == 422
    assert answer.json["error"]["code"] == "validation_error"
    assert answer.json["error"]["details"] == {"field": field}
    assert api.get("/api/v1/workspace").json == before


def test_malformed_json_is_a_400_in_the_envelope(api):
    answer = api.client.simulate_patch(
        "/api/v1/workspace", body="{not json", headers=api.headers(**{"Content-Type": "application/json"})
    )

    assert answer.status_code == 400 and answer.json["error"]["code"] == "bad_request"


def test_a_read_only_key_reads_but_may_not_change_settings(api, clock):
    _, read_only = accounts.create_key(api.workspace_id, clock.now(), scopes=frozenset({"read"}))

    assert api.get("/api/v1/workspace", key=read_only).status_code == 200
    answer = api.patch("/api/v1/workspace", {"default_language": "es"}, key=read_only)

    assert answer.status_code == 403 and answer.json["error"]["details"] == {"scope": "write"}
    assert api.get("/api/v1/workspace").json["default_language"] == "en"


def test_without_a_key_it_is_a_401(api):
    assert api.client.simulate_get("/api/v1/workspace").status_code == 401
    assert api.client.simulate_patch("/api/v1/workspace", json={"default_language": "es"}).status_code == 401


def test_each_key_sees_and_changes_only_its_own_workspace(api, clock):
    other = accounts.create_workspace("Globex", clock.now(), admin_emails=("globex@example.com",))
    _, other_key = accounts.create_key(other.id, clock.now())

    api.patch("/api/v1/workspace", {"default_language": "es"}, key=other_key)

    assert api.get("/api/v1/workspace", key=other_key).json["id"] == other.id
    assert api.get("/api/v1/workspace", key=other_key).json["default_language"] == "es"
    mine = api.get("/api/v1/workspace").json
    assert (mine["id"], mine["default_language"]) == (api.workspace_id, "en")
    assert mine["admin_emails"] == ["admin@example.com"]
