"""Sending limits: how many steps a workspace may send per channel and sender in a day and in an hour, how
many emails per minute one recipient domain gets, and on which weekdays a template's steps may go out.

Pure: the caller passes `now`, the workspace's time zone and the counts of sends already made in the
current windows, and gets "go" (None) or a `Wait`: until when, and why. A step beyond a limit waits for the
next window; it is never dropped. Days and hours are those of the workspace's own time zone, so "300 a day"
starts again at the workspace's midnight; the domain throttle counts calendar minutes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ringback.engine.calling_window import ALL_DAYS, CallingWindow, next_allowed
from ringback.engine.errors import InvalidInput
from ringback.engine.model import Channel

DAILY_CAP, HOURLY_CAP, DOMAIN_THROTTLE, WEEKDAY = "daily_cap", "hourly_cap", "domain_throttle", "weekday"
MAX_CAP = 1_000_000
_CAP_KEYS = ("daily", "hourly")
_DOMAIN_KEY = "email_domain_per_minute"
_CHANNEL_KEYS = tuple(channel.value for channel in Channel)


@dataclass(frozen=True)
class ChannelCaps:
    """Sends per sender address or number; None is no cap."""

    daily: int | None = None
    hourly: int | None = None


@dataclass(frozen=True)
class SendingLimits:
    caps: Mapping[Channel, ChannelCaps] = field(default_factory=dict)
    email_domain_per_minute: int | None = None

    def caps_for(self, channel: Channel) -> ChannelCaps:
        return self.caps.get(channel, ChannelCaps())

    def limits(self, channel: Channel) -> bool:
        """Whether any limit needs counting for a step on `channel`."""
        caps = self.caps_for(channel)
        domain = channel is Channel.EMAIL and self.email_domain_per_minute is not None
        return caps.daily is not None or caps.hourly is not None or domain

    def to_json(self) -> dict[str, Any]:
        view: dict[str, Any] = {
            channel.value: {"daily": self.caps_for(channel).daily, "hourly": self.caps_for(channel).hourly}
            for channel in Channel
        }
        view[_DOMAIN_KEY] = self.email_domain_per_minute
        return view

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> SendingLimits:
        """Rebuild stored (already validated) limits; None is no limit at all."""
        return parse_limits(data) if data else cls()


@dataclass(frozen=True)
class SendCounts:
    """Sends already made (or in flight) by the same sender, and emails to the same domain, in each window."""

    day: int = 0
    hour: int = 0
    domain_minute: int = 0


@dataclass(frozen=True)
class Windows:
    """Starts (UTC) of the current day and hour in the workspace's zone and of the current minute, and the
    start of the next of each."""

    day: datetime
    hour: datetime
    minute: datetime
    next_day: datetime
    next_hour: datetime
    next_minute: datetime


@dataclass(frozen=True)
class Wait:
    reason: str  # daily_cap, hourly_cap, domain_throttle or weekday
    until: datetime


def windows(now: datetime, zone: str) -> Windows:
    """The windows `now` falls in. Midnight and the hour are found on the zone's wall clock, then converted,
    so a DST change makes a day 23 or 25 hours long, as the workspace's admins would expect."""
    tz = ZoneInfo(zone)
    local = now.astimezone(tz)
    day = datetime.combine(local.date(), time(0), tz)
    next_day = datetime.combine(local.date() + timedelta(days=1), time(0), tz)
    hour = local.replace(minute=0, second=0, microsecond=0).astimezone(UTC)  # zones at :30 past UTC's hour
    minute = now.astimezone(UTC).replace(second=0, microsecond=0)
    return Windows(
        day=day.astimezone(UTC),
        hour=hour,
        minute=minute,
        next_day=next_day.astimezone(UTC),
        next_hour=hour + timedelta(hours=1),
        next_minute=minute + timedelta(minutes=1),
    )


