"""The request a writer gets for one enrollment: the template's words, the lead's data, the plan as it runs."""

from __future__ import annotations

from collections.abc import Sequence

from ringback.engine.enrollment import StepState
from ringback.engine.model import GenerationRequest, StepStatus
from ringback.engine.sms import opt_out_step
from ringback.engine.template import TemplateDef


def generation_request(
    template: TemplateDef,
    steps: Sequence[StepState],
    wanted: tuple[int, ...],
    *,
    language: str,
    timezone: str,
    first_name: str,
    last_name: str,
    lead_company: str,
    notes: str,
) -> GenerationRequest:
    """Build the request from the template and the enrollment's steps (skipped ones say why)."""
    skipped = {step.index: step.note or "skipped" for step in steps if step.status == StepStatus.SKIPPED}
    sender = template.sender
    return GenerationRequest(
        template_name=template.name,
        goal=template.goal,
        tone=template.tone,
        steps=template.steps,
        wanted=wanted,
        language=language,
        timezone=timezone,
        first_name=first_name,
        last_name=last_name,
        notes=notes,
        lead_company=lead_company,
        sender_name=sender.name,
        sender_company=sender.company,
        sender_title=sender.title,
        value_proposition=template.value_proposition,
        call_to_action=template.call_to_action,
        facts=template.facts,
        skipped=skipped,
        sms_opt_out=opt_out_step(steps) is not None,
        sms_max_segments=template.sms_max_segments,
        voice_connect=bool(template.connect_number),
        link_allowlist=template.link_allowlist,
    )
