"""Calling windows: local hours, most restrictive zone wins, exact across DST changes."""

from datetime import UTC, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ringback.engine.calling_window import ALL_DAYS, HORIZON, CallingWindow, next_allowed

DEFAULT = CallingWindow()
LA, NY = "America/Los_Angeles", "America/New_York"


def local(zone, *fields):
    return datetime(*fields, tzinfo=ZoneInfo(zone))


def utc(*fields):
    return datetime(*fields, tzinfo=UTC)


# --- the window itself ----------------------------------------------------------------------------


def test_defaults_are_eight_to_nine_every_day():
    assert (DEFAULT.start, DEFAULT.end, DEFAULT.days) == (time(8), time(21), ALL_DAYS)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({}, CallingWindow()),
        ({"start": "9:00", "end": "17:30"}, CallingWindow(time(9), time(17, 30))),
        ({"end": "24:00"}, CallingWindow(time(8), time.max)),
        ({"days": "mon-fri"}, CallingWindow(days=frozenset({1, 2, 3, 4, 5}))),
        ({"days": "Mon,Wed,friday"}, CallingWindow(days=frozenset({1, 3, 5}))),
        ({"days": "fri-mon"}, CallingWindow(days=frozenset({5, 6, 7, 1}))),
        ({"days": "sat-sat"}, CallingWindow(days=frozenset({6}))),
        ({"days": "tues, thurs"}, CallingWindow(days=frozenset({2, 4}))),
        ({"days": "mon-sun"}, CallingWindow(days=ALL_DAYS)),
    ],
)
def test_parse(args, expected):
    assert CallingWindow.parse(**args) == expected


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"start": "8"}, "start must be a time like 08:00"),
        ({"start": "25:00"}, "start must be a time"),
        ({"end": "21:60"}, "end must be a time"),
        ({"start": "24:00"}, "start must be a time"),
        ({"start": "21:00", "end": "08:00"}, "must start before it ends"),
        ({"start": "09:00", "end": "09:00"}, "must start before it ends"),
        ({"days": "funday"}, "unknown day 'funday'"),
        ({"days": "mo"}, "unknown day 'mo'"),
        ({"days": ""}, "unknown day ''"),
        ({"days": "mon-"}, "unknown day ''"),
        ({"days": "mon-tue-wed"}, "is not a day or a range"),
    ],
)
def test_parse_rejects_with_a_clear_message(args, message):
    with pytest.raises(ValueError, match=message):
        CallingWindow.parse(**args)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"days": frozenset()},
        {"days": frozenset({0})},
        {"days": frozenset({8})},
        {"start": time(8, tzinfo=UTC)},
        {"start": time(22)},
    ],
)
def test_invalid_windows_are_refused(kwargs):
    with pytest.raises(ValueError):
        CallingWindow(**kwargs)


@pytest.mark.parametrize(
    ("instant", "zone", "inside"),
    [
        (local(LA, 2024, 6, 5, 7, 59, 59), LA, False),
        (local(LA, 2024, 6, 5, 8, 0), LA, True),
        (local(LA, 2024, 6, 5, 20, 59, 59), LA, True),
        (local(LA, 2024, 6, 5, 21, 0), LA, False),  # the end is exclusive
        (utc(2024, 6, 5, 15), LA, True),  # 08:00 PDT
        (utc(2024, 6, 5, 15), "Europe/Madrid", True),  # 17:00 CEST
        (utc(2024, 6, 5, 15), "Asia/Tokyo", False),  # 00:00 JST
    ],
)
def test_contains(instant, zone, inside):
    assert DEFAULT.contains(instant, zone) is inside


# --- next_allowed: worked examples ----------------------------------------------------------------

WEEKDAYS = CallingWindow(days=frozenset({1, 2, 3, 4, 5}))


