"""Reserve a slot under the workspace's sending limits for one send, or learn how long it must wait.

Counting and recording are one unit of the group-commit writer: units run one after another, so two
enrollment actors can never both count the other out and together send past a cap. A PostgreSQL advisory
lock per workspace keeps that true when several nodes write to one database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ringback.engine.model import Channel
from ringback.engine.sending_limits import SendingLimits, Wait, Windows, check, windows
from ringback.storage import send_log
from ringback.storage.models import database_proxy
from ringback.storage.writer import GroupCommitWriter


@dataclass(frozen=True)
class SendSlot:
    """One send as the limits see it: who sends, on which channel, to which domain, in which mode."""

    workspace_id: str
    step_id: str
    attempt: int
    channel: Channel
    sender: str
    recipient: str
    sandbox: bool

    @property
    def recipient_domain(self) -> str | None:
        domain = self.recipient.rpartition("@")[2].strip().lower()
        return domain if self.channel is Channel.EMAIL and domain else None


class ReserveSend:
    def __init__(self, writer: GroupCommitWriter) -> None:
        self._writer = writer

    def run(self, slot: SendSlot, limits: SendingLimits, zone: str, now: datetime) -> Wait | None:
        """None: the send may go now and is counted; a Wait: it is not counted and must wait."""
        if not limits.limits(slot.channel):
            return None  # nothing to count: no write at all on the hot path
        current = windows(now, zone)
        return self._writer.run(lambda: _reserve(slot, limits, current, now))


def _reserve(slot: SendSlot, limits: SendingLimits, current: Windows, now: datetime) -> Wait | None:
    if send_log.already_logged(slot.step_id, slot.attempt):
        return None
    send_log.lock_workspace(database_proxy.obj, slot.workspace_id)
    domain = slot.recipient_domain
    counts = send_log.counts(slot.workspace_id, slot.channel, slot.sender, domain, slot.sandbox, current)
    wait = check(slot.channel, counts, limits, current)
    if wait is None:
        send_log.record(
            slot.workspace_id, slot.step_id, slot.attempt, slot.channel, slot.sender, domain, slot.sandbox, now
        )
    return wait
