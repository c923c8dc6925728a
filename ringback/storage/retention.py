"""Retention: notes, and the generated content of finished enrollments, forgotten after a configured age."""

from __future__ import annotations

from datetime import datetime

from ringback.engine.model import TERMINAL_ENROLLMENT, StepStatus
from ringback.storage.models import ContactNote, Enrollment, Event, SandboxDelivery, Step

_CONTENT_KEYS = ("subject", "body")  # what a timeline entry quoting a step's text (a review edit) carries


def purge_notes(before: datetime) -> int:
    return ContactNote.delete().where(ContactNote.created_at < before).execute()


def purge_content(before: datetime) -> dict[str, int]:
    """Blank the steps' text of enrollments finished before `before`, drop their sandbox copies and the
    text quoted in their timelines. An enrollment with a send still to settle is left for later."""
    unsettled = Step.select(Step.enrollment).where(Step.status == StepStatus.SENDING.value)
    finished = Enrollment.select(Enrollment.id).where(
        Enrollment.status.in_([s.value for s in TERMINAL_ENROLLMENT]),
        Enrollment.updated_at < before,
        Enrollment.id.not_in(unsettled),
    )
    steps = Step.select(Step.id).where(Step.enrollment.in_(finished))
    counts = {
        "generated_contents": Step.update(subject=None, body=None)
        .where(Step.enrollment.in_(finished), Step.body.is_null(False))
        .execute(),
        "sandbox_deliveries": SandboxDelivery.delete().where(SandboxDelivery.step_id.in_(steps)).execute(),
        "timeline_events": 0,
    }
    quoting = Event.select(Event.id, Event.detail).where(
        Event.enrollment.in_(finished), Event.detail.text_contains('"body"')
    )
    for event in quoting:
        kept = {k: v for k, v in event.detail.items() if k not in _CONTENT_KEYS}
        if kept != event.detail:
            Event.update(detail=kept).where(Event.id == event.id).execute()
            counts["timeline_events"] += 1
    return counts
