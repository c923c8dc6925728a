"""The enrollment state machine, pure: explicit scenarios plus a hypothesis stateful model."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from ringback.engine import events as ev
from ringback.engine.calling_window import CallingWindow
from ringback.engine.enrollment import EnrollmentState, StepState
from ringback.engine.machine import Policy, is_busy, is_finished, next_due, transition
from ringback.engine.model import TERMINAL_STEP, Channel, EnrollmentStatus, StepContent, StepStatus
from ringback.engine.time_wish import extract_time_wish

NOON = datetime(2026, 5, 6, 12, 0, tzinfo=UTC)
S = EnrollmentStatus


def new_state(
    channels=(Channel.EMAIL, Channel.EMAIL, Channel.EMAIL),
    auto=True,
    sandbox=True,
    delays=None,
    zones=("UTC",),
    skipped=(),
) -> EnrollmentState:
    delays = delays or [0] + [3600] * (len(channels) - 1)
    steps = tuple(
        StepState(
            index=i,
            channel=c,
            delay_seconds=d,
            recipient="x@example.com",
            status=StepStatus.SKIPPED if i in skipped else StepStatus.PLANNED,
        )
        for i, (c, d) in enumerate(zip(channels, delays, strict=True))
    )
    return EnrollmentState(
        id="enr_1", status=S.GENERATING, auto_approve=auto, sandbox=sandbox, steps=steps, timezone_candidates=zones
    )


def content(i: int) -> StepContent:
    return StepContent(body=f"body {i}", subject=f"subject {i}")


def run(state, *events, now=NOON, policy=None):
    effects = []
    for event in events:
        outcome = transition(state, event, now, policy)
        state = outcome.state
        effects.extend(outcome.effects)
    return state, effects


def test_fast_path_asks_for_step_one_alone_then_the_rest():
    _, effects = run(new_state(), ev.Started())
    assert effects == [ev.Generate((0,)), ev.Generate((1, 2))]


def test_review_path_asks_for_everything_at_once():
    _, effects = run(new_state(auto=False), ev.Started())
    assert effects == [ev.Generate((0, 1, 2))]


def test_fast_path_dispatches_step_one_the_moment_it_is_written():
    state, effects = run(new_state(), ev.Started(), ev.ContentReady({0: content(0)}, "offline"))
    assert state.status == S.ACTIVE
    assert ev.Dispatch(0, 1) in effects
    assert state.steps[0].status == StepStatus.SENDING
    assert state.steps[1].status == StepStatus.PLANNED and state.steps[1].scheduled_for == NOON + timedelta(hours=1)


def test_later_content_is_scheduled_and_wakes_when_due():
    state, _ = run(
        new_state(), ev.Started(), ev.ContentReady({0: content(0)}, "m"), ev.SendSucceeded(0, 1, "sandbox", "p0")
    )
    state, effects = run(state, ev.ContentReady({1: content(1), 2: content(2)}, "m"))
    assert state.steps[1].status == StepStatus.SCHEDULED
    assert effects[-1] == ev.WakeAt(NOON + timedelta(hours=1))
    assert next_due(state) == NOON + timedelta(hours=1)
    assert not is_busy(state)
    state, effects = run(state, ev.Wake(), now=NOON + timedelta(hours=1))
    assert ev.Dispatch(1, 1) in effects


def test_review_path_parks_then_approval_starts_the_clock():
    state, effects = run(
        new_state(auto=False), ev.Started(), ev.ContentReady({0: content(0), 1: content(1), 2: content(2)}, "m")
    )
    assert state.status == S.PENDING_APPROVAL and ev.NotifyAdmins() in effects
    later = NOON + timedelta(hours=5)
    state, effects = run(state, ev.Approved("api"), now=later)
    assert state.status == S.ACTIVE and state.anchor_at == later
    assert ev.Dispatch(0, 1) in effects


def test_rejection_cancels_everything_and_nothing_is_sent():
    state, _ = run(new_state(auto=False), ev.Started(), ev.ContentReady({i: content(i) for i in range(3)}, "m"))
    state, effects = run(state, ev.Rejected("api", "not a fit"))
    assert state.status == S.REJECTED
    assert all(s.status == StepStatus.CANCELED for s in state.steps)
    assert not any(isinstance(e, ev.Dispatch) for e in effects)
    assert is_finished(state)


def test_approval_after_rejection_is_ignored():
    state, _ = run(
        new_state(auto=False), ev.Started(), ev.ContentReady({i: content(i) for i in range(3)}, "m"), ev.Rejected("api")
    )
    state, effects = run(state, ev.Approved("late"))
    assert state.status == S.REJECTED and effects == []


def test_transient_failure_retries_at_the_given_time_then_gives_up():
    policy = Policy(max_attempts=2)
    retry_at = NOON + timedelta(seconds=10)
    state, _ = run(new_state(), ev.Started(), ev.ContentReady({0: content(0)}, "m"), policy=policy)
    state, _ = run(state, ev.SendFailed(0, 1, "smtp_451", "try later", True, retry_at), policy=policy)
    assert state.steps[0].status == StepStatus.SCHEDULED and state.steps[0].scheduled_for == retry_at
    state, effects = run(state, ev.Wake(), now=retry_at, policy=policy)
    assert ev.Dispatch(0, 2) in effects
    state, _ = run(state, ev.SendFailed(0, 2, "smtp_451", "try later", True, retry_at), now=retry_at, policy=policy)
    assert state.steps[0].status == StepStatus.FAILED and state.steps[0].last_error_code == "smtp_451"


def test_stale_send_results_are_ignored():
    state, _ = run(new_state(), ev.Started(), ev.ContentReady({0: content(0)}, "m"))
    state, _ = run(state, ev.SendSucceeded(0, 7, "sandbox", "old"))
    assert state.steps[0].status == StepStatus.SENDING


def test_delivery_callbacks_never_move_a_step_backwards():
    state, _ = run(
        new_state(), ev.Started(), ev.ContentReady({0: content(0)}, "m"), ev.SendSucceeded(0, 1, "twilio", "SM1")
    )
    state, _ = run(state, ev.DeliveryReported(0, "delivered", 3))
    state, _ = run(state, ev.DeliveryReported(0, "sent", 2))
    state, _ = run(state, ev.DeliveryReported(0, "delivered", 3))
    assert state.steps[0].status == StepStatus.DELIVERED and state.steps[0].delivery_rank == 3


def test_stop_cancels_open_steps_but_a_send_in_flight_is_still_recorded():
    state, _ = run(new_state(), ev.Started(), ev.ContentReady({0: content(0), 1: content(1)}, "m"))
    state, _ = run(state, ev.Stopped("opted out"))
    assert state.status == S.STOPPED and state.steps[1].status == StepStatus.CANCELED
    assert not is_finished(state)  # step 0 is still in flight
    state, effects = run(state, ev.SendSucceeded(0, 1, "sandbox", "p"))
    assert state.steps[0].status == StepStatus.SENT and not any(isinstance(e, ev.Dispatch) for e in effects)
    assert is_finished(state)


def test_completes_when_every_step_is_settled():
    state, _ = run(
        new_state(channels=(Channel.EMAIL,)),
        ev.Started(),
        ev.ContentReady({0: content(0)}, "m"),
        ev.SendSucceeded(0, 1, "sandbox", "p"),
    )
    assert state.status == S.COMPLETED and is_finished(state)


def test_skipped_first_step_makes_the_next_reachable_one_first():
    state, effects = run(
        new_state(channels=(Channel.VOICE, Channel.EMAIL), skipped=(0,)),
        ev.Started(),
    )
    assert effects == [ev.Generate((1,))]
    state, effects = run(state, ev.ContentReady({1: content(1)}, "m"))
    assert ev.Dispatch(1, 1) in effects and state.steps[1].scheduled_for == NOON


def test_calls_wait_for_the_calling_window_in_the_recipients_time_zone():
    at_0530_in_los_angeles = datetime(2026, 5, 6, 12, 30, tzinfo=UTC)
    state = new_state(channels=(Channel.VOICE, Channel.EMAIL), zones=("America/Los_Angeles",))
    state, effects = run(state, ev.Started(), ev.ContentReady({0: content(0)}, "m"), now=at_0530_in_los_angeles)
    eight_local = datetime(2026, 5, 6, 15, 0, tzinfo=UTC)
    assert state.steps[0].status == StepStatus.SCHEDULED and state.steps[0].scheduled_for == eight_local
    assert "calling window" in state.steps[0].note
    assert effects[-1] == ev.WakeAt(eight_local)
    state, effects = run(state, ev.Wake(), now=eight_local)
    assert ev.Dispatch(0, 1) in effects


def test_a_morning_wish_moves_an_evening_call_to_the_next_morning():
    """Issue 12: "plutôt le matin" was called at 20:19 Paris time."""
    at_2019_in_paris = datetime(2026, 5, 6, 18, 19, tzinfo=UTC)
    wish = extract_time_wish("Rappelez-moi plutôt le matin.")
    state = new_state(channels=(Channel.VOICE, Channel.EMAIL), zones=("Europe/Paris",)).evolve(time_wish=wish)
    state, effects = run(state, ev.Started(), ev.ContentReady({0: content(0)}, "m"), now=at_2019_in_paris)
    eight_in_paris_next_day = datetime(2026, 5, 7, 6, 0, tzinfo=UTC)
    assert state.steps[0].scheduled_for == eight_in_paris_next_day
    assert "plutot le matin" in state.steps[0].note
    assert effects[-1] == ev.WakeAt(eight_in_paris_next_day)
    _, effects = run(state, ev.Wake(), now=eight_in_paris_next_day)
    assert ev.Dispatch(0, 1) in effects


def test_a_wish_inside_the_window_lets_a_call_go_at_once_and_email_ignores_it():
    at_1000_in_paris = datetime(2026, 5, 6, 8, 0, tzinfo=UTC)
    wish = extract_time_wish("in the morning")
    state = new_state(channels=(Channel.VOICE,), zones=("Europe/Paris",)).evolve(time_wish=wish)
    _, effects = run(state, ev.Started(), ev.ContentReady({0: content(0)}, "m"), now=at_1000_in_paris)
    assert ev.Dispatch(0, 1) in effects
    evening = datetime(2026, 5, 6, 19, 0, tzinfo=UTC)
    mail = new_state(zones=("Europe/Paris",)).evolve(time_wish=wish)
    _, effects = run(mail, ev.Started(), ev.ContentReady({0: content(0)}, "m"), now=evening)
    assert ev.Dispatch(0, 1) in effects


def test_a_wish_outside_the_calling_window_never_allows_a_call_at_night():
    wish = extract_time_wish("call before 6am")
    window = CallingWindow.parse("08:00", "21:00")
    assert window.narrowed(wish.start, wish.end) == window
    assert window.narrowed(time(17), time.max) == CallingWindow.parse("17:00", "21:00")


def test_email_is_not_held_by_the_calling_window():
    midnight_utc = datetime(2026, 5, 6, 0, 0, tzinfo=UTC)
    _, effects = run(new_state(), ev.Started(), ev.ContentReady({0: content(0)}, "m"), now=midnight_utc)
    assert ev.Dispatch(0, 1) in effects


def test_recovery_resends_email_with_the_same_attempt_and_marks_sms_unknown():
    email_state, _ = run(new_state(sandbox=False), ev.Started(), ev.ContentReady({0: content(0)}, "m"))
    _, effects = run(email_state, ev.Recovered())
    assert ev.Dispatch(0, 1) in effects
    sms_state, _ = run(
        new_state(channels=(Channel.SMS, Channel.EMAIL), sandbox=False),
        ev.Started(),
        ev.ContentReady({0: content(0)}, "m"),
    )
    sms_state, effects = run(sms_state, ev.Recovered())
    assert sms_state.steps[0].status == StepStatus.UNKNOWN
    assert not any(isinstance(e, ev.Dispatch) and e.index == 0 for e in effects)


def test_recovery_of_a_stopped_enrollment_settles_its_interrupted_email_as_unknown_without_resending():
    state, _ = run(new_state(sandbox=False), ev.Started(), ev.ContentReady({0: content(0)}, "m"))
    state, _ = run(state, ev.Stopped("opted out"))
    assert state.steps[0].status == StepStatus.SENDING and not is_finished(state)

    state, effects = run(state, ev.Recovered())

    assert state.steps[0].status == StepStatus.UNKNOWN
    assert not any(isinstance(e, ev.Dispatch) for e in effects)
    assert state.status == S.STOPPED and is_finished(state)


def test_recovery_while_generating_regenerates_once_then_fails():
    state, _ = run(new_state(), ev.Started())
    state, effects = run(state, ev.Recovered())
    assert ev.Generate((0,)) in effects and state.generation_attempts == 2
    state, _ = run(state, ev.Recovered())
    assert state.status == S.FAILED


def test_pending_approval_recovery_notifies_admins_only_if_not_done():
    state, _ = run(new_state(auto=False), ev.Started(), ev.ContentReady({i: content(i) for i in range(3)}, "m"))
    _, effects = run(state, ev.Recovered())
    assert ev.NotifyAdmins() in effects
    state, _ = run(state, ev.AdminsNotified(("a@example.com",)))
    _, effects = run(state, ev.Recovered())
    assert ev.NotifyAdmins() not in effects


def test_send_time_skip_moves_on_to_the_next_step():
    state, _ = run(new_state(delays=[0, 0, 0]), ev.Started(), ev.ContentReady({i: content(i) for i in range(3)}, "m"))
    state, effects = run(state, ev.SendSkipped(0, "contact opted out"))
    assert state.steps[0].status == StepStatus.SKIPPED and ev.Dispatch(1, 1) in effects


# --- stateful model: random event orders never break the invariants -----------------------------------


class EnrollmentModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.now = NOON
        self.state = new_state(channels=(Channel.EMAIL, Channel.SMS, Channel.VOICE), auto=True)
        self.dispatched: list[int] = []
        self.policy = Policy(window=CallingWindow(), max_attempts=3)
        self._apply(ev.Started())

    def _apply(self, event) -> None:
        before = self.state
        outcome = transition(self.state, event, self.now, self.policy)
        for old, new in zip(before.steps, outcome.state.steps, strict=True):
            if old.status in TERMINAL_STEP and old.status != StepStatus.SENT and old.status != StepStatus.UNKNOWN:
                assert new.status == old.status, f"{old.status} moved to {new.status}"
            assert new.delivery_rank >= old.delivery_rank
        if before.status in (S.COMPLETED, S.REJECTED, S.STOPPED, S.FAILED):
            assert outcome.state.status == before.status
        self.state = outcome.state
        self.dispatched += [e.index for e in outcome.effects if isinstance(e, ev.Dispatch)]

    @rule(indexes=st.sets(st.integers(0, 2), min_size=1))
    def content_arrives(self, indexes):
        self._apply(ev.ContentReady({i: content(i) for i in indexes}, "m"))

    @rule(hours=st.integers(0, 30))
    def time_passes(self, hours):
        self.now += timedelta(hours=hours)
        self._apply(ev.Wake())

    @rule(index=st.integers(0, 2), ok=st.booleans(), retryable=st.booleans())
    def send_result(self, index, ok, retryable):
        step = self.state.steps[index]
        if ok:
            self._apply(ev.SendSucceeded(index, step.attempts, "sandbox", f"p{index}"))
        else:
            self._apply(ev.SendFailed(index, step.attempts, "x", "x", retryable, self.now + timedelta(minutes=1)))

    @rule(
        index=st.integers(0, 2), reason=st.sampled_from(["daily_cap", "domain_throttle"]), minutes=st.integers(1, 600)
    )
    def a_sending_limit_defers(self, index, reason, minutes):
        step = self.state.steps[index]
        self._apply(ev.SendDeferred(index, step.attempts, reason, self.now + timedelta(minutes=minutes)))

    @rule(index=st.integers(0, 2), state=st.sampled_from(["sent", "delivered", "failed"]), rank=st.integers(1, 4))
    def callback(self, index, state, rank):
        self._apply(ev.DeliveryReported(index, state, rank))

    @rule()
    def stop(self):
        self._apply(ev.Stopped("reply"))

    @rule()
    def recover(self):
        self._apply(ev.Recovered())

    @invariant()
    def at_most_one_step_in_flight(self):
        assert sum(s.status == StepStatus.SENDING for s in self.state.steps) <= 1

    @invariant()
    def steps_go_out_in_order(self):
        first_dispatch = []
        for index in self.dispatched:
            if index not in first_dispatch:
                first_dispatch.append(index)
        assert first_dispatch == sorted(first_dispatch)

    @invariant()
    def only_a_waiting_step_says_what_it_waits_for(self):
        for step in self.state.steps:
            if step.waiting_for is not None:
                assert step.status == StepStatus.SCHEDULED and step.scheduled_for is not None

    @invariant()
    def nothing_is_sent_without_content(self):
        for step in self.state.steps:
            if step.status in (StepStatus.SENDING, StepStatus.SENT, StepStatus.DELIVERED):
                assert step.content is not None


TestEnrollmentModel = EnrollmentModel.TestCase
TestEnrollmentModel.settings = settings(max_examples=150, stateful_step_count=30, deadline=None)


def test_a_lost_provider_answer_leaves_the_step_unknown_and_a_late_callback_settles_it():
    state, _ = run(
        new_state(channels=(Channel.SMS, Channel.EMAIL)), ev.Started(), ev.ContentReady({0: content(0)}, "m")
    )
    state, _ = run(state, ev.SendOutcomeUnknown(0, 1, "twilio did not answer"))
    assert state.steps[0].status == StepStatus.UNKNOWN
    state, _ = run(state, ev.DeliveryReported(0, "delivered", 3))
    assert state.steps[0].status == StepStatus.DELIVERED


def test_a_callback_that_overtakes_the_send_result_keeps_its_state_and_gains_the_ids():
    state, _ = run(new_state(), ev.Started(), ev.ContentReady({0: content(0)}, "m"))
    state, _ = run(state, ev.DeliveryReported(0, "delivered", 3))
    state, _ = run(state, ev.SendSucceeded(0, 1, "twilio", "SM9"))
    assert state.steps[0].status == StepStatus.DELIVERED and state.steps[0].provider_id == "SM9"


def test_a_review_request_that_reached_no_admin_is_said_on_the_enrollment():
    state, _ = run(new_state(auto=False), ev.Started(), ev.ContentReady({i: content(i) for i in range(3)}, "m"))
    state, _ = run(state, ev.AdminsNotified((), "the workspace has no admin email address"))
    assert state.status == S.PENDING_APPROVAL
    assert "no admin email" in state.status_reason
