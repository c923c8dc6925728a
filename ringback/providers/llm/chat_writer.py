"""What every remote chat-model writer shares: the prompt, the schema, our own retries and strict parsing.

Retries are ours, not the SDKs': SDKs retry with real `time.sleep` (and some never retry a timeout), so the
subclasses turn their SDK's retries off and report timeouts, 429 and 5xx as `TransientError`; this class
retries those with an injectable sleep. Any other failure (4xx, an answer that breaks the schema) raises
WriterError at once so the fallback writer takes over. A subclass only says how to make one call.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from ringback.engine.model import GeneratedSteps, GenerationRequest
from ringback.providers.llm.base import WriterError
from ringback.providers.llm.prompt import build_prompt, parse_steps, response_schema

log = logging.getLogger(__name__)

_MAX_BACKOFF_SECONDS = 10.0


class TransientError(Exception):
    """A failure worth another attempt; `retry_after` is the server's hint in seconds, if it gave one."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class ChatWriter:
    """Base of the remote writers. `provider` names the service in errors and logs, `name` the model used."""

    provider = "llm"

    def __init__(
        self,
        model: str,
        max_retries: int,
        *,
        backoff_seconds: float = 0.5,
        temperature: float = 0.3,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.name = f"{self.provider}:{model}"
        self._model = model
        self._max_retries = max(0, max_retries)
        self._backoff_seconds = backoff_seconds
        self._temperature = temperature
        self._sleep = sleep

    def write(self, request: GenerationRequest) -> GeneratedSteps:
        system, user = build_prompt(request)
        schema = response_schema(request)
        attempt = 0
        while True:
            try:
                text = self._chat(system, user, schema)
                break
            except TransientError as failure:
                if attempt == self._max_retries:
                    raise WriterError(f"{self.provider} failed after {attempt + 1} attempts: {failure}") from None
                delay = self._delay(attempt, failure.retry_after)
                attempt += 1
                log.warning("%s call failed (%s); retry %d in %.2fs", self.provider, failure, attempt, delay)
                self._sleep(delay)
        try:
            return GeneratedSteps(model=self.name, steps=parse_steps(text, request))
        except ValueError as exc:
            raise WriterError(f"{self.provider} answer rejected: {exc}") from None

    def _chat(self, system: str, user: str, schema: dict[str, Any]) -> str:
        """One call; returns the answer's text, raises TransientError or WriterError."""
        raise NotImplementedError

    def _status_error(self, status: int, headers: Mapping[str, str] | None) -> Exception:
        """The error for an HTTP error answer: 429 and 5xx are worth a retry, other codes are final.
        Only the status is kept: SDK messages carry response headers and bodies."""
        if status == 429 or status >= 500:
            return TransientError(f"HTTP {status}", _retry_after(headers))
        return WriterError(f"{self.provider} refused the call: HTTP {status}")

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, _MAX_BACKOFF_SECONDS)
        return min(self._backoff_seconds * 2**attempt, _MAX_BACKOFF_SECONDS)


def _retry_after(headers: Mapping[str, str] | None) -> float | None:
    value = {key.lower(): value for key, value in (headers or {}).items()}.get("retry-after", "")
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if seconds >= 0 else None
