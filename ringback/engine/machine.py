"""The enrollment state machine: ``transition(state, event, now, policy) -> Outcome``.

Pure: the actor persists ``Outcome.state`` and only then carries out ``Outcome.effects``.
Steps go out strictly in order, one at a time; a later step waits for the one before it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from ringback.engine import events as ev
from ringback.engine.calling_window import CallingWindow, next_allowed
from ringback.engine.enrollment import EnrollmentState, StepState
from ringback.engine.fields import REASON, clip
from ringback.engine.model import TERMINAL_ENROLLMENT, TERMINAL_STEP, Channel, EnrollmentStatus, StepStatus
from ringback.engine.sending_limits import SendingLimits

S = EnrollmentStatus
WINDOWED_CHANNELS = frozenset({Channel.SMS, Channel.VOICE})
STEP_EDITED = "review.step_edited"  # timeline kind of an applied edit; recovery counts these
MAX_GENERATION_ATTEMPTS = 2


@dataclass(frozen=True)
class Policy:
    """Workspace and deployment rules the machine applies."""

    window: CallingWindow = field(default_factory=CallingWindow)
    max_attempts: int = 5
    split_first_step: bool = True  # fast path: write step 1 alone so it goes out after one short LLM call
    limits: SendingLimits = field(default_factory=SendingLimits)  # checked by the actor right before a send
    zone: str = "UTC"  # the workspace's time zone: where its sending limits' days and hours begin


@dataclass(frozen=True)
class Outcome:
    state: EnrollmentState
    effects: tuple[ev.Effect, ...] = ()
    timeline: tuple[ev.TimelineEntry, ...] = ()


class _Builder:
    """Collects a new state, effects and timeline entries while one event is applied."""

    def __init__(self, state: EnrollmentState, now: datetime, policy: Policy) -> None:
        self.state = state
        self.now = now
        self.policy = policy
        self.effects: list[ev.Effect] = []
        self.timeline: list[ev.TimelineEntry] = []

    def note(self, kind: str, **detail: object) -> None:
        self.timeline.append(ev.TimelineEntry(kind, detail))

    def put(self, step: StepState) -> None:
        self.state = self.state.with_step(step)

    def status(self, status: EnrollmentStatus, reason: str | None = None) -> None:
        reason = clip(reason, REASON) if reason else reason  # composed reasons must fit the column
        self.state = self.state.evolve(status=status, status_reason=reason)
        self.note(f"enrollment.{status.value}", **({"reason": reason} if reason else {}))

    def outcome(self) -> Outcome:
        return Outcome(self.state, tuple(self.effects), tuple(self.timeline))


def transition(state: EnrollmentState, event: ev.Event, now: datetime, policy: Policy | None = None) -> Outcome:
    b = _Builder(state, now, policy or Policy())
    handler = _HANDLERS[type(event)]
    handler(b, event)
    _advance(b)
    return b.outcome()


# --- queries the actor uses --------------------------------------------------------------------


def awaiting_content(state: EnrollmentState) -> tuple[int, ...]:
    """Steps that still need writing (not skipped, no content, not yet given up on)."""
    if state.status not in (S.GENERATING, S.ACTIVE):
        return ()
    return tuple(s.index for s in state.steps if s.content is None and s.status == StepStatus.PLANNED)


def is_busy(state: EnrollmentState) -> bool:
    """True while something is in flight for this enrollment (a send, or content being written)."""
    return any(s.status == StepStatus.SENDING for s in state.steps) or bool(awaiting_content(state))


def next_due(state: EnrollmentState) -> datetime | None:
    """When this enrollment next needs its actor, if it is waiting for time (used for passivation)."""
    if state.status != S.ACTIVE:
        return None
    for step in state.steps:
        if step.status in TERMINAL_STEP:
            continue
        if step.status == StepStatus.SCHEDULED and step.content is not None:
            return step.scheduled_for
        return None
    return None


def is_finished(state: EnrollmentState) -> bool:
    return state.status in (S.COMPLETED, S.REJECTED, S.STOPPED, S.FAILED) and not is_busy(state)


# --- handlers ----------------------------------------------------------------------------------


def _reachable(state: EnrollmentState) -> list[StepState]:
    return [s for s in state.steps if s.status != StepStatus.SKIPPED]


def _request_generation(b: _Builder, indexes: tuple[int, ...]) -> None:
    if not indexes:
        return
    if b.state.auto_approve and b.policy.split_first_step and len(indexes) > 1:
        # Fast path: the first step alone is one short LLM call; the rest are written meanwhile.
        b.effects.append(ev.Generate(indexes[:1]))
        b.effects.append(ev.Generate(indexes[1:]))
    else:
        b.effects.append(ev.Generate(indexes))


def _on_started(b: _Builder, _: ev.Started) -> None:
    if b.state.generation_attempts or b.state.status != S.GENERATING:
        # Already started (or resumed by recovery first: in cluster mode the owner's scan can beat the
        # NOTIFY that carries `Started`); a second one must not ask for the content again.
        return
    b.state = b.state.evolve(generation_attempts=b.state.generation_attempts + 1)
    if b.state.auto_approve and b.state.anchor_at is None:
        b.state = b.state.evolve(anchor_at=b.now)
    _request_generation(b, awaiting_content(b.state))


def _on_recovered(b: _Builder, _: ev.Recovered) -> None:
    st = b.state
    missing = awaiting_content(st)
    if missing:
        if st.generation_attempts >= MAX_GENERATION_ATTEMPTS and st.status == S.GENERATING:
            b.status(S.FAILED, "content generation was interrupted twice")
            _cancel_open_steps(b, "generation failed")
            return
        b.state = st.evolve(generation_attempts=st.generation_attempts + 1)
        _request_generation(b, missing)
    if st.status == S.PENDING_APPROVAL and not st.admins_notified:
        b.effects.append(ev.NotifyAdmins())
    finished = b.state.status in TERMINAL_ENROLLMENT
    for step in b.state.steps:
        if step.status != StepStatus.SENDING:
            continue
        if not finished and (b.state.sandbox or step.channel == Channel.EMAIL):
            # Sandbox de-duplicates by token; email is re-sent with the same Message-ID.
            b.effects.append(ev.Dispatch(step.index, step.attempts))
            b.note("step.resend_after_restart", index=step.index, attempt=step.attempts)
        else:
            b.put(step.evolve(status=StepStatus.UNKNOWN, note="outcome lost in a restart; reconcile before re-sending"))
            b.note("step.unknown", index=step.index)


def _on_wake(b: _Builder, _: ev.Wake) -> None:
    """Nothing to change: `_advance` runs after every event."""


def _on_content(b: _Builder, event: ev.ContentReady) -> None:
    b.effects.append(ev.SequenceModel(event.model))
    for index, content in sorted(event.contents.items()):
        step = b.state.step(index)
        if step.content is None and step.status == StepStatus.PLANNED:
            status = StepStatus.SCHEDULED if b.state.status == S.ACTIVE else StepStatus.PLANNED
            b.put(step.evolve(content=content, status=status))
    b.note("content.ready", indexes=sorted(event.contents), model=event.model)
    st = b.state
    if st.status != S.GENERATING:
        return
    if st.auto_approve:
        first = _reachable(st)[0]
        if first.content is not None:
            _activate(b)
    elif not awaiting_content(st):
        b.status(S.PENDING_APPROVAL)
        b.effects.append(ev.NotifyAdmins())


def _on_generation_failed(b: _Builder, event: ev.GenerationFailed) -> None:
    for index in event.indexes:
        step = b.state.step(index)
        if step.content is None and step.status == StepStatus.PLANNED:
            b.put(step.evolve(status=StepStatus.FAILED, last_error=event.reason, last_error_code="generation_failed"))
    if b.state.status == S.GENERATING and (
        not b.state.auto_approve or _reachable(b.state)[0].status == StepStatus.FAILED
    ):
        b.status(S.FAILED, event.reason)
        _cancel_open_steps(b, "generation failed")


def _on_approved(b: _Builder, event: ev.Approved) -> None:
    if b.state.status != S.PENDING_APPROVAL:
        return
    b.state = b.state.evolve(anchor_at=b.now)
    b.note("review.approved", by=event.by)
    _activate(b)


def _on_rejected(b: _Builder, event: ev.Rejected) -> None:
    if b.state.status != S.PENDING_APPROVAL:
        return
    b.note("review.rejected", by=event.by, reason=event.reason)
    b.status(S.REJECTED, event.reason or None)
    _cancel_open_steps(b, "rejected in review")


def _on_edited(b: _Builder, event: ev.StepEdited) -> None:
    step = b.state.step(event.index)
    if b.state.status != S.PENDING_APPROVAL or step.status == StepStatus.SKIPPED:
        return
    content = event.content
    if content.voicemail is None and step.content is not None:
        # An edit of a call's live script alone keeps its voicemail script.
        content = replace(content, voicemail=step.content.voicemail)
    b.put(step.evolve(content=content))
    b.note(STEP_EDITED, index=event.index, by=event.by)


def _on_stopped(b: _Builder, event: ev.Stopped) -> None:
    if b.state.status in (S.COMPLETED, S.REJECTED, S.STOPPED, S.FAILED):
        return
    b.status(S.STOPPED, event.reason)
    _cancel_open_steps(b, event.reason)


def _on_admins_notified(b: _Builder, event: ev.AdminsNotified) -> None:
    b.state = b.state.evolve(admins_notified=True)
    b.note("review.admins_notified", recipients=list(event.recipients))
    if event.problem:
        reason = clip(f"review request not delivered to every admin: {event.problem}", REASON)
        b.state = b.state.evolve(status_reason=reason)
        b.note("review.admins_not_reached", problem=event.problem)


def _on_send_succeeded(b: _Builder, event: ev.SendSucceeded) -> None:
    step = b.state.step(event.index)
    if step.attempts != event.attempt:
        return  # a stale reply; the step has moved on
    provider = {"provider": event.provider, "provider_id": event.provider_id}
    if step.status == StepStatus.SENDING:
        b.put(
            step.evolve(
                status=StepStatus.SENT,
                sent_at=b.now,
                delivery_rank=max(step.delivery_rank, 1),
                last_error=None,
                last_error_code=None,
                note=None,
                **provider,
            )
        )
    elif step.provider_id is None and step.status in (StepStatus.SENT, StepStatus.DELIVERED, StepStatus.FAILED):
        # The provider's status callback overtook our own record of the send: keep its state, add the ids.
        b.put(step.evolve(sent_at=step.sent_at or b.now, **provider))
    else:
        return
    b.note("step.sent", index=event.index, provider=event.provider, provider_id=event.provider_id)
    _push_back_later_steps(b, event.index)


def _on_send_outcome_unknown(b: _Builder, event: ev.SendOutcomeUnknown) -> None:
    step = b.state.step(event.index)
    if step.status != StepStatus.SENDING or step.attempts != event.attempt:
        return
    note = "the provider may have sent it; not re-sent (a duplicate call is worse than a missed one)"
    b.put(
        step.evolve(status=StepStatus.UNKNOWN, last_error_code="outcome_unknown", last_error=event.message, note=note)
    )
    b.note("step.unknown", index=event.index, reason=event.message)


def _on_send_failed(b: _Builder, event: ev.SendFailed) -> None:
    step = b.state.step(event.index)
    if step.status != StepStatus.SENDING or step.attempts != event.attempt:
        return
    errors = {"last_error_code": event.code, "last_error": event.message}
    if event.retryable and step.attempts < b.policy.max_attempts and event.retry_at is not None:
        b.put(step.evolve(status=StepStatus.SCHEDULED, scheduled_for=event.retry_at, note="retrying", **errors))
        b.note(
            "step.retry",
            index=event.index,
            attempt=event.attempt,
            code=event.code,
            at=event.retry_at.isoformat(),
        )
    else:
        b.put(step.evolve(status=StepStatus.FAILED, note=None, **errors))
        b.note("step.failed", index=event.index, code=event.code, message=event.message)


def _on_send_skipped(b: _Builder, event: ev.SendSkipped) -> None:
    step = b.state.step(event.index)
    if step.status != StepStatus.SENDING:
        return
    b.put(step.evolve(status=StepStatus.SKIPPED, note=event.reason))
    b.note("step.skipped", index=event.index, reason=event.reason)


_LIMIT_LABELS = {
    "daily_cap": "the daily cap",
    "hourly_cap": "the hourly cap",
    "domain_throttle": "the per-domain throttle",
    "weekday": "an allowed weekday",
}


def _on_send_deferred(b: _Builder, event: ev.SendDeferred) -> None:
    step = b.state.step(event.index)
    if step.status != StepStatus.SENDING or step.attempts != event.attempt:
        return
    until = event.until.isoformat()
    note = f"waiting for {_LIMIT_LABELS.get(event.reason, event.reason)} until {until}"
    b.put(
        step.evolve(
            status=StepStatus.SCHEDULED,
            scheduled_for=event.until,
            attempts=event.attempt - 1,  # nothing was sent: the attempt is not used up
            waiting_for=event.reason,
            note=note,
        )
    )
    b.note("step.waiting_for_limit", index=event.index, limit=event.reason, until=until)


_CALLBACK_STATES = {"sent": StepStatus.SENT, "delivered": StepStatus.DELIVERED, "failed": StepStatus.FAILED}


def _on_delivery(b: _Builder, event: ev.DeliveryReported) -> None:
    step = b.state.step(event.index)
    if event.rank <= step.delivery_rank or step.status not in (
        StepStatus.SENDING,
        StepStatus.SENT,
        StepStatus.UNKNOWN,
    ):
        return  # repeated or out-of-order callback, or a final state already recorded
    new = _CALLBACK_STATES[event.state]
    changes: dict[str, object] = {"status": new, "delivery_rank": event.rank}
    if new == StepStatus.DELIVERED:
        changes["delivered_at"] = b.now
    if new == StepStatus.FAILED:
        changes.update(last_error_code=event.error_code, last_error=event.error_message)
    if step.sent_at is None and new != StepStatus.FAILED:
        changes["sent_at"] = b.now
    b.put(step.evolve(**changes))
    b.note(f"step.{new.value}", index=event.index, **({"code": event.error_code} if event.error_code else {}))


_HANDLERS: dict[type, Callable[[_Builder, object], None]] = {
    ev.Started: _on_started,
    ev.Recovered: _on_recovered,
    ev.Wake: _on_wake,
    ev.ContentReady: _on_content,
    ev.GenerationFailed: _on_generation_failed,
    ev.Approved: _on_approved,
    ev.Rejected: _on_rejected,
    ev.StepEdited: _on_edited,
    ev.Stopped: _on_stopped,
    ev.AdminsNotified: _on_admins_notified,
    ev.SendSucceeded: _on_send_succeeded,
    ev.SendFailed: _on_send_failed,
    ev.SendOutcomeUnknown: _on_send_outcome_unknown,
    ev.SendSkipped: _on_send_skipped,
    ev.SendDeferred: _on_send_deferred,
    ev.DeliveryReported: _on_delivery,
}


# --- scheduling ---------------------------------------------------------------------------------


def _activate(b: _Builder) -> None:
    """generating/pending_approval → active: give every reachable step its time from the anchor."""
    anchor = b.state.anchor_at or b.now
    b.status(S.ACTIVE)
    due = anchor
    for step in b.state.steps:
        if step.status == StepStatus.SKIPPED:
            continue
        if step.index > _reachable(b.state)[0].index:
            due = due + timedelta(seconds=step.delay_seconds)
        status = StepStatus.SCHEDULED if step.content is not None else step.status
        b.put(step.evolve(scheduled_for=due, status=status))


def _push_back_later_steps(b: _Builder, index: int) -> None:
    """Keep the template's spacing after a step that went out late (retries, calling window)."""
    due = b.now
    for step in b.state.steps[index + 1 :]:
        if step.status in TERMINAL_STEP:
            continue
        due = due + timedelta(seconds=step.delay_seconds)
        if step.scheduled_for is not None and step.scheduled_for < due:
            b.put(step.evolve(scheduled_for=due))


