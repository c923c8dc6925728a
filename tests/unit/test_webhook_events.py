"""The outbound events of a transition, and the webhook retry schedule (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ringback.engine.enrollment import EnrollmentState, StepState
from ringback.engine.model import Channel, EnrollmentStatus, StepStatus
from ringback.engine.webhook_events import (
    EVENT_TYPES,
    JITTER,
    RETRY_DELAYS,
    OutboundEvent,
    created,
    derive,
    retry_delay,
    wants,
)

NOW = datetime(2026, 5, 6, 10, 0, tzinfo=UTC)


def state(status: EnrollmentStatus = EnrollmentStatus.GENERATING, *steps: StepStatus) -> EnrollmentState:
    return EnrollmentState(
        id="enr_1",
        status=status,
        auto_approve=False,
        sandbox=True,
        steps=tuple(StepState(i, Channel.EMAIL, 0, s) for i, s in enumerate(steps or (StepStatus.PLANNED,))),
    )


@pytest.mark.parametrize(
    ("before", "after", "kind"),
    [
        (EnrollmentStatus.GENERATING, EnrollmentStatus.PENDING_APPROVAL, "enrollment.pending_approval"),
        (EnrollmentStatus.PENDING_APPROVAL, EnrollmentStatus.ACTIVE, "enrollment.approved"),
        (EnrollmentStatus.PENDING_APPROVAL, EnrollmentStatus.REJECTED, "enrollment.rejected"),
        (EnrollmentStatus.ACTIVE, EnrollmentStatus.COMPLETED, "enrollment.completed"),
        (EnrollmentStatus.ACTIVE, EnrollmentStatus.STOPPED, "enrollment.stopped"),
        (EnrollmentStatus.GENERATING, EnrollmentStatus.FAILED, "enrollment.failed"),
    ],
)
def test_a_status_change_is_one_enrollment_event(before, after, kind):
    events = derive(state(before), state(after).evolve(status_reason="why"))

    assert [e.type for e in events] == [kind]
    assert events[0].data["id"] == "enr_1"
    assert events[0].data["status"] == after.value
    assert events[0].data["status_reason"] == "why"


def test_the_fast_path_into_active_is_not_an_approval():
    assert derive(state(EnrollmentStatus.GENERATING), state(EnrollmentStatus.ACTIVE)) == ()


@pytest.mark.parametrize("status", ["sent", "delivered", "failed", "skipped", "unknown"])
def test_a_step_reaching_an_outcome_is_one_step_event(status):
    before = state(EnrollmentStatus.ACTIVE, StepStatus.SENDING, StepStatus.PLANNED)
    after = before.with_step(before.step(0).evolve(status=StepStatus(status), provider_id="p-1", attempts=1))

    (event,) = derive(before, after)

    assert event.type == f"step.{status}"
    assert event.data["enrollment_id"] == "enr_1"
    assert (event.data["index"], event.data["state"], event.data["provider_id"]) == (0, status, "p-1")


def test_steps_in_progress_and_unchanged_states_make_no_event():
    before = state(EnrollmentStatus.ACTIVE, StepStatus.PLANNED)
    scheduled = before.with_step(before.step(0).evolve(status=StepStatus.SCHEDULED))
    sending = scheduled.with_step(scheduled.step(0).evolve(status=StepStatus.SENDING))

    assert derive(before, scheduled) == derive(scheduled, sending) == derive(sending, sending) == ()


def test_the_last_send_and_completion_come_in_order():
    before = state(EnrollmentStatus.ACTIVE, StepStatus.SENDING)
    after = before.with_step(before.step(0).evolve(status=StepStatus.SENT)).evolve(status=EnrollmentStatus.COMPLETED)

    assert [e.type for e in derive(before, after)] == ["enrollment.completed", "step.sent"]


def test_created_names_every_id():
    event = created("enr_1", "seq_1", "ct_1", "tpl_1", "test")

    assert event == OutboundEvent(
        "enrollment.created",
        {
            "object": "enrollment",
            "id": "enr_1",
            "status": "generating",
            "sequence_id": "seq_1",
            "contact_id": "ct_1",
            "template_id": "tpl_1",
            "mode": "test",
        },
    )


def test_an_endpoint_hears_what_it_subscribed_to_or_everything():
    assert wants(None, "step.sent")
    assert wants(("step.sent",), "step.sent")
    assert not wants(("step.sent",), "contact.replied")
    assert len(set(EVENT_TYPES)) == len(EVENT_TYPES) == 14


def test_retries_spread_over_about_three_days_then_stop():
    total = sum(RETRY_DELAYS, timedelta())

    assert timedelta(days=2.5) < total < timedelta(days=3.5)
    assert [retry_delay(n, 0.5) for n in range(1, len(RETRY_DELAYS) + 1)] == list(RETRY_DELAYS)
    assert retry_delay(len(RETRY_DELAYS) + 1, 0.5) is None
    assert retry_delay(0, 0.5) is None


def test_jitter_moves_a_delay_within_its_bounds():
    low, high = retry_delay(3, 0.0), retry_delay(3, 0.999999)

    assert low == RETRY_DELAYS[2] * (1 - JITTER)
    assert RETRY_DELAYS[2] < high <= RETRY_DELAYS[2] * (1 + JITTER)
