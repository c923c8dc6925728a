"""The template validator: the parsed form, its limits, and the field named when a body is wrong."""

from __future__ import annotations

import copy

import pytest

from ringback.engine.errors import InvalidInput
from ringback.engine.model import Channel, StepPlan
from ringback.engine.template import MAX_DELAY_SECONDS, MAX_STEPS, Sender, parse_template, template_from_json

BASE = {
    "name": "Callback",
    "goal": "Call the lead back and book a discovery call.",
    "allowed_channels": ["voice", "email"],
    "steps": [{"channel": "voice", "delay_seconds": 0}, {"channel": "email", "delay_seconds": 120}],
    "sender": {"name": "Acme", "email": "hello@example.com", "phone": "+14155550100"},
}


def _body(**changes: object) -> dict:
    body = copy.deepcopy(BASE)
    body.update(changes)
    return body


def _field_of(body: object) -> str:
    with pytest.raises(InvalidInput) as error:
        parse_template(body)
    return error.value.field


def test_a_valid_body_parses_with_defaults():
    template = parse_template(_body())

    assert template.name == "Callback"
    assert template.tone == "friendly and professional" and template.description == ""
    assert template.allowed_channels == frozenset({Channel.VOICE, Channel.EMAIL})
    assert template.steps == (StepPlan(0, Channel.VOICE, 0), StepPlan(1, Channel.EMAIL, 120))
    assert template.sender == Sender(name="Acme", email="hello@example.com", phone="+14155550100")
    assert (template.connect_number, template.link_allowlist) == (None, ())


def test_optional_fields_are_normalised():
    template = parse_template(
        _body(
            name="  Callback  ",
            connect_number="+34 911 23 45 67",
            link_allowlist=[" Example.COM ", "docs.example.org"],
            sender={"name": "Acme", "email": "Hello@Example.COM", "phone": "+1 415 555 0100"},
        )
    )

    assert template.name == "Callback"
    assert template.connect_number == "+34911234567"
    assert template.link_allowlist == ("example.com", "docs.example.org")
    assert template.sender.email == "Hello@example.com" and template.sender.phone == "+14155550100"


def test_the_stored_form_rebuilds_the_same_template():
    template = parse_template(
        _body(description="For the web form", tone="warm", connect_number="+34911234567", link_allowlist=["a.io"])
    )

    assert template_from_json(template.to_json()) == template


def test_limits_are_inclusive():
    steps = [{"channel": "email", "delay_seconds": 0}] + [{"channel": "email", "delay_seconds": MAX_DELAY_SECONDS}] * (
        MAX_STEPS - 1
    )

    assert len(parse_template(_body(steps=steps)).steps) == MAX_STEPS
    assert _field_of(_body(steps=[*steps, {"channel": "email", "delay_seconds": 0}])) == "steps"


def test_allowed_channels_may_hold_channels_no_step_uses():
    template = parse_template(_body(allowed_channels=["voice", "email", "sms"]))

    assert Channel.SMS in template.allowed_channels


