"""Twilio webhooks through the real app and actors: signed status callbacks and inbound SMS.

Steps go out through the sandbox (test key); the callbacks are what Twilio would post for them.
Webhook effects are asynchronous (the supervisor applies them), so "nothing changed" is proved by
sending a later, visible event (a cancel) and checking the earlier ones left no trace when it lands.
"""

from __future__ import annotations

from datetime import timedelta

import falcon.testing
import pytest

from ringback.demo import bootstrap
from tests.conftest import POSTGRES_URL, Api, seed_lead, wait_for
from tests.fakes.fake_twilio import AUTH_TOKEN, webhook
from tests.storage.conftest import _reset_postgres

PUBLIC_URL = "https://ringback.example"
MARIA = "+34911234567"
SMS_TEMPLATE = {
    "name": "SMS then email",
    "goal": "Book a demo.",
    "allowed_channels": ["sms", "email"],
    "steps": [{"channel": "sms", "delay_seconds": 0}, {"channel": "email", "delay_seconds": 3600}],
    "sender": {"name": "Acme", "email": "sales@acme.example", "phone": "+14155550100"},
}
ALL_CHANNELS = ["email", "sms", "voice"]


def build_api(make_node, clock, **settings) -> Api:
    node = make_node(public_url=PUBLIC_URL, **settings)
    demo = bootstrap(clock.now(), admin_emails=("admin@example.com",))
    return Api(falcon.testing.TestClient(node.app), demo.api_key, demo.workspace_id, demo.template_id)


@pytest.fixture
def api(make_node, clock) -> Api:
    return build_api(make_node, clock, twilio_auth_token=AUTH_TOKEN)


SIGNED = object()


def twilio_post(api: Api, path: str, params: dict[str, str], auth_token: str = AUTH_TOKEN, signature=SIGNED):
    """POST like Twilio; another `auth_token` or an explicit `signature` (None: no header) forge it."""
    body, headers = webhook(PUBLIC_URL, path, params, auth_token)
    if signature is not SIGNED:
        del headers["X-Twilio-Signature"]
        if signature is not None:
            headers["X-Twilio-Signature"] = signature
    return api.client.simulate_post(path, body=body, headers=headers)


def view(api: Api, enrollment_id: str) -> dict:
    return api.get(f"/api/v1/sequences/enrollments/{enrollment_id}").json


def start(api: Api, template_id: str | None = None, **lead) -> dict:
    response = api.post("/api/v1/sequences/start", seed_lead(template_id or api.template_id, **lead))
    assert response.status_code == 202, response.json
    return response.json


def first_step_sent(api: Api, template_id: str | None = None) -> tuple[str, dict]:
    """Start the seed lead and wait until its first step went out; (enrollment id, step view)."""
    enrollment_id = start(api, template_id)["enrollment_id"]
    step = wait_for(lambda: (s := view(api, enrollment_id)["steps"][0])["state"] == "sent" and s)
    return enrollment_id, step


def cancel_and_settle(api: Api, enrollment_id: str) -> dict:
    """Cancel, and wait until the cancel is applied: every earlier event has been applied by then."""
    assert api.post(f"/api/v1/sequences/enrollments/{enrollment_id}/cancel").status_code == 200
    return wait_for(lambda: (v := view(api, enrollment_id))["status"] == "stopped" and v)


def kinds(enrollment: dict, kind: str) -> int:
    return sum(1 for entry in enrollment["timeline"] if entry["kind"] == kind)


def is_twiml(result) -> bool:
    return result.headers["Content-Type"].startswith("text/xml") and "<Response" in result.text


# --- status callbacks ------------------------------------------------------------------------------


def test_signed_call_callbacks_move_the_step_to_delivered(api, clock):
    enrollment_id, step = first_step_sent(api)
    path = f"/webhooks/twilio/status?step={step['id']}"

    ringing = twilio_post(api, path, {"CallSid": "CA1", "CallStatus": "ringing"})
    clock.advance(timedelta(seconds=20))
    answered = twilio_post(api, path, {"CallSid": "CA1", "CallStatus": "in-progress"})

    assert ringing.status_code == answered.status_code == 200
    assert is_twiml(answered)
    delivered = wait_for(lambda: (s := view(api, enrollment_id)["steps"][0])["state"] == "delivered" and s)
    assert delivered["delivered_at"] == "2026-05-06T10:00:20Z"


