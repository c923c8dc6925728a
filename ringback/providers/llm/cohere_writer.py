"""Cohere writer: one structured-output chat call per request, through the official SDK (`cohere.ClientV2`).

Retries are ours, not the SDK's: the SDK retries 429/5xx with real `time.sleep` and jitter but never a
timeout, so we turn its retries off and retry timeouts, 429 and 5xx here with an injectable sleep. Any other
failure (4xx, an answer that breaks the schema) raises WriterError at once so the fallback writer takes over.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import cohere
import httpx
from cohere.core.api_error import ApiError

from ringback.engine.model import GeneratedSteps, GenerationRequest
from ringback.providers.llm.base import WriterError
from ringback.providers.llm.prompt import build_prompt, parse_steps, response_schema

log = logging.getLogger(__name__)

DEFAULT_MODEL = "command-a-03-2025"
# Passed explicitly: the SDK reads CO_API_URL once, at import time, as the default of `base_url`.
DEFAULT_BASE_URL = "https://api.cohere.com"
_MAX_BACKOFF_SECONDS = 10.0
_UNFINISHED = frozenset({"MAX_TOKENS", "ERROR", "TIMEOUT"})  # the JSON would be cut short or missing


class _TransientError(Exception):
    """A failure worth another attempt; `retry_after` is the server's hint in seconds, if it gave one."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class CohereWriter:
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
        self.name = f"cohere:{model}"
        self._model = model
        self._max_retries = max(0, max_retries)
        self._backoff_seconds = backoff_seconds
        self._temperature = temperature
        self._sleep = sleep
        self._client = cohere.ClientV2(
            api_key=api_key,
            base_url=base_url or DEFAULT_BASE_URL,
            timeout=timeout_seconds,
            max_retries=0,
            client_name="ringback",
        )

    def write(self, request: GenerationRequest) -> GeneratedSteps:
        system, user = build_prompt(request)
        schema = response_schema(request)
        attempt = 0
        while True:
            try:
                text = self._chat(system, user, schema)
                break
            except _TransientError as failure:
                if attempt == self._max_retries:
                    raise WriterError(f"cohere failed after {attempt + 1} attempts: {failure}") from None
                delay = self._delay(attempt, failure.retry_after)
                attempt += 1
                log.warning("cohere call failed (%s); retry %d in %.2fs", failure, attempt, delay)
                self._sleep(delay)
        try:
            return GeneratedSteps(model=self.name, steps=parse_steps(text, request))
        except ValueError as exc:
            raise WriterError(f"cohere answer rejected: {exc}") from None

    def _chat(self, system: str, user: str, schema: dict[str, Any]) -> str:
        """One call; returns the answer's text, raises _TransientError or WriterError."""
        try:
            response = self._client.chat(
                model=self._model,
                messages=[{"role": "system", "content": system}, {"role": "user", "content": user}],
                response_format={"type": "json_object", "json_schema": schema},
                temperature=self._temperature,
            )
        except httpx.TimeoutException:
            raise _TransientError("timeout") from None
        except httpx.TransportError as exc:
            raise _TransientError(f"connection error ({type(exc).__name__})") from None
        except ApiError as exc:
            # The SDK's message includes the response headers and body; keep only the status.
            status = exc.status_code or 0
            if status == 429 or status >= 500:
                raise _TransientError(f"HTTP {status}", _retry_after(exc.headers)) from None
            raise WriterError(f"cohere refused the call: HTTP {status}") from None
        except Exception as exc:  # the SDK's parse errors and anything else it may raise
            raise WriterError(f"cohere call failed: {type(exc).__name__}") from None
        return _answer_text(response)

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, _MAX_BACKOFF_SECONDS)
        return min(self._backoff_seconds * 2**attempt, _MAX_BACKOFF_SECONDS)


def _answer_text(response: Any) -> str:
    if response.finish_reason in _UNFINISHED:
        raise WriterError(f"cohere stopped early: {response.finish_reason}")
    content = getattr(response.message, "content", None) or []
    texts = [item.text for item in content if getattr(item, "type", None) == "text"]
    if not texts:
        raise WriterError("cohere answer has no text")
    return "".join(texts)


def _retry_after(headers: dict[str, str] | None) -> float | None:
    value = {key.lower(): value for key, value in (headers or {}).items()}.get("retry-after", "")
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if seconds >= 0 else None
