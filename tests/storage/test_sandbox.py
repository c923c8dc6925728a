"""The sandbox outbox records each send exactly once per token, even when callers race."""

from __future__ import annotations

from ringback.storage import sandbox
from ringback.storage.models import SandboxDelivery
from tests.storage.conftest import NOW


def _record(token: str, step_id: str = "stp_1") -> str:
    return sandbox.record_once(token, step_id, "sms", "+34911234567", None, "Hola Maria", NOW)


def test_a_token_is_recorded_once_and_answers_the_same_provider_id(database):
    first = _record("stp_1:1")

    assert first.startswith("sbx_")
    assert _record("stp_1:1") == first
    assert _record("stp_1:2") != first
    assert sandbox.count_by_step() == {"stp_1": 2}


def test_deliveries_show_what_would_have_been_sent(database):
    provider_id = _record("stp_1:1")
    _record("stp_2:1", step_id="stp_2")

    assert sandbox.deliveries("stp_1") == [
        {
            "token": "stp_1:1",
            "provider_id": provider_id,
            "step_id": "stp_1",
            "channel": "sms",
            "to": "+34911234567",
            "subject": None,
            "body": "Hola Maria",
            "at": NOW.isoformat().replace("+00:00", "Z"),
        }
    ]
    assert len(sandbox.deliveries()) == 2


def test_a_call_records_both_its_scripts(database):
    sandbox.record_once("stp_3:1", "stp_3", "voice", "+34911234567", None, "¿Hablamos?", NOW, "Le dejo un mensaje.")

    (call,) = sandbox.deliveries("stp_3")
    assert (call["body"], call["voicemail"]) == ("¿Hablamos?", "Le dejo un mensaje.")


def test_concurrent_sends_of_one_token_record_one_delivery(database, run_concurrently):
    for round_number in range(3):
        token = f"stp_1:{round_number}"
        provider_ids = run_concurrently(*[lambda token=token: _record(token)] * 6)

        assert len(set(provider_ids)) == 1
        assert SandboxDelivery.select().where(SandboxDelivery.token == token).count() == 1
