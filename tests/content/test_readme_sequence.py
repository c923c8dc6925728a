"""The README shows the full sequence the demo template writes for the seed lead: it must stay true."""

from __future__ import annotations

from pathlib import Path

from ringback.demo import DEMO_TEMPLATE, seed_lead
from ringback.engine.enrollment import StepState
from ringback.engine.lead import parse_contact
from ringback.engine.locale import resolve_language
from ringback.engine.template import parse_template
from ringback.engine.writing import generation_request
from ringback.providers.llm.guarded import write_guarded
from ringback.providers.llm.offline import OfflineWriter

README = Path(__file__).resolve().parents[2] / "README.md"


def _words(text: str) -> str:
    return " ".join(text.replace("> ", " ").split())


def test_readme_shows_what_the_seed_lead_really_receives():
    template = parse_template(DEMO_TEMPLATE)
    contact = parse_contact(seed_lead("tpl_demo")["contact"], None)
    language = resolve_language(contact.language, contact.notes, contact.phones, "en").code
    steps = [StepState(plan.index, plan.channel, plan.delay_seconds, recipient="x") for plan in template.steps]
    request = generation_request(
        template,
        steps,
        tuple(plan.index for plan in template.steps),
        language=language,
        timezone="Europe/Madrid",
        first_name=contact.first_name,
        last_name=contact.last_name,
        lead_company=contact.company,
        notes=contact.notes,
    )
    written = write_guarded(OfflineWriter(), OfflineWriter(), request).contents
    section = _words(README.read_text(encoding="utf-8").split("### What Maria receives", 1)[1].split("`make test`")[0])

    for content in written.values():
        assert _words(content.body) in section
        if content.voicemail:
            assert _words(content.voicemail) in section
        if content.subject:
            assert content.subject in section
