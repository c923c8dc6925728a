"""One actor per live enrollment: applies events to the pure state machine, persists, then acts.

The database is the source of truth; this actor is a cache of one enrollment that the supervisor
can rebuild from storage at any time (after passivation, a crash or a restart). What it persists
as `next_wake_at` is the contract with the supervisor: set only while the enrollment merely waits
for time (the supervisor's due poll wakes it), empty while work is in flight (start-up recovery
resumes it).
"""

from __future__ import annotations

import contextlib
import logging
from datetime import datetime, timedelta
from typing import Any

import pykka

from ringback.actors.messages import (
    Apply,
    EnrollmentCrashed,
    Fenced,
    GenerateWork,
    NotifyWork,
    ReleaseMe,
    SendWork,
    WakeMeAt,
)
from ringback.actors.review_mail import compose
from ringback.actors.runtime import Runtime
from ringback.actors.sending_limits import limit_wait
from ringback.engine import events as ev
from ringback.engine.enrollment import EnrollmentState
from ringback.engine.machine import is_busy, is_finished, next_due, transition
from ringback.engine.model import Channel, EnrollmentStatus, GenerationRequest
from ringback.engine.writing import generation_request
from ringback.providers.channels.base import OutboundMessage
from ringback.storage import contacts, enrollments
from ringback.storage.db import release as release_connection
from ringback.storage.writer import LeaseLost
from ringback.tokens import review_link

log = logging.getLogger(__name__)


