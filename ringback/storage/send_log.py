"""The send log: one row per send that a workspace's sending limits let through, counted per window."""

from __future__ import annotations

from datetime import datetime, timedelta

import peewee

from ringback.engine.model import Channel
from ringback.engine.sending_limits import SendCounts, Windows
from ringback.storage.db import is_sqlite
from ringback.storage.models import SendLog

# Longer than any window (a day of 25 hours under DST): older rows can never be counted again.
KEEP = timedelta(days=2)


def already_logged(step_id: str, attempt: int) -> bool:
    """A send re-dispatched with the same attempt (an email resumed after a restart) was counted once."""
    return SendLog.select().where(SendLog.step == step_id, SendLog.attempt == attempt).exists()


def lock_workspace(db: peewee.Database, workspace_id: str) -> None:
    """Serialise limit checks of one workspace until the transaction ends, across nodes too. One node's
    writer already runs them one at a time, and SQLite has a single writer anyway; PostgreSQL shared by
    several nodes needs an advisory lock, or two checks could each count the other out and both send."""
    if not is_sqlite(db):
        db.execute_sql("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"send_log:{workspace_id}",))


def counts(
    workspace_id: str, channel: Channel, sender: str, recipient_domain: str | None, sandbox: bool, current: Windows
) -> SendCounts:
    """Sends by this sender on this channel since the day and the hour began, and emails to the recipient's
    domain (any sender of the workspace) in this minute. Test-key sends count apart from live ones."""
    mine = SendLog.select().where(
        SendLog.workspace == workspace_id,
        SendLog.channel == channel.value,
        SendLog.sender == sender,
        SendLog.sandbox == sandbox,
        SendLog.sent_at >= current.day,
    )
    day = mine.count()
    hour = mine.where(SendLog.sent_at >= current.hour).count() if day else 0
    domain = 0
    if channel is Channel.EMAIL and recipient_domain:
        domain = (
            SendLog.select()
            .where(
                SendLog.workspace == workspace_id,
                SendLog.recipient_domain == recipient_domain,
                SendLog.channel == Channel.EMAIL.value,
                SendLog.sandbox == sandbox,
                SendLog.sent_at >= current.minute,
            )
            .count()
        )
    return SendCounts(day=day, hour=hour, domain_minute=domain)


def record(
    workspace_id: str,
    step_id: str,
    attempt: int,
    channel: Channel,
    sender: str,
    recipient_domain: str | None,
    sandbox: bool,
    now: datetime,
) -> None:
    SendLog.insert(
        workspace=workspace_id,
        step=step_id,
        attempt=attempt,
        channel=channel.value,
        sender=sender,
        recipient_domain=recipient_domain,
        sandbox=sandbox,
        sent_at=now,
    ).execute()


def purge_older_than(cutoff: datetime) -> int:
    return SendLog.delete().where(SendLog.sent_at < cutoff).execute()
