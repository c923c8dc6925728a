"""A light Python client for what wrk cannot do: starts at a fixed offered rate, and a soak of N starts.

Fixed rate (open loop): request i is due at t0 + i / rate whatever happened to the earlier ones, and its
latency runs from that intended time, not from when a worker got round to it. A server that falls behind
therefore shows its queueing in the figures instead of slowing the client down (coordinated omission).
Requests still unsent at the give-up time count as unsent, with latency at least (give-up - intended).
"""

from __future__ import annotations

import http.client
import itertools
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from wrk import START_PATH, start_body

WORKERS = 64  # requests in flight at most: far above what 200/s needs at the target latency
REQUEST_TIMEOUT = 60.0


class StartSender:
    """One keep-alive connection that posts starts; reconnects after a connection error."""

    def __init__(self, host: str, port: int, api_key: str, template_id: str) -> None:
        self._address = (host, port)
        self._template_id = template_id
        self._headers = {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"}
        self._connection: http.client.HTTPConnection | None = None

    def start(self, lead: str) -> int:
        """POST one start; its HTTP status, or 0 when the connection failed."""
        if self._connection is None:
            self._connection = http.client.HTTPConnection(*self._address, timeout=REQUEST_TIMEOUT)
        try:
            self._connection.request(
                "POST", START_PATH, start_body(self._template_id, lead), {**self._headers, "Idempotency-Key": lead}
            )
            response = self._connection.getresponse()
            response.read()
            return response.status
        except (OSError, http.client.HTTPException):
            self._connection.close()
            self._connection = None
            return 0

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()


@dataclass
class OpenLoopResult:
    offered_rate: float
    latencies: list[float] = field(default_factory=list)  # seconds from intended send time, every request
    statuses: Counter = field(default_factory=Counter)
    unsent: int = 0
    seconds: float = 0.0  # from the first intended send to the last answer

    @property
    def achieved_rate(self) -> float:
        return self.statuses[202] / self.seconds if self.seconds else 0.0


def fixed_rate(
    sender: Callable[[], StartSender], prefix: str, rate: float, seconds: float, give_up_after: float
) -> OpenLoopResult:
    """Offer `rate` starts/s for `seconds`; stop sending `give_up_after` seconds after the first one was due."""
    total = max(1, round(rate * seconds))
    result = OpenLoopResult(offered_rate=rate)
    lock = threading.Lock()
    indexes = iter(range(total))
    t0 = time.perf_counter() + 0.5
    give_up_at = t0 + give_up_after

    def work() -> None:
        client = sender()
        try:
            while True:
                with lock:
                    index = next(indexes, None)
                if index is None:
                    return
                intended = t0 + index / rate
                time.sleep(max(0.0, intended - time.perf_counter()))
                if time.perf_counter() >= give_up_at:
                    with lock:
                        late = [index, *indexes]
                        result.unsent += len(late)
                        result.latencies.extend(give_up_at - (t0 + i / rate) for i in late)
                    return
                status = client.start(f"{prefix}-{index}")
                done = time.perf_counter()
                with lock:
                    result.statuses[status] += 1
                    result.latencies.append(done - intended)
                    result.seconds = max(result.seconds, done - t0)
        finally:
            client.close()

    _run_threads(work, min(WORKERS, total))
    return result


def closed_loop(
    sender: Callable[[], StartSender],
    prefix: str,
    count: int,
    connections: int,
    every: int,
    sample: Callable[[int], None],
) -> Counter:
    """Send `count` starts as fast as `connections` connections allow; `sample(n)` after every `every` answers."""
    statuses: Counter = Counter()
    lock = threading.Lock()
    numbers = itertools.count()

    def work() -> None:
        client = sender()
        try:
            while True:
                with lock:
                    index = next(numbers)
                if index >= count:
                    return
                status = client.start(f"{prefix}-{index}")
                with lock:
                    statuses[status] += 1
                    answered = statuses.total()
                if answered % every == 0:
                    sample(answered)
        finally:
            client.close()

    _run_threads(work, connections)
    return statuses


def _run_threads(target: Callable[[], None], count: int) -> None:
    threads = [threading.Thread(target=target, daemon=True) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