@pytest.mark.parametrize("duration", ["²", "12x", "9" * 40, ""])
def test_a_call_duration_that_is_not_a_number_is_ignored_not_a_500(api, duration):
    """Twilio only retries on errors; the status is still applied, the unreadable duration is dropped."""
    enrollment_id, step = first_step_sent(api)

    result = twilio_post(
        api,
        f"/webhooks/twilio/status?step={step['id']}",
        {"CallSid": "CA1", "CallStatus": "completed", "CallDuration": duration},
    )

    assert result.status_code == 200 and is_twiml(result)
    assert wait_for(lambda: view(api, enrollment_id)["steps"][0]["state"] == "delivered")


def test_repeated_and_late_callbacks_are_applied_once_and_never_move_back(api, clock):
    enrollment_id, step = first_step_sent(api)
    path = f"/webhooks/twilio/status?step={step['id']}"
    twilio_post(api, path, {"CallSid": "CA1", "CallStatus": "in-progress"})
    wait_for(lambda: view(api, enrollment_id)["steps"][0]["state"] == "delivered")

    clock.advance(timedelta(seconds=30))
    for status in ("in-progress", "ringing", "initiated", "no-answer", "in-progress"):
        assert twilio_post(api, path, {"CallSid": "CA1", "CallStatus": status}).status_code == 200

    settled = cancel_and_settle(api, enrollment_id)
    assert settled["steps"][0]["state"] == "delivered"
    assert settled["steps"][0]["delivered_at"] == "2026-05-06T10:00:00Z"
    assert settled["steps"][0]["last_error"] is None
    assert kinds(settled, "step.delivered") == 1


def test_sms_failure_callback_records_twilios_error_code(api):
    template_id = api.post("/api/v1/templates", SMS_TEMPLATE).json["id"]
    enrollment_id, step = first_step_sent(api, template_id)
    path = f"/webhooks/twilio/status?step={step['id']}"

    twilio_post(api, path, {"MessageSid": "SM1", "MessageStatus": "sent"})
    twilio_post(api, path, {"MessageSid": "SM1", "MessageStatus": "undelivered", "ErrorCode": "30003"})

    failed = wait_for(lambda: (s := view(api, enrollment_id)["steps"][0])["state"] == "failed" and s)
    assert failed["last_error"]["code"] == "30003"


@pytest.mark.parametrize(
    "forgery",
    [
        {"signature": None},  # no header at all
        {"signature": ""},
        {"signature": "bm90IGEgc2lnbmF0dXJl"},
        {"auth_token": "someone-elses-token"},
    ],
)
def test_forged_or_unsigned_callbacks_are_refused_and_change_nothing(api, forgery):
    enrollment_id, step = first_step_sent(api)

    result = twilio_post(
        api, f"/webhooks/twilio/status?step={step['id']}", {"CallSid": "CA1", "CallStatus": "in-progress"}, **forgery
    )

    assert result.status_code == 403
    assert result.json["error"]["code"] == "forbidden"
    assert cancel_and_settle(api, enrollment_id)["steps"][0]["state"] == "sent"


def test_a_signature_for_another_url_is_refused(api):
    """Twilio signs the public URL it called; the same request signed for the bind address is forged."""
    enrollment_id, step = first_step_sent(api)
    path = f"/webhooks/twilio/status?step={step['id']}"
    body, headers = webhook("http://127.0.0.1:8080", path, {"CallStatus": "in-progress"})

    assert api.client.simulate_post(path, body=body, headers=headers).status_code == 403
    tampered_query = path.replace("step=", "step=x")
    body, headers = webhook(PUBLIC_URL, path, {"CallStatus": "in-progress"})
    assert api.client.simulate_post(tampered_query, body=body, headers=headers).status_code == 403
    assert cancel_and_settle(api, enrollment_id)["steps"][0]["state"] == "sent"


def test_without_a_twilio_auth_token_every_webhook_is_refused(make_node, clock):
    api = build_api(make_node, clock)

    for path in ("/webhooks/twilio/status?step=st_1", "/webhooks/twilio/sms"):
        result = twilio_post(api, path, {"From": MARIA, "Body": "STOP", "CallStatus": "completed"})
        assert result.status_code == 403
        assert result.json["error"]["code"] == "forbidden"


def test_callback_for_an_unknown_step_is_acknowledged_and_ignored(api):
    result = twilio_post(api, "/webhooks/twilio/status?step=st_unknown", {"CallSid": "CA1", "CallStatus": "busy"})
    assert result.status_code == 200
    assert is_twiml(result)


# --- inbound SMS -------------------------------------------------------------------------------------


