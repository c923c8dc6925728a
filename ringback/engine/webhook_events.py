"""What integrators are told: the outbound events of one transition, and the webhook retry schedule.

Pure functions. `derive` compares the state before and after a transition, so an event exists exactly
when the state change it reports is persisted (storage writes both in one transaction: the outbox).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from ringback.engine.enrollment import EnrollmentState, StepState
from ringback.engine.model import EnrollmentStatus, StepStatus

ENROLLMENT_TYPES = (
    "enrollment.created",
    "enrollment.pending_approval",
    "enrollment.approved",
    "enrollment.rejected",
    "enrollment.completed",
    "enrollment.stopped",
    "enrollment.failed",
)
STEP_TYPES = ("step.sent", "step.delivered", "step.failed", "step.skipped", "step.unknown")
CONTACT_TYPES = ("contact.replied", "contact.opted_out")
EVENT_TYPES = ENROLLMENT_TYPES + STEP_TYPES + CONTACT_TYPES
PING = "ping"  # only ever sent by `POST /webhook_endpoints/{id}/test`, never stored in the feed

_STATUS_EVENTS = {
    EnrollmentStatus.PENDING_APPROVAL: "enrollment.pending_approval",
    EnrollmentStatus.REJECTED: "enrollment.rejected",
    EnrollmentStatus.COMPLETED: "enrollment.completed",
    EnrollmentStatus.STOPPED: "enrollment.stopped",
    EnrollmentStatus.FAILED: "enrollment.failed",
}
_STEP_EVENTS = {status: f"step.{status.value}" for status in (
    StepStatus.SENT, StepStatus.DELIVERED, StepStatus.FAILED, StepStatus.SKIPPED, StepStatus.UNKNOWN
)}

# Standard Webhooks style: quick retries first, then hours apart; the sum is about three days.
RETRY_DELAYS = tuple(
    timedelta(seconds=s)
    for s in (5, 30, 120, 600, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 24 * 3600, 24 * 3600)
)
JITTER = 0.2  # each delay moves by up to ±20 %, so endpoints that failed together do not retry together


@dataclass(frozen=True)
class OutboundEvent:
    type: str
    data: Mapping[str, object] = field(default_factory=dict)


def enrollment_data(state: EnrollmentState) -> dict[str, object]:
    return {
        "object": "enrollment",
        "id": state.id,
        "status": state.status.value,
        "status_reason": state.status_reason,
        "mode": "test" if state.sandbox else "live",
    }


def step_data(enrollment_id: str, step: StepState) -> dict[str, object]:
    error = {"code": step.last_error_code, "message": step.last_error} if step.last_error else None
    return {
        "object": "step",
        "enrollment_id": enrollment_id,
        "index": step.index,
        "channel": step.channel.value,
        "state": step.status.value,
        "provider": step.provider,
        "provider_id": step.provider_id,
        "attempts": step.attempts,
        "sent_at": step.sent_at.isoformat().replace("+00:00", "Z") if step.sent_at else None,
        "delivered_at": step.delivered_at.isoformat().replace("+00:00", "Z") if step.delivered_at else None,
        "last_error": error,
        "note": step.note,
    }


def created(enrollment_id: str, sequence_id: str, contact_id: str, template_id: str, mode: str) -> OutboundEvent:
    return OutboundEvent(
        "enrollment.created",
        {
            "object": "enrollment",
            "id": enrollment_id,
            "status": EnrollmentStatus.GENERATING.value,
            "sequence_id": sequence_id,
            "contact_id": contact_id,
            "template_id": template_id,
            "mode": mode,
        },
    )


def contact_event(kind: str, contact_id: str, reason: str, source: str | None) -> OutboundEvent:
    """`contact.replied` or `contact.opted_out`; `source` says where (api, sms, email_link)."""
    return OutboundEvent(kind, {"object": "contact", "id": contact_id, "reason": reason, "source": source})


def derive(previous: EnrollmentState, state: EnrollmentState) -> tuple[OutboundEvent, ...]:
    """The events one persisted transition reports: the enrollment's new status, then each step's, in order."""
    found: list[OutboundEvent] = []
    if state.status != previous.status:
        kind = _STATUS_EVENTS.get(state.status)
        if state.status == EnrollmentStatus.ACTIVE and previous.status == EnrollmentStatus.PENDING_APPROVAL:
            kind = "enrollment.approved"
        if kind:
            found.append(OutboundEvent(kind, enrollment_data(state)))
    for old, new in zip(previous.steps, state.steps, strict=True):
        if new.status != old.status and new.status in _STEP_EVENTS:
            found.append(OutboundEvent(_STEP_EVENTS[new.status], step_data(state.id, new)))
    return tuple(found)


def wants(subscribed: tuple[str, ...] | None, event_type: str) -> bool:
    """An endpoint without an event list hears every event."""
    return subscribed is None or event_type in subscribed


def retry_delay(failed_attempts: int, jitter: float) -> timedelta | None:
    """The wait after the `failed_attempts`-th failure; None once the schedule is used up (give up).

    `jitter` is a number in [0, 1) the caller draws (randomness stays out of the engine); 0.5 means none.
    """
    if failed_attempts < 1 or failed_attempts > len(RETRY_DELAYS):
        return None
    return RETRY_DELAYS[failed_attempts - 1] * (1 + JITTER * (2 * jitter - 1))
