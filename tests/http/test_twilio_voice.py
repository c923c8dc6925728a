"""`POST /webhooks/twilio/voice`: Twilio asks what a call says once it knows who answered.

The call steps go out through the sandbox (test key); the requests are what Twilio would post when the call
is answered, signed with the account's auth token.
"""

from __future__ import annotations

from xml.etree import ElementTree

import pytest

from ringback.demo import DEMO_TEMPLATE
from ringback.providers.channels.twiml import GOODBYE
from ringback.storage import sandbox
from tests.conftest import Api
from tests.fakes.fake_twilio import AUTH_TOKEN
from tests.http.test_webhooks import build_api, first_step_sent, twilio_post

CONNECT = "+34910000000"
MACHINE_ANSWERS = ["machine_start", "machine_end_beep", "machine_end_silence", "machine_end_other", "fax"]


@pytest.fixture
def api(make_node, clock) -> Api:
    return build_api(make_node, clock, twilio_auth_token=AUTH_TOKEN)


def answer(api, step_id: str, answered_by: str | None, **forgery):
    params = {"CallSid": "CA1", "CallStatus": "in-progress", "To": "+34911234567", "From": "+14155550100"}
    if answered_by is not None:
        params["AnsweredBy"] = answered_by
    return twilio_post(api, f"/webhooks/twilio/voice?step={step_id}", params, **forgery)


def twiml(result) -> ElementTree.Element:
    assert result.status_code == 200
    assert result.headers["Content-Type"].startswith("text/xml")
    return ElementTree.fromstring(result.text)


def connect_template(api) -> str:
    created = api.post("/api/v1/templates", {**DEMO_TEMPLATE, "name": "Call and connect", "connect_number": CONNECT})
    assert created.status_code == 201, created.json
    return created.json["id"]


@pytest.mark.parametrize("answered_by", ["human", "unknown", None])
def test_a_person_hears_the_live_script_in_the_leads_language(api, answered_by):
    _, step = first_step_sent(api)

    root = twiml(answer(api, step["id"], answered_by))

    assert [child.tag for child in root] == ["Pause", "Say"]
    say = root.find("Say")
    assert say.text == step["script"]
    assert say.get("language") == "es-ES"
    assert "?" in step["script"]


@pytest.mark.parametrize("answered_by", MACHINE_ANSWERS)
def test_a_machine_gets_the_voicemail_script_after_the_beep_and_nobody_is_dialled(api, answered_by):
    _, step = first_step_sent(api, connect_template(api))

    root = twiml(answer(api, step["id"], answered_by))

    assert [child.tag for child in root] == ["Say"]  # no pause: the recording started with the beep
    assert root.find("Say").text == step["voicemail_script"]
    assert root.find("Say").get("language") == "es-ES"
    assert "?" not in step["voicemail_script"] and "¿" not in step["voicemail_script"]


def test_a_person_is_put_through_to_the_connect_number_after_the_live_script(api):
    _, step = first_step_sent(api, connect_template(api))

    root = twiml(answer(api, step["id"], "human"))

    assert [child.tag for child in root] == ["Pause", "Say", "Dial"]
    assert root.find("Say").text == step["script"]
    assert root.find("Dial").text == CONNECT


def test_the_status_view_and_the_sandbox_hold_both_scripts(api):
    _, step = first_step_sent(api)

    assert step["script"] and step["voicemail_script"] and step["script"] != step["voicemail_script"]
    (recorded,) = sandbox.deliveries(step["id"])
    assert (recorded["body"], recorded["voicemail"]) == (step["script"], step["voicemail_script"])


@pytest.mark.parametrize("step_id", ["stp_01HV0000000000000000000000", "st_unknown", "", "x" * 5_000])
def test_an_unknown_step_gets_a_polite_goodbye_not_an_error(api, step_id):
    root = twiml(answer(api, step_id, "human"))

    assert [child.tag for child in root] == ["Say", "Hangup"]
    assert root.find("Say").text == GOODBYE


def test_a_step_that_is_not_a_call_gets_the_goodbye(api):
    email = api.post(
        "/api/v1/templates",
        {**DEMO_TEMPLATE, "name": "Email only", "allowed_channels": ["email"], "steps": [{"channel": "email"}]},
    )
    _, step = first_step_sent(api, email.json["id"])

    assert [child.tag for child in twiml(answer(api, step["id"], "human"))] == ["Say", "Hangup"]


@pytest.mark.parametrize(
    "forgery",
    [{"signature": None}, {"signature": "bm90IGEgc2lnbmF0dXJl"}, {"auth_token": "someone-elses-token"}],
)
def test_a_forged_request_is_refused_and_learns_no_script(api, forgery):
    _, step = first_step_sent(api)

    result = answer(api, step["id"], "human", **forgery)

    assert result.status_code == 403
    assert result.json["error"]["code"] == "forbidden"
    assert step["script"] not in result.text