def inbound(api: Api, body: str, sender: str = MARIA, auth_token: str = AUTH_TOKEN):
    params = {"MessageSid": "SM9", "From": sender, "To": "+14155550100", "Body": body}
    return twilio_post(api, "/webhooks/twilio/sms", params, auth_token)


def contact(api: Api, contact_id: str) -> dict:
    return api.get(f"/api/v1/contacts/{contact_id}").json


def stopped(api: Api, enrollment_id: str) -> dict:
    return wait_for(lambda: (v := view(api, enrollment_id))["status"] == "stopped" and v)


@pytest.mark.parametrize("keyword", ["STOP", "stop", " Stop. ", "StopAll", "unsubscribe", "Opt-out", "quit!"])
def test_stop_suppresses_every_channel_and_stops_the_sequence(api, keyword):
    started = start(api)

    result = inbound(api, keyword)

    assert result.status_code == 200 and is_twiml(result)
    assert "<Message>" not in result.text  # Twilio confirms STOP to the sender itself
    assert contact(api, started["contact_id"])["suppressed_channels"] == ALL_CHANNELS
    enrollment = stopped(api, started["enrollment_id"])
    assert enrollment["status_reason"] == "opted out by SMS"
    assert {s["state"] for s in enrollment["steps"][1:]} == {"canceled"}


def test_stop_reaches_every_contact_holding_the_number(api, clock):
    first = start(api)
    demo = bootstrap(clock.now(), name="Second workspace")
    other = Api(api.client, demo.api_key, demo.workspace_id, demo.template_id)
    second = start(other)
    assert second["contact_id"] != first["contact_id"]

    inbound(api, "STOP")

    for who, started in ((api, first), (other, second)):
        assert stopped(who, started["enrollment_id"])["status_reason"] == "opted out by SMS"
        assert contact(who, started["contact_id"])["suppressed_channels"] == ALL_CHANNELS


def test_start_lifts_only_the_sms_suppression(api):
    started = start(api)
    inbound(api, "STOP")
    stopped(api, started["enrollment_id"])

    result = inbound(api, "start")

    assert result.status_code == 200
    assert contact(api, started["contact_id"])["suppressed_channels"] == ["email", "voice"]


def test_help_answers_with_instructions_and_changes_nothing(api):
    started = start(api)
    wait_for(lambda: view(api, started["enrollment_id"])["steps"][0]["state"] == "sent")

    result = inbound(api, "HELP")

    assert result.status_code == 200
    assert "<Message>Reply STOP to stop receiving messages" in result.text
    settled = cancel_and_settle(api, started["enrollment_id"])
    assert settled["status_reason"] == "canceled via API"
    assert contact(api, started["contact_id"])["suppressed_channels"] == []


@pytest.mark.parametrize("text", ["Sí, llámenme mañana por la tarde", "Yes"])
def test_a_reply_stops_the_sequence_without_suppressing(api, text):
    started = start(api)

    assert inbound(api, text).status_code == 200

    assert stopped(api, started["enrollment_id"])["status_reason"] == "replied by SMS"
    assert contact(api, started["contact_id"])["suppressed_channels"] == []


def test_replies_leave_sequences_running_when_configured(make_node, clock):
    api = build_api(make_node, clock, twilio_auth_token=AUTH_TOKEN, reply_stops_sequence=False)
    started = start(api)
    wait_for(lambda: view(api, started["enrollment_id"])["steps"][0]["state"] == "sent")

    assert inbound(api, "Call me later").status_code == 200

    assert cancel_and_settle(api, started["enrollment_id"])["status_reason"] == "canceled via API"


def test_sms_from_an_unknown_number_is_acknowledged(api):
    result = inbound(api, "STOP", sender="+14155559999")
    assert result.status_code == 200 and is_twiml(result)


def test_forged_stop_is_refused_and_suppresses_nothing(api):
    started = start(api)

    assert inbound(api, "STOP", auth_token="forged-token").status_code == 403

    assert contact(api, started["contact_id"])["suppressed_channels"] == []


@pytest.mark.postgres
def test_a_nul_in_a_signed_sms_is_answered_on_postgresql(make_node, clock):
    """PostgreSQL refuses NUL in a query parameter: the sender's number must not reach it with one."""
    _reset_postgres(POSTGRES_URL)
    api = build_api(make_node, clock, twilio_auth_token=AUTH_TOKEN, database_url=POSTGRES_URL)
    contact_id = start(api)["contact_id"]

    result = inbound(api, "STOP\x00", sender=MARIA + "\x00")

    assert result.status_code == 200 and is_twiml(result)
    assert wait_for(lambda: contact(api, contact_id)["suppressed_channels"] == ALL_CHANNELS)
