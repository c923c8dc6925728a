"""Reserve a slot under the workspace's sending limits for one send, or learn how long it must wait.

Counting and recording happen in one transaction under a per-workspace lock, so concurrent enrollment
actors can never together send past a cap.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ringback.engine.model import Channel
from ringback.engine.sending_limits import SendingLimits, Wait, check, windows
from ringback.storage import send_log
from ringback.storage.db import write_transaction
from ringback.storage.models import database_proxy


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
    def run(self, slot: SendSlot, limits: SendingLimits, zone: str, now: datetime) -> Wait | None:
        """None: the send may go now and is counted; a Wait: it is not counted and must wait."""
        if not limits.limits(slot.channel):
            return None
        current = windows(now, zone)
        domain = slot.recipient_domain
        db = database_proxy.obj
        with write_transaction(db):
            if send_log.already_logged(slot.step_id, slot.attempt):
                return None
            send_log.lock_workspace(db, slot.workspace_id)
            counts = send_log.counts(slot.workspace_id, slot.channel, slot.sender, domain, slot.sandbox, current)
            wait = check(slot.channel, counts, limits, current)
            if wait is None:
                send_log.record(
                    slot.workspace_id, slot.step_id, slot.attempt, slot.channel, slot.sender, domain, slot.sandbox, now
                )
            return wait
