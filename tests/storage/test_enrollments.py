"""Enrollments: what `create` writes is what `load_state` rebuilds, and `save` persists a transition whole."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from ringback.engine.events import TimelineEntry
from ringback.engine.lead import ContactInput
from ringback.engine.locale import LanguageChoice, TimezoneChoice
from ringback.engine.model import Channel, EnrollmentStatus, StepContent, StepStatus
from ringback.engine.voice import CallScripts
from ringback.storage import contacts, enrollments, templates, voice_calls
from tests.storage.conftest import NOW

SPANISH = LanguageChoice("es", "explicit")
MADRID = TimezoneChoice("Europe/Madrid", ("Europe/Madrid", "Atlantic/Canary"), "notes_place")


@pytest.fixture
def setup(workspace, template_def):
    template_id = templates.create_template(workspace.id, template_def, NOW)

    def start(lead: ContactInput, auto_approve: bool = True, mode: str = "test") -> str:
        contact_id = contacts.upsert_contact(workspace.id, lead, NOW).contact_id
        created = enrollments.create(
            workspace.id,
            template_id,
            template_def,
            contacts.profile(contact_id),
            mode,
            auto_approve,
            SPANISH,
            MADRID,
            NOW,
            {"lead_id": "84211"},
        )
        return created.enrollment_id

    return start


MARIA = ContactInput(first_name="Maria", emails=("maria@example.com",), phones=("+34911234567",))


def test_create_plans_every_step_with_its_recipient(setup):
    enrollment_id = setup(MARIA)

    state = enrollments.load_state(enrollment_id)
    assert (state.status, state.auto_approve, state.sandbox) == (EnrollmentStatus.GENERATING, True, True)
    assert state.timezone_candidates == ("Europe/Madrid", "Atlantic/Canary")
    assert [(s.index, s.channel, s.delay_seconds, s.status, s.recipient) for s in state.steps] == [
        (0, Channel.VOICE, 0, StepStatus.PLANNED, "+34911234567"),
        (1, Channel.EMAIL, 120, StepStatus.PLANNED, "maria@example.com"),
        (2, Channel.SMS, 3600, StepStatus.PLANNED, "+34911234567"),
    ]


def test_steps_without_an_address_are_skipped_with_a_reason(setup):
    state = enrollments.load_state(setup(ContactInput(emails=("maria@example.com",))))

    assert [s.status for s in state.steps] == [StepStatus.SKIPPED, StepStatus.PLANNED, StepStatus.SKIPPED]
    assert state.steps[0].note == "contact has no phone number"


def test_save_then_load_gives_back_the_saved_state(setup, workspace):
    enrollment_id = setup(MARIA)
    before = enrollments.load_state(enrollment_id)
    sent_at = NOW + timedelta(seconds=3)
    after = before.evolve(status=EnrollmentStatus.ACTIVE, anchor_at=NOW, generation_attempts=1, admins_notified=True)
    after = after.with_step(
        before.step(0).evolve(
            status=StepStatus.SENT,
            content=StepContent(body="Hola Maria, ¿tiene un momento?", voicemail="Hola Maria, le llamo de Acme."),
            attempts=1,
            provider="sandbox",
            provider_id="sbx_01HV0000000000000000000000",
            sent_at=sent_at,
        )
    )
    after = after.with_step(
        before.step(1).evolve(
            status=StepStatus.SCHEDULED,
            scheduled_for=sent_at + timedelta(seconds=120),
            content=StepContent(body="Hola Maria...", subject="Precios"),
        )
    )
    timeline = (TimelineEntry("step.sent", {"index": 0}), TimelineEntry("step.scheduled", {"index": 1}))

    enrollments.save(before, after, workspace.id, timeline, sent_at, next_wake_at=sent_at + timedelta(seconds=120))

    assert enrollments.load_state(enrollment_id) == after
    assert enrollments.due_ids(sent_at + timedelta(seconds=119), 10) == []
    assert enrollments.due_ids(sent_at + timedelta(seconds=120), 10) == [enrollment_id]
    assert enrollments.find_step_by_provider_id("sbx_01HV0000000000000000000000") == (workspace.id, enrollment_id, 0)
    view = enrollments.enrollment_view(workspace.id, enrollment_id)
    assert [entry["kind"] for entry in view["timeline"]] == ["enrollment.created", "step.sent", "step.scheduled"]
    assert view["steps"][0]["script"] == "Hola Maria, ¿tiene un momento?"
    assert view["steps"][0]["voicemail_script"] == "Hola Maria, le llamo de Acme."
    assert view["steps"][1]["subject"] == "Precios"
    assert "voicemail_script" not in view["steps"][1]
    step_id = view["steps"][0]["id"]
    assert voice_calls.call_scripts(step_id) == CallScripts(
        "Hola Maria, ¿tiene un momento?", "Hola Maria, le llamo de Acme.", "es", None
    )
    assert voice_calls.call_scripts(view["steps"][1]["id"]) is None  # an email is no call
    assert voice_calls.call_scripts(view["steps"][2]["id"]) is None  # not written yet
    assert voice_calls.call_scripts("stp_01HV0000000000000000000000") is None
    assert view["metadata"] == {"lead_id": "84211"}
    assert view["review"] == {"required": False, "state": "auto_approved"}


def test_context_carries_template_contact_and_locale(setup, workspace, template_def):
    enrollment_id = setup(MARIA, auto_approve=False, mode="live")

    context = enrollments.load_context(enrollment_id)
    assert context.template == template_def
    assert context.contact.first_name == "Maria"
    assert (context.language, context.timezone, context.mode) == ("es", "Europe/Madrid", "live")
    assert len(context.step_ids) == 3
    assert enrollments.workspace_of(enrollment_id) == workspace.id
    assert enrollments.status_of(workspace.id, enrollment_id) == EnrollmentStatus.GENERATING


def test_open_enrollments_and_first_decision_wins(setup, workspace):
    enrollment_id = setup(MARIA, auto_approve=False)
    before = enrollments.load_state(enrollment_id)
    pending = before.evolve(status=EnrollmentStatus.PENDING_APPROVAL)
    enrollments.save(before, pending, workspace.id, (), NOW, None)

    assert enrollment_id in enrollments.open_enrollment_ids()
    assert [r["enrollment_id"] for r in enrollments.review_queue(workspace.id, NOW)] == [enrollment_id]
    assert enrollments.claim_decision(enrollment_id, "admin@example.com", NOW) is True
    assert enrollments.claim_decision(enrollment_id, "other@example.com", NOW) is False


def test_mark_failed_cancels_what_is_left(setup):
    enrollment_id = setup(MARIA)

    enrollments.mark_failed(enrollment_id, "kept crashing", NOW)

    state = enrollments.load_state(enrollment_id)
    assert state.status == EnrollmentStatus.FAILED and state.status_reason == "kept crashing"
    assert {s.status for s in state.steps} == {StepStatus.CANCELED}
    assert enrollment_id not in enrollments.open_enrollment_ids()


def test_load_many_reads_in_a_batch_what_load_reads_one_by_one(setup, workspace):
    """Due waves and recovery read their enrollments in a batch: it must be exactly what each actor would read."""
    maria = setup(MARIA)
    ana = setup(ContactInput(first_name="Ana", emails=("ana@example.com", "a2@example.com"), notes="Call after 5pm"))
    again = setup(ContactInput(emails=("maria@example.com",), notes="Second form"))  # Maria's contact, more notes
    before = enrollments.load_state(ana)
    moved = before.with_step(replace(before.steps[0], status=StepStatus.SENT, content=StepContent("Hola", "Asunto")))
    enrollments.save(before, moved, workspace.id, (), NOW, None)

    batch = enrollments.load_many([maria, ana, again, "enr_01HV0000000000000000000000"])

    assert set(batch) == {maria, ana, again}  # an id that is gone is simply absent
    for enrollment_id in (maria, ana, again):
        assert batch[enrollment_id] == enrollments.load(enrollment_id)
    assert batch[maria][1].contact.notes.endswith("Second form")
