"""Commands answered to a caller that a crash kept from the state machine.

A review edit or decision, or a cancel, is answered 200 once the supervisor accepted it, which may be
before the enrollment's actor applied it. So the supervisor writes a `*_received` timeline entry first;
after a restart, comparing those with the entries the state machine wrote tells what is still to apply.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from ringback.engine import events as ev
from ringback.engine.machine import STEP_EDITED
from ringback.engine.model import EnrollmentStatus, StepContent

# Timeline entries written when a command is accepted, before the actor applies it.
DECISION_RECEIVED = "review.decision_received"
EDIT_RECEIVED = "review.edit_received"
CANCEL_RECEIVED = "enrollment.cancel_received"
# What recovery reads from the timelines of open enrollments.
RECOVERY_KINDS = (CANCEL_RECEIVED, DECISION_RECEIVED, EDIT_RECEIVED, STEP_EDITED)


def unapplied(status: EnrollmentStatus, entries: list[tuple[str, dict[str, Any]]]) -> list[ev.Event]:
    """The events an open enrollment still owes to accepted commands, given its `RECOVERY_KINDS` entries.

    A cancel makes every terminal state, so one received on an open enrollment was never applied. A
    decision moves the enrollment out of `pending_approval`, so one received on a pending enrollment
    was never applied. Each accepted edit left an `EDIT_RECEIVED` entry and each applied one a
    `STEP_EDITED` entry, in the same order (one supervisor, one actor inbox), so counting per step
    tells which are missing; the newest received content of such a step is the one to apply.
    """
    cancels = [detail for kind, detail in entries if kind == CANCEL_RECEIVED]
    if cancels:
        return [ev.Stopped(cancels[0].get("reason", "canceled"))]
    if status != EnrollmentStatus.PENDING_APPROVAL:
        return []
    applied: Counter[int] = Counter()
    received: Counter[int] = Counter()
    newest: dict[int, dict[str, Any]] = {}
    decision: dict[str, Any] | None = None
    for kind, detail in entries:
        if kind == STEP_EDITED:
            applied[detail["index"]] += 1
        elif kind == EDIT_RECEIVED:
            received[detail["index"]] += 1
            newest[detail["index"]] = detail
        elif kind == DECISION_RECEIVED:
            decision = detail
    events: list[ev.Event] = [
        ev.StepEdited(index, StepContent(d["body"], d["subject"], d.get("voicemail")), d["by"])
        for index, d in sorted(newest.items())
        if received[index] > applied[index]
    ]
    if decision is not None:
        approved = decision["decision"] == "approve"
        events.append(ev.Approved(decision["by"]) if approved else ev.Rejected(decision["by"], decision["reason"]))
    return events
