"""Calls and texts reach people only at civil hours in their own time zone.

When the evidence allows several zones (a phone number that spans a country), the most restrictive
wins: an instant is allowed only if it is inside the window in every candidate zone. The search is
exact under DST: it looks at the instants where a zone's window can open (its start time on each
allowed day, and every UTC-offset change, which can jump the wall clock into or past the start).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ALL_DAYS: frozenset[int] = frozenset(range(1, 8))
HORIZON = timedelta(days=14)

_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_CLOCK = re.compile(r"(?P<hour>\d{1,2}):(?P<minute>\d{2})")
_OFFSET_PROBE = timedelta(hours=6)  # no zone changes its UTC offset twice within six hours


@dataclass(frozen=True)
class CallingWindow:
    """Local wall-clock hours [start, end) on the given ISO weekdays (1 = Monday)."""

    start: time = time(8, 0)
    end: time = time(21, 0)
    days: frozenset[int] = ALL_DAYS

    def __post_init__(self) -> None:
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("calling window times are local wall-clock times and must not carry a tzinfo")
        if not self.start < self.end:
            raise ValueError(
                f"calling window must start before it ends (got {self.start:%H:%M}-{self.end:%H:%M}); "
                "windows that span midnight are not supported"
            )
        days = frozenset(self.days)
        if not days or not days <= ALL_DAYS:
            raise ValueError(f"calling window days must be a non-empty set of ISO weekdays 1..7, got {sorted(days)}")
        object.__setattr__(self, "days", days)

    @classmethod
    def parse(cls, start: str = "08:00", end: str = "21:00", days: str = "mon-sun") -> CallingWindow:
        """Build a window from settings text: "HH:MM" times ("24:00" allowed as an end) and days such as
        "mon-fri", "sat,sun" or "fri-mon" (ranges wrap around the week)."""
        return cls(_parse_clock(start, "start"), _parse_clock(end, "end"), _parse_days(days))

    def narrowed(self, start: time, end: time) -> CallingWindow:
        """This window cut down to local hours [start, end) (a lead's wish); itself when they do not overlap,
        because a wish must never move a call outside civil hours nor leave no time at all."""
        low, high = max(self.start, start), min(self.end, end)
        return CallingWindow(low, high, self.days) if low < high else self

    def contains(self, instant: datetime, zone: str) -> bool:
        """Whether `instant` (timezone-aware) falls inside the window on the wall clock of `zone`."""
        local = instant.astimezone(_zone(zone))
        return local.isoweekday() in self.days and self.start <= local.time() < self.end


def _parse_clock(text: str, which: str) -> time:
    match = _CLOCK.fullmatch(text.strip())
    hour, minute = (int(match["hour"]), int(match["minute"])) if match else (-1, -1)
    if (hour, minute) == (24, 0) and which == "end":
        return time.max
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise ValueError(f"calling window {which} must be a time like 08:00, got {text!r}")
    return time(hour, minute)


def _parse_days(text: str) -> frozenset[int]:
    days: set[int] = set()
    for part in text.split(","):
        bounds = [_parse_day(name, text) for name in part.split("-")]
        if len(bounds) == 1:
            days.add(bounds[0])
        elif len(bounds) == 2:
            first, last = bounds
            days.update((first - 1 + step) % 7 + 1 for step in range((last - first) % 7 + 1))
        else:
            raise ValueError(f"calling window days: {part.strip()!r} in {text!r} is not a day or a range like mon-fri")
    return frozenset(days)


def _parse_day(name: str, text: str) -> int:
    """ISO weekday of "mon", "Tues", "thursday", ...: any prefix of at least three letters."""
    key = name.strip().lower()
    for number, day in enumerate(_DAY_NAMES, start=1):
        if len(key) >= 3 and day.startswith(key):
            return number
    raise ValueError(
        f"calling window days: unknown day {name.strip()!r} in {text!r}; use mon..sun, ranges like mon-fri "
        "or lists like mon,wed,fri"
    )


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as error:
        raise ValueError(f"unknown time zone {name!r}") from error


def next_allowed(now: datetime, zones: Sequence[str], window: CallingWindow, horizon: timedelta = HORIZON) -> datetime:
    """The earliest instant at or after `now` (UTC-aware result) at which a call or text may go out.

    That is `now` itself, or the first instant inside the window in every zone. If the zones' windows
    share no instant within `horizon` after the first zone's window next opens (say 09:00-17:00 in
    London and in Tokyo), the first zone alone decides: it is the best guess (`TimezoneChoice.zone`
    comes first in `candidates`), and holding a hot lead for weeks is worse than calling at a civil
    hour for the likeliest zone. The rule depends only on the result, so applying it twice is a no-op.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("next_allowed needs a timezone-aware `now`")
    if not zones:
        raise ValueError("next_allowed needs at least one time zone")
    start = now.astimezone(UTC)
    candidates = list(dict.fromkeys(zones))
    primary = _first_open(start, candidates[:1], window, start + horizon)
    if primary is None:
        raise ValueError(f"the calling window never opens in {candidates[0]} within {horizon}")
    if len(candidates) == 1:
        return primary
    common = _first_open(start, candidates, window, primary + horizon)
    return common if common is not None else primary


