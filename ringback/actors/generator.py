"""Generator pool worker: one LLM call per job, output guarded before anyone sees it (`llm.guarded`)."""

from __future__ import annotations

import logging
from typing import Any

import pykka

from ringback import faults
from ringback.actors.messages import GenerateWork
from ringback.actors.pool import LoadCounter, PoolWorker
from ringback.actors.replies import reply
from ringback.engine.events import ContentReady, GenerationFailed
from ringback.engine.model import GenerationRequest
from ringback.providers.llm.base import Writer
from ringback.providers.llm.guarded import write_guarded

log = logging.getLogger(__name__)


class GeneratorWorker(PoolWorker):
    def __init__(
        self, counter: LoadCounter, writer: Writer, fallback: Writer, supervisor: pykka.ActorRef
    ) -> None:
        super().__init__(counter)
        self._writer = writer
        self._fallback = fallback
        self._supervisor = supervisor

    def handle(self, message: Any) -> None:
        if not isinstance(message, GenerateWork):
            return
        event = self._write(message.request)
        reply(self._supervisor, message, event)

    def handle_crash(self, message: Any) -> None:
        if isinstance(message, GenerateWork):
            failed = GenerationFailed(message.request.wanted, "the writer crashed")
            reply(self._supervisor, message, failed)

    def _write(self, request: GenerationRequest) -> ContentReady | GenerationFailed:
        faults.reach("during_generation")
        return write_guarded(self._writer, self._fallback, request)