def check(channel: Channel, counts: SendCounts, limits: SendingLimits, current: Windows) -> Wait | None:
    """None when one more send fits every limit; otherwise the limit that holds it, and until when. The
    longest wait wins: a step held by the daily cap need not be woken every hour."""
    caps = limits.caps_for(channel)
    if caps.daily is not None and counts.day >= caps.daily:
        return Wait(DAILY_CAP, current.next_day)
    if caps.hourly is not None and counts.hour >= caps.hourly:
        return Wait(HOURLY_CAP, current.next_hour)
    per_minute = limits.email_domain_per_minute
    if channel is Channel.EMAIL and per_minute is not None and counts.domain_minute >= per_minute:
        return Wait(DOMAIN_THROTTLE, current.next_minute)
    return None


def weekday_wait(now: datetime, weekdays: frozenset[int], zones: Sequence[str]) -> Wait | None:
    """None when today is an allowed weekday in the recipient's zones (every candidate zone, as for the
    calling window); otherwise wait for the start of the next allowed day there."""
    if weekdays == ALL_DAYS:
        return None
    allowed = next_allowed(now, zones, CallingWindow(time(0), time.max, weekdays))
    return Wait(WEEKDAY, allowed) if allowed > now else None


def parse_limits(value: Any) -> SendingLimits:
    """Validate the `sending_limits` workspace setting, naming the field that is wrong.

    {"email": {"daily": 300, "hourly": 100}, "voice": {"daily": 100}, "email_domain_per_minute": 5};
    a channel or cap left out or null has no limit."""
    if not isinstance(value, dict):
        raise InvalidInput("sending_limits", 'sending_limits must be an object such as {"email": {"daily": 300}}')
    unknown = sorted(set(value) - {*_CHANNEL_KEYS, _DOMAIN_KEY})
    if unknown:
        known = ", ".join((*_CHANNEL_KEYS, _DOMAIN_KEY))
        raise InvalidInput(f"sending_limits.{unknown[0]}", f"unknown key {unknown[0]!r}; one of {known}")
    caps: dict[Channel, ChannelCaps] = {}
    for key in _CHANNEL_KEYS:
        raw = value.get(key)
        if raw is None:
            continue
        where = f"sending_limits.{key}"
        if not isinstance(raw, dict) or set(raw) - set(_CAP_KEYS):
            raise InvalidInput(where, f'{where} must be an object with "daily" and/or "hourly" caps')
        caps[Channel(key)] = ChannelCaps(**{cap: _cap(raw.get(cap), f"{where}.{cap}") for cap in _CAP_KEYS})
    domain = _cap(value.get(_DOMAIN_KEY), f"sending_limits.{_DOMAIN_KEY}")
    return SendingLimits(caps={k: v for k, v in caps.items() if v != ChannelCaps()}, email_domain_per_minute=domain)


def _cap(raw: Any, where: str) -> int | None:
    if raw is None:
        return None
    if not isinstance(raw, int) or isinstance(raw, bool) or not 1 <= raw <= MAX_CAP:
        raise InvalidInput(where, f"{where} must be an integer from 1 to {MAX_CAP}, or null for no cap")
    return raw


def parse_weekdays(value: Any, where: str = "allowed_weekdays") -> frozenset[int]:
    """Days as the calling window writes them: "mon-fri", "mon,wed,fri", "fri-mon" (ranges wrap)."""
    if not isinstance(value, str):
        raise InvalidInput(where, f'{where} must be a string of days such as "mon-fri"')
    try:
        return CallingWindow.parse("00:00", "24:00", value).days
    except ValueError:
        raise InvalidInput(where, f'{where} must be days such as "mon-fri", "mon,wed,fri" or "sat,sun"') from None


def weekdays_text(days: frozenset[int]) -> str:
    """The canonical text of a set of weekdays ("mon,tue,wed,thu,fri"), as stored and shown."""
    names = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    return ",".join(names[day - 1] for day in sorted(days))
