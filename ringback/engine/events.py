"""Inputs (events) and outputs (effects) of the enrollment state machine. Plain immutable data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from ringback.engine.model import StepContent

# --- events: something happened -------------------------------------------------------------


@dataclass(frozen=True)
class Started:
    """The enrollment was just created."""


@dataclass(frozen=True)
class Recovered:
    """The enrollment was loaded from storage after a restart or a crash of its actor."""


@dataclass(frozen=True)
class Wake:
    """Time has passed; due steps may go out."""


@dataclass(frozen=True)
class ContentReady:
    contents: Mapping[int, StepContent]
    model: str


@dataclass(frozen=True)
class GenerationFailed:
    indexes: tuple[int, ...]
    reason: str


@dataclass(frozen=True)
class Approved:
    by: str


@dataclass(frozen=True)
class Rejected:
    by: str
    reason: str = ""


@dataclass(frozen=True)
class StepEdited:
    index: int
    content: StepContent
    by: str


@dataclass(frozen=True)
class Stopped:
    """Cancel by the customer, opt-out, reply: nothing more goes out."""

    reason: str


@dataclass(frozen=True)
class AdminsNotified:
    recipients: tuple[str, ...] = ()
    problem: str = ""  # why some or all admins were not reached: shown on the enrollment, never silent


@dataclass(frozen=True)
class SendSucceeded:
    index: int
    attempt: int
    provider: str
    provider_id: str


@dataclass(frozen=True)
class SendFailed:
    index: int
    attempt: int
    code: str
    message: str
    retryable: bool
    retry_at: datetime | None = None  # chosen by the dispatcher (jitter is randomness, kept out of here)


@dataclass(frozen=True)
class SendOutcomeUnknown:
    """The request reached the provider but its answer was lost: the message may or may not have gone out."""

    index: int
    attempt: int
    message: str


@dataclass(frozen=True)
class SendSkipped:
    """The send-time re-check refused the step (suppressed contact, channel not configured...)."""

    index: int
    reason: str


@dataclass(frozen=True)
class SendDeferred:
    """The send-time re-check found a sending limit reached (engine/sending_limits.py): the step waits
    until `until`; the attempt was not used."""

    index: int
    attempt: int
    reason: str  # daily_cap, hourly_cap, domain_throttle or weekday
    until: datetime


@dataclass(frozen=True)
class DeliveryReported:
    """A provider callback. `rank` orders states so late or repeated callbacks never move a step back."""

    index: int
    state: str  # "sent", "delivered" or "failed"
    rank: int
    error_code: str | None = None
    error_message: str | None = None


Event = (
    Started
    | Recovered
    | Wake
    | ContentReady
    | GenerationFailed
    | Approved
    | Rejected
    | StepEdited
    | Stopped
    | AdminsNotified
    | SendSucceeded
    | SendFailed
    | SendOutcomeUnknown
    | SendSkipped
    | SendDeferred
    | DeliveryReported
)

# --- effects: what the actor must do, after persisting the new state ---------------------------


@dataclass(frozen=True)
class Generate:
    indexes: tuple[int, ...]


@dataclass(frozen=True)
class Dispatch:
    index: int
    attempt: int


@dataclass(frozen=True)
class WakeAt:
    at: datetime


@dataclass(frozen=True)
class NotifyAdmins:
    pass


@dataclass(frozen=True)
class SequenceModel:
    """Record which writer produced content (on the sequence)."""

    model: str


Effect = Generate | Dispatch | WakeAt | NotifyAdmins | SequenceModel


@dataclass(frozen=True)
class TimelineEntry:
    kind: str
    detail: Mapping[str, object] = field(default_factory=dict)
