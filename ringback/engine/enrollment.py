"""State of one enrollment as the state machine sees it (immutable; the actor swaps whole values)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from ringback.engine.model import Channel, EnrollmentStatus, StepContent, StepStatus
from ringback.engine.time_wish import TimeWish


@dataclass(frozen=True)
class StepState:
    index: int
    channel: Channel
    delay_seconds: int
    status: StepStatus = StepStatus.PLANNED
    recipient: str | None = None
    scheduled_for: datetime | None = None
    content: StepContent | None = None
    attempts: int = 0
    provider: str | None = None
    provider_id: str | None = None
    delivery_rank: int = 0
    sent_at: datetime | None = None
    delivered_at: datetime | None = None
    last_error_code: str | None = None
    last_error: str | None = None
    note: str | None = None
    waiting_for: str | None = None  # the sending limit it waits for (engine/sending_limits.py)

    def evolve(self, **changes) -> StepState:
        return replace(self, **changes)


@dataclass(frozen=True)
class EnrollmentState:
    id: str
    status: EnrollmentStatus
    auto_approve: bool
    sandbox: bool  # test key: every send goes to the sandbox channel, which is exactly-once
    steps: tuple[StepState, ...]
    timezone_candidates: tuple[str, ...] = ("UTC",)
    anchor_at: datetime | None = None  # when the schedule started (creation on the fast path, else approval)
    generation_attempts: int = 0
    admins_notified: bool = False
    status_reason: str | None = None
    time_wish: TimeWish | None = None  # the lead's preferred hours for calls and texts

    def evolve(self, **changes) -> EnrollmentState:
        return replace(self, **changes)

    def with_step(self, step: StepState) -> EnrollmentState:
        steps = tuple(step if s.index == step.index else s for s in self.steps)
        return replace(self, steps=steps)

    def step(self, index: int) -> StepState:
        return self.steps[index]
