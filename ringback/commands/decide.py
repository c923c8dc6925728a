"""Review decisions and cancels: approve, reject, edit a pending enrollment; cancel any open one.

Each is one unit of the group-commit writer that checks the enrollment's state and records the
command (a `*_received` timeline entry, and for approve/reject the first-wins decision claim); only
once that is durable does the enrollment's actor hear of it. Should the node die in between,
recovery finds the received entry the state machine has not answered and delivers it again
(`actors/unapplied.py`). Checking and recording in one transaction is what makes the first decision
win, whichever node or thread it came from.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ringback.actors.messages import Deliver
from ringback.actors.unapplied import CANCEL_RECEIVED, DECISION_RECEIVED, EDIT_RECEIVED
from ringback.clock import Clock
from ringback.commands.errors import Conflict, NotFound
from ringback.engine import events as ev
from ringback.engine.content_guard import validate_edit
from ringback.engine.errors import InvalidInput
from ringback.engine.model import TERMINAL_ENROLLMENT, EnrollmentStatus, StepContent
from ringback.storage import enrollments
from ringback.storage.writer import GroupCommitWriter

DECISIONS = ("approve", "reject", "cancel", "edit")


@dataclass(frozen=True)
class Decision:
    workspace_id: str
    enrollment_id: str
    decision: str  # one of DECISIONS
    by: str
    reason: str = ""
    edits: tuple[tuple[int, StepContent], ...] = ()


class DecideEnrollment:
    def __init__(
        self,
        writer: GroupCommitWriter,
        clock: Clock,
        tell_supervisor: Callable[[Any], None],
        timeout_seconds: float,
    ) -> None:
        self._writer = writer
        self._clock = clock
        self._tell = tell_supervisor
        self._timeout = timeout_seconds

    def __call__(self, d: Decision) -> str:
        """The enrollment's status as the caller should now see it. Raises NotFound, Conflict, InvalidInput."""
        if d.decision not in DECISIONS:
            raise ValueError(d.decision)
        checked = self._checked_edits(d) if d.decision == "edit" else ()
        now = self._clock.now()
        status, events = self._writer.run(lambda: _record(d, checked, now), self._timeout)
        for event in events:
            self._tell(Deliver(d.enrollment_id, event))
        return status

    @staticmethod
    def _checked_edits(d: Decision) -> tuple[tuple[int, StepContent], ...]:
        """Edits validated like generated content (outside the transaction: it only reads the plan)."""
        if enrollments.status_of(d.workspace_id, d.enrollment_id) is None:
            raise NotFound("enrollment not found")
        channels = enrollments.step_channels(d.enrollment_id)
        allowlist = enrollments.load_context(d.enrollment_id).template.link_allowlist
        checked = []
        for index, content in d.edits:
            if index not in channels:
                raise InvalidInput("index", f"the sequence has no step {index}")
            result = validate_edit(channels[index], content, allowlist)
            if result.problems:
                raise InvalidInput(f"steps[{index}]", "; ".join(result.problems))
            checked.append((index, result.content))
        return tuple(checked)


def _record(
    d: Decision, edits: tuple[tuple[int, StepContent], ...], now: datetime
) -> tuple[str, list[ev.Event]]:
    """The unit: check the state, record what was received; the events to deliver once it is durable."""
    status = enrollments.status_of(d.workspace_id, d.enrollment_id)
    if status is None:
        raise NotFound("enrollment not found")
    if d.decision == "cancel":
        if status in TERMINAL_ENROLLMENT:
            raise Conflict(f"the enrollment is already {status.value}")
        reason = d.reason or "canceled"
        received = ev.TimelineEntry(CANCEL_RECEIVED, {"reason": reason, "by": d.by})
        enrollments.add_events(d.workspace_id, d.enrollment_id, [received], now)
        return EnrollmentStatus.STOPPED.value, [ev.Stopped(reason)]
    if status != EnrollmentStatus.PENDING_APPROVAL:
        raise Conflict(f"the enrollment is {status.value}, not pending_approval")
    if d.decision == "edit":
        if enrollments.is_decided(d.enrollment_id):
            # Decided a moment ago: the actor may not have applied it yet, but the claim is already final.
            raise Conflict("the enrollment was already decided")
        entries = [
            ev.TimelineEntry(EDIT_RECEIVED, {"index": i, "subject": c.subject, "body": c.body, "by": d.by})
            for i, c in edits
        ]
        enrollments.add_events(d.workspace_id, d.enrollment_id, entries, now)
        return EnrollmentStatus.PENDING_APPROVAL.value, [ev.StepEdited(i, c, d.by) for i, c in edits]
    if not enrollments.claim_decision(d.enrollment_id, d.by, now):
        raise Conflict("the enrollment was already decided")
    received = {"decision": d.decision, "by": d.by, "reason": d.reason}
    enrollments.add_events(d.workspace_id, d.enrollment_id, [ev.TimelineEntry(DECISION_RECEIVED, received)], now)
    if d.decision == "approve":
        return EnrollmentStatus.ACTIVE.value, [ev.Approved(d.by)]
    return EnrollmentStatus.REJECTED.value, [ev.Rejected(d.by, d.reason)]
