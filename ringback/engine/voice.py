"""Which of a call's two scripts plays: Twilio's answering-machine detection says who picked up.

Twilio reports `AnsweredBy` when it fetches a call's TwiML: `human` or `unknown` hear the live-answer script
(a person may be there, so we speak to them); a machine (`machine_start`, `machine_end_beep`,
`machine_end_silence`, `machine_end_other`) or a `fax` gets the voicemail script. Without detection (or with
asynchronous detection, whose result comes later) nothing is reported and the live script plays.
"""

from __future__ import annotations

from dataclasses import dataclass

MACHINE_ANSWERS = frozenset(
    {"machine_start", "machine_end_beep", "machine_end_silence", "machine_end_other", "fax"}
)


@dataclass(frozen=True)
class CallScripts:
    """What one call step may say, in the lead's language; `connect_number` is dialled after the live script."""

    live: str
    voicemail: str | None
    language: str
    connect_number: str | None = None


@dataclass(frozen=True)
class Spoken:
    text: str
    language: str
    connect_number: str | None  # a person is put through after the script; never a machine
    after_beep: bool  # a voicemail: the greeting is over, start at once


def spoken_for(scripts: CallScripts, answered_by: str) -> Spoken:
    """The script for whoever answered. A call written before voicemail scripts existed speaks its one script."""
    if answered_by.strip().lower() in MACHINE_ANSWERS:
        return Spoken(scripts.voicemail or scripts.live, scripts.language, None, after_beep=True)
    return Spoken(scripts.live, scripts.language, scripts.connect_number, after_beep=False)