def test_an_sms_template_may_send_through_a_messaging_service():
    body = _body(
        allowed_channels=["sms"],
        steps=[{"channel": "sms", "delay_seconds": 0}],
        sender={"name": "Acme", "messaging_service_sid": "MG" + "0123456789abcdef" * 2},
    )

    assert parse_template(body).sender.messaging_service_sid == "MG" + "0123456789abcdef" * 2


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"auto_aprove": True}, "auto_aprove"),
        ({"allowed_channels": ["email", "telegram"]}, "allowed_channels[1]"),
        ({"allowed_channels": None}, "allowed_channels"),
        ({"allowed_channels": ["voice"]}, "steps[1].channel"),
        ({"steps": "voice then email"}, "steps"),
        ({"steps": [["voice", 0]]}, "steps[0]"),
        (
            {"steps": [{"channel": "voice", "delay_seconds": 0}, {"channel": "email", "delay_seconds": -60}]},
            "steps[1].delay_seconds",
        ),
        (
            {
                "steps": [
                    {"channel": "voice", "delay_seconds": 0},
                    {"channel": "email", "delay_seconds": MAX_DELAY_SECONDS + 1},
                ]
            },
            "steps[1].delay_seconds",
        ),
        (
            {"steps": [{"channel": "voice", "delay_seconds": 0}, {"channel": "email", "delay_seconds": 1.5}]},
            "steps[1].delay_seconds",
        ),
        ({"steps": [{"channel": "voice", "delay_seconds": 5}]}, "steps[0].delay_seconds"),
        ({"sender": {"name": "Acme", "phone": "+14155550100"}}, "sender.email"),
        ({"sender": {"name": "Acme", "email": "hello@example.com"}}, "sender.phone"),
        ({"sender": {"name": "Acme", "email": ["hello@example.com"], "phone": "+14155550100"}}, "sender.email"),
        ({"sender": {**BASE["sender"], "messaging_service_sid": "MG123"}}, "sender.messaging_service_sid"),
        ({"sender": {**BASE["sender"], "name": "x" * 101}}, "sender.name"),
        ({"sender": None}, "sender"),
        ({"name": None}, "name"),
        ({"goal": "x" * 2001}, "goal"),
        ({"tone": "x" * 201}, "tone"),
        ({"description": 5}, "description"),
        ({"link_allowlist": "example.com"}, "link_allowlist"),
        ({"link_allowlist": ["example.com"] * 51}, "link_allowlist"),
        ({"link_allowlist": ["example.com", "localhost"]}, "link_allowlist[1]"),
        ({"connect_number": "+1"}, "connect_number"),
    ],
)
def test_each_bad_field_is_named(changes, field):
    assert _field_of(_body(**changes)) == field


def test_a_body_that_is_not_an_object_is_refused():
    assert _field_of([BASE]) == "body"


def test_sender_company_title_and_writer_facts_parse_and_round_trip():
    template = parse_template(
        _body(
            sender={
                "name": "Dana Whitfield",
                "company": "Ringback",
                "title": "Account Executive",
                "email": "dana@example.com",
                "phone": "+14155550100",
            },
            value_proposition="Call every web lead back within a minute",
            call_to_action="Book a 15-minute call",
            facts=["Two-way sync with HubSpot", "SSO on the Enterprise plan"],
            sms_max_segments=3,
        )
    )

    assert (template.sender.company, template.sender.title) == ("Ringback", "Account Executive")
    assert template.facts == ("Two-way sync with HubSpot", "SSO on the Enterprise plan")
    assert template.sms_max_segments == 3
    assert template_from_json(template.to_json()) == template
    assert parse_template(_body()).sms_max_segments == 2


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"facts": "not a list"}, "facts"),
        ({"facts": ["ok"] * 11}, "facts"),
        ({"facts": ["x" * 301]}, "facts[0]"),
        ({"facts": [3]}, "facts[0]"),
        ({"value_proposition": "x" * 501}, "value_proposition"),
        ({"call_to_action": 5}, "call_to_action"),
        ({"sms_max_segments": 0}, "sms_max_segments"),
        ({"sms_max_segments": True}, "sms_max_segments"),
        (
            {"sender": {"name": "A", "email": "a@example.com", "phone": "+14155550100", "company": "x" * 101}},
            "sender.company",
        ),
    ],
)
def test_bad_writer_fields_name_the_field(changes, field):
    assert _field_of(_body(**changes)) == field


def test_allowed_weekdays_default_to_every_day_and_round_trip():
    assert parse_template(_body()).allowed_weekdays == frozenset(range(1, 8))

    template = parse_template(_body(allowed_weekdays="mon-fri"))

    assert template.allowed_weekdays == frozenset({1, 2, 3, 4, 5})
    assert template.to_json()["allowed_weekdays"] == "mon,tue,wed,thu,fri"
    assert template_from_json(template.to_json()) == template


@pytest.mark.parametrize("value", ["weekends", "", ["mon"], 5, "mon-funday"])
def test_bad_allowed_weekdays_name_the_field(value):
    assert _field_of(_body(allowed_weekdays=value)) == "allowed_weekdays"
