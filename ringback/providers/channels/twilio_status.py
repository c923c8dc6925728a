"""Twilio status callbacks → what they mean for a step.

Twilio posts `MessageStatus` (SMS) and `CallStatus` (voice) callbacks that can arrive late, twice
or out of order. Each maps to a `StatusUpdate` with a `rank` that grows along the provider's
lifecycle: a caller keeps the highest rank it has applied to a step and ignores any update whose
rank is not higher, so a late `sent` never overwrites `delivered` and a late `ringing` never
reopens a completed call. Terminal outcomes of one resource share a rank: the first one wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

StepState = Literal["sent", "delivered", "failed"]


@dataclass(frozen=True)
class StatusUpdate:
    step_state: StepState | None  # None: nothing to record on the step (progress or unrelated)
    rank: int
    error_code: str | None = None
    terminal: bool = False


IGNORED = StatusUpdate(None, 0)

# SMS. `queued`/`accepted`/`scheduled`/`sending` are Twilio-internal progress: the step is already
# `sent` from the API receipt. `undelivered`/`failed` outrank `sent` (they come after it) but not
# `delivered`, which the carrier only reports for a message that arrived. `read` (RCS/WhatsApp)
# is a delivered message that was also opened. `receiving`/`received` describe inbound messages and
# never touch an outbound step.
_MESSAGE: dict[str, StatusUpdate] = {
    "accepted": StatusUpdate(None, 10),
    "scheduled": StatusUpdate(None, 10),
    "queued": StatusUpdate(None, 10),
    "sending": StatusUpdate(None, 20),
    "sent": StatusUpdate("sent", 30),
    "undelivered": StatusUpdate("failed", 40, "undelivered", terminal=True),
    "failed": StatusUpdate("failed", 40, "failed", terminal=True),
    "delivered": StatusUpdate("delivered", 50, terminal=True),
    "read": StatusUpdate("delivered", 60, terminal=True),
    "receiving": IGNORED,
    "received": IGNORED,
}

_CALL_FINISHED_RANK = 60

# Voice. A call is `sent` once Twilio dials and `delivered` once someone (or a voicemail) picks up.
# `answered` is the StatusCallbackEvent name for what CallStatus reports as `in-progress`.
_CALL: dict[str, StatusUpdate] = {
    "queued": StatusUpdate(None, 10),
    "initiated": StatusUpdate("sent", 20),
    "ringing": StatusUpdate("sent", 30),
    "in-progress": StatusUpdate("delivered", 50),
    "answered": StatusUpdate("delivered", 50),
    "completed": StatusUpdate("delivered", _CALL_FINISHED_RANK, terminal=True),
    "busy": StatusUpdate("failed", _CALL_FINISHED_RANK, "busy", terminal=True),
    "no-answer": StatusUpdate("failed", _CALL_FINISHED_RANK, "no-answer", terminal=True),
    "canceled": StatusUpdate("failed", _CALL_FINISHED_RANK, "canceled", terminal=True),
    "failed": StatusUpdate("failed", _CALL_FINISHED_RANK, "failed", terminal=True),
}
_NEVER_ANSWERED = StatusUpdate("failed", _CALL_FINISHED_RANK, "no-answer", terminal=True)

# AnsweredBy values from answering machine detection that mean "no human on the line".
_MACHINE_ANSWERS = frozenset(
    {"machine_start", "machine_end_beep", "machine_end_silence", "machine_end_other", "fax"}
)


def message_status_update(status: str, error_code: str | None = None) -> StatusUpdate:
    """Map a `MessageStatus`; Twilio's `ErrorCode` (e.g. "30003") replaces the generic failure code."""
    update = _MESSAGE.get(status.strip().lower(), IGNORED)
    if update.step_state == "failed" and error_code:
        return StatusUpdate(update.step_state, update.rank, error_code, update.terminal)
    return update


def call_status_update(
    status: str, duration_seconds: int | None = None, answered: bool = False
) -> StatusUpdate:
    """Map a `CallStatus`.

    A `completed` call that lasted 0 seconds was never picked up (Twilio reports some unanswered
    calls that way instead of `no-answer`), so it is a failed `no-answer` unless the caller already
    saw it answered (`answered=True`), in which case the pickup is what counts.
    """
    status = status.strip().lower()
    if status == "completed" and duration_seconds == 0 and not answered:
        return _NEVER_ANSWERED
    return _CALL.get(status, IGNORED)


def should_hang_up(answered_by: str) -> bool:
    """True when answering machine detection says a machine or fax took the call (see TwilioChannel)."""
    return answered_by.strip().lower() in _MACHINE_ANSWERS
