"""Sending limits, pure: windows, caps, the domain throttle, weekdays, parsing, and the machine's deferral."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ringback.engine import events as ev
from ringback.engine.enrollment import EnrollmentState, StepState
from ringback.engine.errors import InvalidInput
from ringback.engine.machine import next_due, transition
from ringback.engine.model import Channel, EnrollmentStatus, StepContent, StepStatus
from ringback.engine.sending_limits import (
    ChannelCaps,
    SendCounts,
    SendingLimits,
    Wait,
    check,
    parse_limits,
    parse_weekdays,
    weekday_wait,
    weekdays_text,
    windows,
)

WEDNESDAY_NOON = datetime(2026, 5, 6, 12, 0, 30, tzinfo=UTC)
LIMITS = SendingLimits(
    caps={Channel.EMAIL: ChannelCaps(daily=300, hourly=100), Channel.VOICE: ChannelCaps(daily=100)},
    email_domain_per_minute=5,
)


def test_windows_start_at_the_workspaces_midnight_and_hour():
    current = windows(WEDNESDAY_NOON, "Europe/Madrid")  # 14:00:30 in Madrid (UTC+2)

    assert current.day == datetime(2026, 5, 5, 22, 0, tzinfo=UTC)
    assert current.next_day == datetime(2026, 5, 6, 22, 0, tzinfo=UTC)
    assert current.hour == datetime(2026, 5, 6, 12, 0, tzinfo=UTC)
    assert current.next_hour == datetime(2026, 5, 6, 13, 0, tzinfo=UTC)
    assert (current.minute, current.next_minute) == (
        datetime(2026, 5, 6, 12, 0, tzinfo=UTC),
        datetime(2026, 5, 6, 12, 1, tzinfo=UTC),
    )


def test_a_day_with_a_dst_change_is_as_long_as_the_wall_clock_says():
    current = windows(datetime(2026, 10, 25, 12, 0, tzinfo=UTC), "Europe/Madrid")  # clocks go back at 03:00
    assert current.next_day - current.day == timedelta(hours=25)


def test_hours_of_a_half_hour_zone_start_at_its_own_half_hour():
    current = windows(datetime(2026, 5, 6, 12, 10, tzinfo=UTC), "Asia/Kolkata")  # 17:40 local
    assert current.hour == datetime(2026, 5, 6, 11, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("channel", "counts", "expected"),
    [
        (Channel.EMAIL, SendCounts(day=299, hour=99, domain_minute=4), None),
        (Channel.EMAIL, SendCounts(day=300, hour=100, domain_minute=5),
         Wait("daily_cap", datetime(2026, 5, 7, tzinfo=UTC))),
        (Channel.EMAIL, SendCounts(day=150, hour=100), Wait("hourly_cap", datetime(2026, 5, 6, 13, tzinfo=UTC))),
        (Channel.EMAIL, SendCounts(day=150, hour=50, domain_minute=5),
         Wait("domain_throttle", datetime(2026, 5, 6, 12, 1, tzinfo=UTC))),
        (Channel.VOICE, SendCounts(day=99, hour=99, domain_minute=50), None),  # the throttle is for email only
        (Channel.VOICE, SendCounts(day=100, hour=0), Wait("daily_cap", datetime(2026, 5, 7, tzinfo=UTC))),
        (Channel.SMS, SendCounts(day=10**6, hour=10**6), None),  # no cap set for SMS
    ],
)
def test_check_says_go_or_which_limit_holds_the_step_and_until_when(channel, counts, expected):
    assert check(channel, counts, LIMITS, windows(WEDNESDAY_NOON, "UTC")) == expected


def test_only_channels_with_a_limit_need_counting():
    assert LIMITS.limits(Channel.EMAIL) and LIMITS.limits(Channel.VOICE) and not LIMITS.limits(Channel.SMS)
    assert SendingLimits(email_domain_per_minute=3).limits(Channel.EMAIL)
    assert not SendingLimits().limits(Channel.EMAIL)


def test_weekdays_are_those_of_the_recipients_zone():
    friday_evening_in_la = datetime(2026, 5, 9, 2, 0, tzinfo=UTC)  # Saturday in UTC, Friday 19:00 in LA
    weekdays = parse_weekdays("mon-fri")

    assert weekday_wait(friday_evening_in_la, weekdays, ("America/Los_Angeles",)) is None
    assert weekday_wait(friday_evening_in_la, weekdays, ("Europe/Madrid",)) == Wait(
        "weekday", datetime(2026, 5, 10, 22, 0, tzinfo=UTC)  # Monday 00:00 in Madrid
    )


def test_every_candidate_zone_must_allow_the_day():
    friday_evening_in_la = datetime(2026, 5, 9, 2, 0, tzinfo=UTC)
    wait = weekday_wait(friday_evening_in_la, parse_weekdays("mon-fri"), ("America/Los_Angeles", "Europe/Madrid"))
    assert wait is not None and wait.reason == "weekday"
    assert wait.until == datetime(2026, 5, 11, 7, 0, tzinfo=UTC)  # Monday 00:00 in LA: Monday in Madrid too


def test_every_day_allowed_is_never_a_wait():
    assert weekday_wait(WEDNESDAY_NOON, parse_weekdays("mon-sun"), ("UTC",)) is None


def test_limits_round_trip_through_their_json():
    parsed = parse_limits({"email": {"daily": 300, "hourly": 100}, "voice": {"daily": 100}, "sms": None,
                           "email_domain_per_minute": 5})
    assert parsed == LIMITS
    assert SendingLimits.from_json(parsed.to_json()) == parsed
    assert SendingLimits.from_json(None) == SendingLimits()


@pytest.mark.parametrize(
    ("value", "field"),
    [
        ([], "sending_limits"),
        ({"email": {"daily": 0}}, "sending_limits.email.daily"),
        ({"voice": {"hourly": "ten"}}, "sending_limits.voice.hourly"),
        ({"email": {"monthly": 9}}, "sending_limits.email"),
        ({"fax": {}}, "sending_limits.fax"),
        ({"email_domain_per_minute": -1}, "sending_limits.email_domain_per_minute"),
    ],
)
def test_bad_limits_name_the_field(value, field):
    with pytest.raises(InvalidInput) as raised:
        parse_limits(value)
    assert raised.value.field == field


def test_weekdays_read_like_the_calling_windows_days():
    assert weekdays_text(parse_weekdays("mon-fri")) == "mon,tue,wed,thu,fri"
    assert weekdays_text(parse_weekdays("fri-mon")) == "mon,fri,sat,sun"
    for bad in ("weekdays", "", 5):
        with pytest.raises(InvalidInput):
            parse_weekdays(bad)


# --- the machine: a deferred send waits, keeps its attempt, and is woken at `until` ------------------------


def sending_state() -> EnrollmentState:
    step = StepState(0, Channel.EMAIL, 0, StepStatus.SENDING, "x@example.com", WEDNESDAY_NOON,
                     StepContent("body", "subject"), attempts=1)
    return EnrollmentState("enr_1", EnrollmentStatus.ACTIVE, True, False, (step,), anchor_at=WEDNESDAY_NOON)


def test_a_deferred_send_waits_for_its_limit_and_wakes_then():
    until = datetime(2026, 5, 7, tzinfo=UTC)
    outcome = transition(sending_state(), ev.SendDeferred(0, 1, "daily_cap", until), WEDNESDAY_NOON)

    step = outcome.state.steps[0]
    assert (step.status, step.scheduled_for, step.attempts, step.waiting_for) == (
        StepStatus.SCHEDULED, until, 0, "daily_cap"
    )
    assert step.note == f"waiting for the daily cap until {until.isoformat()}"
    assert ev.WakeAt(until) in outcome.effects
    assert next_due(outcome.state) == until
    assert [entry.kind for entry in outcome.timeline] == ["step.waiting_for_limit"]

    woken = transition(outcome.state, ev.Wake(), until)
    assert ev.Dispatch(0, 1) in woken.effects
    assert (woken.state.steps[0].status, woken.state.steps[0].waiting_for) == (StepStatus.SENDING, None)


def test_a_stale_deferral_changes_nothing():
    state = sending_state()
    outcome = transition(state, ev.SendDeferred(0, 2, "hourly_cap", WEDNESDAY_NOON + timedelta(hours=1)),
                         WEDNESDAY_NOON)
    assert outcome.state == state and outcome.effects == ()
