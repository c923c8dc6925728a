"""Which accepted commands a crash kept from the state machine, read from timeline entries."""

from __future__ import annotations

from ringback.actors.unapplied import CANCEL_RECEIVED, DECISION_RECEIVED, EDIT_RECEIVED, STEP_EDITED, unapplied
from ringback.engine import events as ev
from ringback.engine.model import EnrollmentStatus, StepContent

PENDING = EnrollmentStatus.PENDING_APPROVAL


def edit(index: int, body: str) -> tuple[str, dict]:
    return EDIT_RECEIVED, {"index": index, "subject": "S", "body": body, "by": "admin"}


def test_only_edits_not_yet_applied_are_owed_with_their_newest_content_then_the_decision():
    entries = [
        edit(0, "first"),
        (STEP_EDITED, {"index": 0}),
        edit(1, "old"),
        edit(1, "newest"),
        (STEP_EDITED, {"index": 1}),
        (DECISION_RECEIVED, {"decision": "approve", "by": "admin", "reason": None}),
    ]
    assert unapplied(PENDING, entries) == [ev.StepEdited(1, StepContent("newest", "S"), "admin"), ev.Approved("admin")]


def test_a_decided_enrollment_owes_nothing_from_its_review():
    entries = [edit(0, "x"), (DECISION_RECEIVED, {"decision": "reject", "by": "admin", "reason": "no"})]
    assert unapplied(EnrollmentStatus.ACTIVE, entries) == []
    assert unapplied(PENDING, entries) == [ev.StepEdited(0, StepContent("x", "S"), "admin"), ev.Rejected("admin", "no")]


def test_a_cancel_received_on_an_open_enrollment_is_owed_whatever_its_status():
    entries = [edit(0, "x"), (CANCEL_RECEIVED, {"reason": "canceled via API", "by": "key"})]
    assert unapplied(EnrollmentStatus.ACTIVE, entries) == [ev.Stopped("canceled via API")]
    assert unapplied(PENDING, entries) == [ev.Stopped("canceled via API")]
