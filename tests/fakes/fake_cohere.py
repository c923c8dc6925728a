"""A small stand-in for Cohere's v2 chat API, for driving the real `cohere` SDK in tests.

It answers `POST /v2/chat` with the shape the SDK parses (`id`, `finish_reason`, `message.content[].text`,
`usage`) and errors with a Cohere-like body; scripting and recording are in llm_server.

    with FakeCohere() as fake:
        fake.script(error(500), valid())          # first call fails, second succeeds
        writer = CohereWriter("key", base_url=fake.url, ...)
"""

from __future__ import annotations

import uuid
from typing import Any

from tests.fakes.llm_server import (
    ERROR_MESSAGES,
    Behaviour,
    FakeLlmServer,
    RecordedRequest,
    composed,
    error,
    hang,
    text,
    valid,
)

__all__ = ["Behaviour", "FakeCohere", "RecordedRequest", "composed", "error", "hang", "text", "valid"]


class FakeCohere(FakeLlmServer):
    chat_path = "/v2/chat"

    def answer(self, text: str, finish_reason: str | None, body: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": str(uuid.uuid4()),
            "finish_reason": finish_reason or "COMPLETE",
            "message": {"role": "assistant", "content": [{"type": "text", "text": text}]},
            "usage": {
                "billed_units": {"input_tokens": 250, "output_tokens": 120},
                "tokens": {"input_tokens": 900, "output_tokens": 122},
            },
        }

    def error_body(self, status: int) -> dict[str, Any]:
        return {"id": str(uuid.uuid4()), "message": ERROR_MESSAGES.get(status, "error")}
