"""Every corpus lead, written offline and through the real cohere SDK against the fake server, obeys the
content rules of issue 12 (see checker.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ringback.engine.time_wish import extract_time_wish
from ringback.providers.llm.cohere_writer import CohereWriter
from ringback.providers.llm.offline import OfflineWriter
from tests.content.checker import RULES, load_leads
from tests.content.pipeline import generate
from tests.content.prompt_model import answer
from tests.fakes.fake_cohere import FakeCohere, composed

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:cohere.*")
LEADS = load_leads()


@pytest.fixture(scope="module")
def cohere() -> Iterator[CohereWriter]:
    with FakeCohere() as fake:
        fake.set_default(composed(answer))
        yield CohereWriter("co-test-key-not-a-secret", base_url=fake.url, timeout_seconds=5.0, max_retries=0)


def test_corpus_is_large_and_covers_the_cases():
    assert len(LEADS) >= 60
    assert {lead.language for lead in LEADS} == {"en", "es", "fr", "de", "pt", "it"}
    contacts = [lead.contact for lead in LEADS]
    assert any(not contact.get("phone_numbers") for contact in contacts)  # email-only
    assert any(not contact.get("emails") for contact in contacts)  # phone-only
    assert any(contact.get("company") for contact in contacts)
    assert sum(bool(lead.expect.get("part")) for lead in LEADS) >= 20
    assert sum("gnor" in lead.notes.lower() for lead in LEADS) >= 6  # injection attempts


@pytest.mark.parametrize("lead", LEADS, ids=[lead.id for lead in LEADS])
def test_offline_writer_follows_every_rule(lead):
    generated = generate(lead, OfflineWriter())
    assert generated.problems == (), generated.contents


@pytest.mark.parametrize("lead", LEADS, ids=[lead.id for lead in LEADS])
def test_cohere_path_follows_every_rule(lead, cohere):
    generated = generate(lead, cohere)
    assert generated.model == cohere.name  # the model's answer was used, not the fallback
    assert generated.problems == (), generated.contents


def test_checker_catches_each_fault_of_the_old_writer():
    """The checker is not a rubber stamp: a sequence with each fault fails the matching rule."""
    from ringback.engine.model import Channel, StepContent, StepPlan
    from tests.content.checker import Lead, check

    lead = Lead(
        "x",
        "en",
        "email_first",
        {
            "first_name": "Sam",
            "company": "Sakura Logistics",
            "emails": ["sam@example.com"],
            "phone_numbers": ["+14155550132"],
            "notes": "pricing",
        },
        {"ask": "pricing"},
    )
    steps = (StepPlan(0, Channel.EMAIL, 0), StepPlan(1, Channel.SMS, 60), StepPlan(2, Channel.VOICE, 60))
    bad = {
        0: StepContent("Hi Sam, I just tried to reach you by phone. Visit bit.ly/evil9. Reply today.", "Hi"),
        1: StepContent("This is Dana from Sakura Logistics. Reply today."),
        2: StepContent("Hola. I'll also send you a message. Reply today."),
    }
    rules = {problem.rule for problem in check(lead, steps, bad, "es", {1: 3})}
    assert rules == set(RULES)


@pytest.mark.parametrize("lead", LEADS, ids=[lead.id for lead in LEADS])
def test_time_wishes_in_the_corpus_are_read(lead):
    wish = extract_time_wish(lead.notes)
    assert (wish.part if wish else None) == lead.expect.get("part")