@pytest.mark.parametrize(
    ("now", "zones", "window", "expected"),
    [
        # A call due at 05:30 local in Los Angeles waits until 08:00 local the same day.
        (local(LA, 2024, 6, 5, 5, 30), [LA], DEFAULT, local(LA, 2024, 6, 5, 8, 0)),
        (local(LA, 2024, 6, 5, 8, 0), [LA], DEFAULT, local(LA, 2024, 6, 5, 8, 0)),
        (local(LA, 2024, 6, 5, 21, 0), [LA], DEFAULT, local(LA, 2024, 6, 6, 8, 0)),
        (local(LA, 2024, 6, 5, 23, 59), [LA], DEFAULT, local(LA, 2024, 6, 6, 8, 0)),
        # Saturday evening with a weekdays-only window waits for Monday morning.
        (local(LA, 2024, 6, 8, 19, 0), [LA], WEEKDAYS, local(LA, 2024, 6, 10, 8, 0)),
        (local(LA, 2024, 6, 7, 20, 0), [LA], WEEKDAYS, local(LA, 2024, 6, 7, 20, 0)),
        # Spring forward: 08:00 EDT is 12:00 UTC, not 13:00.
        (utc(2024, 3, 10, 5), [NY], DEFAULT, utc(2024, 3, 10, 12)),
        # Fall back: 08:00 EST is 13:00 UTC.
        (utc(2024, 11, 3, 5), [NY], DEFAULT, utc(2024, 11, 3, 13)),
        # Southern hemisphere spring forward (Sydney, 6 Oct 2024): 08:00 AEDT is 21:00 UTC the day before.
        (utc(2024, 10, 5, 12), ["Australia/Sydney"], DEFAULT, utc(2024, 10, 5, 21)),
        # Half-hour DST (Lord Howe, 6 Oct 2024: +10:30 -> +11:00).
        (utc(2024, 10, 5, 12), ["Australia/Lord_Howe"], DEFAULT, utc(2024, 10, 5, 21)),
        # A start time swallowed by the spring-forward gap opens when the gap ends (03:00 EDT).
        (utc(2024, 3, 10, 6), [NY], CallingWindow(time(2, 30), time(5)), utc(2024, 3, 10, 7)),
        # A fall-back can jump the wall clock back into the window (01:59 EDT -> 01:00 EST).
        (utc(2024, 11, 3, 5, 40), [NY], CallingWindow(time(0, 30), time(1, 30)), utc(2024, 11, 3, 6)),
        # A start time repeated by the fall-back opens twice; the second one is found after the first closes.
        (utc(2024, 11, 3, 5, 50), [NY], CallingWindow(time(1, 15), time(1, 45)), utc(2024, 11, 3, 6, 15)),
        (utc(2024, 11, 3, 5, 0), [NY], CallingWindow(time(1, 15), time(1, 45)), utc(2024, 11, 3, 5, 15)),
        # Several zones: the most restrictive wins.
        (utc(2024, 6, 5, 12), [NY, LA], DEFAULT, utc(2024, 6, 5, 15)),  # 08:00 EDT but 05:00 PDT
        (utc(2024, 6, 6, 1), [NY, LA], DEFAULT, utc(2024, 6, 6, 15)),  # 21:00 EDT: NY closed
        (utc(2024, 6, 5, 16), [NY, LA], DEFAULT, utc(2024, 6, 5, 16)),
        (utc(2024, 6, 5, 12), [LA, LA, NY], DEFAULT, utc(2024, 6, 5, 15)),  # duplicates are harmless
        # Weekday windows on both sides of the date line: Friday in LA is already Saturday in Auckland.
        (local(LA, 2024, 6, 7, 14, 0), [LA, "Pacific/Auckland"], WEEKDAYS, local(LA, 2024, 6, 10, 13, 0)),
    ],
)
def test_next_allowed(now, zones, window, expected):
    assert next_allowed(now, zones, window) == expected


NINE_TO_FIVE = CallingWindow(time(9), time(17))


@pytest.mark.parametrize(
    ("now", "zones", "expected"),
    [
        # 09:00-17:00 in London and in Tokyo never overlap: the first zone alone decides.
        (utc(2024, 6, 5, 5), ["Europe/London", "Asia/Tokyo"], utc(2024, 6, 5, 8)),
        (utc(2024, 6, 5, 5), ["Asia/Tokyo", "Europe/London"], utc(2024, 6, 5, 5)),  # 14:00 in Tokyo
        (utc(2024, 6, 5, 9), ["Asia/Tokyo", "Europe/London"], utc(2024, 6, 6, 0)),
    ],
)
def test_zones_whose_windows_never_overlap_fall_back_to_the_first_zone(now, zones, expected):
    assert next_allowed(now, zones, NINE_TO_FIVE) == expected


