"""Twilio status callbacks → step updates whose rank keeps a step from moving backwards."""

import pytest

from ringback.providers.channels.twilio_status import (
    StatusUpdate,
    call_status_update,
    message_status_update,
    should_hang_up,
)


def apply_in_order(updates: list[StatusUpdate]) -> StatusUpdate | None:
    """What a caller does: keep the highest-ranked update, ignore anything not higher."""
    best: StatusUpdate | None = None
    for update in updates:
        if update.step_state and (best is None or update.rank > best.rank):
            best = update
    return best


@pytest.mark.parametrize(
    ("status", "state", "terminal"),
    [
        ("queued", None, False),
        ("accepted", None, False),
        ("sending", None, False),
        ("sent", "sent", False),
        ("delivered", "delivered", True),
        ("read", "delivered", True),
        ("undelivered", "failed", True),
        ("failed", "failed", True),
        ("receiving", None, False),
        ("received", None, False),
        ("something-new", None, False),
    ],
)
def test_message_statuses(status, state, terminal):
    update = message_status_update(status)
    assert (update.step_state, update.terminal) == (state, terminal)


def test_message_failure_carries_twilio_error_code():
    assert message_status_update("undelivered", "30003").error_code == "30003"
    assert message_status_update("failed").error_code == "failed"
    assert message_status_update("delivered", "30003").error_code is None


def test_message_lifecycle_ranks_increase():
    ranks = [message_status_update(s).rank for s in ("queued", "sending", "sent", "delivered", "read")]
    assert ranks == sorted(ranks) and len(set(ranks)) == len(ranks)


def test_late_sent_never_overwrites_delivered():
    updates = [message_status_update(s) for s in ("delivered", "sent", "queued")]
    assert apply_in_order(updates).step_state == "delivered"


def test_failure_after_sent_wins_but_not_after_delivered():
    after_sent = [message_status_update("sent"), message_status_update("failed")]
    assert apply_in_order(after_sent).step_state == "failed"
    late_failure = [message_status_update("delivered"), message_status_update("undelivered")]
    assert apply_in_order(late_failure).step_state == "delivered"


@pytest.mark.parametrize(
    ("status", "state", "error", "terminal"),
    [
        ("queued", None, None, False),
        ("initiated", "sent", None, False),
        ("ringing", "sent", None, False),
        ("in-progress", "delivered", None, False),
        ("answered", "delivered", None, False),
        ("completed", "delivered", None, True),
        ("busy", "failed", "busy", True),
        ("no-answer", "failed", "no-answer", True),
        ("canceled", "failed", "canceled", True),
        ("failed", "failed", "failed", True),
    ],
)
def test_call_statuses(status, state, error, terminal):
    update = call_status_update(status, duration_seconds=12)
    assert (update.step_state, update.error_code, update.terminal) == (state, error, terminal)


def test_completed_without_a_second_of_talk_was_never_answered():
    update = call_status_update("completed", duration_seconds=0)
    assert (update.step_state, update.error_code, update.terminal) == ("failed", "no-answer", True)


def test_completed_zero_seconds_after_a_pickup_still_counts_as_delivered():
    assert call_status_update("completed", duration_seconds=0, answered=True).step_state == "delivered"


def test_out_of_order_call_callbacks_end_on_the_final_outcome():
    arrivals = ["initiated", "completed", "ringing", "in-progress"]
    final = apply_in_order([call_status_update(s, duration_seconds=30) for s in arrivals])
    assert final.step_state == "delivered" and final.terminal


def test_first_terminal_call_outcome_wins():
    first = call_status_update("busy")
    assert apply_in_order([first, call_status_update("completed", duration_seconds=9)]) == first


@pytest.mark.parametrize(
    ("answered_by", "hang_up"),
    [
        ("machine_start", True),
        ("machine_end_beep", True),
        ("machine_end_silence", True),
        ("machine_end_other", True),
        ("fax", True),
        ("human", False),
        ("unknown", False),
    ],
)
def test_should_hang_up_on_machines_only(answered_by, hang_up):
    assert should_hang_up(answered_by) is hang_up
