"""TwilioChannel through the real twilio SDK against the fake Twilio REST API on loopback."""

from __future__ import annotations

import socket
from xml.etree import ElementTree

import pytest

from ringback.engine.model import Channel
from ringback.providers.channels.base import OutboundMessage, PermanentSendError, TransientSendError
from ringback.providers.channels.twilio_channel import SMS_MAX_CHARS, OutcomeUnknownError, TwilioChannel
from tests.fakes.fake_twilio import ACCOUNT_SID, AUTH_TOKEN

CALLBACK = "https://ringback.example/webhooks/twilio/status?step=01HXSTEP"
SCRIPT = 'Hola María, soy Ana de Acme. Precios < 5 € & "sin permanencia". </Say><Dial>+15550000000</Dial>'


def outbound(channel: Channel, **overrides) -> OutboundMessage:
    fields = {
        "step_id": "01HXSTEP",
        "idempotency_token": "tok-1",
        "channel": channel,
        "to": "+34911234567",
        "body": "Hola María, gracias por su interés. ¿Hablamos hoy?",
        "language": "es",
        "sender_address": "+15005550006",
        "status_callback_url": CALLBACK,
    }
    return OutboundMessage(**(fields | overrides))


@pytest.fixture
def channel(twilio) -> TwilioChannel:
    return TwilioChannel(ACCOUNT_SID, AUTH_TOKEN, api_base=twilio.base_url, timeout_seconds=5)


def test_sms_is_created_with_sender_body_and_status_callback(channel, twilio):
    receipt = channel.send(outbound(Channel.SMS))

    [request] = twilio.requests
    assert request.method == "POST"
    assert request.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert request.authorized
    assert request.param("To") == "+34911234567"
    assert request.param("From") == "+15005550006"
    assert request.param("Body") == "Hola María, gracias por su interés. ¿Hablamos hoy?"
    assert request.param("StatusCallback") == CALLBACK
    assert receipt.provider == "twilio" and receipt.provider_id.startswith("SM")


def test_sms_from_a_messaging_service(channel, twilio):
    channel.send(outbound(Channel.SMS, sender_address="MG" + "1" * 32, status_callback_url=""))

    request = twilio.requests[0]
    assert request.param("MessagingServiceSid") == "MG" + "1" * 32
    assert "From" not in request.form and "StatusCallback" not in request.form


def test_long_sms_is_cut_on_a_word_boundary(channel, twilio):
    words = "palabra " * 60
    channel.send(outbound(Channel.SMS, body=words))

    body = twilio.requests[0].param("Body")
    assert len(body) <= SMS_MAX_CHARS
    assert body.split(" ") == ["palabra"] * len(body.split(" "))


def test_voice_call_carries_escaped_twiml_and_status_events(channel, twilio):
    receipt = channel.send(outbound(Channel.VOICE, body=SCRIPT, connect_number="+34910000000"))

    request = twilio.requests[0]
    assert request.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.json"
    assert (request.param("To"), request.param("From")) == ("+34911234567", "+15005550006")
    assert request.param("StatusCallback") == CALLBACK
    assert request.form["StatusCallbackEvent"] == ["initiated", "ringing", "answered", "completed"]
    root = ElementTree.fromstring(request.param("Twiml"))
    assert [child.tag for child in root] == ["Pause", "Say", "Dial"]
    say = root.find("Say")
    assert say.get("language") == "es-ES"
    assert say.text == SCRIPT
    assert root.find("Dial").text == "+34910000000"
    assert receipt.provider_id.startswith("CA")


def test_a_call_with_our_twiml_endpoint_is_placed_with_its_url_instead_of_inline_twiml(channel, twilio):
    url = "https://ringback.example/webhooks/twilio/voice?step=01HXSTEP"
    channel.send(outbound(Channel.VOICE, voice_url=url, voicemail_body="Le dejo un mensaje."))

    request = twilio.requests[0]
    assert (request.param("Url"), request.param("Method")) == (url, "POST")
    assert "Twiml" not in request.form
    assert request.param("MachineDetection") == "DetectMessageEnd"


def test_voicemail_mode_waits_for_the_beep(channel, twilio):
    channel.send(outbound(Channel.VOICE))

    request = twilio.requests[0]
    assert request.param("MachineDetection") == "DetectMessageEnd"
    assert "AsyncAmd" not in request.form


