"""Value types shared by the engine, the actors and the providers.

Everything here is immutable plain data so it can cross actor boundaries safely
(pykka does not copy messages).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    VOICE = "voice"


class EnrollmentStatus(StrEnum):
    GENERATING = "generating"
    PENDING_APPROVAL = "pending_approval"
    ACTIVE = "active"
    COMPLETED = "completed"
    REJECTED = "rejected"
    STOPPED = "stopped"
    FAILED = "failed"


TERMINAL_ENROLLMENT = frozenset(
    {EnrollmentStatus.COMPLETED, EnrollmentStatus.REJECTED, EnrollmentStatus.STOPPED, EnrollmentStatus.FAILED}
)


class StepStatus(StrEnum):
    PLANNED = "planned"
    SCHEDULED = "scheduled"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELED = "canceled"
    UNKNOWN = "unknown"


TERMINAL_STEP = frozenset(
    {
        StepStatus.SENT,
        StepStatus.DELIVERED,
        StepStatus.FAILED,
        StepStatus.SKIPPED,
        StepStatus.CANCELED,
        StepStatus.UNKNOWN,
    }
)


@dataclass(frozen=True)
class StepPlan:
    """One step of a template: which channel, and how long after the previous step."""

    index: int
    channel: Channel
    delay_seconds: int


@dataclass(frozen=True)
class StepContent:
    """What the writer produced for one step.

    For voice, `body` is the live-answer script (a person picked up) and `voicemail` the message left on an
    answering machine; the call's machine detection picks one. Without a voicemail script the live one serves.
    """

    body: str
    subject: str | None = None
    voicemail: str | None = None


@dataclass(frozen=True)
class GenerationRequest:
    """Everything a writer may use. Recipients and timing never come back from the writer.

    The sender fields and the template facts are the customer's own words (trusted); the lead fields and
    the notes come from a public form (untrusted data, never instructions).
    """

    template_name: str
    goal: str
    tone: str
    steps: tuple[StepPlan, ...]
    wanted: tuple[int, ...]  # indexes of the steps to write now
    language: str  # ISO 639-1, e.g. "es"
    timezone: str  # IANA zone
    first_name: str
    last_name: str = ""
    notes: str = ""  # untrusted: goes into the prompt as delimited data only
    lead_company: str = ""  # untrusted: the lead's own company, never the sender's
    sender_name: str = ""
    sender_company: str = ""
    sender_title: str = ""
    value_proposition: str = ""
    call_to_action: str = ""
    facts: tuple[str, ...] = ()  # the only product facts a writer may state
    skipped: dict[int, str] = field(default_factory=dict)  # steps that will not run → why
    sms_opt_out: bool = False  # the first text must carry opt-out wording (US and CA numbers)
    sms_max_segments: int = 2
    voice_connect: bool = False  # a live call ends by connecting the lead to the template's connect number
    link_allowlist: tuple[str, ...] = ()

    @property
    def runs(self) -> tuple[StepPlan, ...]:
        """The steps that will really run, in order: the plan as the lead will live it."""
        return tuple(plan for plan in sorted(self.steps, key=lambda p: p.index) if plan.index not in self.skipped)


@dataclass(frozen=True)
class GeneratedSteps:
    model: str  # which writer/model produced this, recorded on the sequence
    steps: dict[int, StepContent] = field(default_factory=dict)