def _first_open(since: datetime, zones: Sequence[str], window: CallingWindow, until: datetime) -> datetime | None:
    """The first instant in [since, until] inside the window in every zone.

    Every zone's allowed set is a union of intervals closed on the left, so the answer is `since` or one
    of the instants where some zone's window opens.
    """
    openings = {since}
    for name in zones:
        openings.update(_openings(_zone(name), window, since, until))
    for instant in sorted(openings):
        if instant > until:
            break
        if all(window.contains(instant, name) for name in zones):
            return instant
    return None


def _openings(zone: ZoneInfo, window: CallingWindow, since: datetime, until: datetime) -> Iterator[datetime]:
    """Instants in [since, until] at which `zone`'s window may open: the start time on each allowed day
    (both instants when a fall-back repeats it) and every UTC-offset change (a spring-forward gap may
    swallow the start, a fall-back may jump the wall clock back into the window)."""
    first, last = since.astimezone(zone).date(), until.astimezone(zone).date()
    for offset in range(-1, (last - first).days + 2):
        day = first + timedelta(days=offset)
        if day.isoweekday() in window.days:
            yield from (t for t in _instants_of(day, window.start, zone) if since <= t <= until)
    yield from _offset_changes(zone, since, until)


def _instants_of(day: date, wall: time, zone: ZoneInfo) -> Iterator[datetime]:
    """The real instants showing this wall time: none in a DST gap, two in a fall-back overlap."""
    local = datetime.combine(day, wall)
    for fold in (0, 1):
        instant = local.replace(tzinfo=zone, fold=fold).astimezone(UTC)
        if instant.astimezone(zone).replace(tzinfo=None) == local:
            yield instant


def _offset_changes(zone: ZoneInfo, since: datetime, until: datetime) -> Iterator[datetime]:
    """Every instant in (since, until] where `zone` changes its UTC offset, to the second."""
    lower = since
    while lower < until:
        upper = min(lower + _OFFSET_PROBE, until)
        if lower.astimezone(zone).utcoffset() != upper.astimezone(zone).utcoffset():
            yield _bisect_offset_change(zone, lower, upper)
        lower = upper


def _bisect_offset_change(zone: ZoneInfo, lower: datetime, upper: datetime) -> datetime:
    """The first whole second in (lower, upper] with `upper`'s offset; tz data changes offsets on whole seconds."""
    before = lower.astimezone(zone).utcoffset()
    low, high = math.floor(lower.timestamp()), math.ceil(upper.timestamp())
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, zone).utcoffset() == before:
            low = middle
        else:
            high = middle
    return datetime.fromtimestamp(high, UTC)
