"""A time-of-day wish in the notes ("call in the morning", "plutôt le matin", "ab 17 Uhr") as local hours.

Calls and texts then go out inside both the calling window and the wish; when the two do not overlap, the
calling window alone decides (a wish never allows a call at night).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time

from ringback.engine.lead_ask import fold

MORNING, AFTERNOON, EVENING, AFTER, BEFORE = "morning", "afternoon", "evening", "after", "before"
_PARTS = {MORNING: (time(8), time(12)), AFTERNOON: (time(12), time(17)), EVENING: (time(17), time(21))}
_DAY_END = time.max
# Parts of the day, per language, over accent-folded text. "mañana"/"Morgen" alone mean "tomorrow": not here.
_PART_CUES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (part, re.compile(pattern))
    for part, pattern in (
        (
            MORNING,
            r"\b(?:in the morning|mornings?|por la manana|en la manana|por las mananas|le matin|plutot le matin"
            r"|en matinee|matinee|vormittags?|morgens|am morgen|de manha|pela manha|na parte da manha|di mattina"
            r"|la mattina|in mattinata|mattina)\b",
        ),
        (
            AFTERNOON,
            r"\b(?:in the afternoon|afternoons?|por la tarde|en la tarde|por las tardes|l'apres-midi|apres-midi"
            r"|nachmittags?|am nachmittag|a tarde|de tarde|pela tarde|nel pomeriggio|di pomeriggio|pomeriggio)\b",
        ),
        (
            EVENING,
            r"\b(?:in the evening|evenings?|after work|por la noche|le soir|en soiree|abends|am abend|a noite"
            r"|de noite|la sera|di sera|alla sera)\b",
        ),
    )
)
_HOUR = r"(?P<hour>\d{1,2})(?:[:h.](?P<minute>\d{2}))?\s*"
_MARK = r"(?P<meridiem>[ap]\.?m\.?)?\s*(?P<unit>h\b|uhr|horas?|heures?)?"
# Words that already say "o'clock" ("las", "das", "le") take a bare number; the others need a unit or am/pm.
_AFTER = (
    re.compile(r"\b(?:after|despues de las|a partir de las|depois das|a partir das|dopo le|dalle)\s+" + _HOUR + _MARK),
    re.compile(r"\b(?:from|apres|a partir de|ab|nach)\s+" + _HOUR + _MARK + r"(?<=[a-z])"),
)
_BEFORE = (
    re.compile(r"\b(?:before|antes de las|antes das|prima delle|entro le)\s+" + _HOUR + _MARK),
    re.compile(r"\b(?:avant|vor)\s+" + _HOUR + _MARK + r"(?<=[a-z])"),
)


@dataclass(frozen=True)
class TimeWish:
    """Local hours [start, end) the lead asked to be called in, the kind of wish, and the words that said it."""

    part: str
    start: time
    end: time
    cue: str

    def to_json(self) -> dict[str, str]:
        return {
            "part": self.part,
            "start": self.start.strftime("%H:%M"),
            "end": "24:00" if self.end == _DAY_END else self.end.strftime("%H:%M"),
            "cue": self.cue,
            "source": "notes",
        }

    @classmethod
    def from_json(cls, data: dict[str, str]) -> TimeWish:
        end = _DAY_END if data["end"] == "24:00" else time.fromisoformat(data["end"])
        return cls(data["part"], time.fromisoformat(data["start"]), end, data.get("cue", ""))


def extract_time_wish(notes: str) -> TimeWish | None:
    """The first time-of-day wish in the notes, or None."""
    folded = fold(notes)
    found: list[tuple[int, TimeWish]] = []
    for part, pattern in _PART_CUES:
        if match := pattern.search(folded):
            start, end = _PARTS[part]
            found.append((match.start(), TimeWish(part, start, end, match.group(0).strip(" ."))))
    for kind, patterns in ((AFTER, _AFTER), (BEFORE, _BEFORE)):
        for match in (match for pattern in patterns for match in pattern.finditer(folded)):
            at = _clock(match)
            if at is None:
                continue
            span = (at, _DAY_END) if kind == AFTER else (time(0), at)
            found.append((match.start(), TimeWish(kind, *span, match.group(0).strip(" ."))))
            break
    return min(found, key=lambda item: item[0])[1] if found else None


def latest_time_wish(notes: str) -> TimeWish | None:
    """The wish of the most recent note line that has one: notes accumulate per contact, newest last, and a
    lead who asked again ("now better in the afternoon") changed their mind."""
    for line in reversed(notes.splitlines()):
        if wish := extract_time_wish(line):
            return wish
    return None


def _clock(match: re.Match[str]) -> time | None:
    """A plausible clock time: "5pm" is 17:00, a bare "5" after "after" is read as 17:00 (office hours)."""
    hour, minute = int(match["hour"]), int(match["minute"] or 0)
    meridiem = (match["meridiem"] or "").replace(".", "")
    if meridiem == "pm" and hour < 12:
        hour += 12
    elif not meridiem and 1 <= hour <= 7:
        hour += 12  # "after 5", "después de las 6": nobody asks for a call at 5 in the morning
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        return None
    return time(hour, minute)
