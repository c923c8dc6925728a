"""A live key end to end: the real twilio SDK against the fake Twilio, yagmail against aiosmtpd.

The node runs the real app, supervisor, actors and dispatcher; only the world outside is fake.
Twilio's side of the conversation (status callbacks) is signed the way Twilio signs it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from xml.etree import ElementTree

import falcon.testing
import pytest

from ringback.demo import bootstrap
from ringback.engine.model import Channel
from ringback.http.app import HttpServer
from ringback.node import Providers
from ringback.providers.channels.smtp import SmtpChannel
from ringback.providers.channels.twilio_channel import TwilioChannel
from ringback.providers.llm.offline import OfflineWriter
from ringback.storage import accounts
from tests.conftest import Api, seed_lead, wait_for
from tests.fakes.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio, webhook
from tests.fakes.smtp_server import HOST

PUBLIC_URL = "https://ringback.example"
MARIA = "+34911234567"
SENDER_PHONE = "+14155550100"  # the demo template's sender


@pytest.fixture
def start_live(make_node, clock, twilio, smtp) -> Callable[..., Api]:
    """A node whose live channels are `channels` (default all three), and a live key for the demo template."""

    def build(channels=(Channel.EMAIL, Channel.SMS, Channel.VOICE), machine_detection="voicemail", timeout=5.0):
        voice = TwilioChannel(ACCOUNT_SID, AUTH_TOKEN, twilio.base_url, timeout, machine_detection)
        mailer = SmtpChannel(HOST, smtp.port, timeout_seconds=5)
        adapters = {Channel.EMAIL: mailer, Channel.SMS: voice, Channel.VOICE: voice}
        providers = Providers(OfflineWriter(), {c: adapters[c] for c in channels}, mailer)
        node = make_node(
            providers=providers, public_url=PUBLIC_URL, twilio_auth_token=AUTH_TOKEN, retry_base_seconds=1.0
        )
        demo = bootstrap(clock.now())
        _, key = accounts.create_key(demo.workspace_id, clock.now(), live=True, name="live")
        return Api(falcon.testing.TestClient(node.app), key, demo.workspace_id, demo.template_id)

    return build


@pytest.fixture
def live(start_live) -> Api:
    return start_live()


@pytest.fixture
def serve() -> Iterator[Callable[[Api], str]]:
    """Serve an Api's app over real HTTP on loopback, where the fake Twilio can fetch a call's TwiML."""
    servers: list[HttpServer] = []

    def start(api: Api) -> str:
        server = HttpServer(api.client.app, host="127.0.0.1", port=0, threads=2, max_body_bytes=64_000).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.port}"

    yield start
    for server in servers:
        server.close()


def start(api: Api) -> str:
    response = api.post("/api/v1/sequences/start", seed_lead(api.template_id))
    assert response.status_code == 202, response.json
    return response.json["enrollment_id"]


def enrollment(api: Api, enrollment_id: str) -> dict:
    return api.get(f"/api/v1/sequences/enrollments/{enrollment_id}").json


def step_when(api: Api, enrollment_id: str, index: int, condition: Callable[[dict], bool]) -> dict:
    return wait_for(lambda: condition(s := enrollment(api, enrollment_id)["steps"][index]) and s)


def calls(twilio: FakeTwilio) -> list:
    return [r for r in twilio.requests if r.method == "POST" and r.path.endswith("/Calls.json")]


def twilio_callback(api: Api, callback_url: str, params: dict[str, str]):
    path = callback_url.removeprefix(PUBLIC_URL)
    body, headers = webhook(PUBLIC_URL, path, params)
    return api.client.simulate_post(path, body=body, headers=headers)


def test_the_seed_lead_is_called_in_spanish_and_twilios_callbacks_land(live, twilio):
    enrollment_id = start(live)
    step = step_when(live, enrollment_id, 0, lambda s: s["state"] == "sent")

    [call] = calls(twilio)
    assert call.param("To") == MARIA and call.param("From") == SENDER_PHONE
    assert call.param("Url") == f"{PUBLIC_URL}/webhooks/twilio/voice?step={step['id']}"
    assert "Twiml" not in call.form
    callback = call.param("StatusCallback")
    assert callback == f"{PUBLIC_URL}/webhooks/twilio/status?step={step['id']}"
    assert step["provider"] == "twilio" and step["provider_id"].startswith("CA")

    answered = twilio_callback(live, callback, {"CallSid": step["provider_id"], "CallStatus": "in-progress"})

    assert answered.status_code == 200
    step_when(live, enrollment_id, 0, lambda s: s["state"] == "delivered")


def test_the_email_step_reaches_smtp_with_a_working_one_click_unsubscribe(live, smtp, clock):
    enrollment_id = start(live)
    step_when(live, enrollment_id, 0, lambda s: s["state"] == "sent")

    clock.advance(timedelta(seconds=121))

    [received] = smtp.wait_for(1)
    message = received.message
    assert received.recipients == ("maria@example.com",)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = message["List-Unsubscribe"].split(",")[0].strip().strip("<>")
    assert url.startswith(f"{PUBLIC_URL}/u/")
    step_when(live, enrollment_id, 1, lambda s: s["state"] == "sent" and s["provider"] == "smtp")

    result = live.client.simulate_post(
        url.removeprefix(PUBLIC_URL),
        body="List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )

    assert result.status_code == 200
    contact_id = enrollment(live, enrollment_id)["contact_id"]
    assert live.get(f"/api/v1/contacts/{contact_id}").json["suppressed_channels"] == ["email"]
    wait_for(lambda: enrollment(live, enrollment_id)["status"] == "stopped")


def test_a_live_key_is_refused_when_a_template_channel_has_no_provider(start_live):
    api = start_live(channels=(Channel.EMAIL,))

    response = api.post("/api/v1/sequences/start", seed_lead(api.template_id))

    assert response.status_code == 422
    assert response.json["error"]["code"] == "channel_not_configured"
    assert response.json["error"]["details"]["channels"] == ["voice"]


def test_an_invalid_number_fails_the_step_with_twilios_code(live, twilio):
    twilio.fail_next(1, status=400, code=21211, message="The 'To' number is not a valid phone number.")

    step = step_when(live, start(live), 0, lambda s: s["state"] == "failed")

    assert step["last_error"]["code"] == "21211"
    assert step["attempts"] == 1
    assert len(calls(twilio)) == 1


def test_twilio_unavailable_is_retried_with_the_attempts_visible(live, twilio, clock):
    twilio.fail_next(1, status=503, code=20500, message="Service unavailable")
    enrollment_id = start(live)

    waiting = step_when(live, enrollment_id, 0, lambda s: s["state"] == "scheduled" and s["attempts"] == 1)
    assert waiting["last_error"]["code"] == "20500"
    clock.advance(timedelta(seconds=2))  # past the first backoff (at most retry_base_seconds)

    sent = step_when(live, enrollment_id, 0, lambda s: s["state"] == "sent")
    assert sent["attempts"] == 2
    assert len(calls(twilio)) == 2
    assert any(e["kind"] == "step.retry" for e in enrollment(live, enrollment_id)["timeline"])


def test_a_call_whose_outcome_is_unknown_is_never_placed_again(start_live, twilio, clock):
    api = start_live(timeout=0.5)
    twilio.hang_next(1)  # Twilio takes the request and never answers

    step = step_when(api, start(api), 0, lambda s: s["state"] == "unknown")

    assert step["last_error"]["code"] == "outcome_unknown"
    assert step["attempts"] == 1
    clock.advance(timedelta(minutes=5))
    assert len(calls(twilio)) == 1


def test_an_answering_machine_is_hung_up_on_in_hangup_mode(start_live, twilio):
    api = start_live(machine_detection="hangup")
    step = step_when(api, start(api), 0, lambda s: s["state"] == "sent")
    [call] = calls(twilio)
    assert call.param("MachineDetection") == "Enable" and call.param("AsyncAmd") == "true"
    callback = call.param("AsyncAmdStatusCallback")
    sid = step["provider_id"]

    human = twilio_callback(api, callback, {"CallSid": sid, "AnsweredBy": "human"})
    machine = twilio_callback(api, callback, {"CallSid": sid, "AnsweredBy": "machine_start"})

    assert human.status_code == machine.status_code == 200
    [hang_up] = [r for r in twilio.requests if r.path.endswith(f"/Calls/{sid}.json")]
    assert hang_up.param("Status") == "completed"


def test_a_person_hears_the_live_script_and_a_voicemail_gets_the_message_after_the_beep(live, twilio, serve):
    """Twilio fetches the call's TwiML from our signed endpoint once it knows who answered."""
    reach = serve(live)
    step = step_when(live, start(live), 0, lambda s: s["state"] == "sent")
    [call] = calls(twilio)
    assert call.param("MachineDetection") == "DetectMessageEnd"

    person = ElementTree.fromstring(twilio.answer_call(step["provider_id"], "human", reach))
    machine = ElementTree.fromstring(twilio.answer_call(step["provider_id"], "machine_end_beep", reach))

    assert [child.tag for child in person] == ["Pause", "Say"]
    assert person.find("Say").text == step["script"]
    assert person.find("Say").get("language") == "es-ES"
    assert "¿" in step["script"]  # a person is asked something
    assert [child.tag for child in machine] == ["Say"]
    assert machine.find("Say").text == step["voicemail_script"]
    assert machine.find("Say").get("language") == "es-ES"
    assert "¿" not in step["voicemail_script"] and "?" not in step["voicemail_script"]
    assert "Maria" in step["voicemail_script"] and "devolverme la llamada" in step["voicemail_script"]


def test_without_detection_whoever_answers_hears_the_live_script(start_live, twilio, serve):
    api = start_live(machine_detection="off")
    reach = serve(api)
    step = step_when(api, start(api), 0, lambda s: s["state"] == "sent")

    said = ElementTree.fromstring(twilio.answer_call(step["provider_id"], "machine_end_beep", reach)).find("Say")

    assert said.text == step["script"]
