"""Cohere writer: one structured-output chat call per request, through the official SDK (`cohere.ClientV2`).

The SDK's own retries are off (see chat_writer): it retries 429/5xx with real sleeps but never a timeout.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import cohere
import httpx
from cohere.core.api_error import ApiError

from ringback.providers.llm.base import WriterError
from ringback.providers.llm.chat_writer import ChatWriter, TransientError

DEFAULT_MODEL = "command-a-03-2025"
# Passed explicitly: the SDK reads CO_API_URL once, at import time, as the default of `base_url`.
DEFAULT_BASE_URL = "https://api.cohere.com"
_UNFINISHED = frozenset({"MAX_TOKENS", "ERROR", "TIMEOUT"})  # the JSON would be cut short or missing


class CohereWriter(ChatWriter):
    provider = "cohere"

    def __init__(
        self,
        api_key: str,
        model: str = DEFAULT_MODEL,
        base_url: str | None = None,
        timeout_seconds: float = 20.0,
        max_retries: int = 2,
        *,
        backoff_seconds: float = 0.5,
        temperature: float = 0.3,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(model, max_retries, backoff_seconds=backoff_seconds, temperature=temperature, sleep=sleep)
        self._client = cohere.ClientV2(
            api_key=api_key,
            base_url=base_url or DEFAULT_BASE_URL,
            timeout=timeout_seconds,
            max_retries=0,
            client_name="ringback",
        )

    def _chat(self, system: str, user: str, schema: dict[str, Any]) -> str:
        try:
            response = self._client.chat(
                model=self._model,
                messages=[{"role": "system", "content": system}, {"role": "user", "content": user}],
                response_format={"type": "json_object", "json_schema": schema},
                temperature=self._temperature,
            )
        except httpx.TimeoutException:
            raise TransientError("timeout") from None
        except httpx.TransportError as exc:
            raise TransientError(f"connection error ({type(exc).__name__})") from None
        except ApiError as exc:
            raise self._status_error(exc.status_code or 0, exc.headers) from None
        except Exception as exc:  # the SDK's parse errors and anything else it may raise
            raise WriterError(f"cohere call failed: {type(exc).__name__}") from None
        return _answer_text(response)


def _answer_text(response: Any) -> str:
    if response.finish_reason in _UNFINISHED:
        raise WriterError(f"cohere stopped early: {response.finish_reason}")
    content = getattr(response.message, "content", None) or []
    texts = [item.text for item in content if getattr(item, "type", None) == "text"]
    if not texts:
        raise WriterError("cohere answer has no text")
    return "".join(texts)
