"""ReserveSend and the send log, on SQLite and PostgreSQL: caps count per workspace, channel, sender and mode,
the domain throttle per minute, a resumed send is counted once, and racing reservations never pass a cap."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest

from ringback.commands.reserve_send import ReserveSend, SendSlot
from ringback.engine.lead import ContactInput
from ringback.engine.locale import LanguageChoice, TimezoneChoice
from ringback.engine.model import Channel
from ringback.engine.sending_limits import ChannelCaps, SendingLimits, Wait
from ringback.storage import contacts, enrollments, send_log, templates
from ringback.storage.models import SendLog
from ringback.storage.writer import GroupCommitWriter
from tests.storage.conftest import NOW

EMAIL_STEP = 1  # TEMPLATE_BODY: voice, email, sms
SENDER = "hello@example.com"


def step_ids(workspace_id, template_def, count: int, domain: str = "example.com") -> list[str]:
    """The email step of `count` fresh enrollments, each to its own contact at `domain`."""
    template_id = templates.create_template(workspace_id, template_def, NOW)
    ids = []
    for i in range(count):
        lead = ContactInput(first_name=f"Lead {i}", emails=(f"lead{i}@{domain}",))
        contact_id = contacts.upsert_contact(workspace_id, lead, NOW).contact_id
        created = enrollments.create(
            workspace_id, template_id, template_def, contacts.profile(contact_id), "live", True,
            LanguageChoice("en", "default"), TimezoneChoice("UTC", ("UTC",), "default"), NOW, {},
        )  # fmt: skip
        ids.append(enrollments.load_context(created.enrollment_id).step_ids[EMAIL_STEP])
    return ids


def slot(workspace_id: str, step_id: str, *, attempt=1, sender=SENDER, to="lead@example.com", sandbox=False):
    return SendSlot(workspace_id, step_id, attempt, Channel.EMAIL, sender, to, sandbox)


@pytest.fixture
def reserve(database) -> Iterator[Callable[..., Wait | None]]:
    """ReserveSend through a group-commit writer of its own, as the node runs it; the day is UTC's."""
    writer = GroupCommitWriter(database)
    yield lambda s, limits, at=NOW: ReserveSend(writer).run(s, limits, "UTC", at)
    writer.close()


DAILY_3 = SendingLimits(caps={Channel.EMAIL: ChannelCaps(daily=3)})


def test_the_daily_cap_counts_per_sender_and_the_excess_waits_for_the_next_day(workspace, template_def, reserve):
    steps = step_ids(workspace.id, template_def, 6)

    results = [reserve(slot(workspace.id, step), DAILY_3) for step in steps[:4]]

    next_day = NOW.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    assert results == [None, None, None, Wait("daily_cap", next_day)]
    assert reserve(slot(workspace.id, steps[4], sender="sales@example.com"), DAILY_3) is None  # another sender
    assert reserve(slot(workspace.id, steps[5], sandbox=True), DAILY_3) is None  # test keys count apart
    assert reserve(slot(workspace.id, steps[3]), DAILY_3, at=next_day) is None  # the next window
    assert SendLog.select().count() == 6


def test_a_send_resumed_with_the_same_attempt_is_counted_once(workspace, template_def, reserve):
    [step] = step_ids(workspace.id, template_def, 1)
    one = SendingLimits(caps={Channel.EMAIL: ChannelCaps(daily=1)})

    assert reserve(slot(workspace.id, step), one) is None
    assert reserve(slot(workspace.id, step), one) is None  # an email re-sent after a restart
    assert reserve(slot(workspace.id, step, attempt=2), one) is not None  # a new attempt is a new send
    assert SendLog.select().count() == 1


def test_another_workspaces_sends_never_count(workspace, other_workspace, template_def, reserve):
    mine = step_ids(workspace.id, template_def, 1)
    theirs = step_ids(other_workspace.id, template_def, 3)
    for step in theirs:
        reserve(slot(other_workspace.id, step), DAILY_3)

    assert reserve(slot(workspace.id, mine[0]), DAILY_3) is None


def test_the_domain_throttle_spaces_emails_to_one_domain(workspace, template_def, reserve):
    steps = step_ids(workspace.id, template_def, 4)
    two_a_minute = SendingLimits(email_domain_per_minute=2)
    minute = NOW.replace(second=0, microsecond=0)

    assert reserve(slot(workspace.id, steps[0], to="a@Example.com"), two_a_minute) is None
    assert reserve(slot(workspace.id, steps[1], to="b@example.com", sender="x@acme.example"), two_a_minute) is None
    assert reserve(slot(workspace.id, steps[2], to="c@example.com"), two_a_minute) == Wait(
        "domain_throttle", minute + timedelta(minutes=1)
    )
    assert reserve(slot(workspace.id, steps[3], to="d@other.example"), two_a_minute) is None
    next_minute = minute + timedelta(minutes=1)
    assert reserve(slot(workspace.id, steps[2], to="c@example.com"), two_a_minute, at=next_minute) is None


def test_nothing_is_logged_for_a_channel_without_limits(workspace, template_def, reserve):
    [step] = step_ids(workspace.id, template_def, 1)
    assert reserve(slot(workspace.id, step), SendingLimits(caps={Channel.VOICE: ChannelCaps(daily=1)})) is None
    assert SendLog.select().count() == 0


@pytest.mark.parametrize("cap", [1, 3])
def test_racing_reservations_never_pass_the_cap(workspace, template_def, run_concurrently, cap, reserve):
    steps = step_ids(workspace.id, template_def, 8)
    limits = SendingLimits(caps={Channel.EMAIL: ChannelCaps(hourly=cap)})

    results = run_concurrently(*[lambda s=s: reserve(slot(workspace.id, s), limits) for s in steps])

    assert results.count(None) == cap
    assert {wait.reason for wait in results if wait is not None} == {"hourly_cap"}
    assert SendLog.select().count() == cap


def test_rows_no_window_can_count_are_purged(workspace, template_def, reserve):
    steps = step_ids(workspace.id, template_def, 2)
    reserve(slot(workspace.id, steps[0]), DAILY_3, at=NOW - send_log.KEEP - timedelta(seconds=1))
    reserve(slot(workspace.id, steps[1]), DAILY_3)

    assert send_log.purge_older_than(NOW - send_log.KEEP) == 1
    assert [row.step_id for row in SendLog.select()] == [steps[1]]
