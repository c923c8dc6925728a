"""The sandbox channel for test keys: records what would be sent; never reaches a real provider."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from ringback.providers.channels.base import OutboundMessage, Receipt
from ringback.storage import sandbox
from ringback.storage.writer import GroupCommitWriter


class SandboxChannel:
    name = "sandbox"

    def __init__(self, now: Callable[[], datetime], writer: GroupCommitWriter) -> None:
        self._now = now
        self._writer = writer

    def send(self, message: OutboundMessage) -> Receipt:
        """The outbox row is the send: committed (with other units) before the receipt is returned."""
        now = self._now()
        provider_id = self._writer.run(
            lambda: sandbox.record_once(
                message.idempotency_token,
                message.step_id,
                message.channel.value,
                message.to,
                message.subject,
                message.body,
                now,
            )
        )
        return Receipt("sandbox", provider_id)
