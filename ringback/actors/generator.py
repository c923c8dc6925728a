"""Generator pool worker: one LLM call per job, output guarded before anyone sees it."""

from __future__ import annotations

import logging
from typing import Any

import pykka

from ringback import faults
from ringback.actors.messages import GenerateWork
from ringback.actors.pool import LoadCounter, PoolWorker
from ringback.actors.replies import reply
from ringback.engine.content_guard import guard
from ringback.engine.events import ContentReady, GenerationFailed
from ringback.engine.model import GenerationRequest, StepContent
from ringback.providers.llm.base import Writer

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
        reply(self._supervisor, message.enrollment_id, event)

    def handle_crash(self, message: Any) -> None:
        if isinstance(message, GenerateWork):
            failed = GenerationFailed(message.request.wanted, "the writer crashed")
            reply(self._supervisor, message.enrollment_id, failed)

    def _write(self, request: GenerationRequest) -> ContentReady | GenerationFailed:
        faults.reach("during_generation")
        written = self._writer.write(request)
        contents, rejected = self._guarded(request, written.steps)
        model = written.model
        if rejected:
            # Whatever the model got wrong, a hot lead still gets a message: the offline writer fills in.
            log.warning("content for steps %s failed the guard; using %s", rejected, self._fallback.name)
            retry = GenerationRequest(**{**request.__dict__, "wanted": tuple(rejected)})
            more, still_bad = self._guarded(retry, self._fallback.write(retry).steps)
            contents.update(more)
            model = f"{model}+{self._fallback.name}"
            if still_bad:
                return GenerationFailed(tuple(still_bad), "generated content failed validation")
        return ContentReady(contents, model)

    @staticmethod
    def _guarded(
        request: GenerationRequest, steps: dict[int, StepContent]
    ) -> tuple[dict[int, StepContent], list[int]]:
        channels = {plan.index: plan.channel for plan in request.steps}
        accepted: dict[int, StepContent] = {}
        rejected: list[int] = []
        for index in request.wanted:
            content = steps.get(index)
            result = guard(channels[index], content, request.link_allowlist) if content else None
            if result is None or result.problems:
                rejected.append(index)
            else:
                accepted[index] = result.content
        return accepted, rejected
