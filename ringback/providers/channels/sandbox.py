"""The sandbox channel for test keys: records what would be sent; never reaches a real provider."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from ringback.providers.channels.base import OutboundMessage, Receipt
from ringback.storage import sandbox


class SandboxChannel:
    name = "sandbox"

    def __init__(self, now: Callable[[], datetime]) -> None:
        self._now = now

    def send(self, message: OutboundMessage) -> Receipt:
        provider_id = sandbox.record_once(
            message.idempotency_token,
            message.step_id,
            message.channel.value,
            message.to,
            message.subject,
            message.body,
            self._now(),
            message.voicemail_body,
        )
        return Receipt("sandbox", provider_id)
