"""Writing with a safety net: every writer's output is guarded and finished before anyone sees it, and
steps that fail the guard are written again by the fallback writer, so a hot lead still gets a message."""

from __future__ import annotations

import logging
from dataclasses import replace

from ringback.engine.content_guard import guard
from ringback.engine.events import ContentReady, GenerationFailed
from ringback.engine.model import Channel, GenerationRequest, StepContent
from ringback.engine.sms import finish_text
from ringback.providers.llm.base import Writer

log = logging.getLogger(__name__)


def write_guarded(writer: Writer, fallback: Writer, request: GenerationRequest) -> ContentReady | GenerationFailed:
    written = writer.write(request)
    contents, rejected = guarded(request, written.steps)
    model = written.model
    if rejected:
        log.warning("content for steps %s failed the guard; using %s", rejected, fallback.name)
        retry = replace(request, wanted=tuple(rejected))
        more, still_bad = guarded(retry, fallback.write(retry).steps)
        contents.update(more)
        model = f"{model}+{fallback.name}"
        if still_bad:
            return GenerationFailed(tuple(still_bad), "generated content failed validation")
    return ContentReady(contents, model)


def guarded(request: GenerationRequest, steps: dict[int, StepContent]) -> tuple[dict[int, StepContent], list[int]]:
    """Cleaned content for every wanted step that passes the guard, and the indexes of those that do not.
    Texts are finished here (opt-out line, segment limit) whoever wrote them."""
    channels = {plan.index: plan.channel for plan in request.steps}
    accepted: dict[int, StepContent] = {}
    rejected: list[int] = []
    for index in request.wanted:
        content = steps.get(index)
        result = guard(channels[index], content, request.link_allowlist) if content else None
        if result is None or result.problems:
            rejected.append(index)
        elif channels[index] is Channel.SMS:
            accepted[index] = finish_text(request, index, result.content)
        else:
            accepted[index] = result.content
    return accepted, rejected
