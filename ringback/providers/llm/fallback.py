"""A writer that never leaves a hot lead without content: when the primary fails, the fallback writes."""

from __future__ import annotations

import logging
from collections.abc import Callable

from ringback.engine.model import GeneratedSteps, GenerationRequest
from ringback.providers.llm.base import Writer, WriterError

log = logging.getLogger(__name__)


class FallbackWriter:
    """Try `primary`; on any exception use `fallback`. The result's `model` names the writer that really
    wrote it, so the sequence records the truth. `on_fallback` (e.g. a metrics counter) gets the error."""

    def __init__(
        self,
        primary: Writer,
        fallback: Writer,
        on_fallback: Callable[[BaseException], None] | None = None,
    ) -> None:
        self.name = f"{primary.name}|{fallback.name}"
        self._primary = primary
        self._fallback = fallback
        self._on_fallback = on_fallback

    def write(self, request: GenerationRequest) -> GeneratedSteps:
        try:
            return self._primary.write(request)
        except Exception as exc:
            # WriterError messages are ours and carry no secrets; anything else is logged by type only,
            # because an SDK's message may echo request headers.
            reason = str(exc) if isinstance(exc, WriterError) else type(exc).__name__
            log.warning("writer %s failed (%s); using %s", self._primary.name, reason, self._fallback.name)
            if self._on_fallback is not None:
                self._on_fallback(exc)
            return self._fallback.write(request)
