"""OpenAI-compatible writer: the chat completions API that Ollama, vLLM, llama.cpp's server and LM Studio
serve on-prem, through the official `openai` SDK, with a JSON-schema structured output.

A local server usually needs no key: then no Authorization header is sent at all (the SDK would otherwise
refuse to run without one). The SDK's retries are off; chat_writer retries with an injectable sleep.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import openai

from ringback.providers.llm.base import WriterError
from ringback.providers.llm.chat_writer import ChatWriter, TransientError

_UNFINISHED = frozenset({"length", "content_filter"})  # the JSON would be cut short or missing
_NO_KEY = "no-key"  # satisfies the SDK's constructor; the header itself is omitted on every call


class OpenAIWriter(ChatWriter):
    provider = "openai"

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        timeout_seconds: float = 20.0,
        max_retries: int = 2,
        *,
        backoff_seconds: float = 0.5,
        temperature: float = 0.3,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(model, max_retries, backoff_seconds=backoff_seconds, temperature=temperature, sleep=sleep)
        self._client = openai_client(base_url, api_key, timeout_seconds)
        self._headers = auth_headers(api_key)

    def _chat(self, system: str, user: str, schema: dict[str, Any]) -> str:
        try:
            response = self._client.chat.completions.create(
                model=self._model,
                messages=[{"role": "system", "content": system}, {"role": "user", "content": user}],
                response_format={
                    "type": "json_schema",
                    # Not strict: local servers differ in which strict-mode rules they accept; parse_steps
                    # checks the answer exactly anyway.
                    "json_schema": {"name": "sequence_steps", "schema": schema, "strict": False},
                },
                temperature=self._temperature,
                extra_headers=self._headers,
            )
        except openai.APITimeoutError:
            raise TransientError("timeout") from None
        except openai.APIConnectionError as exc:
            raise TransientError(f"connection error ({type(exc).__name__})") from None
        except openai.APIStatusError as exc:
            raise self._status_error(exc.status_code, exc.response.headers) from None
        except Exception as exc:  # the SDK's parse errors and anything else it may raise
            raise WriterError(f"openai call failed: {type(exc).__name__}") from None
        return _answer_text(response)


def openai_client(base_url: str, api_key: str | None, timeout_seconds: float) -> openai.OpenAI:
    """The SDK client, shared with `ringback doctor`; pass `auth_headers(api_key)` on each call."""
    return openai.OpenAI(api_key=api_key or _NO_KEY, base_url=base_url, timeout=timeout_seconds, max_retries=0)


def auth_headers(api_key: str | None) -> dict[str, Any] | None:
    """Per-call headers: none to add with a key; without one, the Authorization header explicitly left out."""
    return None if api_key else {"Authorization": openai.Omit()}


def _answer_text(response: Any) -> str:
    choices = getattr(response, "choices", None) or []
    if not choices:
        raise WriterError("openai answer has no choices")
    choice = choices[0]
    if choice.finish_reason in _UNFINISHED:
        raise WriterError(f"openai stopped early: {choice.finish_reason}")
    content = getattr(choice.message, "content", None)
    if not content:
        raise WriterError("openai answer has no text")
    return content