@pytest.mark.parametrize(
    ("setting", "voicemail"),
    [("hangup", True), ("voicemail", False)],
)
def test_hangup_mode_uses_async_amd_and_can_end_the_call(twilio, setting, voicemail):
    channel = TwilioChannel(ACCOUNT_SID, AUTH_TOKEN, api_base=twilio.base_url, machine_detection=setting)
    call_sid = channel.send(outbound(Channel.VOICE, voicemail=voicemail)).provider_id

    create = twilio.requests[0]
    assert create.param("MachineDetection") == "Enable"
    assert create.param("AsyncAmd") == "true"
    assert create.param("AsyncAmdStatusCallback") == CALLBACK

    channel.hang_up(call_sid)

    hang_up = twilio.requests[1]
    assert hang_up.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls/{call_sid}.json"
    assert hang_up.param("Status") == "completed"


def test_detection_off_sends_no_amd_parameters(twilio):
    channel = TwilioChannel(ACCOUNT_SID, AUTH_TOKEN, api_base=twilio.base_url, machine_detection="off")
    channel.send(outbound(Channel.VOICE, status_callback_url=""))

    form = twilio.requests[0].form
    assert not {"MachineDetection", "AsyncAmd", "StatusCallback", "StatusCallbackEvent"} & form.keys()


def test_invalid_number_is_permanent(channel):
    with pytest.raises(PermanentSendError) as caught:
        channel.send(outbound(Channel.SMS, to="911234567"))

    assert caught.value.code == "21211"
    assert "not a valid phone number" in caught.value.message


def test_unsubscribed_recipient_is_permanent(channel, twilio):
    twilio.fail_next(1, status=400, code=21610, message="Attempt to send to unsubscribed recipient")

    with pytest.raises(PermanentSendError) as caught:
        channel.send(outbound(Channel.SMS))

    assert caught.value.code == "21610"
    assert "unsubscribed recipient" in caught.value.message


@pytest.mark.parametrize(("status", "code"), [(429, 20429), (503, 20503), (500, 20500)])
def test_rate_limits_and_server_errors_are_transient(channel, twilio, status, code):
    twilio.fail_next(1, status=status, code=code)

    with pytest.raises(TransientSendError) as caught:
        channel.send(outbound(Channel.VOICE))

    assert caught.value.code == str(code)
    assert not isinstance(caught.value, OutcomeUnknownError)
    assert channel.send(outbound(Channel.VOICE)).provider_id.startswith("CA")  # the script was used up


def test_wrong_credentials_are_permanent(twilio):
    channel = TwilioChannel(ACCOUNT_SID, "not-the-token", api_base=twilio.base_url)

    with pytest.raises(PermanentSendError) as caught:
        channel.send(outbound(Channel.SMS))
    with pytest.raises(PermanentSendError):
        channel.check_credentials()

    assert caught.value.code == "20003"


def test_check_credentials_fetches_the_account(channel, twilio):
    channel.check_credentials()

    request = twilio.requests[0]
    assert (request.method, request.path) == ("GET", f"/2010-04-01/Accounts/{ACCOUNT_SID}.json")
    assert request.authorized


def test_unanswered_request_times_out_with_an_unknown_outcome(twilio):
    channel = TwilioChannel(ACCOUNT_SID, AUTH_TOKEN, api_base=twilio.base_url, timeout_seconds=0.3)
    twilio.hang_next()

    with pytest.raises(TransientSendError) as caught:
        channel.send(outbound(Channel.VOICE))

    assert isinstance(caught.value, OutcomeUnknownError)
    assert caught.value.code == "timeout"
    assert len(twilio.requests) == 1  # reached the server: a call may exist, so never blindly retried


def test_connection_refused_is_transient_and_certainly_not_sent():
    with socket.socket() as sock:  # a port that nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    channel = TwilioChannel(ACCOUNT_SID, AUTH_TOKEN, api_base=f"http://127.0.0.1:{port}", timeout_seconds=2)

    with pytest.raises(TransientSendError) as caught:
        channel.send(outbound(Channel.SMS))

    assert caught.value.code == "connection"
    assert not isinstance(caught.value, OutcomeUnknownError)


def test_email_is_not_a_twilio_channel(channel, twilio):
    with pytest.raises(PermanentSendError) as caught:
        channel.send(outbound(Channel.EMAIL, to="maria@example.com"))

    assert caught.value.code == "unsupported_channel"
    assert twilio.requests == []
