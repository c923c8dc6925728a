"""Commands answered to a caller that a crash kept from the state machine.

A review edit or decision, or a cancel, is answered 200 once the supervisor accepted it, which may be
before the enrollment's actor applied it. So the supervisor writes a `*_received` timeline entry first;
after a restart, comparing those with the entries the state machine wrote tells what is still to apply.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from ringback.engine import events as ev
from ringback.engine.model import EnrollmentStatus, StepContent

# Timeline entries written when a command is accepted, before the actor applies it.
DECISION_RECEIVED = "review.decision_received"
EDIT_RECEIVED = "review.edit_received"
CANCEL_RECEIVED = "enrollment.cancel_received"  # an enrollment still open with one was never stopped


def unapplied_review(view: dict[str, Any]) -> list[ev.Event]:
    """The edits and the decision accepted for a pending enrollment that its state machine never applied.

    Each accepted edit left an `EDIT_RECEIVED` entry and each applied one a `review.step_edited`
    entry, in the same order (one supervisor, one actor inbox), so counting per step tells which
    are missing; the newest received content of such a step is the one to apply.
    """
    if view["status"] != EnrollmentStatus.PENDING_APPROVAL.value:
        return []
    applied: Counter[int] = Counter()
    received: Counter[int] = Counter()
    newest: dict[int, dict[str, Any]] = {}
    decision: dict[str, Any] | None = None
    for entry in view["timeline"]:
        detail = entry.get("detail", {})
        if entry["kind"] == "review.step_edited":
            applied[detail["index"]] += 1
        elif entry["kind"] == EDIT_RECEIVED:
            received[detail["index"]] += 1
            newest[detail["index"]] = detail
        elif entry["kind"] == DECISION_RECEIVED:
            decision = detail
    events: list[ev.Event] = [
        ev.StepEdited(index, StepContent(d["body"], d["subject"]), d["by"])
        for index, d in sorted(newest.items())
        if received[index] > applied[index]
    ]
    if decision is not None:
        approved = decision["decision"] == "approve"
        events.append(ev.Approved(decision["by"]) if approved else ev.Rejected(decision["by"], decision["reason"]))
    return events
