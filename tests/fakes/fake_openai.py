"""A small stand-in for an OpenAI-compatible server (what Ollama, vLLM and llama.cpp's server serve), for
driving the real `openai` SDK in tests.

It answers `POST /v1/chat/completions` with a `chat.completion` object, `GET /v1/models` with the models it
serves, and errors with OpenAI's `{"error": {...}}` body; scripting and recording are in llm_server.

    with FakeOpenAI(models=("llama3.1:8b",)) as fake:
        writer = OpenAIWriter(fake.url, "llama3.1:8b")   # fake.url ends in /v1, like Ollama's
"""

from __future__ import annotations

import uuid
from typing import Any

from tests.fakes.llm_server import ERROR_MESSAGES, FakeLlmServer

_ERROR_TYPES = {400: "invalid_request_error", 401: "invalid_request_error", 404: "invalid_request_error",
                429: "rate_limit_exceeded"}


class FakeOpenAI(FakeLlmServer):
    chat_path = "/v1/chat/completions"
    url_suffix = "/v1"

    def __init__(self, models: tuple[str, ...] = ("llama3.1:8b",)) -> None:
        super().__init__()
        self.models = models

    def answer(self, text: str, finish_reason: str | None, body: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": f"chatcmpl-{uuid.uuid4().hex}",
            "object": "chat.completion",
            "created": 1_767_225_600,
            "model": body.get("model", ""),
            "choices": [
                {
                    "index": 0,
                    "finish_reason": finish_reason or "stop",
                    "message": {"role": "assistant", "content": text},
                }
            ],
            "usage": {"prompt_tokens": 900, "completion_tokens": 122, "total_tokens": 1022},
        }

    def error_body(self, status: int) -> dict[str, Any]:
        kind = _ERROR_TYPES.get(status, "server_error")
        return {"error": {"message": ERROR_MESSAGES.get(status, "error"), "type": kind, "param": None, "code": None}}

    def get_routes(self) -> dict[str, dict[str, Any]]:
        models = [{"id": name, "object": "model", "created": 1_767_225_600, "owned_by": "library"}
                  for name in self.models]
        return {"/v1/models": {"object": "list", "data": models}}