def test_a_common_window_soon_after_the_first_zone_opens_is_worth_waiting_for():
    # London opens at 08:00 UTC, but London and New York share 13:00-16:00 UTC the same day.
    assert next_allowed(utc(2024, 6, 4, 7), ["Europe/London", NY], NINE_TO_FIVE) == utc(2024, 6, 4, 13)


def test_the_result_is_utc_whatever_the_input_zone():
    now = datetime(2024, 6, 5, 5, 30, tzinfo=timezone(timedelta(hours=-7)))
    result = next_allowed(now, [LA], DEFAULT)
    assert (result, result.tzinfo) == (utc(2024, 6, 5, 15), UTC)


def test_now_is_returned_unchanged_inside_the_window():
    now = utc(2024, 6, 5, 17, 12, 13, 141516)
    assert next_allowed(now, [LA, NY], DEFAULT) == now


def test_a_country_wide_number_still_gets_a_civil_hour_everywhere():
    # The 42 zones phonenumbers gives a +1 800 number, from Guam to Pago Pago.
    from phonenumbers import parse
    from phonenumbers.timezone import time_zones_for_number

    zones = time_zones_for_number(parse("+18005551234"))
    result = next_allowed(utc(2024, 6, 5, 12), zones, DEFAULT)
    assert all(DEFAULT.contains(result, zone) for zone in zones)


@pytest.mark.parametrize(
    ("now", "zones", "message"),
    [
        (datetime(2024, 6, 5, 12), [LA], "timezone-aware"),
        (utc(2024, 6, 5, 12), [], "at least one time zone"),
        (utc(2024, 6, 5, 12), ["Mars/Olympus_Mons"], "unknown time zone"),
    ],
)
def test_next_allowed_rejects_bad_input(now, zones, message):
    with pytest.raises(ValueError, match=message):
        next_allowed(now, zones, DEFAULT)


def test_a_window_that_cannot_open_within_the_horizon_is_an_error():
    with pytest.raises(ValueError, match="never opens"):
        next_allowed(local(LA, 2024, 6, 5, 12), [LA], CallingWindow(days=frozenset({1})), timedelta(days=2))


# --- next_allowed: properties ---------------------------------------------------------------------

# Modern zones whose offsets and transitions fall on quarter hours, so a 15-minute scan is exact.
ZONES = [
    "UTC",
    LA,
    NY,
    "America/Sao_Paulo",
    "Asia/Tehran",
    "Europe/London",
    "Europe/Madrid",
    "Europe/Moscow",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "Pacific/Auckland",
    "Pacific/Chatham",
    "Pacific/Kiritimati",
    "Pacific/Pago_Pago",
]
QUARTER = timedelta(minutes=15)


@st.composite
def windows(draw):
    start = draw(st.integers(0, 95))
    end = draw(st.integers(start + 1, 96))
    days = draw(st.frozensets(st.integers(1, 7), min_size=1))
    end_time = time.max if end == 96 else time(end // 4, end % 4 * 15)
    return CallingWindow(time(start // 4, start % 4 * 15), end_time, days)


moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2037, 12, 1), timezones=st.just(UTC))
zone_lists = st.lists(st.sampled_from(ZONES), min_size=1, max_size=3)


def brute_force(now, zones, window):
    """The first instant in [now, now + HORIZON] inside the window everywhere, scanning quarter hours."""
    if all(window.contains(now, zone) for zone in zones):
        return now
    instant = now.replace(minute=now.minute // 15 * 15, second=0, microsecond=0) + QUARTER
    while instant <= now + HORIZON:
        if all(window.contains(instant, zone) for zone in zones):
            return instant
        instant += QUARTER
    return None


@settings(max_examples=150, deadline=None)
@given(now=moments, zones=zone_lists, window=windows())
def test_next_allowed_properties(now, zones, window):
    result = next_allowed(now, zones, window)
    assert result >= now
    assert window.contains(result, zones[0])
    assert next_allowed(result, zones, window) == result
    earliest = brute_force(now, zones, window)
    if earliest is not None:  # the zones overlap soon enough: the earliest common instant, exactly
        assert result == earliest
        assert all(window.contains(result, zone) for zone in zones)


@settings(max_examples=100, deadline=None)
@given(now=moments, zone=st.sampled_from(ZONES), window=windows())
def test_one_zone_always_gets_the_earliest_instant_inside_its_window(now, zone, window):
    assert next_allowed(now, [zone], window) == brute_force(now, [zone], window)
