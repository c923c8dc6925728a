"""One corpus lead through the real content path: template and contact validation, language and plan
resolution, the enrollment's request, the writer, the guard and the SMS finishing (`llm.guarded`)."""

from __future__ import annotations

from dataclasses import dataclass

from ringback.engine.enrollment import StepState
from ringback.engine.events import ContentReady
from ringback.engine.lead import parse_contact
from ringback.engine.locale import resolve_language, resolve_timezone, written_language
from ringback.engine.model import Channel, GenerationRequest, StepContent, StepStatus
from ringback.engine.sms import segments
from ringback.engine.template import parse_template
from ringback.engine.writing import generation_request
from ringback.providers.llm.base import Writer
from ringback.providers.llm.guarded import write_guarded
from ringback.providers.llm.offline import OfflineWriter
from ringback.storage.contacts import ContactProfile
from ringback.storage.enrollments import plan_recipient
from tests.content.checker import Lead, Problem, check, template_body


@dataclass(frozen=True)
class Generated:
    lead: Lead
    request: GenerationRequest
    contents: dict[int, StepContent]
    model: str
    problems: tuple[Problem, ...]


def request_for(lead: Lead) -> GenerationRequest:
    template = parse_template(template_body(lead.template))
    contact = parse_contact(lead.contact, None)
    profile = ContactProfile(
        "con_corpus",
        contact.first_name,
        contact.last_name,
        contact.company,
        contact.emails,
        contact.phones,
        contact.notes,
        contact.language,
        contact.timezone,
    )
    language = resolve_language(contact.language, contact.notes, contact.phones, "en")
    zone = resolve_timezone(contact.timezone, contact.notes, contact.phones, "UTC")
    steps = []
    for plan in template.steps:
        recipient = plan_recipient(plan.channel, profile)
        status = StepStatus.PLANNED if recipient else StepStatus.SKIPPED
        steps.append(
            StepState(
                plan.index,
                plan.channel,
                plan.delay_seconds,
                status,
                recipient,
                note=None if recipient else "contact has no address for this channel",
            )
        )
    wanted = tuple(step.index for step in steps if step.status == StepStatus.PLANNED)
    return generation_request(
        template,
        steps,
        wanted,
        language=language.code,
        timezone=zone.zone,
        first_name=contact.first_name,
        last_name=contact.last_name,
        lead_company=contact.company,
        notes=contact.notes,
    )


def generate(lead: Lead, writer: Writer) -> Generated:
    request = request_for(lead)
    outcome = write_guarded(writer, OfflineWriter(), request)
    assert isinstance(outcome, ContentReady), outcome
    contents = dict(outcome.contents)
    text = " ".join(content.body for content in contents.values())
    sms = {
        index: segments(content.body)
        for index, content in contents.items()
        if next(p for p in request.steps if p.index == index).channel is Channel.SMS
    }
    reads_as = written_language(text) if request.language == lead.language else request.language
    problems = check(lead, request.steps, contents, reads_as, sms)
    return Generated(lead, request, contents, outcome.model, tuple(problems))
