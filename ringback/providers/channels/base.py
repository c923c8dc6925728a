"""The contract every outbound channel adapter fulfils."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ringback.engine.model import Channel


@dataclass(frozen=True)
class OutboundMessage:
    """One send. `idempotency_token` is stable across retries and restarts of the same step."""

    step_id: str
    idempotency_token: str
    channel: Channel
    to: str  # email address or E.164 number
    body: str  # email text, SMS text or voice script
    subject: str | None = None
    language: str = "en"
    sender_name: str = ""
    sender_address: str = ""  # From email, or From number / messaging service SID
    message_id: str = ""  # RFC 5322 Message-ID for email, deterministic per step
    unsubscribe_url: str = ""
    unsubscribe_mailto: str = ""
    status_callback_url: str = ""
    connect_number: str = ""  # voice: dial a human after the live-answer script
    voicemail: bool = True  # voice: leave a message on an answering machine (else hang up)
    voicemail_body: str | None = None  # voice: the script for an answering machine (`body` is for a person)
    voice_url: str = ""  # voice: our TwiML endpoint, which picks the script by who answered


@dataclass(frozen=True)
class Receipt:
    provider: str  # "smtp", "twilio", "sandbox"
    provider_id: str


class SendError(Exception):
    """A send that did not happen. `code` is the provider's code when it gave one."""

    retryable: bool = False

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class TransientSendError(SendError):
    retryable = True


class PermanentSendError(SendError):
    retryable = False


class ChannelAdapter(Protocol):
    name: str

    def send(self, message: OutboundMessage) -> Receipt:
        """Send or raise a SendError. Must never report a send that did not happen."""
        ...
