"""Things that happened to a contact outside ringback: replies, opt-outs, bounces, unsubscribes, opt-ins.

The customer reports them through the API; the inbound SMS webhook and the one-click unsubscribe page
record theirs the same way. The channels the contact must no longer be reached on are suppressed in
one unit of the writer, committed before any enrollment hears of it, so the send-time re-check of
every step sees it; then the supervisor stops each open enrollment of the contact.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ringback.actors.messages import StopContact
from ringback.clock import Clock
from ringback.engine.model import Channel
from ringback.storage import contacts
from ringback.storage.writer import GroupCommitWriter


@dataclass(frozen=True)
class ContactEvent:
    reason: str
    suppress: tuple[Channel, ...] = ()
    opt_out: str | None = None  # an opt-out, and where it was said (the opt-out counter's source)


class ContactEvents:
    def __init__(
        self,
        writer: GroupCommitWriter,
        clock: Clock,
        tell_supervisor: Callable[[Any], None],
        timeout_seconds: float,
    ) -> None:
        self._writer = writer
        self._clock = clock
        self._tell = tell_supervisor
        self._timeout = timeout_seconds

    def record(self, contact_ids: Iterable[str], event: ContactEvent) -> None:
        """Suppress (durably), then stop each contact's open enrollments (asynchronously, in the supervisor)."""
        contact_ids = list(contact_ids)
        if event.suppress and contact_ids:
            now = self._clock.now()

            def suppress() -> None:
                for contact_id in contact_ids:
                    contacts.suppress(contact_id, event.suppress, event.reason, now)

            self._writer.run(suppress, self._timeout)
        for contact_id in contact_ids:
            self._tell(StopContact(contact_id, event.reason, event.opt_out))

    def opt_in_sms(self, contact_ids: Iterable[str]) -> list[str]:
        """Lift the SMS suppression of those who opted out; return the others, for whom "YES" is a reply."""

        def lift() -> list[str]:
            replied = []
            for contact_id in contact_ids:
                if Channel.SMS.value in contacts.suppressed_channels(contact_id):
                    contacts.lift_suppression(contact_id, (Channel.SMS,))
                else:
                    replied.append(contact_id)
            return replied

        return self._writer.run(lift, self._timeout)
