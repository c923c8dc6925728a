"""Every message the actors exchange: frozen dataclasses, handled by one ``on_receive`` per actor.

Actors ``tell``; results go back to the supervisor, which routes them (`Deliver`). Only HTTP threads ``ask``
the supervisor (the Command messages below), always with a timeout.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ringback.engine.events import Event
from ringback.engine.model import GenerationRequest
from ringback.providers.channels.base import OutboundMessage

# --- to the supervisor ------------------------------------------------------------------------


@dataclass(frozen=True)
class Deliver:
    """tell: route an event to an enrollment, re-activating it from storage if it has no live actor."""

    enrollment_id: str
    event: Event
    # A pool's answer carries the lease its job was asked under (cluster mode): one from a tenure this node
    # has since lost is dropped, even if the partition came back — the new owner asked again.
    lease: tuple[int, int] | None = None


@dataclass(frozen=True)
class StopContact:
    """tell: an opt-out or reply stops every open enrollment of a contact."""

    contact_id: str
    reason: str
    opt_out: str | None = None  # where the contact opted out (api, email_link, sms), for the opt-out counter


@dataclass(frozen=True)
class ForgetEnrollments:
    """tell: these enrollments were erased with their contact; drop their actors and anything still for them."""

    enrollment_ids: tuple[str, ...]


@dataclass(frozen=True)
class ReleaseMe:
    """tell (from an enrollment actor): it is finished or only waiting for time, after `last_seq` events.

    The supervisor stops it only if it has sent it nothing newer, so no event is ever dropped.
    """

    enrollment_id: str
    actor_urn: str
    last_seq: int
    wake_at: datetime | None


@dataclass(frozen=True)
class EnrollmentCrashed:
    enrollment_id: str
    actor_urn: str
    error: str


@dataclass(frozen=True)
class Recover:
    """tell: load every open enrollment that needs work and resume it (at a bounded rate).

    `partitions`: only those (just taken over, in cluster mode); None: every partition this node owns.
    """

    partitions: frozenset[int] | None = None


@dataclass(frozen=True)
class Reconcile:
    """tell: another node accepted commands for this enrollment; apply what its timeline says is still owed."""

    enrollment_id: str


@dataclass(frozen=True)
class PartitionsLost:
    """tell (cluster mode): this node no longer owns these partitions; drop their actors and queued work."""

    partitions: frozenset[int]


@dataclass(frozen=True)
class Fenced:
    """tell: a write or send for this enrollment was refused because its partition's lease is not ours (any more)."""

    enrollment_id: str


@dataclass(frozen=True)
class Tick:
    now: datetime


@dataclass(frozen=True)
class Stats:
    """ask: numbers for /readyz and /metrics."""


# --- to an enrollment actor ------------------------------------------------------------------


@dataclass(frozen=True)
class Apply:
    event: Event
    seq: int


# --- to the pools ----------------------------------------------------------------------------


@dataclass(frozen=True)
class GenerateWork:
    enrollment_id: str
    request: GenerationRequest
    lease: tuple[int, int] | None = None


@dataclass(frozen=True)
class SendWork:
    enrollment_id: str
    index: int
    attempt: int
    sandbox: bool
    message: OutboundMessage
    lease: tuple[int, int] | None = None


@dataclass(frozen=True)
class NotifyWork:
    enrollment_id: str
    recipients: tuple[str, ...]
    subject: str
    text: str
    html: str
    lease: tuple[int, int] | None = None


# --- to the clock ----------------------------------------------------------------------------


@dataclass(frozen=True)
class WakeMeAt:
    enrollment_id: str
    at: datetime


@dataclass(frozen=True)
class ClockTick:
    pass


def describe(message: Any) -> str:
    """A log-safe one-liner (never message bodies or addresses)."""
    return type(message).__name__
