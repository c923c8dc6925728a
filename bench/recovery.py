"""Start-up recovery: how long a node takes to come back over many persisted active enrollments, and its RSS.

For each size, the database holds N active sandbox enrollments (written in bulk, as a node would have left
them): most wait for a step two days away, and a share were caught by the crash with a step in `sending`.
A fresh node starts on it; we measure the time until it serves (migrated, recovery under way), the time
until every interrupted send is resumed, recorded and its enrollment passivated again (paced by
RINGBACK_RECOVERY_RATE_PER_SECOND), and the process's threads and RSS.
Usage: python bench/recovery.py [--sizes 10000 100000] [--interrupted-share 0.05] [--rate 200]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime, timedelta

from common import in_fresh_process, peak_rss_mb, report, rss_mb, seed_enrollments, seeded_elsewhere, threads

from ringback.actors.messages import Stats
from ringback.clock import ManualClock
from ringback.config import load_settings
from ringback.node import Node
from ringback.storage import sandbox
from ringback.storage.db import open_database
from ringback.storage.migrations import migrate

NOW = datetime(2026, 5, 6, 10, tzinfo=UTC)


def seed(database_url: str, waiting: int, interrupted: int) -> None:
    """In a child process, so the parent's RSS is the node's alone."""
    migrate(open_database(database_url))
    seed_enrollments(waiting, NOW, NOW + timedelta(days=2))
    seed_enrollments(interrupted, NOW, NOW + timedelta(days=2), interrupted=True)


def recovered_count(node: Node) -> int:
    """What the recovery query found, as counted in /metrics."""
    for line in node.metrics.render().decode().splitlines():
        if line.startswith("ringback_recovered_enrollments_total "):
            return int(float(line.split()[-1]))
    return 0


def run(size: int, share: float, rate: float) -> dict:
    interrupted = int(size * share)
    with tempfile.TemporaryDirectory() as data_dir:
        settings = load_settings(env={}, data_dir=data_dir, demo=False, recovery_rate_per_second=rate)
        seeded_elsewhere(seed, settings.resolved_database_url, size - interrupted, interrupted)
        rss_before = rss_mb()
        started, cpu = time.perf_counter(), time.process_time()
        node = Node(settings, clock=ManualClock(NOW)).start()  # returns once migrated and serving
        ready = time.perf_counter() - started
        most_threads = threads()
        while sandbox.steps_sent() < interrupted:
            most_threads = max(most_threads, threads())
            time.sleep(0.2)
        while node.supervisor.ask(Stats(), timeout=60)["live_enrollments"]:
            time.sleep(0.05)
        resumed = time.perf_counter() - started
        cpu = time.process_time() - cpu
        result = {
            "persisted_active": size,
            "caught_sending": interrupted,
            "recovery_rate_per_s": rate,
            "ready_s": round(ready, 2),
            "resumed_by_recovery": recovered_count(node),
            "all_resumed_s": round(resumed, 1),
            "cpu_ms_per_resumed": round(cpu / max(interrupted, 1) * 1000, 2),  # the floor: 1000 / this per second
            "peak_threads": most_threads,
            "threads_after": threads(),
            "rss_before_mb": round(rss_before),
            "rss_after_mb": round(rss_mb()),
            "peak_rss_mb": round(peak_rss_mb()),
        }
        node.stop()
        return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--interrupted-share", type=float, default=0.05)
    parser.add_argument("--rate", type=float, default=200.0, help="RINGBACK_RECOVERY_RATE_PER_SECOND")
    args = parser.parse_args()
    report("start-up recovery", [in_fresh_process(run, size, args.interrupted_share, args.rate) for size in args.sizes])


if __name__ == "__main__":
    main()