class EnrollmentActor(pykka.ThreadingActor):
    def __init__(
        self,
        enrollment_id: str,
        runtime: Runtime,
        preloaded: tuple[EnrollmentState, enrollments.EnrollmentContext] | None = None,
    ) -> None:
        """`preloaded`: state and context read in a batch by the supervisor (due waves, recovery)."""
        super().__init__()
        self._id = enrollment_id
        self._rt = runtime
        self._state, self._context = preloaded or (None, None)
        self._last_seq = 0
        # Cluster mode: the partition lease this actor works under; its writes are refused once it is not ours.
        self._lease = runtime.ownership.lease_of(enrollment_id)

    def on_receive(self, message: Any) -> None:
        """Any other message is a no-op: shutdown uses an `ask` as a barrier behind the events queued here."""
        if isinstance(message, Apply):
            self._last_seq = message.seq
            try:
                self.apply(message.event)
            except LeaseLost:
                self._tell_supervisor(Fenced(self._id))  # another node owns us now; it resumes from storage
                return
            finally:
                release_connection()  # actors come and go by the thousand; connections stay bounded
            self._maybe_release()

    def on_failure(self, exception_type, exception_value, traceback) -> None:
        # pykka has logged the traceback; this line ties it to the enrollment. The supervisor restarts us.
        log.error("enrollment %s crashed on event %d: %r", self._id, self._last_seq, exception_value)
        self._tell_supervisor(EnrollmentCrashed(self._id, self.actor_urn, repr(exception_value)))

    def _tell_supervisor(self, message: Any) -> None:
        # Dead only while shutting down: storage already holds everything, recovery resumes from there.
        with contextlib.suppress(pykka.ActorDeadError):
            self._rt.supervisor.tell(message)

    # --- the cycle: transition, persist, act --------------------------------------------------------

    def apply(self, event: ev.Event) -> None:
        if self._state is None:
            self._state, self._context = enrollments.load(self._id)
        now = self._rt.clock.now()
        outcome = transition(self._state, event, now, self._rt.policy(self._context.workspace_id))
        previous, workspace_id = self._state, self._context.workspace_id
        wake_at = None if is_busy(outcome.state) else next_due(outcome.state)
        # Durable (in a group commit with other enrollments' transitions) before any effect is carried out.
        self._rt.writer.run(
            lambda: enrollments.save(previous, outcome.state, workspace_id, outcome.timeline, now, wake_at),
            lease=self._lease,
        )
        self._state = outcome.state
        self._rt.observe(outcome.state, outcome.timeline)
        for effect in outcome.effects:
            self._carry_out(effect)

    def _carry_out(self, effect: ev.Effect) -> None:
        if isinstance(effect, ev.Generate):
            self._rt.generators.tell(GenerateWork(self._id, self._generation_request(effect.indexes), self._lease))
        elif isinstance(effect, ev.Dispatch):
            self._dispatch(effect)
        elif isinstance(effect, ev.WakeAt) and not self._far(effect.at):
            # A far wake is left to the supervisor's due poll: this actor is about to be passivated.
            self._rt.clock_ref.tell(WakeMeAt(self._id, effect.at))
        elif isinstance(effect, ev.NotifyAdmins):
            self._notify_admins()
        elif isinstance(effect, ev.SequenceModel):
            sequence_id = self._context.sequence_id
            self._rt.writer.submit(lambda: enrollments.set_sequence_model(sequence_id, effect.model))

    def _far(self, due: datetime) -> bool:
        return due - self._rt.clock.now() > timedelta(seconds=self._rt.passivate_after_seconds)

    def _maybe_release(self) -> None:
        """Finished, or only waiting for a step far away or for a human: give the thread back (passivation)."""
        state = self._state
        if state is None or is_busy(state):
            return
        due = next_due(state)
        waiting_for_human = state.status == EnrollmentStatus.PENDING_APPROVAL and state.admins_notified
        if is_finished(state) or (due is not None and self._far(due)) or waiting_for_human:
            self._tell_supervisor(ReleaseMe(self._id, self.actor_urn, self._last_seq, due))

    # --- effects ---------------------------------------------------------------------------------------

    def _generation_request(self, indexes: tuple[int, ...]) -> GenerationRequest:
        ctx = self._context
        return generation_request(
            ctx.template,
            self._state.steps,
            indexes,
            language=ctx.language,
            timezone=ctx.timezone,
            first_name=ctx.contact.first_name,
            last_name=ctx.contact.last_name,
            lead_company=ctx.contact.company,
            notes=ctx.contact.notes,
        )

    def _dispatch(self, effect: ev.Dispatch) -> None:
        step = self._state.step(effect.index)
        suppressed = contacts.blocked_channels(self._context.contact.id)
        if step.channel.value in suppressed:
            # Re-checked at send time: an opt-out may have arrived after the step was planned.
            self.apply(ev.SendSkipped(effect.index, "contact opted out of this channel"))
            return
        message = self._outbound(effect.index)
        policy = self._rt.policy(self._context.workspace_id)
        wait = limit_wait(
            self._rt.writer, self._state, self._context, policy, message, effect.attempt, self._rt.clock.now()
        )
        if wait is not None:  # a sending limit or the template's weekdays: the step waits, it is not dropped
            self.apply(ev.SendDeferred(effect.index, effect.attempt, wait.reason, wait.until))
            return
        work = SendWork(self._id, effect.index, effect.attempt, self._state.sandbox, message, self._lease)
        self._rt.dispatchers.tell(work)

    def _outbound(self, index: int) -> OutboundMessage:
        ctx, step = self._context, self._state.step(index)
        sender = ctx.template.sender
        step_id = ctx.step_ids[index]
        base = self._rt.public_url
        unsubscribe = self._rt.signer.sign("unsubscribe", ctx.contact.id, None)
        domain = (sender.email or "ringback.local").rpartition("@")[2]
        return OutboundMessage(
            step_id=step_id,
            idempotency_token=step_id,
            channel=step.channel,
            to=step.recipient or "",
            body=step.content.body,
            subject=step.content.subject,
            language=ctx.language,
            sender_name=sender.name,
            sender_address=(
                sender.email
                if step.channel == Channel.EMAIL
                else (
                    sender.messaging_service_sid if step.channel == Channel.SMS and not sender.phone else sender.phone
                )
            )
            or "",
            message_id=f"<{step_id}@{domain}>",
            unsubscribe_url=f"{base}/u/{unsubscribe}",
            unsubscribe_mailto=f"mailto:{sender.email}?subject=unsubscribe" if sender.email else "",
            status_callback_url=f"{base}/webhooks/twilio/status?step={step_id}",
            connect_number=ctx.template.connect_number or "",
            voicemail_body=step.content.voicemail,
            voice_url=f"{base}/webhooks/twilio/voice?step={step_id}",
        )

    def _notify_admins(self) -> None:
        workspace = self._rt.workspace(self._context.workspace_id)
        now = self._rt.clock.now()
        expires_at = now + timedelta(days=self._rt.review_token_ttl_days)
        link = review_link(self._rt.signer, self._rt.public_url, self._id, expires_at)
        created = enrollments.created_at(self._id)
        subject, text, html = compose(self._context, self._state, link, now, created)
        if not workspace.admin_emails:
            log.warning(
                "enrollment %s awaits review but workspace %s has no admin email; "
                "`ringback review-link %s` prints a review link",
                self._id,
                workspace.id,
                self._id,
            )
        self._rt.notifiers.tell(NotifyWork(self._id, workspace.admin_emails, subject, text, html, self._lease))
