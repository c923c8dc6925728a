"""The real openai SDK against tests/fakes/fake_openai.py: request shape, key header, retries, fallback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ringback.engine.model import Channel, GenerationRequest, StepContent, StepPlan
from ringback.providers.llm.base import WriterError
from ringback.providers.llm.factory import build_writer
from ringback.providers.llm.fallback import FallbackWriter
from ringback.providers.llm.guarded import write_guarded
from ringback.providers.llm.offline import OfflineWriter
from ringback.providers.llm.openai_writer import OpenAIWriter
from ringback.providers.llm.prompt import response_schema
from tests.fakes.fake_openai import FakeOpenAI
from tests.fakes.llm_server import error, hang, text, valid

API_KEY = "sk-local-test-key-not-a-secret"
MODEL = "llama3.1:8b"


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(models=(MODEL,)) as server:
        yield server


@pytest.fixture
def sleeps() -> list[float]:
    return []


def make_writer(fake: FakeOpenAI, sleeps: list[float], api_key: str | None = None, **changes) -> OpenAIWriter:
    options = dict(timeout_seconds=2.0, max_retries=2, sleep=sleeps.append) | changes
    return OpenAIWriter(fake.url, MODEL, api_key, **options)


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


def test_writes_through_a_json_schema_chat_completion(fake, sleeps):
    request = make_request()
    written = make_writer(fake, sleeps).write(request)

    assert written.model == f"openai:{MODEL}"
    assert written.steps == {
        1: StepContent(body="Generated voice body for step 1.", voicemail="Generated voicemail for step 1."),
        2: StepContent(body="Generated email body for step 2.", subject="Subject for step 2"),
    }
    [sent] = fake.requests
    assert (sent.method, sent.path) == ("POST", "/v1/chat/completions")
    assert sent.body["model"] == MODEL
    assert sent.body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "sequence_steps", "schema": response_schema(request), "strict": False},
    }
    assert [message["role"] for message in sent.body["messages"]] == ["system", "user"]
    system, user = (message["content"] for message in sent.body["messages"])
    assert "Spanish" in system
    assert "<lead_notes>\nSpeaks Spanish. Located in Madrid. Asking about pricing.\n</lead_notes>" in user


def test_the_api_key_is_sent_as_a_bearer_token_when_set(fake, sleeps):
    make_writer(fake, sleeps, api_key=API_KEY).write(make_request())
    assert fake.requests[0].headers["authorization"] == f"Bearer {API_KEY}"


def test_no_authorization_header_without_a_key(fake, sleeps, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-the-environment")  # never picked up behind our back
    make_writer(fake, sleeps, api_key=None).write(make_request())
    assert "authorization" not in fake.requests[0].headers


@pytest.mark.parametrize(
    "answer",
    [
        text("Sure! Here is your JSON: {"),
        text('{"steps": [{"index": 1, "subject": null, "body": "only one"}]}'),
        text('{"steps": [{"index": 1, "subject": null, "body": 7}, {"index": 2, "subject": "s", "body": "b"}]}'),
        text('{"steps": []}', finish_reason="length"),
    ],
    ids=["invalid-json", "missing-step", "schema-violation", "cut-short"],
)
def test_unusable_answer_is_a_writer_error_without_retry(fake, sleeps, answer):
    fake.script(answer)
    with pytest.raises(WriterError, match="openai"):
        make_writer(fake, sleeps).write(make_request())
    assert len(fake.requests) == 1
    assert sleeps == []


def test_server_errors_are_retried_then_reported(fake, sleeps):
    fake.set_default(error(500))
    with pytest.raises(WriterError, match="openai failed after 3 attempts: HTTP 500"):
        make_writer(fake, sleeps, api_key=API_KEY).write(make_request())
    assert len(fake.requests) == 3
    assert sleeps == [0.5, 1.0]


def test_rate_limit_honours_retry_after_then_succeeds(fake, sleeps):
    fake.script(error(429, retry_after="3"), valid())
    assert set(make_writer(fake, sleeps).write(make_request()).steps) == {1, 2}
    assert sleeps == [3.0]


@pytest.mark.parametrize("status", [400, 401, 404])
def test_client_errors_are_not_retried_and_hide_the_key(fake, sleeps, status):
    fake.script(error(status))
    with pytest.raises(WriterError, match=f"HTTP {status}") as raised:
        make_writer(fake, sleeps, api_key=API_KEY).write(make_request())
    assert API_KEY not in str(raised.value)
    assert len(fake.requests) == 1


def test_timeouts_are_retried_then_reported(fake, sleeps):
    fake.set_default(hang(30))
    with pytest.raises(WriterError, match="after 2 attempts: timeout"):
        make_writer(fake, sleeps, timeout_seconds=0.2, max_retries=1).write(make_request())
    assert sleeps == [0.5]


@pytest.mark.parametrize(
    "failure",
    [error(500), hang(30), text("not json at all"), text('{"steps": "nope"}')],
    ids=["http-500", "timeout", "invalid-json", "schema-violation"],
)
def test_the_factory_falls_back_to_offline_when_the_server_fails(fake, failure):
    failures: list[BaseException] = []
    writer = build_writer(
        provider="openai",
        openai_base_url=fake.url,
        openai_model=MODEL,
        cohere_api_key=None,
        cohere_model="unused",
        cohere_base_url=None,
        timeout_seconds=2.0,  # long enough for a loaded machine; the hang outlasts it
        max_retries=0,
        on_fallback=failures.append,
    )
    assert isinstance(writer, FallbackWriter)
    assert writer.write(make_request()).model == f"openai:{MODEL}"
    fake.set_default(failure)

    written = writer.write(make_request())

    assert written.model == "offline-v2"
    assert written.steps[2].body.startswith("Hola, Maria:")
    assert [type(f) for f in failures] == [WriterError]


def test_the_guard_cleans_what_the_server_writes(fake, sleeps):
    """Same guard as for Cohere: a link outside the allow-list never reaches the lead."""
    fake.script(text('{"steps": [{"index": 1, "subject": null, "body": "Call me back.", "voicemail": "Call me."},'
                     ' {"index": 2, "subject": "Hola", "body": "See https://evil.example/x for prices.",'
                     ' "voicemail": null}]}'))
    request = make_request(link_allowlist=("acme.example",))
    result = write_guarded(make_writer(fake, sleeps), OfflineWriter(), request)
    assert "evil.example" not in result.contents[2].body


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (dict(provider="openai", openai_model=MODEL), "base URL"),
        (dict(provider="openai", openai_base_url="http://127.0.0.1:1/v1"), "model"),
        (dict(provider="cohere"), "API key"),
        (dict(provider="gpt"), "unknown LLM provider"),
    ],
)
def test_the_factory_refuses_an_incomplete_provider(changes, message):
    with pytest.raises(ValueError, match=message):
        build_writer(cohere_api_key=None, cohere_model="m", cohere_base_url=None, timeout_seconds=1, max_retries=0,
                     **changes)