def _cancel_open_steps(b: _Builder, reason: str) -> None:
    for step in b.state.steps:
        if step.status in (StepStatus.PLANNED, StepStatus.SCHEDULED):
            b.put(step.evolve(status=StepStatus.CANCELED, note=reason, waiting_for=None))


def _window(window: CallingWindow, state: EnrollmentState) -> CallingWindow:
    """The calling window, narrowed to the hours the lead asked for when the notes said so."""
    wish = state.time_wish
    return window if wish is None else window.narrowed(wish.start, wish.end)


def _waiting_for(state: EnrollmentState) -> str:
    wish = state.time_wish
    return "the calling window" if wish is None else f"the calling window and the lead's wish ({wish.cue})"


def _advance(b: _Builder) -> None:
    """Send the next due step, or say when to wake; complete when every step is settled."""
    st = b.state
    if st.status != S.ACTIVE:
        return
    for step in st.steps:
        if step.status in TERMINAL_STEP:
            continue
        if step.status == StepStatus.SENDING or step.content is None or step.scheduled_for is None:
            return  # one step in flight at a time; or still being written
        if step.scheduled_for > b.now:
            b.effects.append(ev.WakeAt(step.scheduled_for))
            return
        if step.channel in WINDOWED_CHANNELS:
            allowed = next_allowed(b.now, st.timezone_candidates, _window(b.policy.window, st))
            if allowed > b.now:
                b.put(
                    step.evolve(
                        scheduled_for=allowed,
                        note=f"waiting for {_waiting_for(st)} until {allowed.isoformat()}",
                        waiting_for=None,
                    )
                )
                b.note("step.waiting_for_window", index=step.index, until=allowed.isoformat())
                b.effects.append(ev.WakeAt(allowed))
                return
        b.put(step.evolve(status=StepStatus.SENDING, attempts=step.attempts + 1, note=None, waiting_for=None))
        b.effects.append(ev.Dispatch(step.index, step.attempts + 1))
        return
    b.status(S.COMPLETED)
