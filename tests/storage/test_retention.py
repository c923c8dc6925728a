"""Retention: notes and finished enrollments' generated content past their age are purged, nothing else."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ringback.commands.purge_retained import PurgeRetained
from ringback.engine.events import TimelineEntry
from ringback.engine.lead import ContactInput
from ringback.engine.locale import LanguageChoice, TimezoneChoice
from ringback.engine.model import EnrollmentStatus, StepStatus
from ringback.storage import contacts, enrollments, sandbox, templates
from ringback.storage.models import ContactNote, Enrollment, Event, Step
from tests.storage.conftest import NOW

DAY = timedelta(days=1)
EDIT = {"index": 1, "subject": "Maria, precios", "body": "Hola, Maria", "by": "api:key_1"}


@pytest.fixture
def enroll(workspace, template_def):
    """An enrollment of its own contact, its steps written, in `status` since `days` ago."""
    template_id = templates.create_template(workspace.id, template_def, NOW)

    def make(name: str, status: EnrollmentStatus, days: int, sending: bool = False) -> str:
        lead = ContactInput(first_name=name, emails=(f"{name}@example.com",), phones=("+34911234567",), notes=name)
        contact_id = contacts.upsert_contact(workspace.id, lead, NOW - days * DAY).contact_id
        language, zone = LanguageChoice("es", "explicit"), TimezoneChoice("Europe/Madrid", ("Europe/Madrid",), "x")
        enrollment_id = enrollments.create(
            workspace.id, template_id, template_def, contacts.profile(contact_id), "test", True, language, zone,
            NOW - days * DAY, {},
        ).enrollment_id  # fmt: skip
        Step.update(subject="Hola", body=f"Hola, {name}").where(Step.enrollment == enrollment_id).execute()
        if sending:
            first = (Step.enrollment == enrollment_id) & (Step.index == 0)
            Step.update(status=StepStatus.SENDING.value).where(first).execute()
        finished = {"status": status.value, "updated_at": NOW - days * DAY}
        Enrollment.update(**finished).where(Enrollment.id == enrollment_id).execute()
        enrollments.add_events(workspace.id, enrollment_id, [TimelineEntry("review.edit_received", EDIT)], NOW)
        step_id = Step.get(Step.enrollment == enrollment_id, Step.index == 0).id
        sandbox.record_once(step_id, step_id, "voice", "+34911234567", None, f"Hola, {name}", NOW - days * DAY)
        return enrollment_id

    return make


def contents(enrollment_id: str) -> list[str | None]:
    return [s.body for s in Step.select().where(Step.enrollment == enrollment_id).order_by(Step.index)]


def edit_detail(enrollment_id: str) -> dict:
    return Event.get(Event.enrollment == enrollment_id, Event.kind == "review.edit_received").detail


def test_content_of_enrollments_finished_long_enough_ago_is_purged_and_notes_past_their_age(enroll, writer):
    old_finished = enroll("ana", EnrollmentStatus.STOPPED, days=10)
    new_finished = enroll("bea", EnrollmentStatus.COMPLETED, days=3)
    old_open = enroll("cruz", EnrollmentStatus.ACTIVE, days=40)
    unsettled = enroll("dani", EnrollmentStatus.STOPPED, days=10, sending=True)

    counts = PurgeRetained(30, 7, writer).run(NOW)

    assert counts == {"notes": 1, "generated_contents": 3, "sandbox_deliveries": 1, "timeline_events": 1}
    assert contents(old_finished) == [None, None, None]
    assert edit_detail(old_finished) == {"index": 1, "by": "api:key_1"}
    assert sandbox.deliveries() and all(d["body"] != "Hola, ana" for d in sandbox.deliveries())
    for kept in (new_finished, old_open, unsettled):
        assert all(contents(kept)) and edit_detail(kept) == EDIT
    assert sorted(n.text for n in ContactNote.select()) == ["ana", "bea", "dani"]  # cruz's note was 40 days old


def test_retention_is_off_by_default(enroll, writer):
    old = enroll("ana", EnrollmentStatus.STOPPED, days=4000)

    assert PurgeRetained(0, 0, writer).run(NOW) == {}
    assert all(contents(old)) and ContactNote.select().count() == 1 and len(sandbox.deliveries()) == 1


def test_notes_alone(enroll, writer):
    old = enroll("ana", EnrollmentStatus.STOPPED, days=400)

    assert PurgeRetained(30, 0, writer).run(NOW) == {"notes": 1}
    assert all(contents(old))
