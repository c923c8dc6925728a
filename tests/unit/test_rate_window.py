"""The rolling-window limiter as pure logic, on a hand-moved clock."""

from __future__ import annotations

import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ringback.http.ratelimit import RateLimiter


class FakeClock:
    def __init__(self, start: float = 500.0) -> None:
        self.seconds = start

    def __call__(self) -> float:
        return self.seconds


def test_allows_up_to_the_limit_then_refuses():
    limiter = RateLimiter(now=FakeClock())
    decisions = [limiter.hit("k", 3) for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert [d.remaining for d in decisions] == [2, 1, 0, 0]
    assert {d.limit for d in decisions} == {3}


def test_each_request_leaves_the_window_on_its_own():
    clock = FakeClock()
    limiter = RateLimiter(now=clock, window_seconds=60)
    limiter.hit("k", 2)
    clock.seconds += 30
    limiter.hit("k", 2)
    clock.seconds += 29.9
    assert not limiter.hit("k", 2).allowed
    clock.seconds += 0.1
    assert limiter.hit("k", 2).allowed  # only the first request expired
    assert not limiter.hit("k", 2).allowed


def test_reset_is_whole_seconds_until_the_oldest_request_expires():
    clock = FakeClock()
    limiter = RateLimiter(now=clock, window_seconds=60)
    assert limiter.hit("k", 1).reset_seconds == 60
    clock.seconds += 20.5
    assert limiter.hit("k", 1).reset_seconds == 40  # 39.5 rounded up
    clock.seconds += 39.4
    refused = limiter.hit("k", 1)
    assert (refused.allowed, refused.reset_seconds) == (False, 1)  # never 0 while exhausted


def test_refused_requests_are_not_recorded():
    clock = FakeClock()
    limiter = RateLimiter(now=clock, window_seconds=60)
    limiter.hit("k", 1)
    for _ in range(10):
        clock.seconds += 5
        limiter.hit("k", 1)
    clock.seconds += 10  # 60 s after the only admitted request
    assert limiter.hit("k", 1).allowed


def test_keys_are_independent():
    limiter = RateLimiter(now=FakeClock())
    assert limiter.hit(("key_a", "write"), 1).allowed
    assert limiter.hit(("key_a", "read"), 1).allowed
    assert limiter.hit(("key_b", "write"), 1).allowed
    assert not limiter.hit(("key_a", "write"), 1).allowed


def test_idle_keys_are_forgotten():
    clock = FakeClock()
    limiter = RateLimiter(now=clock, window_seconds=60)
    for n in range(1000):
        limiter.hit(f"key_{n}", 5)
    assert limiter.tracked_keys() == 1000
    clock.seconds += 60
    limiter.hit("fresh", 5)
    assert limiter.tracked_keys() == 1


def test_a_limit_must_allow_something():
    with pytest.raises(ValueError, match="at least one"):
        RateLimiter(now=FakeClock()).hit("k", 0)


def test_concurrent_hits_never_exceed_the_limit():
    limiter = RateLimiter(now=FakeClock())
    start = threading.Barrier(8)
    allowed: list[bool] = []
    lock = threading.Lock()

    def hammer() -> None:
        start.wait(5)
        mine = [limiter.hit("shared", 100).allowed for _ in range(50)]
        with lock:
            allowed.extend(mine)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert len(allowed) == 400
    assert allowed.count(True) == 100


@given(
    gaps=st.lists(st.floats(min_value=0, max_value=30, allow_nan=False), min_size=1, max_size=60),
    limit=st.integers(min_value=1, max_value=5),
)
def test_no_window_ever_admits_more_than_the_limit(gaps, limit):
    clock = FakeClock(0.0)
    limiter = RateLimiter(now=clock, window_seconds=60)
    admitted: list[float] = []
    for gap in gaps:
        clock.seconds += gap
        decision = limiter.hit("k", limit)
        in_window = [t for t in admitted if t > clock.seconds - 60]
        # Admitted exactly when the rolling window has room; the reply agrees with the history.
        assert decision.allowed == (len(in_window) < limit)
        if decision.allowed:
            admitted.append(clock.seconds)
            in_window.append(clock.seconds)
        assert decision.remaining == limit - len(in_window)
        assert decision.reset_seconds >= 1
