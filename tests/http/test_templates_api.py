"""/api/v1/templates: create (validated, 422 naming the field), list and show."""

from __future__ import annotations

import copy
import re

import pytest

from ringback.demo import DEMO_TEMPLATE

TEMPLATE_ID = re.compile(r"^tpl_[0-9A-HJKMNP-TV-Z]{26}$")  # a ULID in Crockford base32


def _body(**changes: object) -> dict:
    body = copy.deepcopy(DEMO_TEMPLATE)
    body.update(changes)
    return body


def test_create_answers_201_with_the_template_and_its_location(api):
    answer = api.post("/api/v1/templates", DEMO_TEMPLATE)

    assert answer.status_code == 201
    view = answer.json
    assert TEMPLATE_ID.match(view["id"])
    assert answer.headers["Location"] == f"/api/v1/templates/{view['id']}"
    assert view["name"] == DEMO_TEMPLATE["name"]
    assert view["allowed_channels"] == ["email", "voice"]
    assert view["steps"] == DEMO_TEMPLATE["steps"]
    assert view["sender"] == DEMO_TEMPLATE["sender"]
    assert view["created_at"].startswith("2026-05-06T10:00:00")


def test_show_answers_what_create_answered(api):
    created = api.post("/api/v1/templates", _body(name="Spanish callback", tone="cercano")).json

    shown = api.get(f"/api/v1/templates/{created['id']}")

    assert (shown.status_code, shown.json) == (200, created)


def test_list_holds_every_template_of_the_workspace_oldest_first(api):
    created = api.post("/api/v1/templates", _body(name="Second")).json

    listing = api.get("/api/v1/templates")

    assert listing.status_code == 200
    assert [t["id"] for t in listing.json["data"]] == [api.template_id, created["id"]]


@pytest.mark.parametrize("template_id", ["tpl_01HV0000000000000000000000", "abc", "ct_01HV0000000000000000000000"])
def test_an_unknown_or_malformed_id_is_a_404(api, template_id):
    answer = api.get(f"/api/v1/templates/{template_id}")

    assert answer.status_code == 404
    assert answer.json["error"]["code"] == "not_found"


SMS_ONLY = {"allowed_channels": ["sms"], "steps": [{"channel": "sms", "delay_seconds": 0}]}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"allowed_channels": ["voice", "fax"]}, "allowed_channels[1]"),
        ({"allowed_channels": []}, "allowed_channels"),
        ({"allowed_channels": "voice,email"}, "allowed_channels"),
        ({"allowed_channels": ["voice"]}, "steps[1].channel"),  # email steps, email not allowed
        ({"steps": [{"channel": "pigeon", "delay_seconds": 0}]}, "steps[0].channel"),
        (
            {"steps": [{"channel": "voice", "delay_seconds": 0}, {"channel": "email", "delay_seconds": -1}]},
            "steps[1].delay_seconds",
        ),
        (
            {"steps": [{"channel": "voice", "delay_seconds": 0}, {"channel": "email", "delay_seconds": 61 * 86400}]},
            "steps[1].delay_seconds",
        ),
        (
            {"steps": [{"channel": "voice", "delay_seconds": 0}, {"channel": "email", "delay_seconds": "120"}]},
            "steps[1].delay_seconds",
        ),
        (
            {"steps": [{"channel": "voice", "delay_seconds": 0}, {"channel": "email", "delay_seconds": True}]},
            "steps[1].delay_seconds",
        ),
        ({"steps": [{"channel": "voice", "delay_seconds": 60}]}, "steps[0].delay_seconds"),
        ({"steps": [{"channel": "voice", "delay_seconds": 0, "wait": 5}]}, "steps[0]"),
        ({"steps": []}, "steps"),
        ({"steps": [{"channel": "voice", "delay_seconds": 0}] * 11}, "steps"),
        ({"sender": {"name": "Acme", "phone": "+14155550100"}}, "sender.email"),  # email steps, no sender email
        ({"sender": {"name": "Acme", "email": "hello@example.com"}}, "sender.phone"),  # voice steps, no phone
        ({**SMS_ONLY, "sender": {"name": "Acme", "email": "hello@example.com"}}, "sender.phone"),
        ({"sender": {"name": "Acme", "email": "not-an-email", "phone": "+14155550100"}}, "sender.email"),
        ({"sender": {"name": "Acme", "email": "hello@example.com", "phone": "555-0100"}}, "sender.phone"),
        ({"sender": {"email": "hello@example.com", "phone": "+14155550100"}}, "sender.name"),
        ({"sender": {**DEMO_TEMPLATE["sender"], "reply_to": "x@example.com"}}, "sender.reply_to"),
        ({"sender": "Acme"}, "sender"),
        ({"auto_aprove": True}, "auto_aprove"),
        ({"name": ""}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"goal": None}, "goal"),
        ({"link_allowlist": ["https://example.com/path"]}, "link_allowlist[0]"),
        ({"connect_number": "call me"}, "connect_number"),
    ],
)
def test_each_bad_field_is_a_422_naming_it(api, changes, field):
    answer = api.post("/api/v1/templates", _body(**changes))

    assert answer.status_code == 422, answer.json
    assert answer.json["error"]["code"] == "validation_error"
    assert answer.json["error"]["details"] == {"field": field}
    assert len(api.get("/api/v1/templates").json["data"]) == 1  # nothing was stored


def test_sms_steps_may_send_through_a_messaging_service(api):
    body = _body(**SMS_ONLY, sender={"name": "Acme", "messaging_service_sid": "MG" + "a" * 32})

    assert api.post("/api/v1/templates", body).status_code == 201


def test_a_body_that_is_not_an_object_is_a_422_and_bad_json_a_400(api):
    listed = api.post("/api/v1/templates", [DEMO_TEMPLATE])
    assert (listed.status_code, listed.json["error"]["details"]) == (422, {"field": "body"})

    broken = api.client.simulate_post(
        "/api/v1/templates", body="{not json", headers=api.headers(**{"Content-Type": "application/json"})
    )
    assert (broken.status_code, broken.json["error"]["code"]) == (400, "bad_request")

    form = api.client.simulate_post(
        "/api/v1/templates", body="name=x", headers=api.headers(**{"Content-Type": "application/x-www-form-urlencoded"})
    )
    assert (form.status_code, form.json["error"]["code"]) == (415, "unsupported_media_type")
