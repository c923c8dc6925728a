"""The send-time check of a workspace's sending limits and a template's weekdays, for the enrollment actor.

Like the opt-out re-check, it runs right before a send, so limits changed after a step was scheduled apply.
"""

from __future__ import annotations

from datetime import datetime

from ringback.commands.reserve_send import ReserveSend, SendSlot
from ringback.engine.enrollment import EnrollmentState
from ringback.engine.machine import Policy
from ringback.engine.sending_limits import Wait, weekday_wait
from ringback.providers.channels.base import OutboundMessage
from ringback.storage.enrollments import EnrollmentContext
from ringback.storage.writer import GroupCommitWriter


def limit_wait(
    writer: GroupCommitWriter,
    state: EnrollmentState,
    context: EnrollmentContext,
    policy: Policy,
    message: OutboundMessage,
    attempt: int,
    now: datetime,
) -> Wait | None:
    """None: send now (and the send is counted). Otherwise the step must wait: until when, and why."""
    wait = weekday_wait(now, context.template.allowed_weekdays, state.timezone_candidates)
    if wait is not None:
        return wait
    slot = SendSlot(
        workspace_id=context.workspace_id,
        step_id=message.step_id,
        attempt=attempt,
        channel=message.channel,
        sender=message.sender_address,
        recipient=message.to,
        sandbox=state.sandbox,
    )
    return ReserveSend(writer).run(slot, policy.limits, policy.zone, now)
