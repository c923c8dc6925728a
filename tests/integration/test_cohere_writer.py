"""The real cohere SDK against tests/fakes/fake_cohere.py: request shape, retries, failures, fallback."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from ringback.engine.model import Channel, GenerationRequest, StepContent, StepPlan
from ringback.providers.llm.base import WriterError
from ringback.providers.llm.cohere_writer import CohereWriter
from ringback.providers.llm.factory import build_writer
from ringback.providers.llm.fallback import FallbackWriter
from ringback.providers.llm.offline import OfflineWriter
from ringback.providers.llm.prompt import response_schema
from ringback.providers.llm.simulated import SimulatedLatencyWriter
from tests.fakes.fake_cohere import FakeCohere, error, hang, text, valid

# The SDK still touches pydantic v1 APIs; that is its business, not a failure of ours.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:cohere.*")

API_KEY = "co-test-key-not-a-secret-0123456789"
MODEL = "command-r-plus-08-2024"


@pytest.fixture
def fake() -> Iterator[FakeCohere]:
    with FakeCohere() as server:
        yield server


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def writer(fake: FakeCohere, sleeps: list[float]) -> CohereWriter:
    return CohereWriter(
        API_KEY, model=MODEL, base_url=fake.url, timeout_seconds=2.0, max_retries=2, sleep=sleeps.append
    )


def make_request(**changes) -> GenerationRequest:
    base = dict(
        template_name="Inbound",
        goal="Book a 15-minute discovery call",
        tone="friendly",
        steps=(StepPlan(1, Channel.VOICE, 0), StepPlan(2, Channel.EMAIL, 60), StepPlan(3, Channel.SMS, 86_400)),
        wanted=(1, 2),
        language="es",
        timezone="Europe/Madrid",
        first_name="Maria",
        notes="Speaks Spanish. Located in Madrid. Asking about pricing.",
        sender_name="Ana",
        sender_company="Acme",
    )
    return GenerationRequest(**{**base, **changes})


def test_happy_path_sends_a_structured_chat_request(fake, writer):
    request = make_request()
    written = writer.write(request)

    assert written.model == f"cohere:{MODEL}" == writer.name
    assert written.steps == {
        1: StepContent(body="Generated voice body for step 1.", voicemail="Generated voicemail for step 1."),
        2: StepContent(body="Generated email body for step 2.", subject="Subject for step 2"),
    }
    [sent] = fake.requests
    assert (sent.method, sent.path) == ("POST", "/v2/chat")
    assert sent.headers["authorization"] == f"Bearer {API_KEY}"
    assert sent.headers["x-client-name"] == "ringback"
    assert sent.body["model"] == MODEL
    assert sent.body["stream"] is False
    assert [message["role"] for message in sent.body["messages"]] == ["system", "user"]
    system, user = (message["content"] for message in sent.body["messages"])
    assert "Spanish" in system
    assert "<lead_notes>\nSpeaks Spanish. Located in Madrid. Asking about pricing.\n</lead_notes>" in user
    assert sent.body["response_format"] == {"type": "json_object", "json_schema": response_schema(request)}


@pytest.mark.parametrize(
    "answer",
    [
        text("Sure! Here is your JSON: {"),
        text('{"steps": [{"index": 1, "subject": null, "body": "only one"}]}'),
        text('{"steps": []}', finish_reason="MAX_TOKENS"),
    ],
    ids=["invalid-json", "missing-step", "cut-short"],
)
def test_unusable_answer_is_a_writer_error_without_retry(fake, writer, sleeps, answer):
    fake.script(answer)
    with pytest.raises(WriterError):
        writer.write(make_request())
    assert len(fake.requests) == 1
    assert sleeps == []


@pytest.mark.parametrize("status", [500, 503])
def test_server_error_then_success_is_retried(fake, writer, sleeps, status):
    fake.script(error(status), valid())
    written = writer.write(make_request())
    assert set(written.steps) == {1, 2}
    assert len(fake.requests) == 2
    assert sleeps == [0.5]


def test_rate_limit_honours_retry_after(fake, writer, sleeps):
    fake.script(error(429, retry_after="3"), error(429), valid())
    writer.write(make_request())
    assert len(fake.requests) == 3
    assert sleeps == [3.0, 1.0]  # the server's hint, then exponential backoff


def test_persistent_server_errors_give_up_after_the_retries(fake, writer, sleeps):
    fake.set_default(error(500))
    with pytest.raises(WriterError, match="after 3 attempts: HTTP 500"):
        writer.write(make_request())
    assert len(fake.requests) == 3
    assert sleeps == [0.5, 1.0]


@pytest.mark.parametrize("status", [400, 401, 404])
def test_client_errors_are_not_retried(fake, writer, sleeps, status):
    fake.script(error(status))
    with pytest.raises(WriterError, match=f"HTTP {status}") as raised:
        writer.write(make_request())
    assert API_KEY not in str(raised.value)
    assert len(fake.requests) == 1
    assert sleeps == []


def test_timeouts_are_retried_then_reported(fake, sleeps):
    writer = CohereWriter(API_KEY, base_url=fake.url, timeout_seconds=0.2, max_retries=1, sleep=sleeps.append)
    fake.set_default(hang(30))
    with pytest.raises(WriterError, match="after 2 attempts: timeout"):
        writer.write(make_request())
    assert len(fake.wait_for_requests(2)) == 2
    assert sleeps == [0.5]


def test_timeout_then_success(fake, sleeps):
    writer = CohereWriter(API_KEY, base_url=fake.url, timeout_seconds=0.2, max_retries=1, sleep=sleeps.append)
    fake.script(hang(30), valid())
    assert set(writer.write(make_request()).steps) == {1, 2}


def test_fallback_writes_offline_when_cohere_fails(fake, writer, caplog):
    fake.set_default(error(500))
    failures: list[BaseException] = []
    fallback = FallbackWriter(writer, OfflineWriter(), on_fallback=failures.append)

    with caplog.at_level(logging.WARNING):
        written = fallback.write(make_request())

    assert written.model == "offline-v2"
    assert written.steps[2].body.startswith("Hola, Maria:")
    assert [type(failure) for failure in failures] == [WriterError]
    assert "using offline-v2" in caplog.text
    assert API_KEY not in caplog.text


def test_fallback_reports_the_primary_when_it_succeeds(fake, writer):
    written = FallbackWriter(writer, OfflineWriter()).write(make_request())
    assert written.model == f"cohere:{MODEL}"


def test_fallback_catches_any_exception():
    class Broken:
        name = "broken"

        def write(self, request):
            raise RuntimeError("boom")

    written = FallbackWriter(Broken(), OfflineWriter()).write(make_request())
    assert written.model == "offline-v2"


def test_factory_without_a_key_is_offline():
    writer = build_writer(
        cohere_api_key=None, cohere_model=MODEL, cohere_base_url=None, timeout_seconds=1, max_retries=0
    )
    assert isinstance(writer, OfflineWriter)


def test_factory_with_a_key_uses_cohere_and_falls_back(fake):
    writer = build_writer(
        cohere_api_key=API_KEY, cohere_model=MODEL, cohere_base_url=fake.url, timeout_seconds=2, max_retries=0
    )
    assert isinstance(writer, FallbackWriter)
    assert writer.write(make_request()).model == f"cohere:{MODEL}"
    fake.set_default(error(401))
    assert writer.write(make_request()).model == "offline-v2"


def test_factory_wraps_simulated_latency():
    writer = build_writer(
        cohere_api_key=None,
        cohere_model=MODEL,
        cohere_base_url=None,
        timeout_seconds=1,
        max_retries=0,
        simulated_latency_seconds=0.25,
    )
    assert isinstance(writer, SimulatedLatencyWriter)
    assert writer.name == "offline-v2"
